"""``cmcvae prepare``: harmonise CITE-seq datasets into one model-ready atlas and its side files."""

from __future__ import annotations

from pathlib import Path

import mudata as md
import numpy as np

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import check_files, read_input, record_files, write_json
from cmcvae.pp import prepare, read_network, read_protein_map


def prepare_run(inputs: list[str | Path], out: str | Path, *, batch_key: str | None = "donor",
                n_top_genes: int = 2000, protein_map: str | Path | None = None,
                grn_prior: str | Path | None = None, ppi_prior: str | Path | None = None,
                min_genes: int = 200, max_mito: float = 0.2, min_protein_counts: float = 10,
                empty_droplets: str | Path | None = None, force: bool = False) -> dict:
    """Read datasets, harmonise, QC, select genes; write ``out`` and its side files.

    Side files next to ``out`` (``atlas.h5mu``): ``atlas.report.json``, ``atlas.protein_map.csv``
    and, when priors are given, ``atlas.grn.csv`` / ``atlas.ppi.csv`` filtered to the prepared
    features (ready for ``cmcvae fit --grn-prior … --protein-map …``).

    Parameters
    ----------
    inputs
        Datasets (any file or folder :func:`cmcvae.io.read_dataset` reads); each is named by
        its file name.
    out
        The atlas ``.h5mu`` to write.
    batch_key
        Donor column present in every dataset (``None``: one batch per dataset).
    n_top_genes
        Highly variable genes (genes encoding panel proteins are always kept).
    protein_map
        ``protein,gene`` CSV overriding the packaged antibody → gene map.
    grn_prior, ppi_prior
        Prior networks to filter to the prepared genes and map onto the panel.
    min_genes, max_mito, min_protein_counts
        Cell QC thresholds: detected genes, mitochondrial fraction, protein counts.
    empty_droplets
        Empty droplets' data: their protein counts enable DSB (``layers['dsb']``).
    force
        Overwrite ``out`` and its side files, if an earlier ``cmcvae prepare`` wrote them (a
        file of theirs that cmcvae did not record writing, or an input, is never overwritten).

    Returns
    -------
    dict
        The report written to ``atlas.report.json``, plus ``files`` (the paths written).
    """
    out = Path(out)
    given = {**{f"INPUTS ({i + 1})": path for i, path in enumerate(inputs)},
             "--protein-map": protein_map, "--grn-prior": grn_prior, "--ppi-prior": ppi_prior,
             "--empty-droplets": empty_droplets}
    side = _side_files(out, force, {k: v for k, v in given.items() if v is not None})
    datasets = _read_datasets(inputs)
    pmap = read_protein_map(protein_map) if protein_map is not None else None
    grn = read_network(grn_prior, "GRN prior") if grn_prior is not None else None
    ppi = read_network(ppi_prior, "PPI prior") if ppi_prior is not None else None
    empty = None
    if empty_droplets is not None:
        empty = read_input(empty_droplets).mod["prot"].X
        empty = np.asarray(empty.toarray() if hasattr(empty, "toarray") else empty)
    atlas, report = prepare(datasets, batch_key=batch_key, n_top_genes=n_top_genes, protein_map=pmap,
                            min_genes=min_genes, max_mito=max_mito, min_protein_counts=min_protein_counts,
                            empty_droplets=empty, grn_prior=grn, ppi_prior=ppi)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [out, side["report"], side["protein_map"],
               *(side[key] for key in ("grn_prior", "ppi_prior") if key in atlas.uns)]
    record_files(out.parent, [p.name for p in written], "prepare")  # listed before written
    atlas.uns["protein_map"].to_csv(side["protein_map"], index=False)
    for key in ("grn_prior", "ppi_prior"):
        if key in atlas.uns:
            atlas.uns[key].to_csv(side[key], index=False)
    atlas.write(out)
    write_json(side["report"], report)
    report["files"] = {"atlas": str(out), "report": str(side["report"]),
                       "protein_map": str(side["protein_map"])}
    return report


def _side_files(out: Path, force: bool, inputs: dict[str, str | Path]) -> dict[str, Path]:
    """The files written beside the atlas ``out``; refuse what would lose a file.

    An existing one needs ``force``, and is then replaced only if an earlier ``cmcvae prepare``
    recorded writing it (the folder's manifest); an input among them is always refused.
    """
    if out.suffix != ".h5mu":
        raise CMCVAEInputError(f"--out must be a .h5mu file, not {out.name!r}.")
    below = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
    if below is not None:
        raise CMCVAEInputError(f"--out {out} lies below {below}, which is a file, not a folder; "
                               "choose another --out.")
    stem = out.with_suffix("")
    side = {"report": Path(f"{stem}.report.json"), "protein_map": Path(f"{stem}.protein_map.csv"),
            "grn_prior": Path(f"{stem}.grn.csv"), "ppi_prior": Path(f"{stem}.ppi.csv")}
    check_files(out.parent, [p.name for p in (out, *side.values())], command="prepare",
                force=force, inputs=inputs, what="folder")
    return side


def _read_datasets(inputs: list[str | Path]) -> dict[str, md.MuData]:
    """Every input, named by its file name (``_`` appended to repeated names)."""
    datasets: dict[str, md.MuData] = {}
    for path in inputs:
        name = Path(path).name.split(".")[0] or "dataset"
        while name in datasets:
            name += "_"
        datasets[name] = read_input(path)
    return datasets
