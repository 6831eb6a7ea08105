"""``cmcvae data``: the public datasets of the poster: list, info, fetch (checksummed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cmcvae.cli._app import console, out_console
from cmcvae.cli._help import CMCVAETyper
from cmcvae.cli._options import in_range, out_path
from cmcvae.cli._tables import dataset_files_table, datasets_table, fetched_table
from cmcvae.datasets import default_data_dir, fetch, get_dataset, list_datasets

data_app = CMCVAETyper(help="Public datasets: list, info, fetch (checksummed).")

Name = Annotated[str, typer.Argument(help="Dataset name (see `cmcvae data list`).")]


@data_app.command("list")
def list_cmd() -> None:
    """Table of the registered datasets (cells, size, checksums, license)."""
    out_console.print(datasets_table(list_datasets()))


@data_app.command("info")
def info_cmd(name: Name) -> None:
    """Files (URL, size, checksum), citation and manual steps of one dataset."""
    d = get_dataset(name)
    out_console.print(f"[bold]{d.name}[/]: {d.title}\n{d.description}\n"
                      f"cells: {d.cells}\naccession: {d.accession}\nlicense: {d.license}\n"
                      f"cite: {d.citation}")
    out_console.print(dataset_files_table(d.files))
    for i, step in enumerate(d.manual_steps, 1):
        out_console.print(f"{i}. {step}")


@data_app.command("fetch")
def fetch_cmd(
    name: Name,
    dest: Annotated[Path | None, typer.Option(
        "--dest", help="Folder to download into (default $CMCVAE_CACHE/datasets/NAME or ~/.cache/cmcvae/datasets/NAME).",
        callback=out_path("folder"))] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace files that already exist in --dest.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the server to connect or send data.", callback=in_range(0, what="a number of seconds", low_open=True))] = 60,
) -> None:
    """Download a dataset's files, verify sizes and checksums, and rename them into place."""
    info = get_dataset(name)
    target = dest if dest is not None else default_data_dir(info.name)
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
               TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(file_name: str, done: int, total: int | None) -> None:
            if file_name not in tasks:
                tasks[file_name] = bar.add_task(file_name, total=total)
            bar.update(tasks[file_name], completed=done)

        results = fetch(info.name, target, force=force, timeout=timeout, progress=progress)
    out_console.print(fetched_table(f"{info.name} in {target}", results))
    if info.manual_steps:
        out_console.print("[bold]Next steps[/]")
        for i, step in enumerate(info.manual_steps, 1):
            out_console.print(f"{i}. {step}")
