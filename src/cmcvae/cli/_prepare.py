"""``cmcvae prepare``: harmonise CITE-seq datasets into one model-ready atlas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.cli._app import Force, console, out_console
from cmcvae.cli._options import in_range, out_path
from cmcvae.cli._tables import prepared_table
from cmcvae.tl import prepare_run


def prepare(
    inputs: Annotated[list[Path], typer.Argument(help="Datasets: .h5mu, .h5ad, 10x .h5 or matrix.mtx folders (one or more).")],
    out: Annotated[Path, typer.Option("--out", callback=out_path("file"), help="Output atlas .h5mu (report, protein map and filtered priors are written beside it).")],
    batch_key: Annotated[str, typer.Option("--batch-key", help="Donor column present in every dataset; 'none' = one batch per dataset.")] = "donor",
    n_top_genes: Annotated[int, typer.Option("--n-top-genes", callback=in_range(1), help="Highly variable genes (seurat_v3); panel-encoding genes are always kept.")] = 2000,
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV overriding the packaged antibody→gene map.")] = None,
    grn_prior: Annotated[Path | None, typer.Option("--grn-prior", help="TF→target prior to filter to the prepared genes.")] = None,
    ppi_prior: Annotated[Path | None, typer.Option("--ppi-prior", help="Protein interaction prior (gene symbols) to map onto the panel.")] = None,
    min_genes: Annotated[int, typer.Option("--min-genes", callback=in_range(0), help="QC: minimum detected genes per cell.")] = 200,
    max_mito: Annotated[float, typer.Option("--max-mito", callback=in_range(0, 1, what="a fraction"), help="QC: maximum mitochondrial fraction.")] = 0.2,
    min_protein_counts: Annotated[float, typer.Option("--min-protein-counts", callback=in_range(0, what="a number"), help="QC: minimum protein counts per cell.")] = 10,
    empty_droplets: Annotated[Path | None, typer.Option("--empty-droplets", help="Empty droplets' protein counts (enables DSB in layers['dsb']).")] = None,
    force: Force = False,
) -> None:
    """Harmonise CITE-seq datasets into one model-ready atlas (genes ∩, panels ∩, QC, HVG)."""
    with console.status("Preparing…"):
        rep = prepare_run(inputs, out, batch_key=None if batch_key.lower() == "none" else batch_key,
                          n_top_genes=n_top_genes, protein_map=protein_map, grn_prior=grn_prior,
                          ppi_prior=ppi_prior, min_genes=min_genes, max_mito=max_mito,
                          min_protein_counts=min_protein_counts, empty_droplets=empty_droplets, force=force)
    out_console.print(prepared_table(out, rep))
