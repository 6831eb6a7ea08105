"""IDA with the fitted graph's parents (Maathuis et al. 2009), local version.

The fitted gene→gene graph gives each knocked-down gene ``G`` its parents. An edge's direction is
taken as known when the GRN prior holds it or when it runs from a regulator to a non-regulator
(a TF regulates its targets, not the reverse); every other edge at ``G`` is ambiguous, and each
subset of ``G``'s ambiguous neighbours may be parents. The multiset of effects over those parent
sets is summarised conservatively, as IDA does: per readout, the effect of smallest magnitude.
(Local IDA also drops parent sets that would create a new v-structure; with a fitted DAG rather
than a CPDAG that check is not made here.)
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd

from cmcvae._constants import RNA_MOD
from cmcvae.effects._adjust import adjusted_effects
from cmcvae.effects._stats import FeatureStats

__all__ = ["MAX_AMBIGUOUS", "gene_graph", "ida_effects"]

#: at most this many ambiguous neighbours (the strongest edges) are enumerated: 2⁶ parent sets
MAX_AMBIGUOUS = 6


def ida_effects(stats: FeatureStats, sources: Sequence[str], rd: np.ndarray,
                graph: pd.DataFrame, prior: nx.DiGraph, regulators: set[str]) -> tuple:
    """Conservative IDA effects (beta, se, number of parent sets per source) on readout positions."""
    features = stats.lookup(RNA_MOD)
    fitted = gene_graph(graph)
    beta = np.full((len(sources), len(rd)), np.nan)
    se = np.full_like(beta, np.nan)
    n_sets = np.zeros(len(sources), dtype=int)
    for row, g in enumerate(sources):
        sets = _possible_parent_sets(str(g), fitted, prior, regulators, features)
        n_sets[row] = len(sets)
        src = np.full(len(sets), features.get_loc(str(g)))
        b, s = adjusted_effects(stats.corr, src, rd, sets, stats.n_cells)
        pick = np.nanargmin(np.where(np.isnan(b), np.inf, np.abs(b)), axis=0)
        beta[row] = b[pick, np.arange(len(rd))]
        se[row] = s[pick, np.arange(len(rd))]
    return beta, se, n_sets


def gene_graph(graph: pd.DataFrame) -> nx.DiGraph:
    """The fitted gene→gene edges (``edges.csv`` rows with both modalities ``rna``), |weight|."""
    rows = graph
    if "source_modality" in graph:
        rows = graph[(graph["source_modality"] == "rna") & (graph["target_modality"] == "rna")]
    out = nx.DiGraph()
    for s, t, w in zip(rows["source"].astype(str), rows["target"].astype(str),
                       rows["weight"].abs() if "weight" in rows else np.ones(len(rows)), strict=True):
        out.add_edge(s, t, weight=float(w))
    return out


def _possible_parent_sets(g: str, fitted: nx.DiGraph, prior: nx.DiGraph, regulators: set[str],
                          features: pd.Index) -> list[np.ndarray]:
    """Fixed parents plus every subset of the strongest ambiguous neighbours, as positions."""
    if g not in fitted:
        return [np.array([], dtype=int)]
    fixed, ambiguous = [], []
    for p in fitted.predecessors(g):
        (fixed if _known(p, g, prior, regulators) else ambiguous).append(
            (fitted[p][g]["weight"], p))
    for c in fitted.successors(g):
        if not _known(g, c, prior, regulators):
            ambiguous.append((fitted[g][c]["weight"], c))
    ambiguous = [name for _, name in sorted(ambiguous, reverse=True)[:MAX_AMBIGUOUS]]
    base = [p for _, p in fixed]
    sets = []
    for k in range(len(ambiguous) + 1):
        for extra in combinations(ambiguous, k):
            pos = features.get_indexer([*base, *extra])
            sets.append(np.unique(pos[pos >= 0]).astype(int))
    return sets


def _known(u: str, v: str, prior: nx.DiGraph, regulators: set[str]) -> bool:
    """Is the direction u → v fixed by knowledge (a prior edge, or regulator → non-regulator)?"""
    return prior.has_edge(u, v) or (u in regulators and v not in regulators)
