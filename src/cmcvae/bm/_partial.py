"""Partial-correlation baselines: Ledoit–Wolf shrunk precision and the graphical lasso.

Both estimate a precision matrix ``Θ`` of the standardised data and score the pair ``(i, j)``
by the partial correlation ``−Θij / sqrt(Θii Θjj)``: symmetric and signed. Constant columns are
left out of the estimate and get score 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.covariance import GraphicalLasso, LedoitWolf
from sklearn.exceptions import ConvergenceWarning

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._trivial import check_expression, dense_edges, standardize

__all__ = ["partial_correlation", "graphical_lasso"]


def _precision_to_partial(theta: np.ndarray) -> np.ndarray:
    """``−Θij / sqrt(Θii Θjj)`` with a zero diagonal."""
    dia = np.sqrt(np.clip(np.diag(theta), 1e-300, None))
    P = -theta / np.outer(dia, dia)
    np.fill_diagonal(P, 0.0)
    return np.clip(P, -1.0, 1.0)


def _embed(P_sub: np.ndarray, varying: np.ndarray) -> np.ndarray:
    """Place a score matrix over the varying columns into a zero ``d × d`` matrix."""
    d = varying.size
    P = np.zeros((d, d))
    idx = np.flatnonzero(varying)
    P[np.ix_(idx, idx)] = P_sub
    return P


def _ledoit_wolf_partial(Z: np.ndarray) -> np.ndarray:
    """Partial correlations from the Ledoit–Wolf precision of centred data ``Z``."""
    lw = LedoitWolf(assume_centered=True, store_precision=True).fit(Z)
    return _precision_to_partial(lw.precision_)


def partial_correlation(X: np.ndarray, features: Sequence[str], *, seed: int = 0) -> pd.DataFrame:
    """Partial correlation from the Ledoit–Wolf shrunk precision of the standardised data.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.
    features
        One name per column of ``X``.
    seed
        Unused (the method is deterministic); accepted for the common interface.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs; weight is the signed partial
        correlation given all other features, the same in both directions, 0 for a constant
        column.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X`` or when ``features`` does not match its columns.
    """
    Xa = check_expression(X, features)
    Z, varying = standardize(Xa)
    if varying.sum() < 2:
        return dense_edges(np.zeros((Xa.shape[1],) * 2), features)
    return dense_edges(_embed(_ledoit_wolf_partial(Z[:, varying]), varying), features)


def _try_glasso(
    Z: np.ndarray, alpha: float, max_iter: int, tol: float, enet_tol: float
) -> np.ndarray | None:
    """Graphical-lasso precision, or ``None`` when it fails or the outer loop does not
    converge. Convergence warnings of the inner lasso solves are not failures (the outer
    dual-gap test decides) and are silenced."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            gl = GraphicalLasso(
                alpha=alpha,
                mode="cd",
                max_iter=max_iter,
                tol=tol,
                enet_tol=enet_tol,
                assume_centered=True,
            ).fit(Z)
        except (FloatingPointError, ValueError, np.linalg.LinAlgError):
            return None
    if any(
        issubclass(w.category, ConvergenceWarning) and "graphical_lasso" in str(w.message)
        for w in caught
    ):
        return None
    theta = gl.precision_
    return theta if np.all(np.isfinite(theta)) else None


def graphical_lasso(
    X: np.ndarray,
    features: Sequence[str],
    *,
    seed: int = 0,
    alpha: float = 0.01,
    max_iter: int = 200,
    tol: float = 1e-4,
    enet_tol: float = 1e-7,
    fallback_alphas: Sequence[float] = (2.0, 5.0, 10.0),
) -> pd.DataFrame:
    """Sparse partial correlation from scikit-learn's graphical lasso on standardised data.

    The empirical covariance of the standardised data is the correlation matrix, so ``alpha``
    is an L1 penalty on the scale of correlations. If the fit raises or does not converge in
    ``max_iter`` iterations it is retried with ``alpha`` multiplied by each factor of
    ``fallback_alphas`` in turn and, if all fail, replaced by the Ledoit–Wolf partial
    correlation (:func:`partial_correlation`). Every fallback is reported by a
    :class:`UserWarning`; the function never fails on well-formed input.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.
    features
        One name per column of ``X``.
    seed
        Unused (coordinate descent is deterministic); accepted for the common interface.
    alpha
        L1 penalty on the off-diagonal precision entries (default 0.01: single-cell
        correlations are weak, and a larger penalty ties most pairs at 0).
    max_iter
        Largest number of graphical-lasso iterations per attempt.
    tol
        Convergence tolerance (dual gap) of the graphical lasso.
    enet_tol
        Tolerance of its inner lasso solves (tighter than scikit-learn's 1e-4, which often
        keeps the outer loop from converging).
    fallback_alphas
        Factors applied to ``alpha`` for the retries.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs; weight is the signed partial
        correlation of the sparse precision (0 where the penalty removed the pair), the same
        in both directions. ``attrs["alpha"]`` holds the penalty used, or ``nan`` for the
        Ledoit–Wolf fallback.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X``, a mismatched ``features`` or a non-positive ``alpha``.
    """
    Xa = check_expression(X, features)
    if not alpha > 0:
        raise CMCVAEInputError(f"alpha must be positive, got {alpha}.")
    Z, varying = standardize(Xa)
    d = Xa.shape[1]
    if varying.sum() < 2:
        out = dense_edges(np.zeros((d, d)), features)
        out.attrs["alpha"] = float(alpha)
        return out
    Zv = Z[:, varying]
    for factor in (1.0, *fallback_alphas):
        a = float(alpha * factor)
        theta = _try_glasso(Zv, a, max_iter, tol, enet_tol)
        if theta is not None:
            if factor != 1.0:
                warnings.warn(
                    f"graphical_lasso did not converge at alpha={alpha:g}; used alpha={a:g}.",
                    UserWarning,
                    stacklevel=2,
                )
            out = dense_edges(_embed(_precision_to_partial(theta), varying), features)
            out.attrs["alpha"] = a
            return out
    warnings.warn(
        f"graphical_lasso did not converge for alpha in {[alpha * f for f in (1.0, *fallback_alphas)]}; "
        "fell back to the Ledoit–Wolf partial correlation.",
        UserWarning,
        stacklevel=2,
    )
    out = dense_edges(_embed(_ledoit_wolf_partial(Zv), varying), features)
    out.attrs["alpha"] = float("nan")
    return out
