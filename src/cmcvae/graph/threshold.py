"""Thresholding a learned weighted adjacency into an exact DAG."""

from __future__ import annotations

import numpy as np


def is_dag(A, tol: float = 0.0) -> bool:
    """Exact acyclicity check of the graph with edges ``|A| > tol`` (Kahn's algorithm).

    ``A`` is a numpy array or a torch tensor; self-loops count as cycles.
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
    The thresholded adjacency (guaranteed acyclic) and the threshold actually used.
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
