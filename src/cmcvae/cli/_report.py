"""``cmcvae report``: one self-contained HTML report of a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.cli._app import console, out_console
from cmcvae.cli._options import out_path
from cmcvae.report import write_report_files


def report(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit` (or an ensemble folder).")],
    out: Annotated[Path | None, typer.Option("--out", help="HTML file to write (default RUN/report.html).", callback=out_path("file"))] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing report that cmcvae wrote (without it, cmcvae's own report is replaced only when the run's files changed since).")] = False,
) -> None:
    """Write one self-contained HTML report (figures inline) and the figures as PNG and SVG.

    Rerun after `cmcvae analyze` or `validate` to refresh it: cmcvae's own earlier report is
    replaced when a file of the run changed since it was written; --force rewrites it anyway.
    """
    target = (run / "report.html") if out is None else out
    replacing = target.is_file() and not force  # only cmcvae's own report whose inputs changed
    with console.status("Writing the report…"):
        path, figures = write_report_files(run, out=out, force=force)
    out_console.print(f"Wrote the report to [bold]{path}[/]")
    if replacing:
        out_console.print("(It replaces cmcvae's earlier report there: files of the run changed "
                          "since it was written.)")
    if figures:
        folder = figures[0].parent
        names = ", ".join(sorted({f.stem for f in figures}))
        out_console.print(f"Figures ({len(figures)} files, PNG and SVG) in [bold]{folder}[/]: {names}")
    else:
        out_console.print("No figures: their inputs are missing (the report says which command writes them).")
