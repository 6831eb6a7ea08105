"""Command-line sub-apps ``cmcvae priors`` and ``cmcvae data`` (docs/design.md §4).

Registered in the main app with ``app.add_typer(priors_app, name="priors")`` and
``app.add_typer(data_app, name="data")``. Bad input raises :class:`~cmcvae._errors.CMCVAEInputError`,
which the main entry point prints as one paragraph with a non-zero exit code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cmcvae._errors import CMCVAEInputError

priors_app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help=("Fetch prior networks (CollecTRI TF→target, OmniPath protein→protein) as "
          "source,target,weight CSV; cached, and filtered to your genes/panel on request."),
)
data_app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Public datasets of the poster: list them and download them with checksums.",
)
console = Console(stderr=True)
out_console = Console()

Out = Annotated[Path, typer.Option("--out", help="CSV (or .tsv) to write: columns source,target,weight.")]
CacheDir = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Cache folder (default $CMCVAE_CACHE/priors or ~/.cache/cmcvae/priors).")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the server to connect or send data.")]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")]
Refresh = Annotated[bool, typer.Option("--refresh", help="Download again even if a cached copy exists.")]
Genes = Annotated[Path | None, typer.Option(
    "--genes", help=("Keep only edges among these genes: a text file with one gene symbol per line, "
                     "or an .h5mu whose rna var_names are used. Prints a report."))]
Input = Annotated[Path | None, typer.Option(
    "--input", help="Use this local CSV/TSV (decoupler or OmniPath layout) instead of downloading.")]


def _write_prior(net: pd.DataFrame, out: Path, force: bool) -> None:
    out = Path(out)
    if out.exists() and not force:
        raise CMCVAEInputError(f"{out} already exists. Pass --force to overwrite it, or choose another --out.")
    if out.exists() and out.is_dir():
        raise CMCVAEInputError(f"--out {out} is a folder; give a file name such as {out / 'prior.csv'}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    sep = "\t" if out.suffix in (".tsv", ".txt") else ","
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            net[["source", "target", "weight"]].to_csv(fh, index=False, sep=sep)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(name: str, input_file: Path | None, cache_dir: Path | None, timeout: float,
          organism: str, refresh: bool) -> pd.DataFrame:
    from cmcvae.datasets import fetch_prior
    from cmcvae.pp import read_network

    if input_file is not None:
        return read_network(input_file, what=f"{name} prior")
    label = "CollecTRI" if name == "collectri" else "OmniPath"
    with console.status(f"Fetching {label} (cache first)…"):
        return fetch_prior(name, cache_dir=cache_dir, timeout=timeout, organism=organism, force=refresh)


def _report_table(title: str, report: dict) -> Table:
    table = Table(title=title)
    table.add_column("item")
    table.add_column("value")
    for key, value in report.items():
        if key == "message":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} ({v:,} edges)" for k, v in value.items()) or "none"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "none"
        elif isinstance(value, int):
            value = f"{value:,}"
        table.add_row(key.replace("_", " "), str(value))
    return table


@priors_app.command("collectri")
def collectri(
    out: Out,
    cache_dir: CacheDir = None,
    timeout: Timeout = 30,
    force: Force = False,
    genes: Genes = None,
    organism: Annotated[str, typer.Option(
        "--organism", help="human (default), or any organism decoupler translates to (e.g. mouse).")] = "human",
    input_file: Input = None,
    refresh: Refresh = False,
) -> None:
    """CollecTRI TF→target network (signed), via decoupler; --genes expands AP1/NFKB and filters."""
    from cmcvae.pp._priors import prepare_grn_prior, read_gene_list

    net = _load("collectri", input_file, cache_dir, timeout, organism, refresh)
    if genes is not None:
        net, report = prepare_grn_prior(net, read_gene_list(genes))
        out_console.print(_report_table(f"CollecTRI prior for {genes}", report))
        out_console.print(report["message"])
    _write_prior(net, out, force)
    out_console.print(f"Wrote {len(net):,} edges to [bold]{out}[/] (use it with --grn-prior)")


@priors_app.command("omnipath")
def omnipath(
    out: Out,
    cache_dir: CacheDir = None,
    timeout: Timeout = 30,
    force: Force = False,
    genes: Genes = None,
    organism: Annotated[str, typer.Option("--organism", help="human (default), mouse or rat.")] = "human",
    input_file: Input = None,
    refresh: Refresh = False,
    protein_map: Annotated[Path | None, typer.Option(
        "--protein-map", help=("protein,gene CSV: map the gene-level network onto these antibodies (the "
                               "panel is the map's proteins, or the prot var_names of a --genes .h5mu)."))] = None,
) -> None:
    """OmniPath directed, signed protein→protein interactions (web service), optionally on a panel."""
    from cmcvae.pp._priors import prepare_ppi_prior, read_gene_list

    net = _load("omnipath", input_file, cache_dir, timeout, organism, refresh)
    if protein_map is not None:
        from cmcvae.pp._protein_map import read_protein_map

        pmap = read_protein_map(protein_map)
        panel = list(dict.fromkeys(pmap["protein"]))
        if genes is not None:
            if genes.suffix != ".h5mu":
                raise CMCVAEInputError(
                    "With --protein-map, --genes must be an .h5mu (its prot var_names give the "
                    "panel); leave --genes out to use every protein of the map."
                )
            panel = _h5mu_panel(genes)
        net, report = prepare_ppi_prior(net, pmap, panel)
        out_console.print(_report_table(f"OmniPath prior on the panel of {protein_map}", report))
        out_console.print(report["message"])
    elif genes is not None:
        gene_list = read_gene_list(genes)
        net, report = prepare_ppi_prior(net, None, gene_list)
        out_console.print(_report_table(f"OmniPath prior among the genes of {genes}", report))
        out_console.print(report["message"].replace("panel proteins", "genes"))
    _write_prior(net, out, force)
    out_console.print(f"Wrote {len(net):,} edges to [bold]{out}[/] (use it with --ppi-prior)")


def _h5mu_panel(path: Path) -> list[str]:
    import anndata as ad
    import h5py

    try:
        with h5py.File(path, "r") as fh:
            if "mod/prot/var" not in fh:
                raise CMCVAEInputError(f"{path} has no 'prot' modality; pass a MuData with modalities rna/prot.")
            return [str(p) for p in ad.io.read_elem(fh["mod/prot/var"]).index]
    except OSError as err:
        raise CMCVAEInputError(f"Could not read {path} as .h5mu ({err}).") from err


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def _size(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


@data_app.command("list")
def list_cmd() -> None:
    """Table of the registered datasets (cells, size, checksums, license)."""
    from cmcvae.datasets._registry import list_datasets

    table = Table(title="cmcvae datasets (`cmcvae data info NAME` for files, URLs and manual steps)")
    for col in ("name", "dataset", "cells", "files", "size", "checksums", "license"):
        table.add_column(col, overflow="fold")
    for d in list_datasets():
        table.add_row(d.name, d.title, d.cells, str(len(d.files)), _size(d.total_size),
                      d.checksums_known, d.license)
    out_console.print(table)


@data_app.command("info")
def info_cmd(name: Annotated[str, typer.Argument(help="Dataset name (see `cmcvae data list`).")]) -> None:
    """Files (URL, size, checksum), citation and manual steps of one dataset."""
    from cmcvae.datasets._registry import get_dataset

    d = get_dataset(name)
    out_console.print(f"[bold]{d.name}[/]: {d.title}\n{d.description}\n"
                      f"cells: {d.cells}\naccession: {d.accession}\nlicense: {d.license}\n"
                      f"cite: {d.citation}")
    table = Table(title="files")
    for col in ("file", "size", "checksum", "url"):
        table.add_column(col, overflow="fold")
    for f in d.files:
        check = f"{f.checksum[0]} {f.checksum[1]}" if f.checksum else "unknown"
        table.add_row(f.name, _size(f.size), check, f.url)
    out_console.print(table)
    for i, step in enumerate(d.manual_steps, 1):
        out_console.print(f"{i}. {step}")


@data_app.command("fetch")
def fetch_cmd(
    name: Annotated[str, typer.Argument(help="Dataset name (see `cmcvae data list`).")],
    dest: Annotated[Path | None, typer.Option(
        "--dest", help="Folder to download into (default $CMCVAE_CACHE/datasets/NAME or ~/.cache/cmcvae/datasets/NAME).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace files that already exist in --dest.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the server to connect or send data.")] = 60,
) -> None:
    """Download a dataset's files, verify sizes and checksums, and rename them into place."""
    from cmcvae.datasets._registry import default_data_dir, fetch, get_dataset

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
    table = Table(title=f"{info.name} in {target}")
    for col in ("file", "status", "verified", "sha256"):
        table.add_column(col, overflow="fold")
    for file_name, r in results.items():
        table.add_row(file_name, r["status"], "yes" if r["verified"] else "no (no published checksum)",
                      r["sha256"])
    out_console.print(table)
    if info.manual_steps:
        out_console.print("[bold]Next steps[/]")
        for i, step in enumerate(info.manual_steps, 1):
            out_console.print(f"{i}. {step}")
