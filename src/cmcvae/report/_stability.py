"""Report section: edge stability over the seeds of an ensemble."""

from __future__ import annotations

import json

import pandas as pd

from cmcvae import pl
from cmcvae.graph.stability import aggregate_rows
from cmcvae.io import producer
from cmcvae.pl.style import NETWORKS
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, aside, esc, note, table

TITLE = "Edge stability"


_HEADLINE = ("fraction_forward", "null_fraction_forward", "wilcoxon_p", "p_vs_null", "call",
             "sign_agreement", "null_sign_agreement", "direction_accuracy_vs_truth", "auroc",
             "direction_accuracy", "median_perturbation_auroc")


def _across_seeds(ctx: RunContext) -> str:
    """Mean ± sd [min–max] over seeds of the ensemble's analyses and validation, if run."""
    html = ""
    for name, what in (("analysis.json", "cmcvae analyze"), ("validation.json", "cmcvae validate")):
        path = ctx.ensemble / name
        if not path.exists():
            continue
        try:
            agg = json.loads(path.read_text()).get("aggregate")
        except (OSError, ValueError):
            continue
        if isinstance(agg, dict):
            rows = aggregate_rows(agg, _HEADLINE)
            if rows:
                html += (f"<p>{esc(f'`{what}` on the ensemble, across seeds:')}</p>"
                         + table(("analysis", "statistic", "mean ± sd [min–max] / per seed"), rows))
    return html


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
        return Section("stability", TITLE, aside(
            f"A single run, not an ensemble (no stability.csv in {ctx.folder} or its parent), so "
            f"there is nothing to compare across seeds. Optional: `{producer('stability.csv')}` "
            "fits several seeds and measures how stable each edge is."))
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
    body = (intro + _across_seeds(ctx)
            + (table(("network", "edges (any seed)", "kept by ≥ half", "kept by all",
                      "mean frequency"), rows, numeric=(False, True, True, True, True))
               if rows else "")
            + sink.add("edge_stability", lambda: pl.edge_stability(ctx.ensemble),
                       "How stable the edges are: histogram of the fraction of seeds keeping "
                       "each edge, per network."))
    return Section("stability", TITLE, body)
