"""Report section: edge stability over the seeds of an ensemble."""

from __future__ import annotations

import pandas as pd

from .. import pl
from ..pl._io import producer
from ..pl._style import NETWORKS
from ._context import RunContext
from ._figures import FigureSink
from ._html import Section, esc, note, table

TITLE = "Edge stability"


def stability_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Histogram of edge frequencies per network and a summary table, for an ensemble.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        Table and figure, or a note naming the ensemble command.
    """
    if ctx.ensemble is None:
        return Section("stability", TITLE, note(
            f"Not an ensemble (no stability.csv in {ctx.folder} or its parent): run "
            f"`{producer('stability.csv')}` to fit several seeds and measure edge stability."))
    try:
        stab = pd.read_csv(ctx.ensemble / "stability.csv")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
        return Section("stability", TITLE, note(f"Could not read stability.csv: {err}"))
    rows = []
    if {"source_modality", "target_modality", "frequency"} <= set(stab.columns):
        for src, dst, label in NETWORKS.values():
            f = stab.loc[(stab["source_modality"] == src) & (stab["target_modality"] == dst),
                         "frequency"].to_numpy(dtype=float)
            if f.size:
                rows.append((label, f"{f.size:,}", f"{(f >= 0.5).mean():.1%}",
                             f"{(f >= 1.0).mean():.1%}", f"{f.mean():.3f}"))
    n = int(stab["n_runs"].max()) if "n_runs" in stab and len(stab) else None
    intro = ("<p>" + esc(f"Ensemble folder {ctx.ensemble}" + (f", {n} seeds" if n else "")
                         + ": fraction of seeds keeping each edge.") + "</p>")
    body = (intro
            + (table(("network", "edges (any seed)", "kept by ≥ half", "kept by all",
                      "mean frequency"), rows, numeric=(False, True, True, True, True))
               if rows else "")
            + sink.add("edge_stability", lambda: pl.edge_stability(ctx.ensemble),
                       "Histogram of edge frequencies across seeds, per network."))
    return Section("stability", TITLE, body)
