"""Marginal correlation baselines: Pearson and Spearman.

Both are symmetric (``i → j`` and ``j → i`` get the same score) and signed; the scorer ranks
by the absolute value. Constant columns get correlation 0 with everything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from cmcvae.bm._trivial import check_expression, dense_edges, standardize

__all__ = ["pearson", "spearman"]


def _correlation_matrix(X: np.ndarray) -> np.ndarray:
    """Pearson correlation of the columns of ``X``; 0 for pairs with a constant column."""
    Z, _ = standardize(X)
    C = (Z.T @ Z) / Z.shape[0]
    return np.clip(C, -1.0, 1.0)


def pearson(X: np.ndarray, features: Sequence[str], *, seed: int = 0) -> pd.DataFrame:
    """Pearson correlation between every pair of features.

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
        ``source, target, weight`` over all ordered pairs; weight is the signed correlation,
        the same in both directions, 0 for a constant column.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X`` or when ``features`` does not match its columns.
    """
    Xa = check_expression(X, features)
    return dense_edges(_correlation_matrix(Xa), features)


def spearman(X: np.ndarray, features: Sequence[str], *, seed: int = 0) -> pd.DataFrame:
    """Spearman rank correlation (Pearson on average ranks) between every pair of features.

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
        ``source, target, weight`` over all ordered pairs; weight is the signed rank
        correlation, the same in both directions, 0 for a constant column.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X`` or when ``features`` does not match its columns.
    """
    Xa = check_expression(X, features)
    R = rankdata(Xa, axis=0, method="average")
    return dense_edges(_correlation_matrix(R), features)
