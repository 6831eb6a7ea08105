"""Writing the report: one self-contained HTML file plus the figures as PNG and SVG."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.io import (
    MANIFEST,
    check_files,
    claim_files,
    read_manifest,
    record_files,
    report_files,
    run_folder_files,
)
from cmcvae.report._asymmetry import dogma_section, tf_section
from cmcvae.report._context import RunContext
from cmcvae.report._edges import edges_section
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, page
from cmcvae.report._recovery import recovery_section
from cmcvae.report._stability import stability_section
from cmcvae.report._summary import curves_section, data_section
from cmcvae.report._validation import validation_section


class RecordingSink(FigureSink):
    """A :class:`FigureSink` that records each figure in the run folder's manifest before writing it.

    A figure file of the same name that cmcvae did not record writing is never overwritten:
    the figure becomes a note in the report instead.

    Parameters
    ----------
    run
        The run (or ensemble) folder; figures go to ``run/figures/``.
    """

    def __init__(self, run: Path) -> None:
        super().__init__(run / "figures")
        self.run = run

    def add(self, name: str, draw: Callable[[], Figure], caption: str) -> str:
        """Draw, record and save a figure (see :meth:`FigureSink.add`)."""
        def recorded() -> Figure:
            fig = draw()
            claim_files(self.run, [f"figures/{name}.{ext}" for ext in ("svg", "png")],
                        command="report", what="run folder")
            return fig

        return super().add(name, recorded, caption)


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
        Overwrite an existing ``out``, if an earlier report wrote it (the folder's manifest): a
        file cmcvae's report did not write is never overwritten. Without it, cmcvae's own
        earlier report is replaced only when a file of the run changed after it was written
        (:func:`changed_inputs`: e.g. ``cmcvae analyze`` or ``validate`` ran since).

    Returns
    -------
    tuple
        The report path and the figure files written (``RUN/figures/<name>.png`` and ``.svg``).

    Raises
    ------
    CMCVAEInputError
        ``run`` is not a run folder, or ``out`` exists, ``force`` is False and ``out`` is not
        cmcvae's own report with changed inputs.
    """
    ctx = RunContext.locate(run)
    out = ctx.folder / "report.html" if out is None else Path(out)
    if out.exists() and out.is_dir():
        raise CMCVAEInputError(f"{out} is a folder; --out must name an .html file.")
    if out.exists() and not force:
        force = _replaces_stale_report(ctx, out)
    _check_writable(ctx.folder, out, force)
    sink = RecordingSink(ctx.folder)
    sections = build_sections(ctx, sink)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    html = page("CMC-VAE run report", f"Run {ctx.label()} · cmcvae {__version__} · {stamp}",
                sections)
    out.parent.mkdir(parents=True, exist_ok=True)
    record_files(out.parent, [out.name], "report")
    out.write_text(html, encoding="utf-8")
    return out, sink.files


def changed_inputs(ctx: RunContext, out: Path) -> list[Path] | None:
    """The run's files changed since cmcvae's report wrote ``out``; ``None`` if it did not.

    Parameters
    ----------
    ctx
        The run.
    out
        An existing report file.

    Returns
    -------
    list of pathlib.Path or None
        Files of the run-folder contract (``validation.json``, ``analysis.json`` …; the report
        and its figures excluded) modified after ``out``; ``None`` when the manifest of
        ``out``'s folder does not record ``cmcvae report`` writing it.
    """
    try:
        entry = read_manifest(out.parent).get(out.name) or {}
    except CMCVAEInputError:
        return None
    if entry.get("command") != "report":
        return None
    written = out.stat().st_mtime
    folders = {ctx.run: False, ctx.folder: ctx.folder != ctx.run}
    if ctx.ensemble is not None:
        folders[ctx.ensemble] = True
    skip = set(report_files())
    return [folder / rel for folder, ensemble in folders.items()
            for rel in run_folder_files(ensemble=ensemble)
            if rel not in skip and (folder / rel).is_file()
            and (folder / rel).stat().st_mtime > written]


def _replaces_stale_report(ctx: RunContext, out: Path) -> bool:
    """Without --force: replace cmcvae's own earlier report if its inputs changed, else refuse."""
    changed = changed_inputs(ctx, out)
    if changed:
        return True
    if changed is None:
        raise CMCVAEInputError(
            f"{out} already exists and cmcvae's report did not write it (no entry in the "
            f"folder's {MANIFEST}), so cmcvae will not overwrite it: move it out of the way, or "
            "choose another --out."
        )
    raise CMCVAEInputError(
        f"{out} is cmcvae's own report and is up to date: no file of {ctx.run} changed since it "
        "was written (a newer validation.json or analysis.json would replace it without "
        "--force). To write it again anyway, pass --force; for a second copy, choose another "
        "--out."
    )


def _check_writable(folder: Path, out: Path, force: bool) -> None:
    """Refuse before drawing anything when the report or a figure would replace a file cmcvae's
    report did not write (the user's, or another command's such as ``validation.json``)."""
    below = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if below is not None:
        raise CMCVAEInputError(f"--out {out} lies below {below}, which is a file, not a folder; "
                               "choose another --out.")
    contract = {*run_folder_files(), *run_folder_files(ensemble=True)} - {"report.html"}
    if out.resolve().parent == folder.resolve() and out.name in contract:
        raise CMCVAEInputError(
            f"--out {out} would write the report over the run folder's {out.name}, which other "
            f"commands read; choose another --out (default: {folder / 'report.html'})."
        )
    check_files(out.parent, [out.name], command="report", force=force, what="folder")
    check_files(folder, [r for r in report_files() if r.startswith("figures/")],
                command="report", what="run folder")


def write_report(run: str | Path, out: str | Path | None = None, force: bool = False) -> Path:
    """Write one self-contained HTML report of a run folder (figures inline as SVG).

    Sections: data, settings, training and versions, training curves, top 20 edges of each network,
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
        Overwrite an existing ``out`` (cmcvae's own earlier report is replaced without it when
        the run's files changed since; see :func:`write_report_files`).

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
