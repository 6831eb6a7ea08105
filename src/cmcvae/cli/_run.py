"""``cmcvae run``: the whole pipeline on the built-in default (simulate → fit → validate → analyze →
report → summary)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cmcvae import CMCVAEConfig
from cmcvae.cli._app import Force, out_console
from cmcvae.cli._options import (
    MIN_RUN_CELLS,
    RUN_PERTURBATIONS,
    Arch,
    MaxEpochs,
    Regime,
    Seed,
    check_sim_sizes,
    in_range,
    out_path,
)
from cmcvae.cli._run_screen import run_screen
from cmcvae.tl import run_default


def run(
    out: Annotated[Path, typer.Option("--out", help="Output folder (data/, run/, summary.json).", callback=out_path("folder"))] = Path("cmcvae_run"),
    seed: Seed = 0,
    max_epochs: MaxEpochs = None,
    regime: Regime = "forward",
    cells: Annotated[int, typer.Option("--cells", help=f"Simulated training cells (at least {MIN_RUN_CELLS}).", callback=in_range(MIN_RUN_CELLS, why=" (split 80/10/10 into train, validation and test cells: fewer leave too few to train and validate)"))] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help=f"Simulated genes (at least {RUN_PERTURBATIONS}: the screen knocks down {RUN_PERTURBATIONS}).", callback=in_range(RUN_PERTURBATIONS, why=f" (the simulated screen knocks down {RUN_PERTURBATIONS} genes)"))] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Simulated proteins (at most --genes − 2).", callback=in_range(1))] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Simulated training donors.", callback=in_range(1))] = 8,
    arch: Arch = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML/JSON file of CMCVAEConfig fields.")] = None,
    force: Force = False,
    save_screen: Annotated[Path | None, typer.Option("--save-screen", hidden=True, help="Also save the final screen as SVG to this file (and as text beside it, .txt).")] = None,
) -> None:
    """The whole pipeline on the built-in default: simulate → fit → validate → analyze → report → summary."""
    check_sim_sizes(cells, genes, proteins, donors, RUN_PERTURBATIONS)
    sim = {"n_cells": cells, "n_genes": genes, "n_proteins": proteins, "n_donors": donors, "regime": regime}
    extra = {} if arch is None else {"arch": arch}
    if config is not None:
        CMCVAEConfig.from_file(config)  # refuse a bad config before simulating
        extra["config"] = config
    summary = run_default(out, seed=seed, force=force, max_epochs=max_epochs, sim_kwargs=sim, **extra)
    screen = run_screen(summary)
    out_console.print(screen)
    out_console.print(f"Results in [bold]{out}[/] (data/, run/ with report.html, summary.json)")
    if save_screen is not None:
        _save_screen(screen, save_screen)


def _save_screen(screen, path: Path) -> None:
    """Render the final screen at 80 columns into ``path`` (SVG) and ``path`` with ``.txt``."""
    rec = Console(record=True, width=80, file=io.StringIO())
    rec.print(screen)
    path.parent.mkdir(parents=True, exist_ok=True)
    rec.save_text(str(path.with_suffix(".txt")), clear=False)
    rec.save_svg(str(path), title="cmcvae run")
