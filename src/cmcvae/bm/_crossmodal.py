"""Cross-modal benchmark on the project's simulator: zero-shot knockdown → protein prediction.

For each setting (:data:`SIM_SETTINGS`: easy / default / hard) and seed the simulator draws a
training CITE-seq dataset and a CRISPR knockdown screen on unseen donors. Every method predicts
the protein change of each knockdown from the training data alone; the predictions are scored
against the screen with :func:`cmcvae.evaluate._perturbation.validate` (zero-shot AUROC and
gene-level direction accuracy), and the gene→gene networks against the true TF→target edges
(prior edges given to the model excluded for every method).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from cmcvae.bm._cmcvae import quiet
from cmcvae.bm._totalvi import totalvi_available, totalvi_effects
from cmcvae.datasets import SimulatedData, simulate
from cmcvae.evaluate import (
    always_down_effects,
    association_networks,
    correlation_effects,
    random_effects,
    recovery_scores,
    ridge_effects,
    validate,
)
from cmcvae.model import CMCVAE

__all__ = ["SIM_SETTINGS", "CROSSMODAL_METHODS", "crossmodal_task"]

#: Simulator settings (keyword arguments of :func:`cmcvae.datasets._simulate.simulate`).
#: ``hard``: weaker translation coupling, twice the donors, fewer cells.
SIM_SETTINGS: dict[str, dict[str, Any]] = {
    "easy": {"n_cells": 8000, "n_genes": 200, "n_proteins": 20, "n_donors": 4,
             "translation_strength": 0.85},
    "default": {"n_cells": 8000, "n_genes": 300, "n_proteins": 30, "n_donors": 8,
                "translation_strength": 0.7},
    "hard": {"n_cells": 3000, "n_genes": 300, "n_proteins": 30, "n_donors": 16,
             "translation_strength": 0.4},
}

#: Methods of the cross-modal table, in display order.
CROSSMODAL_METHODS = ("cmcvae", "cmcvae_sem", "correlation", "ridge", "totalvi", "random",
                      "always_down", "oracle", "prior")


def _fit(sim: SimulatedData, arch: str, seed: int) -> tuple[CMCVAE, float]:
    with quiet():
        CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
        model = CMCVAE(sim.mdata, grn_prior=sim.grn_prior, ppi_prior=sim.ppi_prior,
                       protein_map=sim.protein_map, arch=arch, seed=seed)
        start = time.perf_counter()
        model.train(progress_bar=False)
        return model, time.perf_counter() - start


def crossmodal_task(setting: str, seed: int, *, methods: tuple[str, ...] = CROSSMODAL_METHODS,
                    scale: float = 1.0, totalvi_epochs: int = 20) -> list[dict[str, Any]]:
    """Simulate one setting with one seed and score every method.

    Parameters
    ----------
    setting
        A key of :data:`SIM_SETTINGS`.
    seed
        Seed of the simulation and of every method.
    methods
        Subset of :data:`CROSSMODAL_METHODS` to run (``totalvi`` is skipped with a note when
        scvi-tools is not installed).
    scale
        Multiplies the number of training cells (``--quick`` uses less than 1).
    totalvi_epochs
        totalVI training epochs.

    Returns
    -------
    list of dict
        One row per method: ``task="crossmodal"``, ``dataset``, ``method``, ``seed``,
        ``auroc``, ``direction_accuracy``, ``grn_auroc`` (where the method gives a gene→gene
        network; training prior edges excluded), ``grn_auroc_all`` (nothing excluded: the
        row ``prior`` — the training prior alone — is comparable only here), ``seconds`` and,
        for trained models, ``cells_per_second``.
    """
    kwargs = dict(SIM_SETTINGS[setting])
    kwargs["n_cells"] = max(1000, int(kwargs["n_cells"] * scale))
    sim = simulate(seed=seed, regime="forward", **kwargs)
    data = _Data(sim)
    effects, grn, extra, exclude = _fit_models(sim, methods, seed)
    notes = _baseline_effects(sim, data, methods, seed, totalvi_epochs, effects, extra)
    if "correlation" in methods:
        for method in ("correlation", "partial_correlation"):
            grn[method] = association_networks(*data.args, method=method)["rna_rna"]
    if exclude is not None and "prior" in methods:
        grn["prior"] = _prior_network(exclude, data.genes)
    order = [m for m in methods if m in effects]
    results, _ = validate({m: effects[m] for m in order}, sim.perturb, genes=data.genes,
                          proteins=data.proteins, protein_map=sim.protein_map)
    base = {"task": "crossmodal", "dataset": f"simulator/{setting}"}
    rows = []
    for m in [*order, *[m for m in grn if m not in effects]]:
        res = results.get(m, {})
        row = {**base, "method": m, "seed": seed,
               "auroc": res.get("auroc"), "direction_accuracy": res.get("direction_accuracy"),
               "n_cells": int(kwargs["n_cells"]), "n_features": len(data.genes) + len(data.proteins)}
        if m in grn:
            row.update(_grn_scores(m, grn[m], sim.truth, exclude))
        row.update(extra.get(m, {}))
        rows.append(row)
    rows += [{**base, "method": m, "seed": seed, "note": note} for m, note in notes.items()]
    return rows


class _Data:
    """The training matrices and feature names of a simulation, as the baselines take them."""

    def __init__(self, sim: SimulatedData) -> None:
        self.rna = sim.mdata.mod["rna"].X
        self.prot = sim.mdata.mod["prot"].X
        self.genes = list(sim.mdata.mod["rna"].var_names)
        self.proteins = list(sim.mdata.mod["prot"].var_names)

    @property
    def args(self) -> tuple[Any, Any, list[str], list[str]]:
        """``(rna, prot, genes, proteins)``."""
        return self.rna, self.prot, self.genes, self.proteins


def _fit_models(sim: SimulatedData, methods: tuple[str, ...], seed: int) -> tuple[
        dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict[str, dict[str, Any]],
        pd.DataFrame | None]:
    """Fit the latent and the SEM model (those in ``methods``).

    Returns
    -------
    Knockdown effects and gene→gene networks by method, timings and DAG flags by method, and
    the training GRN prior edges (excluded when scoring networks; ``None`` without a prior).
    """
    effects: dict[str, pd.DataFrame] = {}
    grn: dict[str, pd.DataFrame] = {}
    extra: dict[str, dict[str, Any]] = {}
    exclude = None
    for name, arch in (("cmcvae", "latent"), ("cmcvae_sem", "sem")):
        if name not in methods:
            continue
        model, seconds = _fit(sim, arch, seed)
        effects[name] = model.predict_knockdown()
        grn[name] = model.get_feature_networks("direct", ("rna_rna",))["rna_rna"]
        exclude = model.priors["grn"]["train"] if "grn" in model.priors else None
        timing = model.metrics.get("timings", {})
        extra[name] = {"seconds": seconds, "is_dag": model.metrics.get("is_dag"),
                       "cells_per_second": timing.get("cells_per_second") if arch == "latent" else None}
    return effects, grn, extra, exclude


def _baseline_effects(sim: SimulatedData, data: _Data, methods: tuple[str, ...], seed: int,
                      totalvi_epochs: int, effects: dict[str, pd.DataFrame],
                      extra: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Add the baselines' knockdown effects and timings; returns notes on methods skipped."""
    rna, prot, genes, proteins = data.args
    simple = {
        "correlation": lambda: correlation_effects(rna, prot, genes, proteins),
        "ridge": lambda: ridge_effects(rna, prot, genes, proteins),
        "random": lambda: random_effects(genes, proteins, seed=seed),
        "always_down": lambda: always_down_effects(genes, proteins),
        "oracle": lambda: sim.knockdown_effects.pivot_table(
            index="perturbation", columns="protein", values="true_effect", aggfunc="mean",
        ).reindex(index=genes, columns=proteins).fillna(0.0),
    }
    for name, make in simple.items():
        if name in methods:
            start = time.perf_counter()
            effects[name] = make()
            extra[name] = {"seconds": time.perf_counter() - start}
    notes: dict[str, str] = {}
    if "totalvi" in methods:
        if totalvi_available():
            effects["totalvi"], info = totalvi_effects(sim.mdata, seed=seed,
                                                       max_epochs=totalvi_epochs)
            extra["totalvi"] = info
        else:
            notes["totalvi"] = "scvi-tools not installed"
    return notes


def _prior_network(prior: pd.DataFrame, genes: list[str]) -> pd.DataFrame:
    """The training prior alone as a gene×gene network (its sign; 1 for an unsigned edge)."""
    pos = pd.DataFrame(0.0, index=genes, columns=genes)
    for src, dst, w in prior[["source", "target", "weight"]].itertuples(index=False):
        pos.at[src, dst] = 1.0 if w == 0 else float(np.sign(w))
    return pos


def _grn_scores(method: str, network: pd.DataFrame, truth: pd.DataFrame,
                exclude: pd.DataFrame | None) -> dict[str, float]:
    """Recovery of the true TF→target edges: with the training prior edges excluded, and all."""
    row = {}
    rec = recovery_scores({"rna_rna": network}, truth, exclude=exclude)["rna_rna"]
    if method != "prior":  # the prior's own edges are the excluded ones: 0.5 by construction
        row["grn_auroc"] = rec["auroc"]
        row["grn_auprc_ratio"] = (rec["auprc"] / rec["auprc_random"]
                                  if rec["auprc_random"] else np.nan)
    row["grn_auroc_all"] = recovery_scores({"rna_rna": network}, truth)["rna_rna"]["auroc"]
    return row
