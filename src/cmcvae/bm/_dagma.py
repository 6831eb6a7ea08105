"""DAGMA linear baseline through the optional ``dagma`` package (Bello et al., NeurIPS 2022).

``dagma`` is not a dependency of cmcvae; it is imported when :func:`dagma_linear` is called.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._trivial import check_expression, dense_edges, subsample_cells
from cmcvae.bm._trivial import standardize as standardize_columns
from cmcvae.graph.threshold import is_dag, threshold_to_dag

__all__ = ["dagma_linear"]


def _import_dagma():
    """The ``dagma.linear`` module, or a :class:`CMCVAEInputError` saying how to install it."""
    try:
        import dagma.linear as dagma_linear_module
    except ImportError as err:
        raise CMCVAEInputError(
            "The dagma_linear baseline needs the optional package 'dagma'; install with "
            "pip install dagma"
        ) from err
    return dagma_linear_module


def dagma_linear(
    X: np.ndarray,
    features: Sequence[str],
    *,
    seed: int = 0,
    lambda1: float = 0.02,
    w_threshold: float = 0.3,
    T: int = 5,
    mu_init: float = 1.0,
    mu_factor: float = 0.1,
    s: Sequence[float] | float = (1.0, 0.9, 0.8, 0.7, 0.6),
    warm_iter: int = 20_000,
    max_iter: int = 40_000,
    lr: float = 3e-4,
    standardize: bool = True,
    max_cells: int | None = None,
) -> pd.DataFrame:
    """DAGMA with a linear SEM and least-squares loss on the standardised data.

    Standardising makes the result independent of the features' scales (arbitrary in
    single-cell data), but it also removes the variance ordering that an equal-noise linear
    SEM leaves in raw data and that least-squares DAG learners exploit (Reisach et al.,
    NeurIPS 2021), so directions are then largely guesswork; ``standardize=False`` fits the
    centred raw data instead.

    Runs ``dagma.linear.DagmaLinear(loss_type="l2").fit`` with the given options and
    ``w_threshold=0``, so the unthresholded weights rank every pair. The DAG is the fit
    thresholded at ``|W| ≥ w_threshold`` as in DAGMA; if that is still cyclic (rare, when
    the optimisation stopped early) the threshold is raised until it is acyclic, with a
    warning. DAGMA is deterministic; ``seed`` only draws the cells for ``max_cells``.
    Cost grows with the iterations (``(T − 1) · warm_iter + max_iter`` at most; each inner run
    also stops once the objective changes by less than 1e-6 relative over 1000 iterations) and
    with the number of features cubed, not with the number of cells.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.
    features
        One name per column of ``X``.
    seed
        Seeds the cell subsample (only used with ``max_cells``).
    lambda1
        L1 penalty (DAGMA's default 0.03; 0.02 as in DAGMA's own example).
    w_threshold
        Edges with ``|W| < w_threshold`` are dropped from the DAG (DAGMA's default 0.3).
    T
        Number of DAGMA outer iterations (central-path steps).
    mu_init, mu_factor
        Initial weight of the score and its decay per outer iteration.
    s
        Log-det domain parameter per outer iteration (a list, or one value for all).
    warm_iter
        Most inner Adam iterations for the outer iterations before the last (DAGMA: 30000).
    max_iter
        Most inner Adam iterations for the last outer iteration (DAGMA: 60000).
    lr
        Adam learning rate.
    standardize
        Scale the columns to unit variance (default) or only centre them.
    max_cells
        Cells used at most, drawn without replacement with ``seed`` (``None``: all).

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs, weight ``W[i, j]`` (signed, the
        fitted coefficient of ``source → target``, zeros included), and ``attrs["dag"]``: the
        thresholded acyclic ``features × features`` adjacency (rows = source), for the SHD.
        Constant features get no edges.

    Raises
    ------
    CMCVAEInputError
        When ``dagma`` is not installed, on NaN/inf in ``X`` or a mismatched ``features``.

    Notes
    -----
    ``attrs["dag"]`` is a numpy array, so ``pandas.concat`` of two such tables fails on
    comparing their ``attrs``; pop it before concatenating.
    """
    Xa = check_expression(X, features, min_cells=3)
    module = _import_dagma()
    Xs = subsample_cells(Xa, max_cells, np.random.default_rng(seed))
    Z, varying = standardize_columns(Xs)
    if not standardize:
        Z = np.where(varying, Xs - Xs.mean(axis=0, keepdims=True), 0.0)
    d = Xa.shape[1]
    W = np.zeros((d, d))
    idx = np.flatnonzero(varying)
    if idx.size >= 2:
        s_arg = [float(v) for v in np.atleast_1d(s)] if np.ndim(s) else float(s)
        model = module.DagmaLinear(loss_type="l2", verbose=False, dtype=np.float64)
        original_tqdm = getattr(module, "tqdm", None)
        if original_tqdm is not None:  # DAGMA draws a progress bar unconditionally
            module.tqdm = functools.partial(original_tqdm, disable=True)
        try:
            W_sub = model.fit(
                np.array(Z[:, idx], dtype=np.float64),
                lambda1=lambda1,
                w_threshold=0.0,
                T=int(T),
                mu_init=mu_init,
                mu_factor=mu_factor,
                s=s_arg,
                warm_iter=int(warm_iter),
                max_iter=int(max_iter),
                lr=lr,
            )
        finally:
            if original_tqdm is not None:
                module.tqdm = original_tqdm
        W[np.ix_(idx, idx)] = W_sub
    np.fill_diagonal(W, 0.0)
    W = np.where(np.isfinite(W), W, 0.0)
    dag = np.where(np.abs(W) >= w_threshold, W, 0.0)
    if not is_dag(dag):
        dag, tau = threshold_to_dag(dag, 0.0)
        warnings.warn(
            f"dagma_linear: the fit thresholded at {w_threshold:g} is cyclic; raised the "
            f"threshold to {tau:.3g} to obtain a DAG (try a larger T).",
            UserWarning,
            stacklevel=2,
        )
    out = dense_edges(W, features)
    out.attrs["dag"] = dag
    return out
