"""Readers for the CITE-seq formats users have, all returning one :class:`mudata.MuData`.

Every reader returns a MuData with exactly two modalities, ``rna`` and ``prot`` (docs/design.md §2):

- both modalities hold the same cells in the same order (the RNA file's order);
- raw counts are in ``.X`` (for ``.h5ad``/``.h5mu`` input that already keeps the raw counts in
  ``layers["counts"]``, ``.X`` and the layers are passed through unchanged — the contract allows
  either);
- RNA is a CSR sparse matrix (dense RNA input is converted to CSR, sparse input is never
  densified); proteins are a dense array. ``float64`` values are stored as ``float32`` (exact for
  counts); integer matrices keep their integer type;
- variable names are unique within each modality (duplicates are an error unless
  ``make_unique=True``); a protein may share its name with a gene (e.g. ``CD4``), since features
  are addressed per modality;
- the RNA file's ``obs`` columns (donor, perturbation, …) are on ``mdata.obs`` and on
  ``mdata["rna"].obs``;
- ``mdata.uns["cmcvae_read"]`` records the source, the format that was detected and a note for
  everything the reader changed (renamed modalities, dropped cells or feature types, names made
  unique, a stripped genome prefix). The notes are also logged on the ``cmcvae`` logger, and
  dropped cells raise a :class:`UserWarning`.

Public functions
----------------
:func:`read_dataset` (dispatcher that sniffs the format), :func:`read_h5mu`, :func:`read_h5ad`,
:func:`from_anndata`, :func:`read_10x_h5`, :func:`read_10x_mtx`, :func:`read_pair`,
:func:`read_csv_pair`, :func:`read_mtx_pair`, :func:`sniff_format`, :func:`is_hdf5`.
Every bad input raises :class:`cmcvae.CMCVAEInputError` with the problem and the fix.
"""

from __future__ import annotations

import csv
import gzip
import inspect
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError

__all__ = [
    "SUPPORTED_FORMATS",
    "from_anndata",
    "is_hdf5",
    "read_10x_h5",
    "read_10x_mtx",
    "read_csv_pair",
    "read_dataset",
    "read_h5ad",
    "read_h5mu",
    "read_mtx_pair",
    "read_pair",
    "sniff_format",
]

log = logging.getLogger("cmcvae")

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
READ_KEY = "cmcvae_read"
GENE_EXPRESSION = "Gene Expression"
ANTIBODY_CAPTURE = "Antibody Capture"

#: Modality names accepted in a ``.h5mu`` and renamed to ``rna`` / ``prot`` (case-insensitive).
RNA_ALIASES = ("rna", "gex", "gene_expression", "gene expression", "mrna", "expression",
               "transcriptome", "rna_counts")
PROT_ALIASES = ("prot", "adt", "protein", "proteins", "antibody_capture", "antibody capture",
                "cite", "adt_counts", "protein_expression")
#: ``.obsm`` keys searched for protein counts in an ``.h5ad`` (the first is scvi-tools' name).
PROTEIN_OBSM_KEYS = ("protein_expression", "protein_counts", "adt", "ADT", "prot", "protein",
                     "adt_counts", "ADT_counts")
_GENOME_PREFIX = re.compile(r"^(hg19|hg38|GRCh37|GRCh38|mm9|mm10|mm39|GRCm38|GRCm39)_+")
_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
_HDF5_SUFFIXES = (".h5mu", ".h5ad", ".h5", ".hdf5", ".hdf")
_MTX_NAMES = ("matrix.mtx.gz", "matrix.mtx")
_10X_SUBFOLDERS = ("filtered_feature_bc_matrix", "sample_filtered_feature_bc_matrix",
                   "outs/filtered_feature_bc_matrix")

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

Orientation = Literal["auto", "features_x_cells", "cells_x_features"]
_ORIENTATIONS = ("auto", "features_x_cells", "cells_x_features")


# ---------------------------------------------------------------------------------------------
# reporting


class _Notes(list):
    """Notes on what a reader changed; each is logged, lossy ones also warn."""

    def add(self, message: str, warn: bool = False) -> None:
        self.append(message)
        log.info(message)
        if warn:
            warnings.warn(message, UserWarning, stacklevel=4)


@contextmanager
def _quiet_names() -> Iterator[None]:
    """Silence anndata/mudata's 'names are not unique' warnings: we check names ourselves."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*names are not unique.*")
        warnings.filterwarnings("ignore", message=".*var_names are not unique.*")
        yield


# ---------------------------------------------------------------------------------------------
# sniffing


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
    name = _lower_name(path)
    suffix = Path(name).suffix
    if suffix in _HDF5_SUFFIXES or is_hdf5(path):
        if not is_hdf5(path):
            raise CMCVAEInputError(
                f"{path} is not an HDF5 file although its extension says {suffix}; "
                f"{_describe_non_hdf5(path)}."
            )
        return _sniff_hdf5(path)
    if suffix in _TABLE_SUFFIXES:
        return "table"
    if suffix == ".mtx":
        return "mtx"
    hints = {
        ".rds": "it is an R object: export it from R, e.g. with zellkonverter::writeH5AD or "
                "MuDataSeurat::WriteH5MU, or write the counts with Matrix::writeMM",
        ".rda": "it is an R data file: load it in R and export the counts (Matrix::writeMM for "
                "RNA, write.csv for the ADT matrix) or write an .h5ad with zellkonverter",
        ".rdata": "it is an R data file: export the counts from R (Matrix::writeMM, write.csv)",
        ".h5seurat": "it is a SeuratDisk file: convert it with SeuratDisk::Convert(..., dest='h5ad')",
        ".loom": "it is a loom file: read it with anndata.read_loom and save an .h5ad",
        ".zarr": "it is a zarr store: read it with anndata/mudata and save .h5ad/.h5mu",
    }
    hint = hints.get(suffix, "")
    raise CMCVAEInputError(
        f"Unsupported input format {suffix or 'without extension'!r} for {path}"
        + (f": {hint}" if hint else "")
        + f". Supported: {SUPPORTED_FORMATS}."
    )


def _sniff_hdf5(path: Path) -> str:
    import h5py

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


# ---------------------------------------------------------------------------------------------
# common checks and assembly


def _rna_matrix(x: Any, what: str) -> Any:
    """CSR (sparse stays sparse; dense becomes CSR), float64 → float32."""
    if x is None:
        return x
    if sp.issparse(x):
        if x.format != "csr":
            x = x.tocsr()
    else:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise CMCVAEInputError(
                f"The {what} matrix has non-numeric values (dtype {x.dtype}); store counts as numbers."
            )
        x = sp.csr_matrix(x)
    if x.dtype == np.float64 or x.dtype.kind == "b":
        x = x.astype(np.float32)
    return x


def _prot_matrix(x: Any, what: str) -> np.ndarray:
    """Dense numeric array (proteins are few), float64 → float32."""
    if isinstance(x, pd.DataFrame):
        x = x.to_numpy()
    if sp.issparse(x):
        x = x.toarray()
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        try:
            x = x.astype(np.float32)
        except (TypeError, ValueError) as err:
            raise CMCVAEInputError(
                f"The {what} matrix has non-numeric values ({err}); store counts as numbers."
            ) from err
    if x.dtype == np.float64 or x.dtype.kind == "b":
        x = x.astype(np.float32)
    return x


def _check_values(x: Any, what: str, source: str) -> None:
    """Finite and non-negative counts (integrality is checked by the model's setup)."""
    if x is None:
        return
    values = x.data if sp.issparse(x) else np.asarray(x).ravel()
    if values.size == 0 or values.dtype.kind in "biu":
        if values.size and values.dtype.kind == "i" and values.min() < 0:
            raise CMCVAEInputError(_negative_message(what, source, values.min()))
        return
    finite = np.isfinite(values)
    if not finite.all():
        raise CMCVAEInputError(
            f"The {what} counts from {source} contain {int((~finite).sum())} NaN or infinite "
            "values: cmcvae expects raw counts, which have none (an empty field in a CSV reads as "
            "NaN). Fill or remove them before reading."
        )
    if values.min() < 0:
        raise CMCVAEInputError(_negative_message(what, source, values.min()))


def _negative_message(what: str, source: str, minimum: float) -> str:
    return (
        f"The {what} counts from {source} contain negative values (minimum {minimum:.4g}): cmcvae "
        "expects raw, non-negative counts, not normalised, scaled or CLR-transformed values. Read "
        "the raw count file instead (e.g. *_umi.csv rather than *_clr-transformed.csv), or keep "
        "the raw counts in .X or layers['counts']."
    )


def _examples(values: Any, n: int = 5) -> str:
    return ", ".join(repr(str(v)) for v in list(values)[:n])


def _strip_genome_prefix(rna: ad.AnnData, notes: _Notes) -> None:
    names = rna.var_names.astype(str)
    match = _GENOME_PREFIX.match(names[0]) if len(names) else None
    if match is None:
        return
    prefix = match.group(0)
    if not all(name.startswith(prefix) for name in names):
        return  # a mixed-species reference (hg19_… and mm10_…): keep the prefixes
    col = "original_id" if "original_id" not in rna.var.columns else "original_name"
    rna.var[col] = names.to_numpy()
    rna.var_names = [name[len(prefix):] for name in names]
    notes.add(f"Stripped the genome prefix {prefix!r} from all {len(names)} gene names "
              f"(originals in rna.var[{col!r}]); pass strip_genome_prefix=False to keep it.")


def _unique_vars(adata: ad.AnnData, what: str, source: str, make_unique: bool,
                 notes: _Notes) -> None:
    names = adata.var_names
    if names.is_unique:
        return
    dup = names[names.duplicated()].unique()
    word = "gene" if what == "RNA" else "protein"
    if not make_unique:
        raise CMCVAEInputError(
            f"{len(dup)} {word} names occur more than once in {source} (e.g. {_examples(dup)}). "
            f"Each {word} needs a unique name: pass make_unique=True to append '-1', '-2', … to the "
            "repeats (anndata's var_names_make_unique()), call adata.var_names_make_unique() "
            "yourself, or sum/drop the duplicated features before reading."
        )
    adata.var_names_make_unique()
    notes.add(f"Made {len(dup)} duplicated {word} names unique by appending '-1', '-2', … "
              f"(e.g. {_examples(dup, 3)}).")


def _unique_cells(adata: ad.AnnData, what: str, source: str, make_unique: bool,
                  notes: _Notes, paired_by_name: bool) -> None:
    names = adata.obs_names
    if names.is_unique:
        return
    dup = names[names.duplicated()].unique()
    if make_unique and not paired_by_name:
        adata.obs_names_make_unique()
        notes.add(f"Made {len(dup)} duplicated cell barcodes unique (e.g. {_examples(dup, 3)}).")
        return
    fix = ("rename them before reading (e.g. prefix each sample's barcodes with the sample name): "
           "RNA and protein are matched by barcode, so duplicates are ambiguous"
           if paired_by_name else
           "pass make_unique=True, or prefix each sample's barcodes with the sample name "
           "(anndata.concat(..., index_unique='-')) before saving")
    raise CMCVAEInputError(
        f"{len(dup)} cell barcodes occur more than once in the {what} data of {source} "
        f"(e.g. {_examples(dup)}); {fix}."
    )


def _assemble(rna: ad.AnnData, prot: ad.AnnData, *, source: str, fmt: str, notes: _Notes,
              make_unique: bool, strip_genome_prefix: bool, obs: pd.DataFrame | None = None,
              uns: dict | None = None, sources: tuple[str, str] | None = None) -> md.MuData:
    """Checks common to every format, then one MuData with ``rna`` and ``prot``."""
    for adata, what in ((rna, "RNA"), (prot, "protein")):
        if adata.n_obs == 0 or adata.n_vars == 0:
            raise CMCVAEInputError(
                f"The {what} data from {source} is empty ({adata.n_obs} cells × {adata.n_vars} "
                "features): check that the file holds counts and that the cells are not filtered out."
            )
    if not np.array_equal(rna.obs_names, prot.obs_names):  # pragma: no cover - readers align
        raise CMCVAEInputError(f"RNA and protein cells of {source} are not aligned.")
    rna_src, prot_src = sources if sources is not None else (source, source)
    if strip_genome_prefix:
        _strip_genome_prefix(rna, notes)
    _unique_vars(rna, "RNA", rna_src, make_unique, notes)
    _unique_vars(prot, "protein", prot_src, make_unique, notes)
    rna.X = _rna_matrix(rna.X, "RNA")
    for key in list(rna.layers):
        rna.layers[key] = _rna_matrix(rna.layers[key], f"RNA layers[{key!r}]")
    prot.X = _prot_matrix(prot.X, "protein")
    for adata, what, src in ((rna, "RNA", rna_src), (prot, "protein", prot_src)):
        counts = adata.layers["counts"] if "counts" in adata.layers else adata.X
        _check_values(counts, what, src)
    shared = rna.var_names.intersection(prot.var_names)
    if len(shared):
        notes.add(f"{len(shared)} protein names are also gene names (e.g. {_examples(shared, 3)}); "
                  "they stay distinct per modality (mdata['rna'] / mdata['prot']).")
    with _quiet_names():
        mdata = md.MuData({RNA_MOD: rna, PROT_MOD: prot})
    mdata.obs = (rna.obs if obs is None else obs).copy()
    if uns:
        mdata.uns.update(uns)
    mdata.uns[READ_KEY] = {"source": source, "format": fmt, "notes": list(notes)}
    log.info("Read %s (%s): %d cells, %d genes, %d proteins.", source, fmt, rna.n_obs,
             rna.n_vars, prot.n_vars)
    return mdata


def _pair_cells(rna: ad.AnnData, prot: ad.AnnData, rna_src: str, prot_src: str,
                notes: _Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Keep the cells in both (RNA order); error when none are shared."""
    _unique_cells(rna, "RNA", rna_src, False, notes, paired_by_name=True)
    _unique_cells(prot, "protein", prot_src, False, notes, paired_by_name=True)
    if np.array_equal(rna.obs_names, prot.obs_names):
        return rna, prot
    keep = rna.obs_names.isin(prot.obs_names)
    n_shared = int(keep.sum())
    if n_shared == 0:
        raise CMCVAEInputError(
            f"The RNA ({rna_src}) and protein ({prot_src}) data share no cell barcode: "
            f"{rna.n_obs} RNA cells (e.g. {_examples(rna.obs_names, 3)}) and {prot.n_obs} protein "
            f"cells (e.g. {_examples(prot.obs_names, 3)}). Make the barcodes match (a '-1' suffix "
            "or a sample prefix on one side only is the usual cause) and check that both files "
            "come from the same experiment."
        )
    dropped_rna, dropped_prot = rna.n_obs - n_shared, prot.n_obs - n_shared
    if dropped_rna or dropped_prot:
        message = (f"Kept the {n_shared} cells present in both files; dropped {dropped_rna} "
                   f"RNA-only and {dropped_prot} protein-only cells.")
        if n_shared < 0.5 * min(rna.n_obs, prot.n_obs):
            message += (f" Only {n_shared / min(rna.n_obs, prot.n_obs):.1%} of the cells match: "
                        "check that both files come from the same experiment (10x barcodes repeat "
                        "across runs, so files from different runs share a few by chance).")
        notes.add(message, warn=True)
    cells = rna.obs_names[keep]
    rna = rna if not dropped_rna else rna[keep].copy()
    prot = prot[prot.obs_names.get_indexer(cells)].copy()
    return rna, prot


def _reader_kw(func: Callable[..., Any], kw: dict[str, Any], what: str) -> dict[str, Any]:
    params = inspect.signature(func).parameters
    unknown = sorted(set(kw) - set(params))
    if unknown:
        accepted = [name for name, p in params.items() if p.kind == p.KEYWORD_ONLY or
                    (p.default is not inspect.Parameter.empty)]
        raise CMCVAEInputError(
            f"Option(s) {unknown} do not apply to {what} input (read with {func.__name__}); it "
            f"accepts {accepted}. Remove the option or check the input file."
        )
    return kw


# ---------------------------------------------------------------------------------------------
# .h5mu


def _pick_mod(mods: list[str], explicit: str | None, canonical: str, aliases: tuple[str, ...],
              what: str, path: Path, option: str) -> str:
    if explicit is not None:
        if explicit not in mods:
            raise CMCVAEInputError(
                f"{option}={explicit!r} is not a modality of {path}; it has {mods}. Pass one of those."
            )
        return explicit
    if canonical in mods:
        return canonical
    found = [m for m in mods if m.lower().replace("-", "_") in aliases or m.lower() in aliases]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise CMCVAEInputError(
            f"{path} has several candidate {what} modalities {found}; pass {option}='NAME' to "
            "choose one."
        )
    raise CMCVAEInputError(
        f"The {what} modality {canonical!r} is missing from {path}: it has modalities {mods}. "
        f"CMC-VAE needs RNA and protein from the same cells: name the modality {canonical!r} "
        f"(accepted alternatives: {', '.join(aliases[1:5])}, …) or pass {option}='NAME'."
    )


def read_h5mu(path: str | Path, *, rna_mod: str | None = None, prot_mod: str | None = None,
              make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read a MuData ``.h5mu`` and return its RNA and protein modalities as ``rna`` / ``prot``.

    Modalities named like ``gex``/``RNA`` or ``adt``/``protein``/``ADT`` are renamed (and the
    renaming is reported); other modalities (e.g. ``hto``) are dropped with a note. When the two
    modalities hold different cells, the shared cells are kept in RNA order (with a warning).

    Parameters
    ----------
    path
        The ``.h5mu`` file.
    rna_mod, prot_mod
        Names of the RNA and protein modalities, when they are not ``rna``/``prot`` or an alias.
    make_unique
        Make duplicated feature names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names (``hg19_``, ``GRCh38_``, …).

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``; ``obs`` is the file's global ``obs`` plus the RNA
        modality's columns.

    Raises
    ------
    CMCVAEInputError
        Not a MuData file, a missing modality, no shared cells, duplicated names or negative counts.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt != "h5mu":
        raise CMCVAEInputError(
            f"{path} is not a MuData file (its content is {fmt}); read it with read_dataset, which "
            "detects the format."
        )
    notes = _Notes()
    try:
        with _quiet_names():
            mdata = md.read_h5mu(path)
    except Exception as err:  # h5py/mudata raise many types for a broken file
        raise CMCVAEInputError(f"Could not read {path} as MuData (.h5mu): {err}.") from err
    mods = list(mdata.mod)
    rname = _pick_mod(mods, rna_mod, RNA_MOD, RNA_ALIASES, "RNA", path, "rna_mod")
    pname = _pick_mod(mods, prot_mod, PROT_MOD, PROT_ALIASES, "protein", path, "prot_mod")
    if rname == pname:
        raise CMCVAEInputError(
            f"The RNA and protein modality of {path} are the same ({rname!r}); pass rna_mod and "
            "prot_mod naming two different modalities."
        )
    for old, new in ((rname, RNA_MOD), (pname, PROT_MOD)):
        if old != new:
            notes.add(f"Renamed modality {old!r} to {new!r}.")
    others = [m for m in mods if m not in (rname, pname)]
    if others:
        notes.add(f"Dropped the other modalities {others} (cmcvae uses RNA and protein only).")
    rna, prot = mdata.mod[rname], mdata.mod[pname]
    rna, prot = _pair_cells(rna, prot, f"{path}['{rname}']", f"{path}['{pname}']", notes)
    obs = mdata.obs.reindex(rna.obs_names)
    obs = obs.loc[:, [c for c in obs.columns if not c.startswith(tuple(f"{m}:" for m in mods))]]
    for col in rna.obs.columns:
        if col not in obs.columns:
            obs[col] = rna.obs[col].to_numpy()
    uns = {k: v for k, v in mdata.uns.items() if k != READ_KEY}
    return _assemble(rna, prot, source=str(path), fmt="h5mu", notes=notes, make_unique=make_unique,
                     strip_genome_prefix=strip_genome_prefix, obs=obs, uns=uns)


# ---------------------------------------------------------------------------------------------
# .h5ad (one file)


def _feature_type_col(var: pd.DataFrame) -> str | None:
    for col in ("feature_types", "feature_type"):
        if col in var.columns:
            return col
    return None


def _split_feature_types(adata: ad.AnnData, source: str, protein_feature_type: str,
                         notes: _Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Split a 10x-style AnnData into Gene Expression and protein (Antibody Capture) features."""
    col = _feature_type_col(adata.var)
    if col is None:
        raise CMCVAEInputError(
            f"{source} has no feature types (it is a gene-expression-only matrix, e.g. Cell Ranger "
            "v2): it holds no Antibody Capture (protein) features. Pass the protein counts as a "
            "second file (protein_path=… / read_pair) or use the Cell Ranger v3+ output of a "
            "CITE-seq run."
        )
    types = adata.var[col].astype(str)
    counts = types.value_counts()
    is_gex = (types == GENE_EXPRESSION).to_numpy()
    is_prot = (types == protein_feature_type).to_numpy()
    if not is_prot.any():
        hint = ""
        if protein_feature_type == ANTIBODY_CAPTURE and "Custom" in counts.index:
            hint = (" It has 'Custom' features: if those are the antibodies, pass "
                    "protein_feature_type='Custom'.")
        raise CMCVAEInputError(
            f"{source} has no {protein_feature_type!r} (protein) features; its feature types are "
            f"{dict(counts)}. cmcvae needs RNA and protein from the same cells: read the CITE-seq "
            "library's output (Cell Ranger with a feature reference) or pass the protein counts "
            f"as a second file (protein_path=… / read_pair).{hint}"
        )
    if not is_gex.any():
        raise CMCVAEInputError(
            f"{source} has no {GENE_EXPRESSION!r} features (feature types: {dict(counts)}); pass "
            "the RNA counts as the first file and the proteins as protein_path."
        )
    other = counts.drop([GENE_EXPRESSION, protein_feature_type], errors="ignore")
    if len(other):
        notes.add(f"Dropped features of other types: {dict(other)}.")
    notes.add(f"Split {adata.n_vars} features by var[{col!r}]: {int(is_gex.sum())} "
              f"{GENE_EXPRESSION!r} → rna, {int(is_prot.sum())} {protein_feature_type!r} → prot.")
    with _quiet_names():
        rna = adata[:, is_gex].copy()
        prot_view = adata[:, is_prot]
        prot = ad.AnnData(X=prot_view.X, obs=pd.DataFrame(index=adata.obs_names.copy()),
                          var=prot_view.var.copy())
    return rna, prot


def _protein_from_obsm(adata: ad.AnnData, key: str, source: str,
                       notes: _Notes) -> ad.AnnData:
    values = adata.obsm[key]
    if isinstance(values, pd.DataFrame):
        if not values.index.equals(adata.obs_names):
            values = values.reindex(adata.obs_names)
        names = [str(c) for c in values.columns]
    else:
        names = None
        for ukey in (f"{key}_names", "protein_names", "protein_expression_names"):
            if ukey in adata.uns and len(adata.uns[ukey]) == values.shape[1]:
                names = [str(n) for n in adata.uns[ukey]]
                notes.add(f"Protein names taken from uns[{ukey!r}] (obsm[{key!r}] is an array).")
                break
        if names is None:
            names = [f"protein_{i}" for i in range(values.shape[1])]
            notes.add(f"obsm[{key!r}] is an array without protein names; named them protein_0…"
                      f"protein_{values.shape[1] - 1}. Store a DataFrame to keep the antibody "
                      "names (needed to match proteins to genes).", warn=True)
    prot = ad.AnnData(X=_prot_matrix(values, f"protein (obsm[{key!r}])"),
                      obs=pd.DataFrame(index=adata.obs_names.copy()))
    prot.var_names = names
    return prot


def _frames_copied(mapping: Any) -> dict[str, Any]:
    """A dict of an AnnData mapping; DataFrames copied (renaming cells re-indexes them in place)."""
    return {k: v.copy() if isinstance(v, pd.DataFrame) else v for k, v in mapping.items()}


def from_anndata(adata: ad.AnnData, *, protein_key: str | None = None,
                 protein_feature_type: str = ANTIBODY_CAPTURE, make_unique: bool = False,
                 strip_genome_prefix: bool = True, source: str = "the AnnData") -> md.MuData:
    """Turn one CITE-seq AnnData (RNA + proteins) into a MuData with ``rna`` and ``prot``.

    Proteins are looked up in this order: ``.obsm[protein_key]``; ``.obsm["protein_expression"]``
    (scvi-tools' convention: a DataFrame, or an array with names in ``.uns["protein_names"]``)
    or another usual key (``protein_counts``, ``adt``, …, reported); features whose
    ``.var["feature_types"]`` is ``protein_feature_type`` (the 10x layout, split from the
    ``Gene Expression`` features).

    Parameters
    ----------
    adata
        Cells × genes, with proteins in ``.obsm`` or among the features.
    protein_key
        ``.obsm`` key of the protein counts.
    protein_feature_type
        Feature type of the antibodies in ``.var["feature_types"]``.
    make_unique
        Make duplicated names (features; cell barcodes) unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names (``hg19_``, ``GRCh38_``, …).
    source
        Name of the data in messages.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``; ``obs`` holds the AnnData's ``obs`` columns.

    Raises
    ------
    CMCVAEInputError
        No proteins found, duplicated names or negative counts.
    """
    notes = _Notes()
    with _quiet_names():  # a shallow copy: the caller's AnnData is left untouched
        adata = ad.AnnData(X=adata.X, obs=adata.obs.copy(), var=adata.var.copy(),
                           uns=dict(adata.uns), obsm=_frames_copied(adata.obsm),
                           layers=dict(adata.layers), varm=_frames_copied(adata.varm))
    if protein_key is not None and protein_key not in adata.obsm:
        raise CMCVAEInputError(
            f"protein_key={protein_key!r} is not in .obsm of {source} (keys: {list(adata.obsm)}); "
            "pass the key that holds the protein counts."
        )
    key = protein_key
    if key is None:
        key = next((k for k in PROTEIN_OBSM_KEYS if k in adata.obsm), None)
        if key is not None and key != "protein_expression":
            notes.add(f"Proteins taken from .obsm[{key!r}] (scvi-tools' name is "
                      "'protein_expression').")
    ftype_col = _feature_type_col(adata.var)
    if key is not None:
        _unique_cells(adata, "RNA", source, make_unique, notes, paired_by_name=False)
        prot = _protein_from_obsm(adata, key, source, notes)
        obsm = {k: v for k, v in adata.obsm.items() if k != key}
        with _quiet_names():
            rna = ad.AnnData(X=adata.X, obs=adata.obs, var=adata.var, uns=dict(adata.uns),
                             obsm=obsm, layers=dict(adata.layers), varm=dict(adata.varm))
        if ftype_col is not None and (adata.var[ftype_col].astype(str) == protein_feature_type).any():
            notes.add(f"Also found {protein_feature_type!r} features in var[{ftype_col!r}]; used "
                      f"obsm[{key!r}] for proteins and kept all features in rna.", warn=True)
        fmt = f"h5ad (obsm[{key!r}])"
    elif ftype_col is not None:
        _unique_cells(adata, "RNA", source, make_unique, notes, paired_by_name=False)
        rna, prot = _split_feature_types(adata, source, protein_feature_type, notes)
        fmt = f"h5ad (var[{ftype_col!r}])"
    else:
        raise CMCVAEInputError(
            f"{source} is an AnnData file without proteins: cmcvae needs both RNA and protein. "
            "Store protein counts as a DataFrame in .obsm['protein_expression'] (scvi-tools' "
            "convention), keep them as features with .var['feature_types'] == 'Antibody Capture', "
            "pass the protein file separately (protein_path=… / read_pair), or save a MuData "
            f"(.h5mu) with modalities 'rna' and 'prot'. .obsm keys found: {list(adata.obsm)}."
        )
    return _assemble(rna, prot, source=source, fmt=fmt, notes=notes, make_unique=make_unique,
                     strip_genome_prefix=strip_genome_prefix)


def _read_anndata(path: Path) -> ad.AnnData:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            adata = ad.read_h5ad(path)
    except Exception as err:  # h5py/anndata raise many types for a broken file
        raise CMCVAEInputError(
            f"Could not read {path} as AnnData (.h5ad): {err}. Check that the file is complete "
            "and was written by anndata (or convert it with anndata/scanpy)."
        ) from err
    old_format = False
    for w in caught:
        if type(w.message).__name__ == "OldFormatWarning":
            old_format = True
        elif "names are not unique" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if old_format:
        log.info("%s was written by an old anndata version (no encoding metadata); re-save it "
                 "with the current anndata to avoid this.", path)
    return adata


def read_h5ad(path: str | Path, *, protein_key: str | None = None,
              protein_feature_type: str = ANTIBODY_CAPTURE, make_unique: bool = False,
              strip_genome_prefix: bool = True) -> md.MuData:
    """Read a CITE-seq ``.h5ad`` holding RNA and proteins (see :func:`from_anndata`).

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    protein_key, protein_feature_type, make_unique, strip_genome_prefix
        As in :func:`from_anndata`.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``.

    Raises
    ------
    CMCVAEInputError
        Not an AnnData file, no proteins, duplicated names or negative counts.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt != "h5ad":
        raise CMCVAEInputError(
            f"{path} is not an AnnData file (its content is {fmt}); read it with read_dataset, "
            "which detects the format."
        )
    return from_anndata(_read_anndata(path), protein_key=protein_key,
                        protein_feature_type=protein_feature_type, make_unique=make_unique,
                        strip_genome_prefix=strip_genome_prefix, source=str(path))


# ---------------------------------------------------------------------------------------------
# 10x


def read_10x_h5(path: str | Path, *, protein_feature_type: str = ANTIBODY_CAPTURE,
                make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read a Cell Ranger v3+ feature-barcode ``.h5`` and split RNA from antibody features.

    Uses ``scanpy.read_10x_h5(path, gex_only=False)``; ``Gene Expression`` features become
    ``rna`` and ``Antibody Capture`` features ``prot``. Gene names are the 10x symbols, which
    repeat for a few genes in every 10x reference: pass ``make_unique=True``.

    Parameters
    ----------
    path
        The ``.h5`` (``filtered_feature_bc_matrix.h5``).
    protein_feature_type
        Feature type of the antibodies.
    make_unique
        Make duplicated names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``.

    Raises
    ------
    CMCVAEInputError
        Not a 10x HDF5, no Antibody Capture features, duplicated names or negative counts.
    """
    import scanpy as sc

    path = Path(path)
    fmt = sniff_format(path)
    notes = _Notes()
    if fmt == "10x_h5_legacy":
        raise CMCVAEInputError(
            f"{path} is a Cell Ranger v2 (legacy) .h5, which holds gene expression only and no "
            "Antibody Capture (protein) features. Use the Cell Ranger v3+ output of the CITE-seq "
            "run, or pass the protein counts as a second file (protein_path=…)."
        )
    if fmt != "10x_h5":
        raise CMCVAEInputError(
            f"{path} is not a 10x feature-barcode .h5 (its content is {fmt}); read it with "
            "read_dataset, which detects the format."
        )
    try:
        with _quiet_names():
            adata = sc.read_10x_h5(path, gex_only=False)
    except Exception as err:  # scanpy/h5py raise many types for a broken file
        raise CMCVAEInputError(
            f"Could not read {path} as a 10x .h5 ({type(err).__name__}: {err}). It needs the "
            "Cell Ranger v3 layout matrix/{data,indices,indptr,shape,barcodes,features/{id,name,"
            "feature_type}}; check that the file is complete."
        ) from err
    _unique_cells(adata, "10x", str(path), make_unique, notes, paired_by_name=False)
    rna, prot = _split_feature_types(adata, str(path), protein_feature_type, notes)
    return _assemble(rna, prot, source=str(path), fmt="10x_h5", notes=notes,
                     make_unique=make_unique, strip_genome_prefix=strip_genome_prefix)


def _find_10x_folder(folder: Path) -> Path:
    """The folder holding matrix.mtx(.gz): ``folder`` or a Cell Ranger subfolder of it."""
    if any((folder / name).is_file() for name in _MTX_NAMES):
        return folder
    for sub in _10X_SUBFOLDERS:
        if any((folder / sub / name).is_file() for name in _MTX_NAMES):
            return folder / sub
    subs = [p for p in sorted(folder.glob("*filtered_feature_bc_matrix*"))
            if p.is_dir() and any((p / name).is_file() for name in _MTX_NAMES)]
    if len(subs) == 1:
        return subs[0]
    if len(subs) > 1:
        raise CMCVAEInputError(
            f"{folder} holds several 10x matrices ({[p.name for p in subs]}); pass one of them."
        )
    raw = [sub for sub in ("raw_feature_bc_matrix", "outs/raw_feature_bc_matrix")
           if (folder / sub).is_dir()]
    if raw:
        raise CMCVAEInputError(
            f"{folder} holds only {raw[0]}/ (all droplets, including empty ones), no "
            "filtered_feature_bc_matrix/. Pass the filtered matrix, or pass the raw folder itself "
            "if you have filtered the cells already."
        )
    h5 = sorted(folder.glob("*filtered_feature_bc_matrix.h5"))
    if h5:
        raise CMCVAEInputError(
            f"{folder} has no matrix.mtx(.gz) but has {h5[0].name}; pass that file instead."
        )
    listing = sorted(p.name for p in folder.iterdir())[:10]
    raise CMCVAEInputError(
        f"{folder} is a folder without matrix.mtx(.gz) or filtered_feature_bc_matrix/ (it holds "
        f"{listing}). Pass a 10x folder (matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz) or a "
        f"file. Supported: {SUPPORTED_FORMATS}."
    )


def _first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _read_10x_mtx_any(folder: Path) -> ad.AnnData:
    """scanpy for the layouts it reads (v3 gzipped, legacy); our own reader for the others."""
    import scanpy as sc

    standard_v3 = all((folder / n).is_file()
                      for n in ("matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"))
    legacy = (folder / "genes.tsv").is_file() and (folder / "matrix.mtx").is_file()
    if standard_v3 or legacy:
        with _quiet_names():
            return sc.read_10x_mtx(folder, gex_only=False, make_unique=False)
    import scipy.io

    matrix = _first_file(folder, _MTX_NAMES)
    features = _first_file(folder, ("features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv"))
    barcodes = _first_file(folder, ("barcodes.tsv.gz", "barcodes.tsv"))
    if matrix is None or features is None or barcodes is None:
        raise CMCVAEInputError(
            f"The 10x folder {folder} is incomplete: it needs matrix.mtx(.gz), features.tsv(.gz) "
            "(or genes.tsv) and barcodes.tsv(.gz); found "
            f"{sorted(p.name for p in folder.iterdir())}."
        )
    x = sp.csr_matrix(scipy.io.mmread(matrix).T)
    feats = pd.read_csv(features, sep="\t", header=None, dtype=str)
    cells = pd.read_csv(barcodes, sep="\t", header=None, dtype=str)[0].to_numpy()
    var = pd.DataFrame({"gene_ids": feats[0].to_numpy()})
    if feats.shape[1] > 2:
        var["feature_types"] = feats[2].to_numpy()
    names = feats[1] if feats.shape[1] > 1 else feats[0]
    var.index = pd.Index(names.astype(str).to_numpy())
    if x.shape != (len(cells), len(var)):
        raise CMCVAEInputError(
            f"The 10x folder {folder} is inconsistent: the matrix is {x.shape[1]} features × "
            f"{x.shape[0]} cells but there are {len(var)} features and {len(cells)} barcodes."
        )
    with _quiet_names():
        return ad.AnnData(X=x, obs=pd.DataFrame(index=pd.Index(cells)), var=var)


def read_10x_mtx(path: str | Path, *, protein_feature_type: str = ANTIBODY_CAPTURE,
                 make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read a 10x ``matrix.mtx(.gz)`` folder and split RNA from antibody features.

    Accepts the folder with ``matrix.mtx.gz``/``features.tsv.gz``/``barcodes.tsv.gz`` (read with
    ``scanpy.read_10x_mtx(folder, gex_only=False)``; uncompressed files work too), or a folder
    containing ``filtered_feature_bc_matrix/`` (e.g. Cell Ranger's ``outs/``).

    Parameters
    ----------
    path
        The folder.
    protein_feature_type
        Feature type of the antibodies.
    make_unique
        Make duplicated names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``.

    Raises
    ------
    CMCVAEInputError
        Not a 10x folder, no Antibody Capture features, duplicated names or negative counts.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"Input folder {path} does not exist. Check the path.")
    if not path.is_dir():
        raise CMCVAEInputError(f"{path} is a file; read_10x_mtx needs the 10x folder.")
    notes = _Notes()
    folder = _find_10x_folder(path)
    if folder != path:
        notes.add(f"Read the 10x matrix in {folder}.")
    try:
        adata = _read_10x_mtx_any(folder)
    except CMCVAEInputError:
        raise
    except Exception as err:  # scanpy/scipy/pandas raise many types for a broken folder
        raise CMCVAEInputError(
            f"Could not read the 10x folder {folder} ({type(err).__name__}: {err}). It needs "
            "matrix.mtx(.gz), features.tsv(.gz) and barcodes.tsv(.gz) from Cell Ranger v3+."
        ) from err
    _unique_cells(adata, "10x", str(folder), make_unique, notes, paired_by_name=False)
    rna, prot = _split_feature_types(adata, str(folder), protein_feature_type, notes)
    return _assemble(rna, prot, source=str(folder), fmt="10x_mtx", notes=notes,
                     make_unique=make_unique, strip_genome_prefix=strip_genome_prefix)


# ---------------------------------------------------------------------------------------------
# dense tables and pairs of files


@dataclass
class _Table:
    """A dense count table read as sparse: ``matrix`` is rows × cols."""

    matrix: sp.csr_matrix
    rows: pd.Index
    cols: pd.Index
    path: Path

    def cells(self, orientation: str) -> pd.Index:
        return self.cols if orientation == "features_x_cells" else self.rows

    def n_axis(self, orientation: str) -> int:
        return len(self.cells(orientation))

    def to_anndata(self, orientation: str) -> ad.AnnData:
        if orientation == "features_x_cells":
            x, cells, feats = self.matrix.T.tocsr(), self.cols, self.rows
        else:
            x, cells, feats = self.matrix, self.rows, self.cols
        with _quiet_names():
            return ad.AnnData(X=x, obs=pd.DataFrame(index=cells), var=pd.DataFrame(index=feats))


def _table_sep(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", newline="") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise CMCVAEInputError(
            f"Could not read {path} as a text table ({err}); a .gz file must be gzip-compressed "
            "and the table must be plain text (CSV/TSV)."
        ) from err
    if not first.strip():
        raise CMCVAEInputError(f"{path} is empty or starts with an empty line; write the table "
                               "with a header row of names.")
    return "\t" if first.count("\t") > first.count(",") else ","


def _read_table(path: Path) -> _Table:
    """A dense CSV/TSV count table (names in the first row and column) read in row chunks."""
    sep = _table_sep(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", newline="") as fh:
        header = next(csv.reader(fh, delimiter=sep))
    parts: list[sp.csr_matrix] = []
    rows: list[str] = []
    chunk_rows = max(1, 16_000_000 // max(len(header), 1))
    try:
        with pd.read_csv(path, sep=sep, header=None, skiprows=1, index_col=0, dtype={0: str},
                         chunksize=chunk_rows) as reader:
            for chunk in reader:
                try:
                    values = chunk.to_numpy(dtype=np.float32)
                except (TypeError, ValueError) as err:
                    raise CMCVAEInputError(
                        f"{path} has non-numeric values ({err}). A count table needs names in the "
                        "first row and the first column and numbers elsewhere; remove annotation "
                        "rows/columns."
                    ) from err
                parts.append(sp.csr_matrix(values))
                rows.extend(chunk.index.astype(str))
    except CMCVAEInputError:
        raise
    except Exception as err:  # pandas raises many types for malformed tables
        raise CMCVAEInputError(
            f"Could not read {path} as a CSV/TSV count table ({type(err).__name__}: {err}). "
            "Expected names in the first row and the first column and counts elsewhere."
        ) from err
    if not parts:
        raise CMCVAEInputError(f"{path} has a header but no data rows; write the counts too.")
    matrix = sp.vstack(parts, format="csr")
    n_cols = matrix.shape[1]
    if len(header) == n_cols + 1:
        cols = header[1:]
    elif len(header) == n_cols:  # R's write.table without a corner cell
        cols = header
    else:
        raise CMCVAEInputError(
            f"{path} has {len(header)} names in its first row but {n_cols} value columns; each row "
            "needs a name followed by one value per column."
        )
    return _Table(matrix, pd.Index(rows), pd.Index([str(c) for c in cols]), path)


def _check_orientation(orientation: Any) -> tuple[str, str]:
    if isinstance(orientation, str):
        pair = (orientation, orientation)
    else:
        pair = tuple(orientation)
    if len(pair) != 2 or any(o not in _ORIENTATIONS for o in pair):
        raise CMCVAEInputError(
            f"orientation={orientation!r} is not valid; use one of {list(_ORIENTATIONS)} or a pair "
            "(rna_orientation, protein_orientation)."
        )
    return pair  # type: ignore[return-value]


def _orient(rna: ad.AnnData | _Table, prot: ad.AnnData | _Table, orientation: Any,
            notes: _Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Choose how to read each table (see :func:`read_csv_pair` for the rule)."""
    rna_o, prot_o = _check_orientation(orientation)

    def options(side: ad.AnnData | _Table, fixed: str) -> list[str]:
        if isinstance(side, ad.AnnData):
            return ["cells_x_features"]
        return ["features_x_cells", "cells_x_features"] if fixed == "auto" else [fixed]

    def cells(side: ad.AnnData | _Table, o: str) -> pd.Index:
        return side.obs_names if isinstance(side, ad.AnnData) else side.cells(o)

    def longer(side: ad.AnnData | _Table, o: str) -> bool:
        if isinstance(side, ad.AnnData):
            return True
        other = "cells_x_features" if o == "features_x_cells" else "features_x_cells"
        return side.n_axis(o) > side.n_axis(other)

    scored = []
    for ro in options(rna, rna_o):
        for po in options(prot, prot_o):
            rc, pc = cells(rna, ro), cells(prot, po)
            shared = len(rc.intersection(pc))
            scored.append(((shared, longer(prot, po), len(rc) == len(pc)), ro, po))
    scored.sort(key=lambda s: s[0], reverse=True)
    best = scored[0]
    if best[0][0] == 0:
        def show(side: ad.AnnData | _Table) -> str:
            if isinstance(side, ad.AnnData):
                return f"cells {_examples(side.obs_names, 3)}"
            return (f"first row {_examples(side.cols, 3)}, first column "
                    f"{_examples(side.rows, 3)}")

        def name(side: ad.AnnData | _Table) -> str:
            return str(side.path) if isinstance(side, _Table) else "the AnnData"

        raise CMCVAEInputError(
            f"The RNA ({name(rna)}) and protein ({name(prot)}) data share no cell barcode in any "
            f"orientation (RNA: {show(rna)}; protein: {show(prot)}). Make the barcodes match (a "
            "'-1' suffix or a sample prefix on one side only is the usual cause) and check that "
            "both files come from the same experiment."
        )
    if len(scored) > 1 and scored[1][0] == best[0]:
        raise CMCVAEInputError(
            "Cannot tell which axis holds the cells: two orientations fit equally well. Pass "
            "orientation='features_x_cells' or 'cells_x_features' (or a pair for RNA and protein)."
        )
    _, ro, po = best
    if rna_o == "auto" and isinstance(rna, _Table):
        notes.add(f"RNA table {rna.path.name} read as {ro} (detected).")
    if prot_o == "auto" and isinstance(prot, _Table):
        notes.add(f"Protein table {prot.path.name} read as {po} (detected).")
    rna_ad = rna if isinstance(rna, ad.AnnData) else rna.to_anndata(ro)
    prot_ad = prot if isinstance(prot, ad.AnnData) else prot.to_anndata(po)
    return rna_ad, prot_ad


def _read_side(path: str | Path, what: str) -> ad.AnnData | _Table:
    """One modality from an .h5ad or a CSV/TSV table."""
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "h5ad":
        return _read_anndata(path)
    if fmt == "table":
        return _read_table(path)
    raise CMCVAEInputError(
        f"The {what} file {path} is {fmt}; a file of a pair must be an .h5ad or a CSV/TSV count "
        "table (an .h5mu or a 10x file holds both modalities: pass it alone)."
    )


def _pair(rna_side: ad.AnnData | _Table, prot_side: ad.AnnData | _Table, rna_src: str,
          prot_src: str, fmt: str, orientation: Any, make_unique: bool,
          strip_genome_prefix: bool, notes: _Notes) -> md.MuData:
    rna, prot = _orient(rna_side, prot_side, orientation, notes)
    rna, prot = _pair_cells(rna, prot, rna_src, prot_src, notes)
    return _assemble(rna, prot, source=f"{rna_src} + {prot_src}", fmt=fmt, notes=notes,
                     make_unique=make_unique, strip_genome_prefix=strip_genome_prefix,
                     sources=(rna_src, prot_src))


def read_pair(rna_path: str | Path, prot_path: str | Path, *, orientation: Any = "auto",
              make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read RNA and proteins from two files (scPerturb-style ``.h5ad`` pair) and pair the cells.

    Cells are matched by barcode: the cells in both files are kept in the RNA file's order and
    the others dropped (with a warning and a note). The RNA file's ``obs`` columns (e.g.
    ``perturbation``, donor) are kept on the MuData ``obs``; the protein file's ``obs`` stays on
    ``mdata["prot"].obs``. Either file may also be a dense CSV/TSV table (see
    :func:`read_csv_pair` for its orientation).

    Parameters
    ----------
    rna_path
        RNA counts: ``.h5ad`` (cells × genes) or CSV/TSV.
    prot_path
        Protein counts: ``.h5ad`` (cells × proteins) or CSV/TSV.
    orientation
        For CSV/TSV files, as in :func:`read_csv_pair`.
    make_unique
        Make duplicated feature names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` over the shared cells.

    Raises
    ------
    CMCVAEInputError
        No shared barcodes, duplicated barcodes or names, negative counts, unreadable files.
    """
    notes = _Notes()
    rna = _read_side(rna_path, "RNA")
    prot = _read_side(prot_path, "protein")
    return _pair(rna, prot, str(rna_path), str(prot_path), "pair", orientation, make_unique,
                 strip_genome_prefix, notes)


def read_csv_pair(rna_csv: str | Path, prot_csv: str | Path, orientation: Any = "auto", *,
                  make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read dense RNA and protein count tables (CSV/TSV, optionally gzipped) into one MuData.

    Each table has names in its first row and first column (the R/pandas ``write.csv`` layout;
    a header without the corner cell is accepted). The tables are read in row chunks straight
    into a sparse matrix, so the RNA table is never held dense in memory.

    **Orientation rule** (``orientation="auto"``): for each of the four ways of reading the two
    tables (each ``features_x_cells`` — cells are the columns, the usual GEO/Seurat layout — or
    ``cells_x_features``), count the cell names the two files share; the way with the most shared
    names wins. Ties are broken, in order, by preferring the protein table's longer axis as its
    cells (antibody panels are smaller than cell numbers) and by the two files having as many
    cells; a remaining tie asks for the orientation explicitly. No shared names in any
    orientation is an error.

    Parameters
    ----------
    rna_csv, prot_csv
        RNA and protein count tables (``.csv``, ``.tsv``, ``.txt``, each optionally ``.gz``).
    orientation
        ``"auto"``, ``"features_x_cells"``, ``"cells_x_features"``, or a pair ``(rna, protein)``.
    make_unique
        Make duplicated feature names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` over the shared cells (RNA order).

    Raises
    ------
    CMCVAEInputError
        Unreadable or non-numeric tables, no shared cells, an ambiguous orientation, duplicated
        names or negative counts.
    """
    notes = _Notes()
    _check_orientation(orientation)
    tables = []
    for path, what in ((rna_csv, "RNA"), (prot_csv, "protein")):
        path = Path(path)
        if sniff_format(path) != "table":
            raise CMCVAEInputError(
                f"The {what} file {path} is not a CSV/TSV table; read_csv_pair needs two tables "
                "(use read_pair for .h5ad files)."
            )
        tables.append(_read_table(path))
    return _pair(tables[0], tables[1], str(rna_csv), str(prot_csv), "csv_pair", orientation,
                 make_unique, strip_genome_prefix, notes)


def _read_names(path: Path, what: str) -> pd.DataFrame:
    try:
        sep = _table_sep(path)
        sep = "\t" if sep == "\t" or path.name.lower().endswith((".tsv", ".tsv.gz")) else sep
        return pd.read_csv(path, sep=sep, header=None, dtype=str)
    except CMCVAEInputError:
        raise
    except Exception as err:  # pandas raises many types
        raise CMCVAEInputError(
            f"Could not read the {what} file {path} ({err}); it needs one name per line."
        ) from err


def read_mtx_pair(matrix: str | Path, genes: str | Path, barcodes: str | Path,
                  prot_csv: str | Path, *, orientation: Any = "auto", make_unique: bool = False,
                  strip_genome_prefix: bool = True) -> md.MuData:
    """Read an RNA MatrixMarket matrix with its gene and barcode lists, plus a protein table.

    The layout of R exports (``Matrix::writeMM`` + ``write.csv``) and of GEO submissions: a
    genes × cells ``.mtx(.gz)`` (a cells × genes one is recognised from its shape), a gene list
    (one name per line; with 2+ tab-separated columns the second is the name, the first kept as
    ``gene_ids``, 10x-style), a barcode list, and the ADT counts as CSV/TSV (or ``.h5ad``).

    Parameters
    ----------
    matrix
        RNA counts, ``.mtx`` or ``.mtx.gz``.
    genes
        Gene names, in the matrix's order, no header.
    barcodes
        Cell barcodes, in the matrix's order, no header.
    prot_csv
        Protein counts: CSV/TSV (orientation detected as in :func:`read_csv_pair`) or ``.h5ad``.
    orientation
        Orientation of the protein table (``"auto"``, ``"features_x_cells"``,
        ``"cells_x_features"``).
    make_unique
        Make duplicated feature names unique instead of raising.
    strip_genome_prefix
        Remove a genome prefix shared by all gene names (``hg19_`` in CellRanger-era exports).

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` over the shared cells (RNA order).

    Raises
    ------
    CMCVAEInputError
        Files that do not match in size, no shared cells, duplicated names or negative counts.
    """
    import scipy.io

    matrix, genes, barcodes = Path(matrix), Path(genes), Path(barcodes)
    for path in (matrix, genes, barcodes):
        if not path.exists():
            raise CMCVAEInputError(f"Input file {path} does not exist. Check the path.")
    if not isinstance(orientation, str) or orientation not in _ORIENTATIONS:
        raise CMCVAEInputError(
            f"orientation={orientation!r} is not valid for the protein table; use one of "
            f"{list(_ORIENTATIONS)}."
        )
    notes = _Notes()
    try:
        x = scipy.io.mmread(matrix)
    except Exception as err:  # scipy raises many types for a malformed file
        raise CMCVAEInputError(
            f"Could not read {matrix} as a MatrixMarket (.mtx) file ({err}); write it with "
            "Matrix::writeMM or scipy.io.mmwrite."
        ) from err
    x = sp.csr_matrix(x, dtype=np.float32)
    gene_df = _read_names(genes, "gene")
    cells = _read_names(barcodes, "barcode")[0].astype(str).to_numpy()
    gene_names = (gene_df[1] if gene_df.shape[1] > 1 else gene_df[0]).astype(str).to_numpy()
    n_g, n_c = len(gene_names), len(cells)
    if x.shape == (n_g, n_c):
        x = x.T.tocsr()
    elif x.shape == (n_c, n_g):
        notes.add(f"{matrix.name} is cells × genes (recognised from its shape).")
    else:
        off_by_one = " (a header line in one of the lists?)" if abs(x.shape[0] - n_g) == 1 or abs(
            x.shape[1] - n_c) == 1 else ""
        raise CMCVAEInputError(
            f"{matrix} is {x.shape[0]} × {x.shape[1]} but there are {n_g} genes in {genes.name} "
            f"and {n_c} barcodes in {barcodes.name}{off_by_one}. Pass the gene and barcode lists "
            "that belong to this matrix, without header lines."
        )
    var = pd.DataFrame(index=pd.Index(gene_names))
    if gene_df.shape[1] > 1:
        var["gene_ids"] = gene_df[0].to_numpy()
    with _quiet_names():
        rna = ad.AnnData(X=x, obs=pd.DataFrame(index=pd.Index(cells)), var=var)
    prot_side = _read_side(prot_csv, "protein")
    return _pair(rna, prot_side, str(matrix), str(prot_csv), "mtx_pair",
                 ("cells_x_features", orientation), make_unique, strip_genome_prefix, notes)


def _sibling_list(matrix: Path, words: tuple[str, ...], what: str, option: str,
                  exclude: set[Path]) -> Path:
    found = []
    for p in sorted(matrix.parent.iterdir()):
        low = p.name.lower()
        if p in exclude or not p.is_file():
            continue
        if low.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")) and any(w in low for w in words):
            found.append(p)
    if len(found) != 1:
        raise CMCVAEInputError(
            f"Could not find the {what} list of {matrix} "
            f"({'none' if not found else 'several'} next to it: {[p.name for p in found]}); pass "
            f"{option}=PATH."
        )
    return found[0]


# ---------------------------------------------------------------------------------------------
# dispatcher


def read_dataset(path: str | Path, protein_path: str | Path | None = None,
                 **kw: Any) -> md.MuData:
    """Read any supported CITE-seq input into a MuData with modalities ``rna`` and ``prot``.

    The format is chosen from the content, not only the extension (:func:`sniff_format`): a file
    named ``.h5ad``/``.h5mu``/``.h5`` must carry the HDF5 signature, and an HDF5 file is read as
    MuData, AnnData or 10x according to its groups. Supported inputs:

    - ``.h5mu`` → :func:`read_h5mu`;
    - ``.h5ad`` with proteins in ``.obsm`` or among the features → :func:`read_h5ad`;
    - Cell Ranger v3+ ``.h5`` → :func:`read_10x_h5`;
    - a 10x folder (``matrix.mtx(.gz)``, or one containing ``filtered_feature_bc_matrix/``)
      → :func:`read_10x_mtx`;
    - ``.h5ad`` or table + ``protein_path`` → :func:`read_pair`;
    - table + table ``protein_path`` → :func:`read_csv_pair`;
    - ``.mtx(.gz)`` + ``protein_path`` → :func:`read_mtx_pair`, with ``genes=``/``barcodes=``
      or else the single ``*genes*``/``*features*`` and ``*barcodes*``/``*cells*`` list
      (``.tsv``/``.txt``) next to the matrix.

    Parameters
    ----------
    path
        The dataset (file or folder), or the RNA file of a pair.
    protein_path
        The protein file of a pair.
    **kw
        Options of the chosen reader (``make_unique``, ``strip_genome_prefix``,
        ``orientation``, ``rna_mod``/``prot_mod``, ``protein_key``, ``protein_feature_type``,
        ``genes``/``barcodes``); an option that does not apply to the input is an error.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``, same cells in the same order; what the reader changed is
        in ``mdata.uns["cmcvae_read"]``.

    Raises
    ------
    CMCVAEInputError
        Missing files, a misnamed or unknown format, and every check of the readers.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"Input file {path} does not exist. Check the path.")
    fmt = sniff_format(path)
    if protein_path is None:
        if fmt == "10x_mtx":
            return read_10x_mtx(path, **_reader_kw(read_10x_mtx, kw, "a 10x folder"))
        if fmt == "h5mu":
            return read_h5mu(path, **_reader_kw(read_h5mu, kw, "an .h5mu"))
        if fmt == "h5ad":
            mdata = read_h5ad(path, **_reader_kw(read_h5ad, kw, "an .h5ad"))
            if not path.name.lower().endswith(".h5ad"):
                info = mdata.uns[READ_KEY]
                info["notes"] = [*info["notes"], f"{path.name} holds an AnnData; read it as .h5ad."]
            return mdata
        if fmt in ("10x_h5", "10x_h5_legacy"):
            return read_10x_h5(path, **_reader_kw(read_10x_h5, kw, "a 10x .h5"))
        raise CMCVAEInputError(
            f"Unsupported input format for a single file: {path} is a "
            f"{'CSV/TSV table' if fmt == 'table' else 'MatrixMarket matrix'}, which holds one "
            "modality only. Pass the protein counts too (protein_path=…, read_csv_pair or "
            f"read_mtx_pair). Supported: {SUPPORTED_FORMATS}."
        )
    protein_path = Path(protein_path)
    pfmt = sniff_format(protein_path)
    if fmt in ("h5mu", "10x_h5", "10x_h5_legacy", "10x_mtx"):
        raise CMCVAEInputError(
            f"{path} ({fmt}) holds RNA and protein together; pass it without protein_path "
            f"({protein_path}). For an RNA-only file plus a protein file, use .h5ad/CSV/mtx files."
        )
    if pfmt not in ("h5ad", "table"):
        raise CMCVAEInputError(
            f"The protein file {protein_path} is {pfmt}; it must be an .h5ad or a CSV/TSV table."
        )
    if fmt == "mtx":
        genes = kw.pop("genes", None)
        barcodes = kw.pop("barcodes", None)
        exclude = {path, protein_path}
        if genes is None:
            genes = _sibling_list(path, ("genes", "features"), "gene", "genes", exclude)
        if barcodes is None:
            barcodes = _sibling_list(path, ("barcodes", "cells"), "barcode", "barcodes", exclude)
        mdata = read_mtx_pair(path, genes, barcodes, protein_path,
                              **_reader_kw(read_mtx_pair, kw, "an RNA .mtx"))
        return mdata
    if fmt == "table" and pfmt == "table":
        return read_csv_pair(path, protein_path, **_reader_kw(read_csv_pair, kw, "two tables"))
    return read_pair(path, protein_path, **_reader_kw(read_pair, kw, "a pair of files"))
