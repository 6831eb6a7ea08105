"""Trivial reference methods (random scores, prior only, empty graph) and shared helpers.

Every benchmark method has the interface::

    method(X, features, *, seed=0, **options) -> pandas.DataFrame

``X`` is a float ``cells × features`` matrix and the result has columns ``source, target,
weight`` over *all* ordered pairs ``i ≠ j`` (see :func:`dense_edges`). The input checks,
column standardisation and the dense edge table used by all methods live here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

__all__ = ["random_scores", "prior_only", "empty_graph"]


def check_expression(X, features: Sequence[str], *, min_cells: int = 2) -> np.ndarray:
    """Validate a ``cells × features`` matrix against its feature names.

    Parameters
    ----------
    X
        Array-like of shape ``(n_cells, n_features)``; must be numeric and finite.
    features
        One unique name per column of ``X``.
    min_cells
        Fewest rows accepted.

    Returns
    -------
    numpy.ndarray
        ``X`` as a C-contiguous float64 array (a copy; the input is never modified).

    Raises
    ------
    CMCVAEInputError
        When ``X`` is not 2-D numeric, holds NaN/inf, has too few cells or features, or when
        ``features`` does not name each column exactly once.
    """
    if hasattr(X, "toarray"):  # scipy.sparse
        X = X.toarray()
    try:
        Xa = np.array(X, dtype=np.float64, order="C", copy=True)
    except (TypeError, ValueError) as err:
        raise CMCVAEInputError(f"X must be a numeric cells × features matrix ({err}).") from err
    if Xa.ndim != 2:
        raise CMCVAEInputError(f"X must be a 2-D cells × features matrix, got {Xa.ndim} dimension(s).")
    feats = [str(f) for f in features]
    if len(feats) != Xa.shape[1]:
        raise CMCVAEInputError(
            f"features has {len(feats)} names but X has {Xa.shape[1]} columns; give one name per "
            "column of X."
        )
    if len(set(feats)) != len(feats):
        dup = sorted({f for f in feats if feats.count(f) > 1})[:5]
        raise CMCVAEInputError(f"features must be unique; duplicated: {dup}.")
    if Xa.shape[1] < 2:
        raise CMCVAEInputError(f"Need at least 2 features to infer a network, got {Xa.shape[1]}.")
    if Xa.shape[0] < min_cells:
        raise CMCVAEInputError(f"Need at least {min_cells} cells, got {Xa.shape[0]}.")
    bad = ~np.isfinite(Xa)
    if bad.any():
        cols = [feats[j] for j in np.flatnonzero(bad.any(axis=0))[:5]]
        raise CMCVAEInputError(
            f"X holds {int(bad.sum())} NaN/inf value(s) (e.g. in columns {cols}); impute or drop "
            "them before network inference."
        )
    return Xa


def standardize(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale columns to unit variance; constant columns become all zeros.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.

    Returns
    -------
    Z : numpy.ndarray
        The standardised matrix (population standard deviation, ``ddof=0``).
    varying : numpy.ndarray
        Boolean mask of the non-constant columns.
    """
    Z = X - X.mean(axis=0, keepdims=True)
    sd = Z.std(axis=0)
    scale = np.abs(X).max(axis=0)
    # relative tolerance so that a constant column with rounding noise counts as constant
    varying = sd > 1e-12 * np.maximum(scale, 1.0)
    Z[:, ~varying] = 0.0
    Z[:, varying] /= sd[varying]
    return Z, varying


def subsample_cells(X: np.ndarray, max_cells: int | None, rng: np.random.Generator) -> np.ndarray:
    """Rows of ``X`` drawn without replacement down to ``max_cells`` (all rows when ``None``).

    Parameters
    ----------
    X
        ``cells × features`` matrix.
    max_cells
        Largest number of rows kept, or ``None`` for all.
    rng
        Random generator (seeded by the caller).

    Returns
    -------
    numpy.ndarray
        ``X`` itself or a subset of its rows in their original order.
    """
    if max_cells is None or X.shape[0] <= max_cells:
        return X
    if int(max_cells) < 2:
        raise CMCVAEInputError(f"max_cells must be at least 2, got {max_cells}.")
    keep = np.sort(rng.choice(X.shape[0], size=int(max_cells), replace=False))
    return X[keep]


def dense_edges(W: np.ndarray, features: Sequence[str]) -> pd.DataFrame:
    """Edge table over all ordered pairs ``i ≠ j`` of a ``features × features`` score matrix.

    Parameters
    ----------
    W
        Scores, ``W[i, j]`` for the edge ``features[i] → features[j]``; the diagonal is ignored.
    features
        Names of the rows/columns of ``W``.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target, weight`` with ``n (n − 1)`` rows in row-major order
        (source-major). Non-finite scores are replaced by 0.
    """
    W = np.asarray(W, dtype=np.float64)
    names = np.asarray([str(f) for f in features], dtype=object)
    src, tgt = np.nonzero(~np.eye(len(names), dtype=bool))
    w = W[src, tgt]
    w = np.where(np.isfinite(w), w, 0.0) + 0.0  # + 0.0 turns -0.0 into 0.0
    return pd.DataFrame({"source": names[src], "target": names[tgt], "weight": w})


def random_scores(X: np.ndarray, features: Sequence[str], *, seed: int = 0) -> pd.DataFrame:
    """Uniform random edge scores: the chance-level reference.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix (only checked, not used).
    features
        One name per column of ``X``.
    seed
        Seed of the random generator; the same seed gives the same scores.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs, weights independent ``U(0, 1)``.
    """
    Xa = check_expression(X, features, min_cells=1)
    d = Xa.shape[1]
    W = np.random.default_rng(seed).uniform(size=(d, d))
    return dense_edges(W, features)


def prior_only(
    X: np.ndarray, features: Sequence[str], *, prior: pd.DataFrame, seed: int = 0
) -> pd.DataFrame:
    """Score 1 for every edge in a prior network, 0 otherwise (what the prior alone knows).

    Parameters
    ----------
    X
        Float ``cells × features`` matrix (only checked, not used).
    features
        One name per column of ``X``.
    prior
        Table with columns ``source`` and ``target`` (directed edges). Edges naming a feature
        outside ``features`` and self-loops are ignored.
    seed
        Unused; accepted for the common interface.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs, weight 1.0 for prior edges.

    Raises
    ------
    CMCVAEInputError
        When ``prior`` is not a table with ``source`` and ``target`` columns.
    """
    Xa = check_expression(X, features, min_cells=1)
    if not isinstance(prior, pd.DataFrame) or not {"source", "target"} <= set(prior.columns):
        raise CMCVAEInputError("prior must be a DataFrame with columns 'source' and 'target'.")
    index = {str(f): i for i, f in enumerate(features)}
    W = np.zeros((Xa.shape[1],) * 2)
    for s, t in zip(prior["source"].astype(str), prior["target"].astype(str), strict=True):
        if s in index and t in index:
            W[index[s], index[t]] = 1.0
    return dense_edges(W, features)


def empty_graph(X: np.ndarray, features: Sequence[str], *, seed: int = 0) -> pd.DataFrame:
    """The empty graph: every weight 0 (the SHD reference, SHD = number of true edges).

    Parameters
    ----------
    X
        Float ``cells × features`` matrix (only checked, not used).
    features
        One name per column of ``X``.
    seed
        Unused; accepted for the common interface.

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs, all weights 0, with
        ``attrs["dag"]`` the ``features × features`` zero matrix.
    """
    Xa = check_expression(X, features, min_cells=1)
    d = Xa.shape[1]
    out = dense_edges(np.zeros((d, d)), features)
    out.attrs["dag"] = np.zeros((d, d))
    return out
