"""Format sniffing: what a file or folder holds, judged by its content and not only its name.

A file named ``.h5ad``/``.h5mu``/``.h5`` must carry the HDF5 signature (a text file, an HTML
error page or a Git LFS pointer saved under that name is reported as what it is), and an HDF5
file is classified as MuData, AnnData or 10x by its top-level groups.
"""

from __future__ import annotations

from pathlib import Path

import h5py

from cmcvae._errors import CMCVAEInputError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
HDF5_SUFFIXES = (".h5mu", ".h5ad", ".h5", ".hdf5", ".hdf")

SUPPORTED_FORMATS = (
    "a .h5mu with modalities 'rna' and 'prot' (or adt/protein/gex …); "
    "a .h5ad with protein counts in .obsm['protein_expression'] (scvi-tools) or with "
    ".var['feature_types'] holding 'Gene Expression' and 'Antibody Capture'; "
    "a Cell Ranger v3+ .h5 (filtered_feature_bc_matrix.h5); "
    "a 10x folder with matrix.mtx(.gz), features.tsv(.gz) and barcodes.tsv(.gz), or a folder "
    "containing filtered_feature_bc_matrix/; "
    "or RNA and protein in two files, passed as path and protein_path: .h5ad + .h5ad "
    "(scPerturb), .csv/.tsv(.gz) + .csv/.tsv(.gz) (dense count tables), or an RNA .mtx(.gz) "
    "with its genes and barcodes files + a protein .csv"
)

#: What to do with formats cmcvae does not read, by extension.
_FOREIGN_HINTS = {
    ".rds": "it is an R object: export it from R, e.g. with zellkonverter::writeH5AD or "
            "MuDataSeurat::WriteH5MU, or write the counts with Matrix::writeMM",
    ".rda": "it is an R data file: load it in R and export the counts (Matrix::writeMM for "
            "RNA, write.csv for the ADT matrix) or write an .h5ad with zellkonverter",
    ".rdata": "it is an R data file: export the counts from R (Matrix::writeMM, write.csv)",
    ".h5seurat": "it is a SeuratDisk file: convert it with SeuratDisk::Convert(..., dest='h5ad')",
    ".loom": "it is a loom file: read it with anndata.read_loom and save an .h5ad",
    ".zarr": "it is a zarr store: read it with anndata/mudata and save .h5ad/.h5mu",
}


def is_hdf5(path: str | Path) -> bool:
    """Whether ``path`` is an HDF5 file, judged by its 8-byte signature.

    The signature is at offset 0 or, after a user block, at 512, 1024, 2048, … (MuData writes a
    512-byte user block, so a ``.h5mu`` has it at 512).

    Parameters
    ----------
    path
        A file.

    Returns
    -------
    bool
        ``True`` when the HDF5 signature is found.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            offset = 0
            while offset + 8 <= size:
                fh.seek(offset)
                if fh.read(8) == HDF5_SIGNATURE:
                    return True
                offset = 512 if offset == 0 else offset * 2
    except OSError:
        return False
    return False


def _describe_non_hdf5(path: Path) -> str:
    """A guess at what a non-HDF5 file is, with the fix."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head:
        return "it is empty (a failed download or copy?); download or write it again"
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip-compressed; decompress it first (gunzip) and read the result"
    if head.startswith(b"PK\x03\x04"):
        return "it is a zip archive; unzip it and pass the file inside"
    if head.startswith(b"version https://git-lfs"):
        return ("it is a Git LFS pointer, not the data; fetch the real file with `git lfs pull` "
                "(or download it directly)")
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<?xml")):
        return ("it is a web page (HTML/XML), probably an error page saved by a failed download; "
                "download the file again")
    if b"\x00" not in head:
        first = head.splitlines()[0][:80].decode("utf-8", "replace") if head.splitlines() else ""
        return (f"it is a text file (it starts with {first!r}); if it is a count table, rename it "
                "to .csv/.tsv and read it with read_csv_pair, otherwise pass the real "
                "AnnData/MuData/10x file")
    return "it is not in a format cmcvae knows; pass a real AnnData/MuData/10x HDF5 file"


def _lower_name(path: Path) -> str:
    name = path.name.lower()
    return name[:-3] if name.endswith(".gz") else name


def sniff_format(path: str | Path) -> str:
    """Detect the format of ``path`` from its extension and its content.

    Parameters
    ----------
    path
        A file or folder.

    Returns
    -------
    str
        One of ``"h5mu"``, ``"h5ad"``, ``"10x_h5"``, ``"10x_h5_legacy"``, ``"10x_mtx"`` (a folder),
        ``"table"`` (CSV/TSV), ``"mtx"`` (a MatrixMarket file).

    Raises
    ------
    CMCVAEInputError
        The path is missing, an HDF5 extension on a non-HDF5 file, or an unknown format.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"Input file {path} does not exist. Check the path.")
    if path.is_dir():
        return "10x_mtx"
    suffix = Path(_lower_name(path)).suffix
    if suffix in HDF5_SUFFIXES or is_hdf5(path):
        if not is_hdf5(path):
            raise CMCVAEInputError(
                f"{path} is not an HDF5 file although its extension says {suffix}; "
                f"{_describe_non_hdf5(path)}."
            )
        return _sniff_hdf5(path)
    if suffix in TABLE_SUFFIXES:
        return "table"
    if suffix == ".mtx":
        return "mtx"
    hint = _FOREIGN_HINTS.get(suffix, "")
    raise CMCVAEInputError(
        f"Unsupported input format {suffix or 'without extension'!r} for {path}"
        + (f": {hint}" if hint else "")
        + f". Supported: {SUPPORTED_FORMATS}."
    )


def _sniff_hdf5(path: Path) -> str:
    """``h5mu``, ``10x_h5``, ``h5ad`` or ``10x_h5_legacy`` from the file's top-level groups."""
    try:
        with h5py.File(path, "r") as f:
            keys = set(f.keys())
            if "mod" in keys:
                return "h5mu"
            if "matrix" in keys and isinstance(f["matrix"], h5py.Group):
                return "10x_h5"
            if "X" in keys or "obs" in keys:
                return "h5ad"
            for key in keys:
                grp = f[key]
                if isinstance(grp, h5py.Group) and "barcodes" in grp and "data" in grp:
                    return "10x_h5_legacy"
    except OSError as err:
        raise CMCVAEInputError(
            f"{path} has an HDF5 signature but could not be opened ({err}); the file is probably "
            "truncated or corrupt: copy or download it again."
        ) from err
    raise CMCVAEInputError(
        f"{path} is an HDF5 file but neither AnnData, MuData nor 10x (top-level keys: "
        f"{sorted(keys)}). Supported: {SUPPORTED_FORMATS}."
    )


def hdf5_keys(path: str | Path, group: str) -> list[str]:
    """The keys of a group of an HDF5 file (none if it is absent), read without the matrices.

    Parameters
    ----------
    path
        An ``.h5mu`` / ``.h5ad`` file.
    group
        The group, e.g. ``"mod"`` (a MuData's modalities) or ``"obsm"``.

    Returns
    -------
    list of str
        The group's keys.
    """
    try:
        with h5py.File(path, "r") as f:
            return list(f[group].keys()) if group in f else []
    except OSError as err:
        raise CMCVAEInputError(f"Could not open {path} ({err}); the file is probably truncated "
                               "or corrupt.") from err
