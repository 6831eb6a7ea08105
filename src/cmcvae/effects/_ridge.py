"""The ridge baseline on the correlation matrix: each readout regressed on every gene but itself.

``β = (C_gg + λI)⁻¹ C_gY`` for a protein; for a gene ``Y`` the same regression without ``Y``,
read from ``Ω = (C_gg + λI)⁻¹`` as ``β = −Ω_·Y / Ω_YY``. One penalty for all readouts, chosen by
two-fold cross-validation over cells from the correlation matrices of the two halves
(:attr:`FeatureStats.fold_corr`), scored by the held-out mean squared error.
"""

from __future__ import annotations

import numpy as np

from cmcvae.effects._stats import FeatureStats

__all__ = ["RIDGE_PENALTIES", "ridge_coefficients"]

#: candidate penalties, relative to unit-variance features (sklearn's ``alpha`` / n_cells)
RIDGE_PENALTIES: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)


def ridge_coefficients(stats: FeatureStats, genes: np.ndarray, readouts: np.ndarray,
                       penalty: float | None = None) -> tuple[np.ndarray, float]:
    """Ridge coefficients genes × readouts (a readout's own gene row is 0) and the penalty used."""
    if penalty is None:
        penalty = _choose_penalty(stats, genes, readouts)
    return _coefficients(stats.corr, genes, readouts, penalty), float(penalty)


def _coefficients(corr: np.ndarray, genes: np.ndarray, readouts: np.ndarray, lam: float) -> np.ndarray:
    omega = np.linalg.inv(corr[np.ix_(genes, genes)] + lam * np.eye(len(genes)))
    beta = omega @ corr[np.ix_(genes, readouts)]
    gene_pos = {int(g): i for i, g in enumerate(genes)}
    for j, r in enumerate(readouts):
        i = gene_pos.get(int(r))
        if i is not None:  # the readout is a gene: regress it on the others
            beta[:, j] = -omega[:, i] / omega[i, i]
            beta[i, j] = 0.0
    return beta


def _choose_penalty(stats: FeatureStats, genes: np.ndarray, readouts: np.ndarray) -> float:
    if len(stats.fold_corr) != 2:
        return 1e-2
    errors = []
    for lam in RIDGE_PENALTIES:
        err = 0.0
        for train, test in (stats.fold_corr, stats.fold_corr[::-1]):
            beta = _coefficients(train, genes, readouts, lam)
            cross = test[np.ix_(genes, readouts)]
            quad = np.einsum("gr,gr->r", beta, test[np.ix_(genes, genes)] @ beta)
            err += float(np.sum(1.0 - 2.0 * np.einsum("gr,gr->r", beta, cross) + quad))
        errors.append(err)
    return RIDGE_PENALTIES[int(np.argmin(errors))]
