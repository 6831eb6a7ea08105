"""``cmcvae simulate``: CITE-seq data with a known causal structure and a perturbation screen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.cli._app import Force, Seed, console, out_console
from cmcvae.datasets import simulate as simulate_dataset


def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write train.h5mu, perturb.h5mu, priors/, protein_map.csv, truth/.")],
    cells: Annotated[int, typer.Option("--cells", help="Number of training cells.")] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help="Number of genes.")] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Number of panel proteins (each encoded by one gene).")] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Number of training donors.")] = 8,
    regime: Annotated[str, typer.Option("--regime", help="Matched-pair direction: forward | reversed | mixed | confounded.")] = "forward",
    perturbations: Annotated[int, typer.Option("--perturbations", help="Number of knocked-down genes in the screen.")] = 30,
    seed: Seed = 0,
    force: Force = False,
) -> None:
    """Simulate CITE-seq data with a known causal structure and a perturbation screen."""
    with console.status("Simulating…"):
        sim = simulate_dataset(n_cells=cells, n_genes=genes, n_proteins=proteins, n_donors=donors,
                               regime=regime, n_perturbations=perturbations, seed=seed)
        path = sim.write(out, force=force)
    out_console.print(f"Wrote simulation ({cells:,} cells × {genes} genes + {proteins} proteins, "
                      f"regime {regime}) to [bold]{path}[/]")
