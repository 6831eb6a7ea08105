"""Scoring predicted networks against a ground-truth directed network.

* :func:`grn_scores` — ranking metrics over all ordered pairs (directed edges).
* :func:`undirected_scores` — the same over unordered pairs, for methods that cannot orient.
* :func:`dag_scores` — structural Hamming distance and friends for a predicted DAG.
* :func:`top_k_dag` — a DAG of the ``k`` strongest edges, so score-only methods get an SHD.

Edge tables have columns ``source, target`` (truth, prior, exclusions) and ``weight``
(predictions); adjacency matrices are indexed ``A[i, j]`` for ``features[i] → features[j]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import auprc, auroc
from cmcvae.graph.threshold import is_dag

__all__ = ["grn_scores", "undirected_scores", "dag_scores", "top_k_dag"]


def _feature_index(features: Sequence[str]) -> dict[str, int]:
    names = [str(f) for f in features]
    if len(set(names)) != len(names):
        raise CMCVAEInputError("features must be unique.")
    if len(names) < 2:
        raise CMCVAEInputError(f"Need at least 2 features to score a network, got {len(names)}.")
    return {f: i for i, f in enumerate(names)}


def _check_table(table: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    if not isinstance(table, pd.DataFrame) or not set(columns) <= set(table.columns):
        raise CMCVAEInputError(f"{name} must be a DataFrame with columns {list(columns)}.")


def _pair_indices(
    table: pd.DataFrame, index: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row/column indices of the table's pairs whose both ends are in ``index``, and the
    boolean mask of those rows."""
    src = table["source"].astype(str).map(index)
    tgt = table["target"].astype(str).map(index)
    keep = src.notna().to_numpy() & tgt.notna().to_numpy()
    r = src.to_numpy()[keep].astype(np.int64)
    c = tgt.to_numpy()[keep].astype(np.int64)
    return r, c, keep


def _weights(pred: pd.DataFrame, keep: np.ndarray) -> np.ndarray:
    """Finite float weights of the kept rows (NaN/inf and non-numbers become 0)."""
    w = pd.to_numeric(pred["weight"], errors="coerce").to_numpy(dtype=np.float64)[keep]
    return np.where(np.isfinite(w), w, 0.0)


def _pair_matrix(table: pd.DataFrame | None, index: dict[str, int], name: str) -> np.ndarray:
    """Boolean ``d × d`` matrix of the (source, target) pairs of ``table`` (diagonal False)."""
    d = len(index)
    M = np.zeros((d, d), dtype=bool)
    if table is None:
        return M
    _check_table(table, name, ("source", "target"))
    r, c, _ = _pair_indices(table, index)
    M[r, c] = True
    np.fill_diagonal(M, False)
    return M


def _score_matrix(pred: pd.DataFrame, index: dict[str, int]) -> np.ndarray:
    """``|weight|`` as a ``d × d`` matrix; missing pairs and NaN weights score 0, duplicated
    pairs keep their largest ``|weight|``; pairs outside ``features`` are ignored."""
    _check_table(pred, "pred", ("source", "target", "weight"))
    d = len(index)
    S = np.zeros((d, d))
    r, c, keep = _pair_indices(pred, index)
    np.maximum.at(S, (r, c), np.abs(_weights(pred, keep)))
    np.fill_diagonal(S, 0.0)
    return S


def _early_precision(s: np.ndarray, y: np.ndarray, k: int) -> float:
    """Expected precision of the top ``k`` scores; the block tied at the cut contributes its
    share ``(k − above) · positives_in_block / block_size`` (the mean over tie orders)."""
    if k <= 0 or s.size == 0:
        return float("nan")
    k = min(k, s.size)
    cut = np.sort(s)[::-1][k - 1]
    above = s > cut
    tied = s == cut
    n_above = int(above.sum())
    hits = float(y[above].sum()) + (k - n_above) * float(y[tied].sum()) / float(tied.sum())
    return hits / k


def _ranking_metrics(s: np.ndarray, y: np.ndarray) -> dict:
    n = int(s.size)
    n_true = int(y.sum())
    rand = n_true / n if n else float("nan")
    ap = auprc(s, y)
    ep = _early_precision(s, y, n_true)
    return {
        "auroc": auroc(s, y),
        "auprc": ap,
        "auprc_random": rand,
        "auprc_ratio": ap / rand if rand > 0 else float("nan"),
        "epr": ep / rand if rand > 0 else float("nan"),
        "n_true": n_true,
        "n_candidates": n,
    }


def grn_scores(
    pred: pd.DataFrame,
    truth: pd.DataFrame,
    features: Sequence[str],
    *,
    exclude: pd.DataFrame | None = None,
) -> dict:
    """Directed ranking metrics of a predicted edge table against the true directed network.

    Candidates are all ordered pairs ``i ≠ j`` of ``features`` minus the ``exclude`` pairs;
    the pair ``source → target`` is positive when it is in ``truth`` (the reverse edge is a
    negative). Pairs are ranked by ``|weight|``; pairs missing from ``pred`` score 0.

    Parameters
    ----------
    pred
        Columns ``source, target, weight`` (e.g. a benchmark method's output). Duplicated
        pairs keep their largest ``|weight|``; NaN weights count as 0; pairs naming other
        features are ignored.
    truth
        Columns ``source, target``: the true directed edges. Edges naming other features and
        self-loops are ignored.
    features
        The nodes scored.
    exclude
        Optional ``source, target`` pairs removed from the candidates, e.g. prior edges that
        were given to the method.

    Returns
    -------
    dict
        ``auroc``, ``auprc`` (average precision), ``auprc_random`` (fraction of positives among
        the candidates), ``auprc_ratio`` (``auprc / auprc_random``), ``epr`` (early precision
        ratio as in BEELINE, Pratapa et al. 2020: precision among the top ``k = n_true``
        candidates divided by ``auprc_random``; a block tied at the cut contributes its
        expected share of positives), ``n_true`` and ``n_candidates``. Metrics that are
        undefined (no positive or no negative candidate) are ``nan``.
    """
    index = _feature_index(features)
    S = _score_matrix(pred, index)
    Y = _pair_matrix(truth, index, "truth")
    cand = ~_pair_matrix(exclude, index, "exclude")
    np.fill_diagonal(cand, False)
    return _ranking_metrics(S[cand], Y[cand])


def undirected_scores(
    pred: pd.DataFrame,
    truth: pd.DataFrame,
    features: Sequence[str],
    *,
    exclude: pd.DataFrame | None = None,
) -> dict:
    """Undirected ranking metrics: is there an edge between ``i`` and ``j``, either way?

    Candidates are the unordered pairs ``{i, j}`` of ``features``; a pair is positive when
    ``truth`` links it in either direction and it scores ``max(|w(i→j)|, |w(j→i)|)``. A pair
    is excluded when ``exclude`` holds either direction.

    Parameters
    ----------
    pred, truth, features, exclude
        As in :func:`grn_scores`.

    Returns
    -------
    dict
        The keys of :func:`grn_scores`, over unordered pairs.
    """
    index = _feature_index(features)
    S = _score_matrix(pred, index)
    Y = _pair_matrix(truth, index, "truth")
    E = _pair_matrix(exclude, index, "exclude")
    iu = np.triu_indices(len(index), k=1)
    s = np.maximum(S[iu], S.T[iu])
    y = Y[iu] | Y.T[iu]
    cand = ~(E[iu] | E.T[iu])
    return _ranking_metrics(s[cand], y[cand])


def dag_scores(pred_adj: np.ndarray, true_adj: np.ndarray) -> dict:
    """Structural Hamming distance and edge counts of a predicted graph against the truth.

    Nonzero off-diagonal entries are edges (``A[i, j] ≠ 0``: ``i → j``). The SHD counts, per
    unordered pair, one error when the predicted edge set on that pair differs from the true
    one: a missing edge, an extra edge and a reversed edge each cost 1 (for a predicted DAG
    this is the usual missing + extra + reversed).

    Parameters
    ----------
    pred_adj
        ``d × d`` predicted adjacency (weights or 0/1).
    true_adj
        ``d × d`` true adjacency.

    Returns
    -------
    dict
        ``shd``; ``tpr`` (true edges predicted with the right direction / ``n_true``, ``nan``
        when there are none); ``fdr`` (predicted edges not in the truth, reversed ones
        included, / ``n_pred``, 0 for an empty prediction); ``n_pred``; ``n_true``;
        ``n_reversed`` (predicted ``i → j`` where the truth has only ``j → i``); ``is_dag``
        (the predicted graph, self-loops included, is acyclic).

    Raises
    ------
    CMCVAEInputError
        When the matrices are not square of the same shape or hold NaN.
    """
    P = np.asarray(pred_adj, dtype=np.float64)
    T = np.asarray(true_adj, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or P.shape != T.shape:
        raise CMCVAEInputError(
            f"pred_adj {P.shape} and true_adj {T.shape} must be square matrices of the same shape."
        )
    if np.isnan(P).any() or np.isnan(T).any():
        raise CMCVAEInputError("pred_adj and true_adj must not hold NaN.")
    off = ~np.eye(P.shape[0], dtype=bool)
    Bp = (P != 0) & off
    Bt = (T != 0) & off
    iu = np.triu_indices(P.shape[0], k=1)
    differs = (Bp[iu] != Bt[iu]) | (Bp.T[iu] != Bt.T[iu])
    n_pred, n_true = int(Bp.sum()), int(Bt.sum())
    correct = int((Bp & Bt).sum())
    return {
        "shd": int(differs.sum()),
        "tpr": correct / n_true if n_true else float("nan"),
        "fdr": (n_pred - correct) / n_pred if n_pred else 0.0,
        "n_pred": n_pred,
        "n_true": n_true,
        "n_reversed": int((Bp & ~Bt & Bt.T).sum()),
        "is_dag": bool(is_dag(P)),
    }


def _reaches(children: list[list[int]], start: int, goal: int) -> bool:
    """Whether ``goal`` is reachable from ``start`` (iterative depth-first search)."""
    if start == goal:
        return True
    seen = {start}
    stack = [start]
    while stack:
        for nxt in children[stack.pop()]:
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def top_k_dag(pred: pd.DataFrame, features: Sequence[str], k: int) -> np.ndarray:
    """Greedy DAG of the ``k`` strongest edges of a score table.

    Edges are visited by decreasing ``|weight|`` and kept unless they would close a directed
    cycle with the edges kept so far, until ``k`` are kept or the nonzero edges run out. Ties
    are visited in row-major ``(source, target)`` order of ``features``; for symmetric scores
    (correlations) the first direction of a pair therefore wins, so the orientation carries no
    information — such a DAG measures the skeleton, not the directions. Typically ``k`` is the
    number of true edges.

    Parameters
    ----------
    pred
        Columns ``source, target, weight``; scored as in :func:`grn_scores`.
    features
        The nodes, in the order of the returned matrix.
    k
        Most edges kept (non-negative).

    Returns
    -------
    numpy.ndarray
        ``d × d`` float adjacency holding the signed weight of each kept edge and 0 elsewhere;
        always acyclic.
    """
    if int(k) < 0:
        raise CMCVAEInputError(f"k must be non-negative, got {k}.")
    index = _feature_index(features)
    _check_table(pred, "pred", ("source", "target", "weight"))
    d = len(index)
    # signed weight of the largest-|weight| row per pair
    r, c, keep = _pair_indices(pred, index)
    w = _weights(pred, keep)
    key = r * d + c
    order = np.lexsort((-np.abs(w), key))  # by pair, then largest |weight| first
    _, first = np.unique(key[order], return_index=True)
    sel = order[first]
    W = np.zeros((d, d))
    W[r[sel], c[sel]] = w[sel]
    np.fill_diagonal(W, 0.0)
    flat = np.abs(W).ravel()
    order = np.argsort(-flat, kind="stable")
    children: list[list[int]] = [[] for _ in range(d)]
    out = np.zeros((d, d))
    kept = 0
    for pos in order:
        if kept >= k or flat[pos] <= 0:
            break
        i, j = divmod(int(pos), d)
        if _reaches(children, j, i):
            continue
        children[i].append(j)
        out[i, j] = W[i, j]
        kept += 1
    return out
