"""``cmcvae run``: the whole pipeline on the built-in default (simulate → fit → validate → summary)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.cli._app import Force, Seed, out_console
from cmcvae.cli._tables import summary_table
from cmcvae.tl import run_default


def run(
    out: Annotated[Path, typer.Option("--out", help="Output folder (data/, run/, summary.json).")] = Path("cmcvae_run"),
    seed: Seed = 0,
    max_epochs: Annotated[int | None, typer.Option("--max-epochs", help="Maximum training epochs.")] = None,
    regime: Annotated[str, typer.Option("--regime", help="Simulated matched-pair direction: forward | reversed | mixed | confounded.")] = "forward",
    cells: Annotated[int, typer.Option("--cells", help="Simulated training cells.")] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help="Simulated genes.")] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Simulated proteins.")] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Simulated training donors.")] = 8,
    arch: Annotated[str | None, typer.Option("--arch", help="Model architecture: latent | sem (default: the config's; 'poster' = latent).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML/JSON file of CMCVAEConfig fields.")] = None,
    force: Force = False,
) -> None:
    """The whole pipeline on the built-in default: simulate → fit → validate → summary."""
    sim = {"n_cells": cells, "n_genes": genes, "n_proteins": proteins, "n_donors": donors, "regime": regime}
    extra = {} if arch is None else {"arch": arch}
    if config is not None:
        extra["config"] = config
    summary = run_default(out, seed=seed, force=force, max_epochs=max_epochs, sim_kwargs=sim, **extra)
    out_console.print(summary_table(summary))
    out_console.print(f"Results in [bold]{out}[/] (run folder {out / 'run'}, summary.json)")
