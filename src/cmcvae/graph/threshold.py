"""Turning a learned weighted adjacency into an exact DAG: by threshold or by node order."""

from __future__ import annotations

from typing import Any

import numpy as np


def is_dag(A: Any, tol: float = 0.0) -> bool:
    """Exact acyclicity check of the graph with edges ``|A| > tol`` (Kahn's algorithm).

    Parameters
    ----------
    A
        Square weighted adjacency, a numpy array or a torch tensor (``A[a, c]`` is ``a → c``).
    tol
        Entries with ``|A| <= tol`` are no edge.

    Returns
    -------
    bool
        Whether the graph has no cycle; a self-loop counts as one.
    """
    if hasattr(A, "detach"):
        A = A.detach().cpu().numpy()
    adj = np.abs(np.asarray(A)) > tol
    indeg = adj.sum(axis=0).astype(int)
    stack = list(np.flatnonzero(indeg == 0))
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        for child in np.flatnonzero(adj[node]):
            indeg[child] -= 1
            if indeg[child] == 0:
                stack.append(child)
    return seen == adj.shape[0]


def threshold_to_dag(A: np.ndarray, threshold: float = 0.0) -> tuple[np.ndarray, float]:
    """Zero out ``|A| <= threshold``; raise the threshold by bisection until the graph is a DAG.

    Parameters
    ----------
    A
        Weighted adjacency (``A[a, c]`` is ``a → c``).
    threshold
        Initial threshold on absolute weights.

    Returns
    -------
    A_dag : numpy.ndarray
        The thresholded adjacency (guaranteed acyclic).
    threshold : float
        The threshold actually used.
    """
    A = np.asarray(A, dtype=np.float64)
    if is_dag(A, threshold):
        return np.where(np.abs(A) > threshold, A, 0.0), float(threshold)
    # candidate thresholds: the distinct absolute weights above the initial one
    cand = np.unique(np.abs(A[np.abs(A) > threshold]))
    lo, hi = 0, len(cand) - 1  # cutting at cand[hi] (the largest weight) leaves an empty graph
    while lo < hi:
        mid = (lo + hi) // 2
        if is_dag(A, cand[mid]):
            hi = mid
        else:
            lo = mid + 1
    tau = float(cand[lo])
    return np.where(np.abs(A) > tau, A, 0.0), tau


def dag_order(weights: np.ndarray) -> np.ndarray:
    """Node order that keeps most edge weight pointing forward (Eades–Lin–Smyth greedy).

    Repeatedly takes a sink (no remaining out-edge) to the back of the order, else a source
    (no remaining in-edge) to the front, else the node with the largest out-weight minus
    in-weight to the front. In- and out-weight sums are updated incrementally, so the whole
    order costs ``O(d²)``. On a DAG the result is a topological order.

    Parameters
    ----------
    weights
        ``d × d`` non-negative edge weights (``weights[a, c]`` for ``a → c``); the diagonal is
        ignored.

    Returns
    -------
    numpy.ndarray
        A permutation of ``0 … d−1``.
    """
    w = np.array(weights, dtype=np.float64)
    np.fill_diagonal(w, 0.0)
    adj = w > 0
    d = w.shape[0]
    out_w, in_w = w.sum(axis=1), w.sum(axis=0)
    out_n, in_n = adj.sum(axis=1), adj.sum(axis=0)
    alive = np.ones(d, dtype=bool)
    front: list[int] = []
    back: list[int] = []
    for _ in range(d):
        sinks = np.flatnonzero(alive & (out_n == 0))
        if len(sinks):
            node = int(sinks[0])
            back.append(node)
        else:
            sources = np.flatnonzero(alive & (in_n == 0))
            if len(sources):
                node = int(sources[0])
            else:
                delta = np.where(alive, out_w - in_w, -np.inf)
                node = int(np.argmax(delta))
            front.append(node)
        alive[node] = False
        # remove the node's edges from the remaining nodes' sums
        out_w -= w[:, node]
        out_n -= adj[:, node]
        in_w -= w[node, :]
        in_n -= adj[node, :]
    return np.array(front + back[::-1], dtype=np.int64)


def project_to_dag(W: np.ndarray, order_weights: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Nearest DAG by an ordering: keep the edges that point forward in :func:`dag_order`.

    The order is computed on ``order_weights`` (default ``|W|²``) and every backward edge of
    ``W`` is zeroed. Unlike :func:`threshold_to_dag` no forward edge is lost, however weak.

    Parameters
    ----------
    W
        ``d × d`` weighted adjacency (``W[a, c]`` is ``a → c``).
    order_weights
        Non-negative ``d × d`` weights to order the nodes by, e.g. squared total effects
        ``|(I − W)^{-1} − I|²`` of a cyclic fit (what the feature-level SEM uses).

    Returns
    -------
    W_dag : numpy.ndarray
        ``W`` with backward edges (and the diagonal) zeroed; an exact DAG.
    order : numpy.ndarray
        The node order (``W_dag`` is strictly upper triangular in it).
    removed_weight_fraction : float
        ``Σ removed w² / Σ w²`` over the off-diagonal entries of ``W`` (0 for an empty graph).
    """
    W = np.asarray(W, dtype=np.float64)
    sq = W**2
    np.fill_diagonal(sq, 0.0)
    order = dag_order(sq if order_weights is None else np.abs(order_weights))
    pos = np.empty(len(order), dtype=np.int64)
    pos[order] = np.arange(len(order))
    forward = pos[:, None] < pos[None, :]
    W_dag = np.where(forward, W, 0.0)
    total = float(sq.sum())
    removed = float(sq[~forward].sum())
    return W_dag, order, removed / total if total > 0 else 0.0
