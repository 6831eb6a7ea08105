"""What the perturbed cells of a screen measured, and the estimators that learn from it.

A screen fit (``cmcvae fit --perturbation-key``) keeps the perturbed cells beside the control
cells. Each trained perturbation ``T`` gives its **shift**: the mean of every feature in the cells
where ``T`` was knocked down minus the mean of the control cells of the same batch, in control
standard deviations — a direct, unconfounded measurement of ``T``'s total effects. Three ways to
use the shifts for a perturbation that was *not* in the screen:

- ``mean`` — the average shift of the trained perturbations, the same for every knockdown (the
  "mean" baseline of Ahlmann-Eltze, Huber & Anders, Nat. Methods 2025).
- ``linear`` — their linear baseline: ``Y ≈ G W Pᵀ + b`` with ``Y`` the features × trained
  perturbations shifts, ``b`` its row means, ``G`` the top principal components of ``Y`` (one row
  per feature), ``P`` the rows of ``G`` of the perturbed genes, ``W`` ridge-fitted in closed form;
  an unseen knockdown of ``g`` is predicted as ``b + G W G[g]ᵀ``.
- ``adjust_iv`` — the ``adjust`` estimator with adjustment sets informed by the screen: a feature
  a trained perturbation ``T`` moved significantly is a descendant of ``T`` (so it is not adjusted
  for when ``T``'s descendants are excluded) and ``T`` is an ancestor of it (so ``T`` is never
  dropped from that feature's set as a presumed descendant).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats as sps

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects._stats import FeatureStats, transformed_blocks

__all__ = ["InterventionStats", "intervention_stats", "linear_effects", "linear_model", "mean_effects",
           "orient_by_screen", "screen_graph"]

#: fewest cells of a perturbation for its shift to be used
MIN_CELLS = 10
#: |z| of a shift above which the feature counts as moved (two-sided 0.1 % level)
Z_MOVED = float(sps.norm.isf(0.0005))
#: a regulator is adjacent to a source when their partial correlation exceeds this many SEs
ADJACENT_SE = 8.0
#: an orientation is read from a knockdown only if the expected shift had this many times the power
POWER_Z = 1.0
#: ... and the observed shift is below this fraction of the expected one
REFUTED_FRACTION = 0.5
#: principal components and ridge penalty of the linear baseline (Ahlmann-Eltze et al. 2025)
LINEAR_COMPONENTS = 10
LINEAR_PENALTY = 0.1


@dataclass(frozen=True)
class InterventionStats:
    """Per trained perturbation: its shift of every feature (control SDs) and the z of the shift.

    Attributes
    ----------
    targets
        The perturbation labels (targeted genes), in order.
    shift, z
        Targets × features (the features of the :class:`FeatureStats` they were computed with).
    n_cells
        Cells per target.
    """

    targets: list[str]
    shift: np.ndarray
    z: np.ndarray
    n_cells: np.ndarray


def intervention_stats(control: FeatureStats, labels: Sequence[str], rna_counts, prot_counts,
                       genes: Sequence[str], proteins: Sequence[str],
                       batches: Sequence[str] | None = None,
                       control_batch_means: dict[str, np.ndarray] | None = None) -> InterventionStats:
    """Shifts of the perturbed cells against the control cells.

    Parameters
    ----------
    control
        Moments of the control cells.
    labels
        Each perturbed cell's target.
    rna_counts, prot_counts, genes, proteins
        Raw counts of the perturbed cells and their feature names (as for
        :func:`~cmcvae.effects.feature_stats`; ``prot_counts`` ``None`` for an RNA-only run).
    batches, control_batch_means
        Each perturbed cell's batch and the control mean of every batch: a cell is compared with
        the controls of its own batch when that batch has controls, else with all controls.

    Returns
    -------
    InterventionStats
    """
    labels = np.asarray([str(x) for x in labels], dtype=object)
    references = _references(control, batches, control_batch_means, len(labels))
    scale = np.where(control.std > 0, control.std, 1.0)
    targets, shifts, zs, counts = [], [], [], []
    codes, uniques = pd.factorize(labels)  # the cells of each target, grouped in one pass
    order = np.argsort(codes, kind="stable")
    for target, rows in zip(uniques, np.split(order, np.cumsum(np.bincount(codes))[:-1]),
                            strict=True):
        if len(rows) < MIN_CELLS:
            continue
        values = transformed_blocks(rna_counts[rows], None if prot_counts is None else
                                    prot_counts[rows], genes, proteins)
        values = values.toarray() if hasattr(values, "toarray") else np.asarray(values)
        if values.shape[1] != len(control.names):
            raise CMCVAEInputError("The perturbed cells do not have the control cells' features.")
        block = (values - references[0][references[1][rows]]) / scale
        shift = block.mean(axis=0)
        se = np.sqrt(block.var(axis=0, ddof=1) / len(rows) + 1.0 / control.n_cells)
        targets.append(str(target))
        shifts.append(shift)
        zs.append(np.divide(shift, se, out=np.zeros_like(shift), where=se > 0))
        counts.append(len(rows))
    if not targets:
        raise CMCVAEInputError(f"No perturbation of the screen has {MIN_CELLS} or more cells.")
    return InterventionStats(targets, np.vstack(shifts), np.vstack(zs), np.asarray(counts))


def _references(control: FeatureStats, batches, means: dict[str, np.ndarray] | None,
                n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The control means a cell is compared with, as (one row per batch, each cell's row): row 0
    is all controls, the others the batches with controls."""
    rows = [control.mean]
    code = np.zeros(n_cells, dtype=int)
    if batches is not None and means:
        batches = np.asarray([str(x) for x in batches], dtype=object)
        for batch, mean in means.items():
            rows.append(np.asarray(mean, dtype=float))
            code[batches == batch] = len(rows) - 1
    return np.vstack(rows), code


def mean_effects(iv: InterventionStats, n_sources: int, readouts: np.ndarray) -> np.ndarray:
    """The average trained shift, the same row for every source."""
    return np.tile(iv.shift[:, readouts].mean(axis=0), (n_sources, 1))


def linear_model(y: np.ndarray, target_pos: np.ndarray, sources: np.ndarray,
                 components: int = LINEAR_COMPONENTS, penalty: float = LINEAR_PENALTY) -> np.ndarray:
    """Ahlmann-Eltze et al.'s linear model, features × sources.

    ``y`` is features × trained perturbations (their shifts), ``target_pos`` each trained
    perturbation's feature position (−1 for a target that is not a feature: it shapes ``b`` and
    ``G`` but has no embedding to fit ``W`` with), ``sources`` the features to predict for.
    """
    b = y.mean(axis=1, keepdims=True)
    k = max(1, min(components, y.shape[1] - 1, y.shape[0]))
    u, _, _ = np.linalg.svd(y - b, full_matrices=False)
    g = u[:, :k]                                                # feature embedding
    known = target_pos >= 0
    if not known.any():
        return np.tile(b, (1, len(sources)))
    p = g[target_pos[known]]                                    # trained perturbation embedding
    left = np.linalg.solve(g.T @ g + penalty * np.eye(k), g.T @ (y[:, known] - b))
    w = left @ p @ np.linalg.inv(p.T @ p + penalty * np.eye(k))
    return b + g @ w @ g[sources].T


def linear_effects(iv: InterventionStats, features: pd.Index, sources: np.ndarray,
                   readouts: np.ndarray) -> np.ndarray:
    """:func:`linear_model` fitted on the trained shifts (sources × readouts)."""
    pred = linear_model(iv.shift.T, features.get_indexer(iv.targets), sources)
    return pred[readouts].T


def screen_graph(prior: nx.DiGraph, iv: InterventionStats, features: pd.Index) -> tuple:
    """The prior plus "T → every feature T moved", and each feature's screen ancestors."""
    graph = prior.copy()
    ancestors: dict[str, set[str]] = {}
    moved = np.abs(iv.z) > Z_MOVED
    for t, row in zip(iv.targets, moved, strict=True):
        for name in features[row]:
            if name != t and not str(name).startswith("\0"):
                graph.add_edge(t, str(name))
                ancestors.setdefault(str(name), set()).add(t)
    return graph, ancestors


def orient_by_screen(graph: nx.DiGraph, corr: np.ndarray, n_cells: int, sources: Sequence[str],
                     regulators: Sequence[str], features: pd.Index, iv: InterventionStats) -> None:
    """Add ``G → X`` for a trained regulator ``X`` adjacent to source ``G`` that did not move ``G``.

    Adjacent: the partial correlation of ``G`` and ``X`` given the other regulators is beyond
    5 standard errors (``5/√n``). If knocking ``X`` down left ``G`` unchanged, ``X`` is not an
    ancestor of ``G``, so the edge between them points ``G → X``: ``X`` (and what it moves) is a
    descendant of ``G`` and must not be adjusted for.
    """
    regs = list(dict.fromkeys(str(r) for r in regulators))
    reg_pos = features.get_indexer(regs)
    regs = [r for r, p in zip(regs, reg_pos, strict=True) if p >= 0]
    reg_pos = reg_pos[reg_pos >= 0]
    trained = {t: i for i, t in enumerate(iv.targets)}
    if not regs or not trained:
        return
    k = np.linalg.inv(corr[np.ix_(reg_pos, reg_pos)] + 1e-8 * np.eye(len(reg_pos)))
    cut = ADJACENT_SE / np.sqrt(n_cells)
    reg_index = {r: i for i, r in enumerate(regs)}
    for g in sources:
        pcor = _partial_correlations(corr, k, reg_pos, reg_index, features.get_loc(str(g)), str(g))
        gpos = features.get_loc(str(g))
        for x, r in zip(regs, pcor, strict=True):
            if x == g or x not in trained or abs(r) < cut:
                continue
            if _refuted(iv, trained[x], features.get_loc(x), gpos, corr):
                graph.add_edge(str(g), x)


def _refuted(iv: InterventionStats, row: int, xpos: int, gpos: int, corr: np.ndarray) -> bool:
    """Did knocking ``X`` down refute "``X`` is upstream of ``G``"? Only where the screen had the
    power to see it: had ``X`` driven ``G`` as strongly as their correlation says, ``X``'s own
    drop would have shifted ``G`` by ``r · shift(X)``. Refuted when that expected shift is
    clearly detectable (``POWER_Z`` times the z cut) and the observed one is below it and below
    :data:`REFUTED_FRACTION` of the expected one; with too little power nothing is concluded
    (absence of evidence is not taken as evidence of absence)."""
    expected = corr[xpos, gpos] * iv.shift[row, xpos]
    observed = iv.shift[row, gpos]
    se = abs(observed / iv.z[row, gpos]) if iv.z[row, gpos] != 0 else np.inf
    if not np.isfinite(se) or abs(expected) < POWER_Z * Z_MOVED * se:
        return False
    return abs(iv.z[row, gpos]) < Z_MOVED and abs(observed) < REFUTED_FRACTION * abs(expected)


def _partial_correlations(corr, k, reg_pos, reg_index, gpos: int, g: str) -> np.ndarray:
    """Partial correlation of feature ``g`` with each regulator given the other regulators."""
    if g in reg_index:  # g is a regulator: read it off the regulators' precision matrix
        i = reg_index[g]
        return -k[i] / np.sqrt(k[i, i] * np.diag(k))
    c = corr[reg_pos, gpos]
    u = k @ c
    s = max(1.0 - c @ u, 1e-12)
    omega_gx = -u / s
    omega_xx = np.diag(k) + u**2 / s
    return -omega_gx / np.sqrt(omega_xx / s)
