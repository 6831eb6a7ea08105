"""A fitted run's knockdown effects: the run's training moments and knowledge, fed to :mod:`cmcvae.effects`.

Shared by ``cmcvae validate`` (every estimator scored next to the baselines) and
``cmcvae predict`` (one estimator queried). The moments come from the run's training cells
(``split.csv``), read from the data the run records (or ``data``); the GRN prior is the one the
run was fitted with (``priors/grn_train.csv`` and ``grn_holdout.csv`` together: the holdout is
held out from training the graph, not from what a user knows); the fitted graph is ``edges.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import (
    DEFAULT_ESTIMATOR,
    ESTIMATORS,
    SCREEN_ESTIMATORS,
    EffectEstimate,
    FeatureStats,
    can_stack,
    default_estimator,
    estimate_effects,
    feature_stats,
    gene_positions,
    intervention_stats,
    read_regulators,
    resolve_regulators,
    transformed_blocks,
)
from cmcvae.model import CMCVAE
from cmcvae.tl._fitted import (
    json_or_empty,
    load_fitted,
    read_training_data,
    screen_counts,
    training_counts,
)

__all__ = ["SCREEN_DEFAULT", "RunEffects", "run_prior"]

#: the estimator of a screen fit (``fit --perturbation-key``). ``adjust_iv`` gains on the tuning
#: settings but loses on two of three held-out ones (by 0.05 on heldout_c's gene readouts;
#: ``benchmarks/screen_settings.py``, docs/model.md), so a screen fit keeps the observational
#: default and scores ``adjust_iv``, ``linear``, ``mean`` and ``ridge_pooled`` beside it
SCREEN_DEFAULT = DEFAULT_ESTIMATOR


def run_prior(run: Path) -> pd.DataFrame | None:
    """The GRN prior a run was fitted with (``None`` when it had none)."""
    parts = [run / "priors" / f"grn_{part}.csv" for part in ("train", "holdout")]
    frames = []
    for path in parts:
        if path.exists():
            try:
                frames.append(pd.read_csv(path, dtype={"source": str, "target": str}))
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
                raise CMCVAEInputError(f"{path} is corrupt ({err}); fit the run again.") from None
    frames = [f for f in frames if {"source", "target"} <= set(f.columns) and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def _is_screen(run: Path) -> bool:
    """Was the run fitted on a screen (``fit --perturbation-key``)?"""
    return bool(json_or_empty(run / "run.json").get("perturbation_key"))


def _screen_stats(run: Path, data: Any, model: CMCVAE, control: FeatureStats) -> tuple:
    """A screen fit's trained perturbations and its pooled moments (``None, None`` otherwise).

    Each perturbed cell is compared with the control cells of its own batch; all labelled
    cells (controls of every split and perturbed cells) make the pooled moments.
    """
    if not _is_screen(run):
        return None, None
    labels, is_control, batches, rna, prot = screen_counts(run, data, model)
    proteins = model.proteins if prot is not None else []
    means = {}
    if batches is not None:
        for batch in np.unique(batches[is_control]):
            rows = np.flatnonzero(is_control & (batches == batch))
            block = transformed_blocks(rna[rows], None if prot is None else prot[rows],
                                       model.genes, proteins)
            means[str(batch)] = np.asarray(block.mean(axis=0)).ravel()
    pert = np.flatnonzero(~is_control)
    iv = intervention_stats(control, labels[pert], rna[pert], None if prot is None else prot[pert],
                            model.genes, proteins,
                            batches=None if batches is None else batches[pert],
                            control_batch_means=means)
    pooled = feature_stats(rna, prot, model.genes, proteins)
    return iv, pooled


def _fitted_graph(run: Path) -> pd.DataFrame | None:
    path = run / "edges.csv"
    return pd.read_csv(path) if path.exists() else None


class RunEffects:
    """The effect estimators of one fitted run, sharing its moments.

    Parameters
    ----------
    run
        Run folder.
    data
        Training data (default: the file the run records).
    regulators
        A regulator (TF) list file or names, overriding the GRN prior's sources.
    model, counts
        The run's model and training counts when already loaded.
    """

    def __init__(self, run: str | Path, data: Any = None,
                 regulators: str | Path | Sequence[str] | None = None,
                 model: CMCVAE | None = None, counts: tuple | None = None) -> None:
        self.run = Path(run)
        self.model = load_fitted(self.run) if model is None else model
        if counts is None or _is_screen(self.run):  # read the file once for both uses
            data = read_training_data(self.run, data, self.model)
        rna, prot = training_counts(self.run, data, self.model) if counts is None else counts
        self.stats: FeatureStats = feature_stats(rna, prot if self.model.proteins else None,
                                                 self.model.genes, self.model.proteins)
        self.prior = run_prior(self.run)
        from_file = isinstance(regulators, (str, Path))
        self.regulators, self.regulator_source = resolve_regulators(
            self.model.genes, self.prior, read_regulators(regulators) if from_file else regulators)
        if from_file:
            self.regulator_source = "file"
        self.graph = _fitted_graph(self.run)
        self.interventions, self.pooled = _screen_stats(self.run, data, self.model, self.stats)

    def describe(self) -> dict[str, Any]:
        """Where the regulators came from and how many are genes of the run (for reports)."""
        regs = self.regulators
        if regs is None and self.prior is not None:
            regs = list(dict.fromkeys(self.prior["source"].astype(str)))
        genes = set(self.model.genes)
        return {"regulators": self.regulator_source,
                "n_regulators": sum(r in genes for r in set(regs or []))}

    def default_method(self) -> str:
        """:data:`SCREEN_DEFAULT` for a screen fit, :data:`DEFAULT_ESTIMATOR` otherwise, and
        ``correlation`` when there is nothing to adjust for (no prior, no regulator list)."""
        method = default_estimator(self.prior, self.regulators)
        return SCREEN_DEFAULT if method != "correlation" and self.interventions is not None else method

    def available(self) -> list[str]:
        """The estimators this run can use (``ida`` needs ``edges.csv``, ``adjust*`` a prior or a
        regulator list, ``propagate`` a two-modality or RNA model)."""
        out = []
        for name in ESTIMATORS:
            if name in ("adjust", "adjust_all") and self.prior is None and self.regulators is None:
                continue
            if name == "adjust_parents" and self.prior is None:
                continue
            if name in ("ida", "adjust_graph") and self.graph is None:
                continue
            if name == "adjust_graph" and self.prior is None and self.regulators is None:
                continue
            if name in SCREEN_ESTIMATORS and self.interventions is None:
                continue
            if name == "stack" and not can_stack(
                    self.interventions.shift, self.interventions.z, self.interventions.targets,
                    gene_positions(self.stats)):
                continue  # fewer than 3 trained knockdowns of the run's genes took
            if name == "adjust_iv" and self.prior is None and self.regulators is None:
                continue
            out.append(name)
        return out

    def estimate(self, method: str = DEFAULT_ESTIMATOR, sources: Sequence[str] | None = None,
                 readouts: Sequence[str] | None = None,
                 readout_modality: str | None = None) -> EffectEstimate:
        """:func:`cmcvae.effects.estimate_effects` with this run's moments and knowledge."""
        if method in ("adjust", "adjust_all", "adjust_iv") and self.prior is None and \
                self.regulators is None:
            raise CMCVAEInputError(
                f"The {method!r} estimator adjusts for regulators (TFs), but the run {self.run} was "
                "fitted without a GRN prior and its genes are not human TF symbols: pass a TF list "
                "with --regulators FILE, or choose --estimator correlation."
            )
        return estimate_effects(self.stats, method, sources=sources, readouts=readouts,
                                prior=self.prior, regulators=self.regulators, graph=self.graph,
                                model=self.model, readout_modality=readout_modality,
                                interventions=self.interventions, pooled=self.pooled)
