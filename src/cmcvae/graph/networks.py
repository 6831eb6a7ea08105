"""The four feature-level networks read out of the latent graph (docs/design.md §1).

Direct effect of feature ``u`` (modality m) on feature ``v`` (modality m'):
``G_mm'[u, v] = (W_m A_mm' W_m'ᵀ)[u, v]``; total effects use ``(I − A)^{-1} − I`` instead of ``A``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

#: The four feature-level networks: key → (source modality, target modality).
NETWORKS = {
    "rna_rna": ("rna", "rna"),
    "rna_protein": ("rna", "protein"),
    "protein_rna": ("protein", "rna"),
    "protein_protein": ("protein", "protein"),
}


def latent_total_effects(A: np.ndarray) -> np.ndarray:
    """Total effects ``(I − A)^{-1} − I`` of a latent adjacency, in float64.

    Parameters
    ----------
    A
        Square adjacency (``A[a, c]`` is ``a → c``); ``I − A`` must be invertible (true for a DAG).

    Returns
    -------
    numpy.ndarray
        ``T[a, c]``: the summed effect of ``a`` on ``c`` over every directed path.
    """
    eye = np.eye(A.shape[0])
    return np.linalg.inv(eye - A) - eye


def feature_networks(A: np.ndarray, W_r: np.ndarray | None, W_p: np.ndarray | None,
                     genes: Sequence[str], proteins: Sequence[str],
                     kind: str = "direct", which: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """The four feature-level networks as labelled dense matrices (rows = sources).

    Parameters
    ----------
    A
        Latent adjacency (``K_r + K_p`` square), usually the thresholded DAG.
    W_r, W_p
        Decoder loadings (genes × K_r, proteins × K_p). ``None`` for both means identity
        loadings: ``A`` is already over the features (genes, then proteins), as for the
        feature-level SEM, and its blocks are returned without the products.
    genes, proteins
        Feature names.
    kind
        ``"direct"`` (uses ``A``) or ``"total"`` (uses ``(I − A)^{-1} − I``).
    which
        Names of the networks to compute (default all four); the gene×gene one is by far the
        largest, so callers that need only the cross-modal blocks skip it.

    Returns
    -------
    dict of str to pandas.DataFrame
        Key of :data:`NETWORKS` → source features × target features (diagonal of the
        same-modality networks set to 0).

    Raises
    ------
    ValueError
        ``kind`` is not ``"direct"`` or ``"total"``, or only one of ``W_r``, ``W_p`` is given.
    """
    if kind not in ("direct", "total"):
        raise ValueError(f"kind must be 'direct' or 'total', not {kind!r}")
    if (W_r is None) != (W_p is None):
        raise ValueError("W_r and W_p must both be given or both be None (identity loadings)")
    B = A if kind == "direct" else latent_total_effects(A)
    Kr = len(genes) if W_r is None else W_r.shape[1]
    W = {"rna": W_r, "protein": W_p}
    sl = {"rna": slice(0, Kr), "protein": slice(Kr, None)}
    names = {"rna": list(genes), "protein": list(proteins)}
    out = {}
    for key, (m_src, m_dst) in NETWORKS.items():
        if which is not None and key not in which:
            continue
        block = B[sl[m_src], sl[m_dst]]
        mat = np.array(block) if W_r is None else W[m_src] @ block @ W[m_dst].T
        if m_src == m_dst:
            np.fill_diagonal(mat, 0.0)
        out[key] = pd.DataFrame(mat, index=names[m_src], columns=names[m_dst])
    return out


def top_edges(networks: dict[str, pd.DataFrame], top_k: int = 5000) -> pd.DataFrame:
    """Edge list ``source,target,source_modality,target_modality,weight`` (``edges.csv``).

    Parameters
    ----------
    networks
        Output of :func:`feature_networks`.
    top_k
        Entries kept per network: the ``top_k`` non-zero ones by absolute weight.

    Returns
    -------
    pandas.DataFrame
        One row per kept entry, each network's rows by decreasing ``|weight|``,
        networks in the order of ``networks``.
    """
    frames = []
    for key, mat in networks.items():
        m_src, m_dst = NETWORKS[key]
        values = mat.to_numpy()
        flat = np.abs(values).ravel()
        k = min(top_k, int((flat > 0).sum()))
        if k == 0:
            continue
        idx = np.argpartition(-flat, k - 1)[:k]
        idx = idx[np.argsort(-flat[idx], kind="stable")]
        rows, cols = np.unravel_index(idx, values.shape)
        frames.append(pd.DataFrame({
            "source": mat.index.to_numpy()[rows],
            "target": mat.columns.to_numpy()[cols],
            "source_modality": m_src,
            "target_modality": m_dst,
            "weight": values[rows, cols],
        }))
    cols = ["source", "target", "source_modality", "target_modality", "weight"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def matched_pair_effects(pairs: pd.DataFrame, direct: dict[str, pd.DataFrame],
                         total: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Absolute direct (and total) effects between each matched protein and its gene.

    Parameters
    ----------
    pairs
        ``protein,gene``: one row per matched pair (names in the networks).
    direct
        Direct-effect networks (:func:`feature_networks`), with ``rna_protein`` and
        ``protein_rna``.
    total
        Total-effect networks; adds the ``*_total`` columns when given.

    Returns
    -------
    pandas.DataFrame
        ``protein,gene,rna_to_protein,protein_to_rna`` (and ``rna_to_protein_total``,
        ``protein_to_rna_total``), absolute values.
    """
    rp, pr = direct["rna_protein"], direct["protein_rna"]
    out = pairs[["protein", "gene"]].copy().reset_index(drop=True)
    out["rna_to_protein"] = [abs(rp.at[g, p]) for p, g in zip(out.protein, out.gene, strict=True)]
    out["protein_to_rna"] = [abs(pr.at[p, g]) for p, g in zip(out.protein, out.gene, strict=True)]
    if total is not None:
        trp, tpr = total["rna_protein"], total["protein_rna"]
        out["rna_to_protein_total"] = [abs(trp.at[g, p]) for p, g in zip(out.protein, out.gene, strict=True)]
        out["protein_to_rna_total"] = [abs(tpr.at[p, g]) for p, g in zip(out.protein, out.gene, strict=True)]
    return out
