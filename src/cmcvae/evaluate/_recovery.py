"""Recovery of a known network (simulations): AUROC/AUPRC per feature network and direction.

For each of the four networks (``rna_rna``, ``rna_protein``, ``protein_rna``,
``protein_protein``) every ordered feature pair ``(u, v)``, ``u ≠ v``, is a candidate scored by
``|G[u, v]|``; it is positive when ``u → v`` is a true edge of that network. Pairs of the
**training prior** (either orientation) are left out: the model was told about them.

**Direction accuracy**: over the true edges ``u → v`` left in, the share with
``|G[u, v]| > |G'[v, u]|``, where ``G'`` is the reverse network (``rna_rna`` for itself,
``protein_rna`` for ``rna_protein`` …); ties (e.g. both zero) count one half, so an undirected
score gets exactly 0.5.

Baselines (:func:`association_networks`): absolute Pearson correlation and partial correlation
(Ledoit-Wolf shrunk precision) over all features of the training cells — symmetric, so their
direction accuracy is 0.5 by construction, and they are scored on the same candidates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._metrics import auprc, auroc
from cmcvae.graph.networks import NETWORKS
from cmcvae.pp import clr, log_normalize

__all__ = ["association_networks", "recovery_scores"]

_REVERSE = {"rna_rna": "rna_rna", "rna_protein": "protein_rna", "protein_rna": "rna_protein",
            "protein_protein": "protein_protein"}


def _pair_set(frame: pd.DataFrame | None) -> set[tuple[str, str]]:
    if frame is None or len(frame) == 0:
        return set()
    s = set(zip(frame["source"].astype(str), frame["target"].astype(str), strict=True))
    return s | {(t, u) for u, t in s}


def _positions(index: pd.Index, columns: pd.Index, pairs) -> tuple[np.ndarray, np.ndarray]:
    pairs = list(pairs)
    if not pairs:
        return np.array([], dtype=int), np.array([], dtype=int)
    r = index.get_indexer([p[0] for p in pairs])
    c = columns.get_indexer([p[1] for p in pairs])
    ok = (r >= 0) & (c >= 0)
    return r[ok], c[ok]


def recovery_scores(networks: Mapping[str, pd.DataFrame], truth: pd.DataFrame, *,
                    exclude: pd.DataFrame | None = None) -> dict[str, dict]:
    """AUROC, AUPRC and direction accuracy of each network against the true edges.

    Parameters
    ----------
    networks
        Feature networks (rows = sources) of one kind; all four for direction accuracy of the
        cross-modal ones.
    truth
        ``source,target,source_modality,target_modality`` true edges (``truth/edges.csv``;
        modalities ``rna``/``protein``).
    exclude
        Training prior edges (``source,target``), left out in both orientations.

    Returns
    -------
    dict
        Per network: ``auroc``, ``auprc``, ``auprc_random`` (share of positives),
        ``n_true``, ``n_candidates``, ``n_excluded``, ``direction_accuracy`` and
        ``n_direction_edges``.
    """
    need = {"source", "target", "source_modality", "target_modality"}
    if not need <= set(truth.columns):
        raise CMCVAEInputError(
            f"Truth edges need columns {sorted(need)}; found {list(truth.columns)} "
            "(use a simulation's truth/edges.csv)."
        )
    skip = _pair_set(exclude)
    out: dict[str, dict] = {}
    for key, mat in networks.items():
        m_src, m_dst = NETWORKS[key]
        t = truth[(truth["source_modality"] == m_src) & (truth["target_modality"] == m_dst)]
        true_pairs = set(zip(t["source"].astype(str), t["target"].astype(str), strict=True))
        values = np.abs(mat.to_numpy(dtype=np.float64))
        label = np.zeros(values.shape, dtype=bool)
        r, c = _positions(mat.index, mat.columns, true_pairs)
        label[r, c] = True
        valid = np.ones(values.shape, dtype=bool)
        if m_src == m_dst:
            np.fill_diagonal(valid, False)  # self-pairs are not candidates
        er, ec = _positions(mat.index, mat.columns, skip)
        valid[er, ec] = False
        n_excluded = int(label.sum() - label[valid].sum())
        res = {"auroc": auroc(values[valid], label[valid]),
               "auprc": auprc(values[valid], label[valid]),
               "auprc_random": float(label[valid].mean()) if valid.any() else float("nan"),
               "n_true": int(label[valid].sum()), "n_candidates": int(valid.sum()),
               "n_excluded_true": n_excluded}
        rev = networks.get(_REVERSE[key])
        scored = [(u, v) for u, v in true_pairs if (u, v) not in skip]
        if rev is not None and scored:
            fr, fc = _positions(mat.index, mat.columns, scored)
            fwd = values[fr, fc]
            rv = np.abs(rev.to_numpy(dtype=np.float64))
            names_u, names_v = mat.index.to_numpy()[fr], mat.columns.to_numpy()[fc]
            rr, rc = rev.index.get_indexer(names_v), rev.columns.get_indexer(names_u)
            bwd = rv[rr, rc]
            res["direction_accuracy"] = float(np.mean((fwd > bwd) + 0.5 * (fwd == bwd)))
            res["n_direction_edges"] = int(fwd.size)
        else:
            res["direction_accuracy"] = None
            res["n_direction_edges"] = 0
        out[key] = res
    return out


def association_networks(rna_counts, prot_counts, genes, proteins, *, method: str = "correlation",
                         max_cells: int = 20_000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Symmetric association baselines as four feature networks (same layout as the model's).

    Parameters
    ----------
    rna_counts, prot_counts
        Training counts (cells × genes, cells × proteins).
    genes, proteins
        Feature names.
    method
        ``"correlation"`` (absolute Pearson on log-normalised RNA and CLR protein) or
        ``"partial_correlation"`` (from the Ledoit-Wolf shrunk precision matrix; proteins as
        ``log1p`` counts, since CLR values are linearly dependent across a cell's proteins).
    max_cells
        Cells subsampled (without replacement) for speed.
    seed
        Subsampling seed.
    """
    from sklearn.covariance import LedoitWolf

    if method not in ("correlation", "partial_correlation"):
        raise CMCVAEInputError(f"method must be 'correlation' or 'partial_correlation', not {method!r}.")
    n = rna_counts.shape[0]
    rows = np.arange(n)
    if n > max_cells:
        rows = np.sort(np.random.default_rng(seed).choice(n, max_cells, replace=False))
    rna = log_normalize(rna_counts[rows])
    rna = rna.toarray() if hasattr(rna, "toarray") else np.asarray(rna)
    pc = prot_counts[rows]
    pc = pc.toarray() if hasattr(pc, "toarray") else np.asarray(pc)
    # CLR rows sum to zero: conditioning on the other proteins would then determine each protein
    # exactly, so partial correlations use log1p counts (the other features absorb cell size).
    prot = clr(pc) if method == "correlation" else np.log1p(pc.astype(np.float64))
    x = np.hstack([rna.astype(np.float64), prot.astype(np.float64)])
    sd = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    if method == "correlation":
        m = (x.T @ x) / x.shape[0]
    else:
        precision = np.linalg.pinv(LedoitWolf().fit(x).covariance_)
        d = np.sqrt(np.clip(np.diag(precision), 1e-12, None))
        m = -precision / np.outer(d, d)
    m = np.abs(m)
    np.fill_diagonal(m, 0.0)
    g = len(genes)
    names = {"rna": (slice(0, g), list(genes)), "protein": (slice(g, None), list(proteins))}
    out = {}
    for key, (src, dst) in NETWORKS.items():
        (si, sn), (di, dn) = names[src], names[dst]
        out[key] = pd.DataFrame(m[si, di], index=sn, columns=dn)
    return out
