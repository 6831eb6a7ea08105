"""Stacking: the observational estimators, weighted by how well each ranks a screen's trained
perturbations.

A screen's trained knockdowns are labelled examples of what every estimator is judged on —
which readouts a knockdown moves. Each observational estimator (computed from the control
cells' moments only, so a trained perturbation's own cells never enter its features) scores
every (trained knockdown, readout) pair by its predicted effect; the weights of a convex
combination of those scores (each divided by its spread over the trained pairs) are chosen on
a grid of the simplex to maximise the AUROC of the combined score for the significantly moved
pairs (|z| > :data:`SIGNIFICANT_Z`) — stacked generalisation (Wolpert 1992) with the task's own
metric as the loss. The same weights combine the estimators for the perturbations that were not
trained on; the weights are reported, so the screen's verdict is readable.

A least-squares fit of the effect sizes (Breiman's stacked regression) was tried first and lost
to ``adjust`` on the protein readouts of every tuning setting: the largest shifts (a target's
own protein, the strongest TF targets) dominate squared error, which is not what decides which
pairs move.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = ["GRID_STEP", "MAX_PAIRS", "MIN_TARGET_Z", "MIN_TRAINED", "SIGNIFICANT_Z", "can_stack",
           "combine", "stack_weights", "trained_examples"]

#: a trained knockdown is an example only if its target dropped by at least this z
MIN_TARGET_Z = 3.0
#: fewest usable trained knockdowns to fit the weights
MIN_TRAINED = 3
#: a trained pair counts as moved beyond this |z| (two-sided p ≈ 0.001)
SIGNIFICANT_Z = 3.29
#: the simplex grid's step
GRID_STEP = 0.1
#: at most this many trained pairs (a seeded sample) enter the weight search
MAX_PAIRS = 50_000


def trained_examples(shift: np.ndarray, z: np.ndarray, targets: Sequence[str],
                     gene_positions: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    """The trained knockdowns that lowered their own target (``z ≤ −MIN_TARGET_Z``).

    ``gene_positions`` maps each gene of the run to its column in ``shift`` (a protein may
    share a gene's name, so the columns are looked up among the genes only).

    Returns
    -------
    sources, rows
        Those targets and their rows in ``shift`` / ``z``.
    """
    sources, rows = [], []
    for row, target in enumerate(targets):
        pos = gene_positions.get(str(target), -1)
        if pos >= 0 and z[row, pos] <= -MIN_TARGET_Z:
            sources.append(str(target))
            rows.append(row)
    return sources, np.asarray(rows, dtype=int)


def can_stack(shift: np.ndarray, z: np.ndarray, targets: Sequence[str],
              gene_positions: Mapping[str, int]) -> bool:
    """Whether at least :data:`MIN_TRAINED` trained knockdowns of genes lowered their target
    (a screen whose trained targets are all outside the model has nothing to learn from)."""
    return len(trained_examples(shift, z, targets, gene_positions)[0]) >= MIN_TRAINED


def _simplex(n: int, step: float) -> list[np.ndarray]:
    k = round(1.0 / step)
    return [np.asarray(c, dtype=float) / k for c in itertools.product(range(k + 1), repeat=n)
            if sum(c) == k]


def stack_weights(predictions: dict[str, np.ndarray], moved: np.ndarray, exclude: np.ndarray,
                  seed: int = 0) -> tuple[dict[str, float], dict[str, float], float]:
    """Simplex weights whose combined score best ranks the moved trained pairs.

    Parameters
    ----------
    predictions
        Estimator name → trained sources × readouts coefficients.
    moved
        Boolean: the pair moved significantly (same shape).
    exclude
        Boolean mask of the entries left out (a readout that is the source itself).
    seed
        Seed of the pair sample when there are more than :data:`MAX_PAIRS`.

    Returns
    -------
    weights, scales, auroc
        The weights (summing to one), each estimator's spread over the trained pairs (the
        score divides by it) and the trained-pair AUROC the weights reach. With one class only
        (nothing or everything moved), all weight goes to the first estimator.
    """
    names = list(predictions)
    keep = ~exclude
    for beta in predictions.values():
        keep &= np.isfinite(beta)
    scales = {m: float(np.std(predictions[m][keep])) or 1.0 for m in names}
    X = np.column_stack([np.abs(predictions[m][keep]) / scales[m] for m in names])
    y = moved[keep]
    if len(y) > MAX_PAIRS:
        pick = np.random.default_rng(seed).choice(len(y), MAX_PAIRS, replace=False)
        X, y = X[pick], y[pick]
    first = {m: float(i == 0) for i, m in enumerate(names)}
    if y.all() or not y.any():
        return first, scales, float("nan")
    best, best_w = -1.0, None
    for w in _simplex(len(names), GRID_STEP):
        auc = roc_auc_score(y, X @ w)
        if auc > best + 1e-12:
            best, best_w = auc, w
    return {m: float(v) for m, v in zip(names, best_w, strict=True)}, scales, float(best)


def combine(weights: dict[str, float], scales: dict[str, float],
            estimate: Callable[[str], np.ndarray]) -> np.ndarray:
    """The combined effect: magnitude ``Σ w_m |β_m| / s_m`` (in the weighted units ``Σ w_m s_m``),
    sign of ``Σ w_m β_m / s_m``; NaN where a used estimator has none."""
    used = {m: w for m, w in weights.items() if w > 0}
    if not used:
        raise ValueError("no estimator has a positive weight")
    betas = {m: estimate(m) / scales[m] for m in used}
    magnitude = sum(w * np.abs(betas[m]) for m, w in used.items())
    direction = np.sign(sum(w * betas[m] for m, w in used.items()))
    unit = sum(w * scales[m] for m, w in used.items())
    return np.where(direction == 0, 1.0, direction) * magnitude * unit
