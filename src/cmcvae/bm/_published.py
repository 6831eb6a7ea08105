"""Published structure-learning results on the Sachs et al. (2005) observational data.

Only figures read in a copy of the source itself are listed; nothing is recalled from memory or
taken from third-party summaries. Each entry is one row of a published table for the 853-cell
observational set (condition 1, anti-CD3/CD28) scored against a 17-edge ground truth.

Verified source
---------------
Zhu, S., Ng, I. & Chen, Z. (2020). "Causal Discovery with Reinforcement Learning". ICLR 2020,
Section 6.4 "Real data", Table 4 ("Empirical results on Sachs dataset"). The text states: "we
only consider the observational data with m = 853 samples. The ground truth causal graph given
by Sachs et al. (2005) has 11 nodes and 17 edges." Table 4 gives, per method, the number of
predicted edges ("Total Edges"), of correct edges, and the SHD. The RL methods use GP
regression with CAM pruning; the paper does not say whether the baseline rows were re-run or
copied from the baselines' own papers. PC and GES are left out there because they "output too
many unoriented edges". The paper lists no edges, so its 17-edge graph is assumed, not checked,
to be the same consensus as :func:`cmcvae.bm.load_sachs` uses (benchpress ``sachs.csv``).

Not verified (so not listed)
----------------------------
The Sachs tables of GraN-DAG (Lachapelle et al., ICLR 2020, which also reports SHD-C and SID),
NOTEARS (Zheng et al., NeurIPS 2018), DAG-GNN (Yu et al., ICML 2019) and DAGMA (Bello et al.,
NeurIPS 2022) could not be read in a primary copy with the tools available, so none of their
numbers are given here. Third-party READMEs quote a GraN-DAG table with SHD 13 for GraN-DAG,
which agrees with the GraN-DAG row below, but such quotes are not treated as sources. Some
papers use a 20-edge Sachs graph instead (e.g. the pooled 7,466-cell data); those results
cannot be compared with these.
"""

from __future__ import annotations

_ZHU2020 = (
    "Zhu, Ng & Chen (2020), Causal Discovery with Reinforcement Learning, ICLR 2020, "
    "Section 6.4, Table 4"
)
_COMMON = {
    "data": "Sachs 2005 observational, 853 cells (condition 1, anti-CD3/CD28)",
    "truth": "17 edges (Sachs et al. 2005 consensus, as stated in the source)",
    "source": _ZHU2020,
}

#: Published results on the 853-cell observational Sachs data against the 17-edge truth.
#: method → ``shd``, ``n_edges`` (predicted edges), ``n_correct`` (correctly predicted edges),
#: ``data``, ``truth``, ``source`` and an optional ``note``.
SACHS_PUBLISHED: dict[str, dict] = {
    "RL-BIC": {"shd": 12, "n_edges": 10, "n_correct": 6, **_COMMON},
    "RL-BIC2": {"shd": 11, "n_edges": 10, "n_correct": 7, **_COMMON},
    "ICA-LiNGAM": {
        "shd": 14,
        "n_edges": 8,
        "n_correct": 4,
        **_COMMON,
        "note": "baseline row reported by Zhu et al. 2020",
    },
    "CAM": {
        "shd": 12,
        "n_edges": 10,
        "n_correct": 6,
        **_COMMON,
        "note": "baseline row reported by Zhu et al. 2020",
    },
    "NOTEARS": {
        "shd": 19,
        "n_edges": 20,
        "n_correct": 6,
        **_COMMON,
        "note": "baseline row reported by Zhu et al. 2020, not the NOTEARS paper's own figure",
    },
    "DAG-GNN": {
        "shd": 16,
        "n_edges": 15,
        "n_correct": 6,
        **_COMMON,
        "note": "baseline row reported by Zhu et al. 2020, not the DAG-GNN paper's own figure",
    },
    "GraN-DAG": {
        "shd": 13,
        "n_edges": 10,
        "n_correct": 5,
        **_COMMON,
        "note": "baseline row reported by Zhu et al. 2020",
    },
}

#: Reference points that need no citation: the empty graph's SHD equals the true edge count.
SACHS_EMPTY_GRAPH_SHD = 17
