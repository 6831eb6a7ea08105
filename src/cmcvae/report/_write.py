"""Writing the report: one self-contained HTML file plus the figures as PNG and SVG."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from cmcvae import __version__
from cmcvae._errors import CMCVAEInputError
from cmcvae.report._asymmetry import dogma_section, tf_section
from cmcvae.report._context import RunContext
from cmcvae.report._edges import edges_section
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, page
from cmcvae.report._recovery import recovery_section
from cmcvae.report._stability import stability_section
from cmcvae.report._summary import curves_section, data_section
from cmcvae.report._validation import validation_section


def build_sections(ctx: RunContext, sink: FigureSink) -> list[Section]:
    """All sections of the report, in order (missing inputs become notes, not errors).

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer (collects the written figure files).

    Returns
    -------
    list of Section
        Data and training, training curves, top edges, central dogma, TF→target, recovery,
        zero-shot validation, edge stability.
    """
    return [
        data_section(ctx),
        curves_section(ctx, sink),
        edges_section(ctx),
        validation_section(ctx, sink),
        dogma_section(ctx, sink),
        tf_section(ctx, sink),
        recovery_section(ctx, sink),
        stability_section(ctx, sink),
    ]


def write_report_files(run: str | Path, out: str | Path | None = None,
                       force: bool = False) -> tuple[Path, list[Path]]:
    """Write the HTML report of a run folder and its figures; return both locations.

    Parameters
    ----------
    run
        Run folder of ``cmcvae fit`` (or an ensemble folder).
    out
        HTML file to write (default ``RUN/report.html``).
    force
        Overwrite an existing ``out``.

    Returns
    -------
    tuple
        The report path and the figure files written (``RUN/figures/<name>.png`` and ``.svg``).

    Raises
    ------
    CMCVAEInputError
        ``run`` is not a run folder, or ``out`` exists and ``force`` is False.
    """
    ctx = RunContext.locate(run)
    out = ctx.folder / "report.html" if out is None else Path(out)
    if out.exists() and not force:
        raise CMCVAEInputError(
            f"{out} already exists; pass --force (force=True) to overwrite it, or choose "
            "another --out."
        )
    if out.exists() and out.is_dir():
        raise CMCVAEInputError(f"{out} is a folder; --out must name an .html file.")
    sink = FigureSink(ctx.folder / "figures")
    sections = build_sections(ctx, sink)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    html = page("CMC-VAE run report", f"Run {ctx.label()} · cmcvae {__version__} · {stamp}",
                sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out, sink.files


def write_report(run: str | Path, out: str | Path | None = None, force: bool = False) -> Path:
    """Write one self-contained HTML report of a run folder (figures inline as SVG).

    Sections: data and training summary, training curves, top 20 edges of each network,
    zero-shot validation (every method's AUROC, AUPRC, median per-perturbation AUROC and
    direction accuracy next to each other), central dogma, TF→target (held-out and training
    edges apart), recovery against a simulated truth, and edge stability for an ensemble.
    A section whose input is missing says which command produces it. Every figure is also
    written to ``RUN/figures/`` as PNG and SVG.

    Parameters
    ----------
    run
        Run folder of ``cmcvae fit`` (or an ensemble folder of ``cmcvae fit --seeds``).
    out
        HTML file to write (default ``RUN/report.html``).
    force
        Overwrite an existing ``out``.

    Returns
    -------
    pathlib.Path
        The report.

    Raises
    ------
    CMCVAEInputError
        ``run`` is not a run folder, or ``out`` exists and ``force`` is False.
    """
    return write_report_files(run, out, force)[0]
