"""GraphML export of feature-level edges (Cytoscape / Gephi / networkx)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cmcvae._constants import MODALITIES
from cmcvae._errors import CMCVAEInputError

if TYPE_CHECKING:
    import networkx as nx


def node_id(name: str, modality: str) -> str:
    """GraphML node id of a feature: ``"rna:CD4"`` / ``"protein:CD4"`` (unique per modality)."""
    return f"{modality}:{name}"


def edges_to_graph(edges: pd.DataFrame, *,
                   stability: pd.DataFrame | None = None) -> nx.DiGraph:
    """Directed :class:`networkx.DiGraph` of feature-level edges (see :func:`write_graphml`).

    Parameters
    ----------
    edges
        ``source,target,source_modality,target_modality,weight`` rows (``edges.csv``).
    stability
        Optional :func:`cmcvae.graph.stability.edge_stability` table; its ``frequency`` (and
        ``sign_consistency`` when present) is attached to the matching edges (0 for edges it
        does not list).

    Returns
    -------
    networkx.DiGraph
        Nodes ``"<modality>:<name>"`` with ``label`` and ``modality``; edges with ``weight``,
        ``abs_weight``, ``sign``, ``network`` and, with ``stability``, ``frequency``.
    """
    import networkx as nx

    key = ["source", "target", "source_modality", "target_modality"]
    missing = [c for c in [*key, "weight"] if c not in edges.columns]
    if missing:
        raise CMCVAEInputError(f"Edges lack column(s) {missing}; found {list(edges.columns)}.")
    df = edges[[*key, "weight"]].copy()
    for col in key:
        df[col] = df[col].astype(str)
    bad = sorted(set(df["source_modality"]).union(df["target_modality"]) - set(MODALITIES))
    if bad:
        raise CMCVAEInputError(f"Unknown modality {bad} in edges; expected 'rna' or 'protein'.")
    extra: list[str] = []
    if stability is not None:
        extra = [c for c in ("frequency", "sign_consistency") if c in stability.columns]
        if "frequency" not in extra:
            raise CMCVAEInputError("The stability table needs a 'frequency' column.")
        stab = stability[[*key, *extra]].astype({c: str for c in key}).drop_duplicates(key)
        df = df.merge(stab, on=key, how="left")
        df[extra] = df[extra].fillna(0.0)
    graph = nx.DiGraph()
    for name, mod in pd.concat([
            df[["source", "source_modality"]].set_axis(["name", "modality"], axis=1),
            df[["target", "target_modality"]].set_axis(["name", "modality"], axis=1),
    ]).drop_duplicates().itertuples(index=False):
        graph.add_node(node_id(name, mod), label=str(name), modality=str(mod))
    for row in df.itertuples(index=False):
        w = float(row.weight)
        attrs = {"weight": w, "abs_weight": abs(w), "sign": int(np.sign(w)),
                 "network": f"{row.source_modality}_{row.target_modality}"}
        for col in extra:
            attrs[col] = float(getattr(row, col))
        graph.add_edge(node_id(row.source, row.source_modality),
                       node_id(row.target, row.target_modality), **attrs)
    return graph


def write_graphml(edges: pd.DataFrame, path: str | Path, *,
                  stability: pd.DataFrame | None = None) -> Path:
    """Write feature-level edges as GraphML (for Cytoscape, Gephi or networkx).

    Parameters
    ----------
    edges
        ``source,target,source_modality,target_modality,weight`` rows (``edges.csv``).
    path
        Output ``.graphml`` file.
    stability
        Optional :func:`cmcvae.graph.stability.edge_stability` table; adds each edge's
        ``frequency`` across runs (and ``sign_consistency``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    Node ids are ``"rna:<gene>"`` and ``"protein:<protein>"`` so a gene and a protein with the
    same name (CD4) stay two nodes; each node has ``label`` (the plain name) and ``modality``
    (``rna`` or ``protein``). Edges carry ``weight`` (signed direct effect), ``abs_weight``,
    ``sign`` (-1, 0, 1), ``network`` (``rna_rna``, ``rna_protein``, ``protein_rna`` or
    ``protein_protein``) and, with ``stability``, ``frequency``.
    """
    import networkx as nx

    path = Path(path)
    nx.write_graphml(edges_to_graph(edges, stability=stability), path)
    return path
