"""``cmcvae simulate``: CITE-seq data with a known causal structure and a perturbation screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from cmcvae.cli._app import Force, console, out_console
from cmcvae.cli._options import Regime, Seed, check_sim_sizes, in_range, out_path
from cmcvae.datasets import SIM_SETTINGS, simulate_setting

Setting = Annotated[Literal[tuple(SIM_SETTINGS)], typer.Option(  # type: ignore[valid-type]
    "--setting", case_sensitive=False,
    help=f"Simulator mechanism setting: {' | '.join(SIM_SETTINGS)} (heldout_* are for reporting "
         "only, never for tuning; docs/model.md).")]


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write train.h5mu, perturb.h5mu, priors/, protein_map.csv, truth/ (edges, matched pairs, true knockdown effects on proteins and genes).", callback=out_path("folder"))],
    cells: Annotated[int, typer.Option("--cells", help="Number of training cells.", callback=in_range(1))] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help="Number of genes (at least 3).", callback=in_range(3))] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Number of panel proteins (each encoded by one gene; at most --genes − 2).", callback=in_range(1))] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Number of training donors.", callback=in_range(1))] = 8,
    regime: Regime = "forward",
    perturbations: Annotated[int, typer.Option("--perturbations", help="Number of knocked-down genes in the screen (at most --genes).", callback=in_range(0))] = 30,
    seed: Seed = 0,
    setting: Setting = "default",
    force: Force = False,
) -> None:
    """Simulate CITE-seq data with a known causal structure and a perturbation screen."""
    check_sim_sizes(cells, genes, proteins, donors, perturbations)
    with console.status("Simulating…"):
        sim = simulate_setting(setting, seed, n_cells=cells, n_genes=genes, n_proteins=proteins,
                               n_donors=donors, regime=regime, n_perturbations=perturbations)
        path = sim.write(out, force=force)
    out_console.print(f"Wrote simulation ({cells:,} cells × {genes} genes + {proteins} proteins, "
                      f"regime {regime}, setting {setting}) to [bold]{path}[/]")
