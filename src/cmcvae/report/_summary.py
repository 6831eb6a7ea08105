"""Report sections: data and training summary, training curves."""

from __future__ import annotations

from pathlib import Path

from cmcvae import pl
from cmcvae.pl.style import fmt_num, is_number
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, note, table

DATA_TITLE = "Data and training"
CURVES_TITLE = "Training curves"


def _count(x: object) -> str:
    return f"{int(x):,}" if is_number(x) else "–"


def _name(path: object) -> str:
    return Path(str(path)).name if path else "–"


def data_section(ctx: RunContext) -> Section:
    """Cells, genes, proteins, donors, epochs, DAG, latent edges, fit time and speed.

    Parameters
    ----------
    ctx
        The run.

    Returns
    -------
    Section
        The summary table (or a note naming ``cmcvae fit``).
    """
    metrics = ctx.read_json("metrics.json")
    if metrics is None:
        return Section("data", DATA_TITLE, note(ctx.missing("metrics.json")))
    info = ctx.read_json("run.json") or {}
    timings = metrics.get("timings") or {}
    dag = metrics.get("is_dag")
    rows = [
        ("cells", _count(metrics.get("n_cells"))),
        ("genes", _count(metrics.get("n_genes"))),
        ("proteins", _count(metrics.get("n_proteins"))),
        ("donors", _count(metrics.get("n_donors"))),
        ("epochs", _count(metrics.get("epochs"))),
        ("latent graph is a DAG", "yes" if dag is True else "no" if dag is False else "–"),
        ("latent edges", _count(metrics.get("n_latent_edges"))),
        ("h(A) at the end", fmt_num(metrics.get("h_final"), ".3g")),
        ("fit seconds", fmt_num(timings.get("fit_seconds"), ".1f")),
        ("cells per second", fmt_num(timings.get("cells_per_second"), ",.0f")),
        ("final train loss / validation loss",
         f"{fmt_num(metrics.get('train_loss'), '.2f')} / {fmt_num(metrics.get('val_loss'), '.2f')}"),
        ("data", info.get("data") or "–"),
        ("batch key", info.get("batch_key") or "–"),
        ("GRN prior", _name(info.get("grn_prior"))),
        ("PPI prior", _name(info.get("ppi_prior"))),
    ]
    config = info.get("config") or {}
    if config:
        rows.append(("latent nodes (RNA + protein)",
                     f"{config.get('n_latent_rna', '–')} + {config.get('n_latent_protein', '–')}"))
        rows.append(("seed", str(config.get("seed", "–"))))
    body = table(("item", "value"), rows)
    return Section("data", DATA_TITLE, body)


def curves_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Training curves figure.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        The figure (or a note).
    """
    if not (ctx.run / "metrics.json").is_file():
        return Section("training", CURVES_TITLE, note(ctx.missing("metrics.json")))
    body = sink.add("training_curves", lambda: pl.training_curves(ctx.run),
                    "Loss and −ELBO per epoch (train solid, validation dashed), DAGMA stages "
                    "shaded; acyclicity h(A) on a log axis below.")
    return Section("training", CURVES_TITLE, body)
