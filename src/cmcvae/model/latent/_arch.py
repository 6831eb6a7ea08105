"""The latent VAE as an architecture of :class:`~cmcvae.model.CMCVAE` (``arch="latent"``).

The published design (alias ``"poster"``): an encoder for exogenous noise, a latent linear SCM
with DAGMA's acyclicity and linear decoders (:class:`~cmcvae.model.latent.CMCVAEModule`),
trained on sparse minibatches (:class:`~cmcvae.model.latent.CellBatches`) by the Lightning plan
:class:`~cmcvae.model.latent.TrainingPlan` along DAGMA's central path.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import numpy as np
import torch

from cmcvae.graph.threshold import threshold_to_dag
from cmcvae.model._arch import Architecture, TrainResult, acyclicity_metrics, prior_edges
from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._inputs import ModelInputs
from cmcvae.model.latent._batches import CellBatches
from cmcvae.model.latent._module import CMCVAEModule
from cmcvae.pp import clr, column_totals, log_normalized_mean_std, mean_std

log = logging.getLogger("cmcvae")


def plan_module() -> ModuleType:
    """:mod:`cmcvae.model.latent._plan`, imported on first use.

    It carries Lightning, whose import takes about 2 s: imported with the package, every
    ``cmcvae`` command would pay it without training (``cmcvae --help`` 2.8 s → 4.8 s).
    """
    from cmcvae.model.latent import _plan  # Lightning: only when training

    return _plan


class LatentArch(Architecture):
    """The latent VAE: module :class:`CMCVAEModule`, data :class:`CellBatches`, a Lightning plan.

    ``stats`` holds the training-split scaling of the encoder input (``rna_mean``, ``rna_std``,
    ``prot_mean``, ``prot_std``); ``A_dag`` is the fitted ``A`` thresholded to a DAG.
    """

    name = "latent"
    lightning = True

    @property
    def training_plan_cls(self) -> type:
        """:class:`~cmcvae.model.latent.TrainingPlan` (imported on first use, see :func:`plan_module`)."""
        return plan_module().TrainingPlan

    # ------------------------------------------------------------------ building
    def build(self, inputs: ModelInputs, donor_codes: np.ndarray, train_rows: np.ndarray) -> None:
        """Scaling statistics of the training cells, the minibatch source and the module.

        Raw counts stay the only RNA matrix: minibatches are log-normalised as they are built.
        Continuous values (``counts=False``) switch the negative-binomial likelihood to the
        Gaussian one.
        """
        c, counts = self.config, inputs.counts
        if not counts and c.likelihood == "nb":
            log.info("The input holds continuous values, not counts: using the Gaussian likelihood.")
            c.likelihood = "gaussian"
        rna_counts, prot_counts = inputs.rna, inputs.prot
        prot_clr = clr(prot_counts) if counts and self.proteins else prot_counts.astype(np.float32)
        if counts:
            rna_mean, rna_std = log_normalized_mean_std(rna_counts, train_rows)
        else:
            rna_mean, rna_std = mean_std(rna_counts, rows=train_rows)
        prot_mean, prot_std = mean_std(prot_clr, rows=train_rows)
        self.stats = {"rna_mean": rna_mean, "rna_std": rna_std, "prot_mean": prot_mean,
                      "prot_std": prot_std}
        nb = c.likelihood == "nb"
        self.data = CellBatches(rna_counts, prot_clr, donor_codes, prot_mean, prot_std,
                                normalize=counts, nb=nb and bool(self.genes))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)  # seeded initialisation, global RNG untouched
            self.module = self.new_module()
        self.module.set_input_scaling(rna_mean, rna_std, normalize=counts)
        if nb:
            self._init_rna_offsets(rna_counts, train_rows)

    def _init_rna_offsets(self, rna_counts, train_rows: np.ndarray) -> None:
        """Start the RNA offsets at the log mean proportion of each gene in the training cells.

        Training-cell totals, block by block (no copy of the training rows; one more read when
        the counts are on disk); the library sizes are the minibatches' own.
        """
        lib = self.data.library.numpy().astype(np.float64)[train_rows]
        prop = column_totals(rna_counts, train_rows) / max(lib.sum(), 1.0)
        self.module.init_rna_offsets(torch.from_numpy(np.log(prop + 1e-8).astype(np.float32)))

    def new_module(self) -> CMCVAEModule:
        return CMCVAEModule(len(self.genes), len(self.proteins), self.n_donors, self.config)

    # ------------------------------------------------------------------ training
    def _prior_tensors(self) -> dict[str, torch.Tensor]:
        """Training prior edges as ``(source, target, sign)`` rows, per network."""
        out = {}
        for key, feats in (("grn", self.genes), ("ppi", self.proteins)):
            edges = prior_edges(self.priors, key, feats)
            if edges is None:
                continue
            sign = np.sign(self.priors[key]["train"].weight.to_numpy())
            out[key] = torch.tensor(np.column_stack([*edges, sign]),
                                    dtype=torch.float32).reshape(-1, 3)
        return out

    def training_plan(self) -> Any:
        return self.training_plan_cls(self.module, self._prior_tensors())

    def training_callbacks(self, plan: Any, *, data_on_device: bool, validate: bool) -> list[Any]:
        return plan.callbacks(self.data, data_on_device=data_on_device, validate=validate)

    def finish_training(self, plan: Any, seconds: float, cells_seen: int) -> TrainResult:
        """Threshold ``A`` to a DAG and collect the plan's metrics."""
        A = self.module.A.detach().double()
        A_dag, tau = threshold_to_dag(A.numpy(), self.config.threshold)
        self.A_dag = A_dag
        history = plan.history
        last = history[-1] if history else {}
        metrics = {
            "epochs": len(history),
            "final_stage": int(last.get("stage", 0)),
            "train_loss": last.get("train_loss"),
            "val_loss": last.get("val_loss"),
            "train_elbo": last.get("train_elbo"),
            "val_elbo": last.get("val_elbo"),
            **acyclicity_metrics(A, A_dag),
            "threshold_used": tau,
            "n_latent_edges": int((A_dag != 0).sum()),
            "guard_events": plan.guard_events,
            "skipped_nonfinite_steps": plan.skipped_steps,
            "finite": bool(np.isfinite(A.numpy()).all()),
            "timings": {"fit_seconds": seconds, "cells_per_second": cells_seen / max(seconds, 1e-9)},
        }
        return TrainResult(history, metrics)

    # ------------------------------------------------------------------ read-outs
    @property
    def latent_names(self) -> list[str]:
        """``rna_0 … rna_{K_r−1}``, ``prot_0 … prot_{K_p−1}``."""
        return [f"rna_{i}" for i in range(self.config.n_latent_rna)] + [
            f"prot_{i}" for i in range(self.config.n_latent_protein)]

    def adjacency(self, thresholded: bool = True) -> np.ndarray:
        """``A_dag`` when ``thresholded``, else the module's un-thresholded ``A``."""
        if thresholded:
            return self.A_dag.copy()
        return self.module.A.detach().double().numpy()

    def loadings(self) -> tuple[np.ndarray, np.ndarray]:
        return self.module.W_r.detach().double().numpy(), self.module.W_p.detach().double().numpy()

    @staticmethod
    def describe(config: CMCVAEConfig) -> str:
        c = config
        return f"K_r={c.n_latent_rna}, K_p={c.n_latent_protein}, likelihood={c.likelihood!r}"

    # ------------------------------------------------------------------ persistence
    def load_state_dict(self, state: dict[str, Any], counts: bool) -> None:
        """Restore the module and ``stats``, and the encoder's input scaling from them."""
        super().load_state_dict(state, counts)
        if "rna_mean" in self.stats:
            self.module.set_input_scaling(self.stats["rna_mean"], self.stats["rna_std"],
                                          normalize=counts)
