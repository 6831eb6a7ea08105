"""Report section: the strongest edges of each of the four feature networks."""

from __future__ import annotations

import pandas as pd

from cmcvae.pl.style import NETWORKS
from cmcvae.report._context import RunContext
from cmcvae.report._html import Section, esc, note, table

TITLE = "Top edges"
TOP = 20


def top_edges(edges: pd.DataFrame, network: str, n: int = TOP) -> pd.DataFrame:
    """The ``n`` edges of one network with the largest ``|weight|``.

    Parameters
    ----------
    edges
        ``edges.csv`` (``source,target,source_modality,target_modality,weight``).
    network
        Key of :data:`~cmcvae.pl.style.NETWORKS`, e.g. ``"rna_protein"``.
    n
        How many edges.

    Returns
    -------
    pandas.DataFrame
        ``source,target,weight`` sorted by decreasing ``|weight|``.
    """
    src, dst, _ = NETWORKS[network]
    sub = edges[(edges["source_modality"] == src) & (edges["target_modality"] == dst)]
    order = sub["weight"].abs().sort_values(ascending=False, kind="stable").index
    return sub.loc[order[:n], ["source", "target", "weight"]]


def edges_section(ctx: RunContext, n: int = TOP) -> Section:
    """One table per network: the top ``n`` edges by absolute direct effect.

    Parameters
    ----------
    ctx
        The run.
    n
        Edges per network.

    Returns
    -------
    Section
        Four tables (or a note naming ``cmcvae fit``).
    """
    edges = ctx.read_csv("edges.csv")
    need = {"source", "target", "source_modality", "target_modality", "weight"}
    if edges is None or not need <= set(edges.columns):
        return Section("edges", TITLE, note(ctx.missing("edges.csv")))
    parts = []
    for key, (_, _, label) in NETWORKS.items():
        top = top_edges(edges, key, n)
        total = int(((edges["source_modality"] == NETWORKS[key][0])
                     & (edges["target_modality"] == NETWORKS[key][1])).sum())
        head = f"<h3>{esc(label)} ({total:,} edges in edges.csv)</h3>"
        if top.empty:
            parts.append(f"<div>{head}<p>No edge kept in this network.</p></div>")
            continue
        rows = [(i + 1, r.source, r.target, f"{r.weight:+.4g}")
                for i, r in enumerate(top.itertuples(index=False))]
        parts.append(f"<div>{head}" + table(("#", "source", "target", "direct effect"), rows,
                                             numeric=(True, False, False, True)) + "</div>")
    intro = (f"<p>The {n} strongest edges (signed direct effect, by absolute value) of each "
             "feature-level network in edges.csv.</p>")
    return Section("edges", TITLE, intro + '<div class="tables">' + "".join(parts) + "</div>")
