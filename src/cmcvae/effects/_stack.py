"""Stacking: the observational estimators, weighted by how well each predicts a screen's
trained perturbations.

A screen's trained knockdowns are labelled examples of the quantity every estimator targets —
the shift of each readout when a gene goes down. Each observational estimator (computed from the
control cells' moments only, so a trained perturbation's own cells never enter its features)
predicts those shifts; a non-negative least-squares fit of the observed shifts on the
estimators' predictions (Breiman 1996, "Stacked regressions") says how much of each this
dataset supports, and the same weights combine the estimators for the perturbations that were
not trained on. The weights are reported, so the screen's verdict is readable ("adjust 0.7,
ridge 0.4").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy.optimize import nnls

__all__ = ["MIN_TARGET_Z", "MIN_TRAINED", "can_stack", "stack_weights", "trained_examples"]

#: a trained knockdown is an example only if its target dropped by at least this z
MIN_TARGET_Z = 3.0
#: fewest usable trained knockdowns to fit the weights
MIN_TRAINED = 3


def trained_examples(shift: np.ndarray, z: np.ndarray, targets: Sequence[str],
                     gene_positions: Mapping[str, int]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The trained knockdowns that worked, as per-SD effects of their target.

    ``gene_positions`` maps each gene of the run to its column in ``shift`` (a protein may
    share a gene's name, so the columns are looked up among the genes only).

    Returns
    -------
    sources, rows, effect
        The targets (genes of the run) whose own feature dropped with ``z ≤ −MIN_TARGET_Z``,
        their rows in ``shift``, and ``−shift / |shift of the target|`` (targets × features):
        the change of each feature per SD the target went down, with the sign of a coefficient
        (:class:`~cmcvae.effects.EffectEstimate` negates it back).
    """
    sources, rows, size = [], [], []
    for row, target in enumerate(targets):
        pos = gene_positions.get(str(target), -1)
        if pos >= 0 and z[row, pos] <= -MIN_TARGET_Z:
            sources.append(str(target))
            rows.append(row)
            size.append(-shift[row, pos])
    rows_a = np.asarray(rows, dtype=int)
    effect = -shift[rows_a] / np.asarray(size)[:, None] if rows else np.zeros((0, shift.shape[1]))
    return sources, rows_a, effect


def can_stack(shift: np.ndarray, z: np.ndarray, targets: Sequence[str],
              gene_positions: Mapping[str, int]) -> bool:
    """Whether at least :data:`MIN_TRAINED` trained knockdowns of genes lowered their target
    (a screen whose trained targets are all outside the model has nothing to learn from)."""
    return len(trained_examples(shift, z, targets, gene_positions)[0]) >= MIN_TRAINED


def stack_weights(predictions: dict[str, np.ndarray], observed: np.ndarray,
                  exclude: np.ndarray) -> dict[str, float]:
    """Non-negative least-squares weights of the estimators' predictions for the observed effects.

    Parameters
    ----------
    predictions
        Estimator name → trained sources × readouts coefficients.
    observed
        The observed per-SD effects (same shape).
    exclude
        Boolean mask of the entries left out (a readout that is the source itself).
    """
    keep = ~exclude & np.isfinite(observed)
    for beta in predictions.values():
        keep &= np.isfinite(beta)
    X = np.column_stack([beta[keep] for beta in predictions.values()])
    weights, _ = nnls(X, observed[keep])
    return {name: float(w) for name, w in zip(predictions, weights, strict=True)}


def combine(weights: dict[str, float], estimate: Callable[[str], np.ndarray]) -> np.ndarray:
    """``Σ_m w_m β_m`` over the estimators with a positive weight (NaN kept where one is NaN)."""
    used = {name: w for name, w in weights.items() if w > 0}
    if not used:
        raise ValueError("no estimator has a positive weight")
    return sum(w * estimate(name) for name, w in used.items())
