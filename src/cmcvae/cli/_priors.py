"""``cmcvae priors``: fetch or filter prior networks (CollecTRI TF→target, OmniPath protein→protein).

Each command writes a ``source,target,weight`` CSV (downloads are cached) and, given ``--genes``,
filters it to those genes / that panel with a report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import anndata as ad
import h5py
import pandas as pd
import typer

from cmcvae._errors import CMCVAEInputError
from cmcvae.cli._app import console, out_console
from cmcvae.cli._help import CMCVAETyper
from cmcvae.cli._options import in_range, out_path
from cmcvae.cli._tables import prior_report_table
from cmcvae.datasets import fetch_prior
from cmcvae.pp import (
    prepare_grn_prior,
    prepare_ppi_prior,
    read_gene_list,
    read_network,
    read_protein_map,
)

priors_app = CMCVAETyper(help="Fetch or filter prior networks (CollecTRI, OmniPath).")

Out = Annotated[Path, typer.Option("--out", help="CSV (or .tsv) to write: columns source,target,weight.",
                                    callback=out_path("file"))]
CacheDir = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Cache folder (default $CMCVAE_CACHE/priors or ~/.cache/cmcvae/priors).")]
Timeout = Annotated[float, typer.Option("--timeout", help="Seconds to wait for the server to connect or send data.",
                                        callback=in_range(0, what="a number of seconds", low_open=True))]
Force = Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")]
Refresh = Annotated[bool, typer.Option("--refresh", help="Download again even if a cached copy exists.")]
Genes = Annotated[Path | None, typer.Option(
    "--genes", help=("Keep only edges among these genes: a text file with one gene symbol per line, "
                     "or an .h5mu whose rna var_names are used. Prints a report."))]
Input = Annotated[Path | None, typer.Option(
    "--input", help="Use this local CSV/TSV (decoupler or OmniPath layout) instead of downloading.")]


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
    net = _load("collectri", input_file, cache_dir, timeout, organism, refresh)
    if genes is not None:
        net, report = prepare_grn_prior(net, read_gene_list(genes))
        out_console.print(prior_report_table(f"CollecTRI prior for {genes}", report))
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
    net = _load("omnipath", input_file, cache_dir, timeout, organism, refresh)
    if protein_map is not None:
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
        out_console.print(prior_report_table(f"OmniPath prior on the panel of {protein_map}", report))
        out_console.print(report["message"])
    elif genes is not None:
        gene_list = read_gene_list(genes)
        net, report = prepare_ppi_prior(net, None, gene_list)
        out_console.print(prior_report_table(f"OmniPath prior among the genes of {genes}", report))
        out_console.print(report["message"].replace("panel proteins", "genes"))
    _write_prior(net, out, force)
    out_console.print(f"Wrote {len(net):,} edges to [bold]{out}[/] (use it with --ppi-prior)")


def _load(name: str, input_file: Path | None, cache_dir: Path | None, timeout: float,
          organism: str, refresh: bool) -> pd.DataFrame:
    """The local ``--input`` file, else the cached or downloaded network."""
    if input_file is not None:
        return read_network(input_file, what=f"{name} prior")
    label = "CollecTRI" if name == "collectri" else "OmniPath"
    with console.status(f"Fetching {label} (cache first)…"):
        return fetch_prior(name, cache_dir=cache_dir, timeout=timeout, organism=organism, force=refresh)


def _write_prior(net: pd.DataFrame, out: Path, force: bool) -> None:
    """Write ``source,target,weight`` atomically (a cut write leaves no half file)."""
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


def _h5mu_panel(path: Path) -> list[str]:
    """The prot var_names of an ``.h5mu``, read without loading the matrices."""
    try:
        with h5py.File(path, "r") as fh:
            if "mod/prot/var" not in fh:
                raise CMCVAEInputError(f"{path} has no 'prot' modality; pass a MuData with modalities rna/prot.")
            return [str(p) for p in ad.io.read_elem(fh["mod/prot/var"]).index]
    except OSError as err:
        raise CMCVAEInputError(f"Could not read {path} as .h5mu ({err}).") from err
