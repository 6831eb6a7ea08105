"""TF→target asymmetry: do the learned gene networks point from transcription factors to targets?

For each prior edge ``TF → target`` (e.g. CollecTRI) the forward effect ``|G_rr[TF, target]|`` is
compared with the reverse ``|G_rr[target, TF]|`` exactly as for the central dogma
(:func:`~cmcvae.evaluate._asymmetry.asymmetry_test`), with a null from **random TF–gene pairs**
(a TF of the prior and a gene that is not its prior target in either direction): a model whose
TF latents happen to sit upstream of everything makes random TF–gene pairs look forward too, and
then no direction is called.

Edges are scored separately by split: ``holdout`` (prior edges held out from training, the real
test), ``train`` (edges the margin term pushed forward during training — expected to be forward,
reported so nobody mistakes them for evidence) and ``external`` (a network the run never saw).

**Sign agreement**: for edges with a known mode of regulation (``weight`` ±1: activation /
repression), the share whose signed forward effect has the sign of the mode. Its null permutes
the modes among the scored edges (``n_perm`` times): a model whose effects are all positive then
agrees exactly as often as the share of activating edges, and gets ``sign_p`` ≈ 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._asymmetry import asymmetry_test

__all__ = ["tf_target_asymmetry", "tf_target_edges"]


def tf_target_edges(edges: pd.DataFrame, rr_direct: pd.DataFrame,
                    rr_total: pd.DataFrame | None = None, *, split: str = "holdout") -> pd.DataFrame:
    """Forward/reverse effects of prior TF→target edges in the gene×gene networks.

    Parameters
    ----------
    edges
        ``source,target[,weight]`` prior edges (``weight`` = mode of regulation, sign used).
    rr_direct, rr_total
        Gene×gene direct (and total) effect matrices, rows = sources.
    split
        Label written in the ``split`` column.

    Returns
    -------
    pandas.DataFrame
        ``source,target,mode,split,forward,reverse,forward_signed`` and, with ``rr_total``,
        ``forward_total,reverse_total,forward_total_signed``; only edges whose TF and target are
        both model genes (and not self-loops). ``attrs["n_input"]`` counts the edges given.
    """
    if not {"source", "target"} <= set(edges.columns):
        raise CMCVAEInputError(
            f"TF→target edges need columns 'source' and 'target'; found {list(edges.columns)}."
        )
    genes = rr_direct.index
    e = edges.copy()
    e["source"] = e["source"].astype(str)
    e["target"] = e["target"].astype(str)
    keep = e["source"].isin(genes) & e["target"].isin(genes) & (e["source"] != e["target"])
    e = e.loc[keep].drop_duplicates(["source", "target"]).reset_index(drop=True)
    mode = np.sign(e["weight"].to_numpy(dtype=float)) if "weight" in e.columns else np.zeros(len(e))
    si, ti = genes.get_indexer(e["source"]), genes.get_indexer(e["target"])
    out = pd.DataFrame({"source": e["source"], "target": e["target"], "mode": mode.astype(int),
                        "split": split})
    direct = rr_direct.to_numpy()
    out["forward"] = np.abs(direct[si, ti])
    out["reverse"] = np.abs(direct[ti, si])
    out["forward_signed"] = direct[si, ti]
    if rr_total is not None:
        total = rr_total.reindex(index=genes, columns=genes).to_numpy()
        out["forward_total"] = np.abs(total[si, ti])
        out["reverse_total"] = np.abs(total[ti, si])
        out["forward_total_signed"] = total[si, ti]
    out.attrs["n_input"] = int(len(edges))
    return out


def _random_tf_pairs(matrix: pd.DataFrame, tfs: np.ndarray, exclude: set[tuple[str, str]],
                     n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    genes = matrix.index
    ti = genes.get_indexer(tfs)
    a = ti[rng.integers(0, ti.size, n)]
    b = rng.integers(0, genes.size, n)
    names = genes.to_numpy()
    keep = np.array([x != y and (names[x], names[y]) not in exclude for x, y in zip(a, b, strict=True)])
    return a[keep], b[keep]


def _sign_test(signed: np.ndarray, mode: np.ndarray, n_perm: int,
               rng: np.random.Generator) -> dict:
    use = mode != 0
    s, m = np.sign(signed[use]), mode[use]
    if m.size == 0:
        return {"sign_agreement": None, "null_sign_agreement": None, "sign_p": None,
                "n_signed_edges": 0}
    agree = float(np.mean(s == m))
    perms = np.array([np.mean(s == rng.permutation(m)) for _ in range(n_perm)])
    p = (1 + np.sum(perms >= agree)) / (n_perm + 1)
    return {"sign_agreement": agree, "null_sign_agreement": float(perms.mean()),
            "sign_p": float(p), "n_signed_edges": int(m.size)}


def tf_target_asymmetry(table: pd.DataFrame, networks: dict[str, pd.DataFrame], *,
                        kind: str = "direct", exclude: pd.DataFrame | None = None,
                        n_random: int = 5000, n_perm: int = 2000, seed: int = 0,
                        **kwargs) -> dict:
    """Asymmetry and sign statistics of one split of TF→target edges.

    Parameters
    ----------
    table
        Output of :func:`tf_target_edges` for one split.
    networks
        ``{"rna_rna": matrix}`` of the same ``kind`` (random TF–gene pairs for the null).
    kind
        ``"direct"`` or ``"total"``.
    exclude
        All prior edges (any split): random pairs avoid them in both directions.
    n_random, n_perm
        Random TF–gene pairs for the asymmetry null; mode permutations for the sign null.
    seed
        Random seed.
    **kwargs
        Passed to :func:`~cmcvae.evaluate._asymmetry.asymmetry_test`.

    Returns
    -------
    dict
        The asymmetry statistics (``n_pairs``, ``fraction_forward``, ``wilcoxon_p``,
        ``rank_biserial`` [CI], ``null_fraction_forward``, ``p_vs_null``, ``call`` —
        ``"rna_to_protein"`` there reads *TF→target* here and is renamed ``"tf_to_target"``,
        ``"target_to_tf"`` or ``"none"``) plus ``sign_agreement``, ``null_sign_agreement``,
        ``sign_p``, ``n_signed_edges`` and ``n_edges``.
    """
    if kind not in ("direct", "total"):
        raise CMCVAEInputError(f"kind must be 'direct' or 'total', not {kind!r}.")
    suffix = "" if kind == "direct" else "_total"
    cols = [f"forward{suffix}", f"reverse{suffix}"]
    if not set(cols) <= set(table.columns):
        raise CMCVAEInputError(f"The TF→target table lacks {cols}; build it with total effects.")
    if len(table) < 3:
        return {"n_edges": int(len(table)), "call": "none",
                "message": f"only {len(table)} prior edges among the model's genes; need ≥ 3."}
    rng = np.random.default_rng(seed)
    rr = networks["rna_rna"]
    pairs = set(zip(table["source"], table["target"], strict=True))
    if exclude is not None:
        pairs |= set(zip(exclude["source"].astype(str), exclude["target"].astype(str), strict=True))
    pairs |= {(t, s) for s, t in pairs}
    a, b = _random_tf_pairs(rr, table["source"].unique(), pairs, n_random, rng)
    mat = rr.to_numpy()
    out = asymmetry_test(table[cols[0]].to_numpy(), table[cols[1]].to_numpy(),
                         np.abs(mat[a, b]), np.abs(mat[b, a]), seed=seed, **kwargs)
    out["call"] = {"rna_to_protein": "tf_to_target", "protein_to_rna": "target_to_tf"}.get(
        out["call"], "none")
    out.update(_sign_test(table[f"forward{suffix}_signed"].to_numpy(), table["mode"].to_numpy(),
                          n_perm, rng))
    out["n_edges"] = int(len(table))
    out["kind"] = kind
    return out
