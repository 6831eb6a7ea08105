"""User-facing model class :class:`CMCVAE` (scvi-tools style: setup, train, getters, save/load)."""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.graph.networks import feature_networks, matched_pair_effects, top_edges
from cmcvae.graph.threshold import is_dag, threshold_to_dag
from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._dagma import h_dagma
from cmcvae.model._inputs import make_setup, read_inputs
from cmcvae.model.latent._batches import CellBatches, make_loader, split_cells
from cmcvae.model.latent._module import CMCVAEModule
from cmcvae.model.sem._train import SEMData, SEMModule, train_sem
from cmcvae.pp import (
    clr,
    column_totals,
    filter_network,
    log_normalized_mean_std,
    matched_pairs,
    mean_std,
    split_network,
)

SETUP_KEY = "cmcvae_setup"
log = logging.getLogger("cmcvae")


class CMCVAE:
    """CrossModal-CausalVAE: a VAE whose latent space is a linear SCM with a DAGMA constraint.

    With ``arch="sem"`` the model is instead a linear causal SEM directly over genes and
    proteins (:mod:`cmcvae.model.sem._fit`), fitted to their noise-corrected correlation; it is
    exposed as a latent SCM whose nodes are the features (identity loadings), so every getter
    works the same way.

    Parameters
    ----------
    mdata
        MuData registered with :meth:`setup_mudata` (modalities ``rna`` and ``prot`` with raw counts).
    grn_prior, ppi_prior
        Optional ``source,target[,weight]`` networks among genes (TF→target) and proteins.
        A seeded ``prior_holdout`` fraction is held out from training.
    protein_map
        ``protein,gene`` table for matched pairs (proteins named like genes are paired if omitted).
    config
        A :class:`CMCVAEConfig`; keyword arguments override its fields.

    Examples
    --------
    >>> CMCVAE.setup_mudata(mdata, batch_key="donor")
    >>> model = CMCVAE(mdata, grn_prior=grn)
    >>> model.train(max_epochs=50)
    >>> edges = model.get_edges()
    """

    def __init__(self, mdata: md.MuData | ad.AnnData | None, grn_prior: pd.DataFrame | None = None,
                 ppi_prior: pd.DataFrame | None = None, protein_map: pd.DataFrame | None = None,
                 config: CMCVAEConfig | None = None, **overrides: Any):
        base = (config or CMCVAEConfig()).to_dict()
        base.update(overrides)
        self.config = CMCVAEConfig.from_dict(base)
        self.is_trained = False
        self.history: list[dict[str, float]] = []
        self.metrics: dict[str, Any] = {}
        self._A_dag: np.ndarray | None = None
        if mdata is None:  # used by load()
            return
        setup = mdata.uns.get(SETUP_KEY)
        if setup is None:
            raise CMCVAEInputError(
                "The data is not set up for CMC-VAE: call `CMCVAE.setup_mudata(mdata, batch_key=...)` "
                "(or `CMCVAE.setup_anndata(adata, modality=...)` for one modality) first."
            )
        self.setup = dict(setup)
        inputs = read_inputs(mdata, self.setup)
        self.genes, self.proteins = inputs.genes, inputs.proteins
        self.modalities = inputs.modalities
        self.donors = sorted(pd.unique(inputs.donors))
        donor_codes = pd.Categorical(inputs.donors, categories=self.donors).codes.astype(np.int64)
        rna_counts, prot_counts = inputs.rna, inputs.prot
        self._size_latents()
        self.split = split_cells(len(inputs.obs_names), self.config.split, self.config.seed)
        self.cell_names = inputs.obs_names
        train = self.split == "train"
        if train.sum() < 2:
            raise CMCVAEInputError(
                f"Too few cells to train ({len(inputs.obs_names)}); CMC-VAE needs at least a few dozen."
            )
        if self.config.arch == "sem":
            self._init_sem(rna_counts, prot_counts, donor_codes, grn_prior, ppi_prior, protein_map)
            return
        counts = inputs.counts
        if not counts and self.config.likelihood == "nb":
            log.info("The input holds continuous values, not counts: using the Gaussian likelihood.")
            self.config.likelihood = "gaussian"
        # Raw counts stay the only RNA matrix: minibatches are log-normalised as they are built.
        prot_clr = clr(prot_counts) if counts and self.proteins else prot_counts.astype(np.float32)
        if counts:
            rna_mean, rna_std = log_normalized_mean_std(rna_counts, np.flatnonzero(train))
        else:
            rna_mean, rna_std = mean_std(rna_counts, rows=np.flatnonzero(train))
        prot_mean, prot_std = mean_std(prot_clr, rows=np.flatnonzero(train))
        self.stats = {"rna_mean": rna_mean, "rna_std": rna_std, "prot_mean": prot_mean, "prot_std": prot_std}
        nb = self.config.likelihood == "nb"
        self._data = CellBatches(rna_counts, prot_clr, donor_codes, prot_mean, prot_std,
                                 normalize=counts, nb=nb and bool(self.genes))
        self._set_priors(grn_prior, ppi_prior)
        self.pairs = matched_pairs(protein_map, self.proteins, self.genes)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)  # seeded initialisation, global RNG untouched
            self.module = CMCVAEModule(len(self.genes), len(self.proteins), len(self.donors), self.config)
        self.module.set_input_scaling(rna_mean, rna_std, normalize=counts)
        if nb:
            # training-cell totals, block by block (no copy of the training rows; one more
            # read when the counts are on disk); the library sizes are the minibatches' own
            lib = self._data.library.numpy().astype(np.float64)[train]
            prop = column_totals(rna_counts, np.flatnonzero(train)) / max(lib.sum(), 1.0)
            self.module.init_rna_offsets(torch.from_numpy(np.log(prop + 1e-8).astype(np.float32)))

    def _size_latents(self) -> None:
        """Latent sizes for the modalities present.

        An absent modality gets no latent nodes; in single-modality mode the number of latent
        nodes is capped at the number of features (orthogonal loadings need ``K ≤ features``).
        """
        c = self.config
        if self.modalities == ("rna", "protein"):
            if c.n_latent_rna < 1 or c.n_latent_protein < 1:
                raise CMCVAEInputError(
                    "n_latent_rna and n_latent_protein must both be at least 1 with two modalities."
                )
            return
        n = len(self.genes) + len(self.proteins)
        K = c.n_latent_rna if self.modalities == ("rna",) else c.n_latent_protein
        if K > n:
            log.info("Single-modality mode: %d latent nodes capped at the %d features.", K, n)
        K = max(1, min(K, n))
        c.n_latent_rna, c.n_latent_protein = (K, 0) if self.modalities == ("rna",) else (0, K)

    def _init_sem(self, rna_counts, prot_counts, donor_codes, grn_prior, ppi_prior, protein_map) -> None:
        """Keep raw counts for the feature-level SEM; its nodes are the features themselves."""
        self.config.n_latent_rna, self.config.n_latent_protein = len(self.genes), len(self.proteins)
        self._data = SEMData(rna_counts, np.asarray(prot_counts), donor_codes)
        self.stats = {}
        self._set_priors(grn_prior, ppi_prior)
        self.pairs = matched_pairs(protein_map, self.proteins, self.genes)
        self.module = SEMModule(len(self.genes), len(self.proteins))

    def _set_priors(self, grn_prior, ppi_prior) -> None:
        self.priors: dict[str, dict[str, pd.DataFrame]] = {}
        for key, net, feats in (("grn", grn_prior, self.genes), ("ppi", ppi_prior, self.proteins)):
            if net is None:
                continue
            kept = filter_network(net, feats, what=f"{key.upper()} prior")
            tr, held = split_network(kept, self.config.prior_holdout, self.config.seed)
            self.priors[key] = {"train": tr, "holdout": held}

    # ------------------------------------------------------------------ setup
    @staticmethod
    def setup_mudata(mdata: md.MuData, batch_key: str | None = None, rna_mod: str | None = RNA_MOD,
                     prot_mod: str | None = PROT_MOD, rna_layer: str | None = None,
                     prot_layer: str | None = None, counts: bool = True) -> None:
        """Check the MuData against the data contract and register where things are.

        Parameters
        ----------
        mdata
            MuData with RNA and protein modalities holding raw counts of the same cells.
        batch_key
            Column in ``obs`` with the donor/batch of each cell (``None``: one batch).
        rna_mod, prot_mod
            Modality names. Set one to ``None`` for single-modality mode (RNA-only or
            protein-only: the same model with one block of latent nodes).
        rna_layer, prot_layer
            Layers with raw counts (default ``layers['counts']`` if present, else ``.X``).
        counts
            ``True`` (default): raw counts, normalised by the model (RNA log-normalised or the
            negative-binomial likelihood, protein CLR). ``False``: continuous values (e.g.
            log-expression, simulated ODE levels, cytometry intensities) that are only
            standardised; the Gaussian likelihood is used.
        """
        mdata.uns[SETUP_KEY] = make_setup(mdata, batch_key=batch_key, rna_mod=rna_mod,
                                          prot_mod=prot_mod, rna_layer=rna_layer,
                                          prot_layer=prot_layer, counts=counts)

    @staticmethod
    def setup_anndata(adata: ad.AnnData, modality: str = "rna", batch_key: str | None = None,
                      layer: str | None = None, counts: bool = True) -> None:
        """Register a single-modality AnnData (RNA-only or protein-only).

        Parameters
        ----------
        adata
            Cells × features.
        modality
            ``"rna"`` or ``"protein"``: which block of latent nodes models the features.
        batch_key
            Column in ``obs`` with the donor/batch of each cell (``None``: one batch).
        layer
            Layer with the values (default ``layers['counts']`` if present, else ``.X``).
        counts
            Whether the values are raw counts (see :meth:`setup_mudata`).

        Examples
        --------
        >>> CMCVAE.setup_anndata(adata, modality="rna", counts=False)
        >>> model = CMCVAE(adata).train()
        >>> grn = model.get_feature_networks()["rna_rna"]
        """
        adata.uns[SETUP_KEY] = make_setup(adata, batch_key=batch_key, rna_mod=None, prot_mod=None,
                                          rna_layer=layer, prot_layer=layer, counts=counts,
                                          modality=modality)

    # ------------------------------------------------------------------ training
    def _prior_tensors(self) -> dict[str, torch.Tensor]:
        out = {}
        for key, feats in (("grn", self.genes), ("ppi", self.proteins)):
            if key not in self.priors:
                continue
            net = self.priors[key]["train"]
            pos = {f: i for i, f in enumerate(feats)}
            out[key] = torch.tensor(
                np.column_stack([net.source.map(pos), net.target.map(pos), np.sign(net.weight)]),
                dtype=torch.float32,
            ).reshape(-1, 3)
        return out

    def train(self, max_epochs: int | None = None, accelerator: str = "cpu", devices: int | str = 1,
              batch_size: int | None = None, progress_bar: bool = True,
              checkpoint_dir: str | Path | None = None, resume: bool = False,
              strategy: str | Any | None = None, num_nodes: int = 1,
              precision: str | int | None = None, data_on_device: bool = False,
              pin_memory: bool | None = None, prefetch: int | None = None,
              **trainer_kwargs: Any) -> CMCVAE:
        """Train along DAGMA's central path with early stopping on the validation split.

        With ``arch="sem"``: noise-corrected correlation of the training-split cells, the DAGMA
        fit of the feature-level SEM (iterations from ``sem_stages``; ``max_epochs``,
        ``batch_size``, ``devices`` and Lightning options do not apply) and the projection of
        ``W`` onto an exact DAG (:func:`cmcvae.graph.threshold.project_to_dag`). It is not
        trained with Lightning: ``checkpoint_dir`` is ignored, and ``resume``, ``strategy`` and
        ``num_nodes`` raise :class:`~cmcvae.CMCVAEInputError`.

        Parameters
        ----------
        max_epochs
            Upper bound on epochs (default from the config).
        accelerator, devices
            Passed to :class:`lightning.pytorch.Trainer` (``"auto"`` picks a GPU when present).
        batch_size
            Minibatch size (default from the config); under distributed training, the number of
            cells of one optimiser step summed over all processes.
        progress_bar
            Show Lightning's progress bar (``arch="sem"``: one line per DAGMA stage on stderr).
        checkpoint_dir
            Folder for a Lightning checkpoint, ``last.ckpt``, rewritten at the end of every epoch:
            weights, optimiser, the guard's step size of ``A``, loop counters, early
            stopping, the best epoch so far and the training history. Training anew (without
            ``resume``) first deletes an earlier ``last.ckpt`` there.
        resume
            Continue from ``checkpoint_dir/last.ckpt`` (an epoch that was cut is trained again
            from its start). Build the model the same way (same data, priors and config, seed
            included) and keep ``max_epochs``: every random draw depends on the seed and the epoch
            only, so the result is the graph an uninterrupted training gives on the same hardware.
            The checkpoint is read with ``torch.load(weights_only=True)``.
        strategy, num_nodes
            Lightning distributed strategy (``"ddp"``, ``"ddp_spawn"`` …) and number of nodes
            (default: one process, or Lightning's choice when ``devices`` > 1).
        precision
            Lightning precision, e.g. ``"bf16-mixed"`` or ``"16-mixed"`` (GPU) for mixed
            precision; default full float32. The encoder runs in the lower precision; the
            log-determinant of the acyclicity term, the M-matrix guard (float64), the SCM
            inverse and the negative-binomial likelihood stay in float32 or better.
        data_on_device
            Copy the whole dataset to the accelerator once and build minibatches there (needs a
            GPU with room for the RNA non-zeros: about 8 bytes per non-zero, e.g. ~3.8 GB for
            809K cells with ~580 detected genes each). The CPU copy is kept and restored after
            training.
        pin_memory
            Page-locked CPU minibatches for asynchronous copies to the GPU (default: on when
            training on a GPU from CPU data).
        prefetch
            Minibatches built ahead in a background thread (default: 2 on a GPU with CPU data,
            0 on the CPU, where the two would compete for the same cores).
        **trainer_kwargs
            Further :class:`lightning.pytorch.Trainer` options; ``callbacks`` are added to the
            model's own.

        Returns
        -------
        CMCVAE
            ``self``, trained. ``self.global_rank`` is this process's rank (``0`` unless
            training was distributed); only rank 0 should write results.

        Notes
        -----
        Distributed training (data parallel): every process trains on its own shard of the
        training cells (:class:`~cmcvae.model.latent._batches.EpochBatchSampler`; Lightning's
        distributed sampler is off) and gradients are averaged, so the graph parameters stay
        identical on all processes, and so does the M-matrix guard's decision. Every process
        evaluates the whole validation split, so early stopping and the best epoch are decided
        identically everywhere. With ``"ddp"`` every process runs the calling script to its end
        (check ``global_rank`` before writing); with ``"ddp_spawn"`` the calling process gets
        rank 0's model and history back. Checkpoints are written by rank 0; to resume on
        several nodes ``checkpoint_dir`` must be on a shared file system.
        """
        if not hasattr(self, "_data"):
            raise CMCVAEInputError("This model was loaded without data; it can be inspected but not trained.")
        self.global_rank = 0
        if self.config.arch == "sem":
            check_lightning_options("sem", resume=resume, strategy=strategy, num_nodes=num_nodes)
            if max_epochs is not None:
                log.info("max_epochs does not apply to arch='sem' (iterations come from sem_stages).")
            train_sem(self, accelerator, progress=progress_bar)
            return self
        import lightning.pytorch as pl
        from lightning.pytorch.callbacks import Callback, ModelCheckpoint

        from cmcvae.model.latent._plan import (
            DataOnDevice,
            FinalStageEarlyStopping,
            KeepBest,
            TrainingPlan,
        )

        ckpt_path = _checkpoint_to_resume(checkpoint_dir, resume, strategy, devices, num_nodes)
        c = self.config
        max_epochs = int(max_epochs or c.max_epochs)
        batch_size = int(batch_size or c.batch_size)
        pl.seed_everything(c.seed, verbose=False)
        torch.manual_seed(c.seed)
        train_idx = np.flatnonzero(self.split == "train")
        val_idx = np.flatnonzero(self.split == "val")
        check_data_on_device(data_on_device, accelerator)
        streaming_gpu = _uses_gpu(accelerator) and not data_on_device
        pin = streaming_gpu if pin_memory is None else bool(pin_memory)
        ahead = (2 if streaming_gpu else 0) if prefetch is None else int(prefetch)
        train_loader = make_loader(self._data, train_idx, batch_size, shuffle=True, seed=c.seed,
                                   pin_memory=pin, prefetch=ahead, block=self._data.sampling_block)
        val_loader = (make_loader(self._data, val_idx, batch_size, shuffle=False, pin_memory=pin)
                      if len(val_idx) else None)
        plan = TrainingPlan(self.module, self._prior_tensors())
        callbacks: list[Any] = [KeepBest()]
        if data_on_device:
            callbacks.append(DataOnDevice(self._data))
        if val_loader is not None:
            callbacks.append(FinalStageEarlyStopping(c.early_stopping_patience))
        if checkpoint_dir is not None:
            # no monitor, top-1 under a fixed name: last.ckpt is rewritten after every epoch
            callbacks.append(ModelCheckpoint(dirpath=checkpoint_dir, filename="last", save_top_k=1,
                                             every_n_epochs=1, enable_version_counter=False))
        extra = trainer_kwargs.pop("callbacks", None) or []
        callbacks += [extra] if isinstance(extra, Callback) else list(extra)
        for name in ("lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.WARNING)
        trainer = pl.Trainer(
            max_epochs=max_epochs, accelerator=accelerator, devices=devices, logger=False,
            strategy="auto" if strategy is None else strategy, num_nodes=int(num_nodes),
            use_distributed_sampler=False,  # the training loader shards itself (seeded per epoch)
            enable_checkpointing=checkpoint_dir is not None, enable_model_summary=False,
            callbacks=callbacks, enable_progress_bar=progress_bar, num_sanity_val_steps=0,
            limit_val_batches=1.0 if val_loader is not None else 0,
            precision="32-true" if precision is None else precision, **trainer_kwargs,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*number of training batches.*")
            warnings.filterwarnings("ignore", ".*exists and is not empty.*")
            warnings.filterwarnings("ignore", ".*sync_dist=True.*")
            trainer.fit(plan, train_dataloaders=train_loader, val_dataloaders=val_loader,
                        ckpt_path=ckpt_path, weights_only=True)
        elapsed = time.perf_counter() - start
        self.global_rank = int(trainer.global_rank)
        self.module.cpu().eval()
        self.history = plan.history
        self.is_trained = True
        self._finalise(elapsed, len(train_idx) * max(len(self.history), 1), plan)
        return self

    def _finalise(self, elapsed: float, cells_seen: int, plan) -> None:
        A = self.module.A.detach().double()
        A_dag, tau = threshold_to_dag(A.numpy(), self.config.threshold)
        self._A_dag = A_dag
        h_end = float(h_dagma(A, 1.0)) if bool(torch.isfinite(A).all()) else float("nan")
        last = self.history[-1] if self.history else {}
        self.metrics = {
            "epochs": len(self.history),
            "final_stage": int(last.get("stage", 0)),
            "train_loss": last.get("train_loss"),
            "val_loss": last.get("val_loss"),
            "train_elbo": last.get("train_elbo"),
            "val_elbo": last.get("val_elbo"),
            "h_final": h_end,
            "h_thresholded": float(h_dagma(torch.from_numpy(A_dag), 1.0)),
            "is_dag": bool(is_dag(A_dag)),
            "threshold_used": tau,
            "n_latent_edges": int((A_dag != 0).sum()),
            "guard_events": plan.guard_events,
            "skipped_nonfinite_steps": plan.skipped_steps,
            "finite": bool(np.isfinite(A.numpy()).all()),
            "timings": {"fit_seconds": elapsed, "cells_per_second": cells_seen / max(elapsed, 1e-9)},
            "n_cells": int(len(self.split)),
            "n_genes": len(self.genes),
            "n_proteins": len(self.proteins),
            "n_donors": len(self.donors),
            "history": self.history,
        }

    # ------------------------------------------------------------------ getters
    def _require_trained(self) -> None:
        if not self.is_trained:
            raise CMCVAEInputError("The model is not trained yet: call `model.train()` first.")

    @property
    def latent_names(self) -> list[str]:
        """Names of latent nodes: ``rna_0 … rna_{K_r−1}``, ``prot_0 … prot_{K_p−1}``.

        For ``arch="sem"`` the nodes are the features: ``rna:<gene>`` then ``protein:<protein>``.
        """
        if self.config.arch == "sem":
            return [f"rna:{g}" for g in self.genes] + [f"protein:{p}" for p in self.proteins]
        return [f"rna_{i}" for i in range(self.config.n_latent_rna)] + [
            f"prot_{i}" for i in range(self.config.n_latent_protein)]

    def get_adjacency(self, thresholded: bool = True) -> np.ndarray:
        """Latent weighted adjacency ``A`` (``A[a, c]`` is ``a → c``); a DAG when thresholded.

        For ``arch="sem"`` this is the feature-level ``W`` projected onto a DAG (``W_dag``); it
        is a DAG either way, and ``thresholded=True`` also zeroes ``|w| ≤ config.threshold``
        (the listing in ``latent_graph.csv``). Networks and predictions use the full ``W_dag``.
        The un-projected fit is ``model.module.W``.
        """
        self._require_trained()
        if self.config.arch == "sem":
            A = self._A_dag.copy()
            if thresholded:
                A[np.abs(A) <= self.config.threshold] = 0.0
            return A
        if thresholded:
            return self._A_dag.copy()
        return self.module.A.detach().double().numpy()

    def get_latent_graph(self) -> pd.DataFrame:
        """Edges of the thresholded latent DAG as ``source,target,weight``."""
        A = self.get_adjacency()
        rows, cols = np.nonzero(A)
        names = np.asarray(self.latent_names)
        return pd.DataFrame({"source": names[rows], "target": names[cols], "weight": A[rows, cols]})

    def get_loadings(self) -> tuple[np.ndarray, np.ndarray]:
        """Decoder loadings ``W_r`` (genes × K_r) and ``W_p`` (proteins × K_p).

        Identity matrices for ``arch="sem"`` (the latent nodes are the features).
        """
        if self.config.arch == "sem":
            return np.eye(len(self.genes)), np.eye(len(self.proteins))
        return self.module.W_r.detach().double().numpy(), self.module.W_p.detach().double().numpy()

    def get_feature_networks(self, kind: str = "direct",
                             which: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
        """The four feature-level networks (``rna_rna``, ``rna_protein``, ``protein_rna``,
        ``protein_protein``) as dense labelled matrices, rows = sources.

        ``kind="direct"`` uses ``W A Wᵀ``; ``kind="total"`` uses ``W ((I−A)^{-1} − I) Wᵀ``;
        ``which`` limits the computation to some of the four networks. For ``arch="sem"`` the
        loadings are identities and ``A`` is the full (un-thresholded) ``W_dag``: the direct
        network is the block of ``W_dag``, the total one the block of ``(I − W_dag)^{-1} − I``.
        """
        self._require_trained()
        if self.config.arch == "sem":
            return feature_networks(self._A_dag, None, None, self.genes, self.proteins, kind=kind,
                                    which=which)
        W_r, W_p = self.get_loadings()
        return feature_networks(self._A_dag, W_r, W_p, self.genes, self.proteins, kind=kind, which=which)

    def get_edges(self, top_k: int | None = None) -> pd.DataFrame:
        """Feature-level edge list (``edges.csv``): top ``top_k`` direct edges per network."""
        return top_edges(self.get_feature_networks("direct"), top_k or self.config.edge_top_k)

    def get_matched_pairs(self) -> pd.DataFrame:
        """RNA→protein and protein→RNA absolute effects for every matched (protein, gene) pair."""
        cross = ("rna_protein", "protein_rna")
        return matched_pair_effects(self.pairs, self.get_feature_networks("direct", cross),
                                    self.get_feature_networks("total", cross))

    def predict_knockdown(self) -> pd.DataFrame:
        """Predicted protein change when each gene is knocked down (genes × proteins).

        The value is minus the total RNA→protein effect through the full SCM, in units of
        scaled (standardised) protein per standardised unit of gene expression. For
        ``arch="sem"`` the SCM is the un-thresholded ``W_dag`` and the units are signal standard
        deviations (the SEM is fitted to a correlation matrix).
        """
        if not self.genes or not self.proteins:
            raise CMCVAEInputError(
                "predict_knockdown needs RNA and protein: this is a single-modality model "
                f"({', '.join(self.modalities)} only). Fit on a MuData with both modalities."
            )
        return -self.get_feature_networks("total", ("rna_protein",))["rna_protein"]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Save weights (a plain tensor state dict) and config JSON into ``path``."""
        self._require_trained()
        path = Path(path)
        if path.exists() and any(path.iterdir()) and not overwrite:
            raise CMCVAEInputError(f"{path} exists and is not empty; pass overwrite=True (--force) to replace it.")
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "module": self.module.state_dict(),
            "stats": {k: torch.from_numpy(np.asarray(v)) for k, v in self.stats.items()},
            "A_dag": torch.from_numpy(self._A_dag),
        }
        torch.save(state, path / "model.pt")
        meta = {
            "config": self.config.to_dict(), "genes": self.genes, "proteins": self.proteins,
            "donors": self.donors, "setup": self.setup, "metrics": {k: v for k, v in self.metrics.items() if k != "history"},
            "pairs": self.pairs.to_dict(orient="list"),
            "priors": {k: {s: df.to_dict(orient="list") for s, df in v.items()} for k, v in self.priors.items()},
            "cmcvae_version": _version(),
        }
        (path / "config.json").write_text(json.dumps(meta, indent=1, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path) -> CMCVAE:
        """Load a model saved with :meth:`save` (``torch.load(weights_only=True)``)."""
        path = Path(path)
        if (path / "model").is_dir() and not (path / "model.pt").exists():
            path = path / "model"
        if not (path / "model.pt").exists() or not (path / "config.json").exists():
            raise CMCVAEInputError(f"No saved model in {path}: expected model.pt and config.json.")
        meta = json.loads((path / "config.json").read_text())
        meta["config"].setdefault("arch", "poster")  # saved before arch existed
        meta["config"].setdefault("donor_onehot_max", 1 << 30)  # saved before donor embeddings
        self = cls(None, config=CMCVAEConfig.from_dict(meta["config"]))
        self.genes, self.proteins, self.donors = meta["genes"], meta["proteins"], meta["donors"]
        self.modalities = tuple(m for m, f in (("rna", self.genes), ("protein", self.proteins)) if f)
        self.setup = meta["setup"]
        self.pairs = pd.DataFrame(meta["pairs"])
        self.priors = {k: {s: pd.DataFrame(d) for s, d in v.items()} for k, v in meta["priors"].items()}
        self.metrics = meta.get("metrics", {})
        state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
        if self.config.arch == "sem":
            self.module = SEMModule(len(self.genes), len(self.proteins))
        else:
            self.module = CMCVAEModule(len(self.genes), len(self.proteins), len(self.donors), self.config)
        self.module.load_state_dict(state["module"])
        self.module.eval()
        self.stats = {k: v.numpy() for k, v in state["stats"].items()}
        if "rna_mean" in self.stats and hasattr(self.module, "set_input_scaling"):
            self.module.set_input_scaling(self.stats["rna_mean"], self.stats["rna_std"],
                                          normalize=bool(self.setup.get("counts", True)))
        self._A_dag = state["A_dag"].numpy()
        self.is_trained = True
        return self

    def __repr__(self) -> str:
        status = "trained" if self.is_trained else "untrained"
        n_g = len(getattr(self, "genes", []))
        n_p = len(getattr(self, "proteins", []))
        if self.config.arch == "sem":
            return f"CMCVAE({status}; {n_g} genes, {n_p} proteins, arch='sem')"
        return (f"CMCVAE({status}; {n_g} genes, {n_p} proteins, K_r={self.config.n_latent_rna}, "
                f"K_p={self.config.n_latent_protein}, likelihood={self.config.likelihood!r})")


def _version() -> str:
    from cmcvae import __version__

    return __version__


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")


def check_lightning_options(arch: str, *, resume: bool = False, strategy: Any = None,
                            num_nodes: int = 1) -> None:
    """Refuse checkpoint resume and distributed options for ``arch="sem"`` (not Lightning-trained)."""
    if arch != "sem":
        return
    given = [name for name, on in (("resume", resume), ("strategy", strategy not in (None, "auto")),
                                   ("num_nodes", int(num_nodes or 1) != 1)) if on]
    if given:
        raise CMCVAEInputError(
            f"arch='sem' is fitted in one go without Lightning: it has no checkpoints to resume "
            f"and no distributed training, so {', '.join(given)} cannot be used with it (drop "
            "--resume / --strategy / --num-nodes, or fit the default arch='poster')."
        )


def _uses_gpu(accelerator: Any) -> bool:
    """Whether Lightning's ``accelerator`` option (a name or an Accelerator) trains on a CUDA GPU."""
    name = accelerator.lower() if isinstance(accelerator, str) else type(accelerator).__name__.lower()
    if name == "gpu" or "cuda" in name:
        return True
    return name == "auto" and torch.cuda.is_available()


def check_data_on_device(data_on_device: bool, accelerator: Any) -> None:
    """Refuse preloading the data (``--preload``) unless training runs on a GPU."""
    if data_on_device and not _uses_gpu(accelerator):
        raise CMCVAEInputError(
            "data_on_device=True (--preload) copies the data to a GPU: use it with "
            f"accelerator='gpu' / --accelerator gpu (got {accelerator!r}"
            f"{'' if torch.cuda.is_available() else '; no CUDA GPU is visible here'}).")


def may_be_distributed(strategy: Any = None, devices: int | str = 1, num_nodes: int = 1) -> bool:
    """Whether these Trainer options may start several processes."""
    return (strategy not in (None, "auto") or int(num_nodes or 1) != 1
            or str(devices) not in ("1", "None"))


def is_primary_process(strategy: Any = None, devices: int | str = 1, num_nodes: int = 1) -> bool:
    """``False`` in a process that a distributed launcher started with a non-zero rank.

    Read from the environment before training starts (``RANK``, ``LOCAL_RANK``, ``NODE_RANK``,
    ``SLURM_PROCID`` …), and only when the options ask for several processes: Lightning's
    ``"ddp"`` launcher reruns the calling script in every further process, which must neither
    prepare the output folder nor delete a checkpoint. After training use ``global_rank``.
    """
    import os

    if not may_be_distributed(strategy, devices, num_nodes):
        return True
    keys = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")
    return all(os.environ.get(key, "0").strip() in ("", "0") for key in keys)


def _checkpoint_to_resume(checkpoint_dir: str | Path | None, resume: bool, strategy: Any,
                          devices: int | str, num_nodes: int) -> Path | None:
    """``last.ckpt`` to resume from, or ``None``; a new training removes a stale ``last.ckpt``."""
    if checkpoint_dir is None:
        if resume:
            raise CMCVAEInputError("resume=True needs checkpoint_dir, the folder holding last.ckpt.")
        return None
    last = Path(checkpoint_dir) / "last.ckpt"
    if resume:
        if not last.is_file():
            raise CMCVAEInputError(
                f"nothing to resume: {Path(checkpoint_dir)} has no last.ckpt (training never "
                "finished an epoch there); train without resume=True."
            )
        return last
    if last.is_file() and is_primary_process(strategy, devices, num_nodes):
        last.unlink()  # a new training must not leave an older run's checkpoint behind
    return None

