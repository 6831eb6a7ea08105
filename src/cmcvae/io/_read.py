"""The one entry for reading CITE-seq data: sniff the format, hand over to its reader.

Every reader returns a MuData with exactly two modalities, ``rna`` and ``prot``, in the layout of
the data contract (``docs/design.md`` §2):

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

Every bad input raises :class:`cmcvae.CMCVAEInputError` with the problem and the fix. The
readers live by format: ``_sniff.py`` (detection), ``_h5.py`` (``.h5mu``, ``.h5ad``, AnnData),
``_10x.py`` (Cell Ranger), ``_tables.py`` (pairs of files); ``_assemble.py`` builds the MuData.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mudata as md

from cmcvae._errors import CMCVAEInputError
from cmcvae.io._10x import read_10x_h5, read_10x_mtx
from cmcvae.io._assemble import READ_KEY
from cmcvae.io._h5 import read_h5ad, read_h5mu
from cmcvae.io._sniff import SUPPORTED_FORMATS, sniff_format
from cmcvae.io._tables import read_csv_pair, read_mtx_pair, read_pair, sibling_list

#: Formats holding RNA and protein together (read alone, never as one file of a pair).
_BOTH_MODALITIES = ("h5mu", "10x_h5", "10x_h5_legacy", "10x_mtx")


def _reader_kw(func: Callable[..., Any], kw: dict[str, Any], what: str) -> dict[str, Any]:
    """``kw`` when ``func`` accepts every option, else an error listing what it accepts."""
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


def _read_one(path: Path, fmt: str, kw: dict[str, Any]) -> md.MuData:
    """A file or folder holding both modalities."""
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


def _read_two(path: Path, fmt: str, protein_path: Path, kw: dict[str, Any]) -> md.MuData:
    """RNA in ``path`` and proteins in ``protein_path``."""
    pfmt = sniff_format(protein_path)
    if fmt in _BOTH_MODALITIES:
        raise CMCVAEInputError(
            f"{path} ({fmt}) holds RNA and protein together; pass it without protein_path "
            f"({protein_path}). For an RNA-only file plus a protein file, use .h5ad/CSV/mtx files."
        )
    if pfmt not in ("h5ad", "table"):
        raise CMCVAEInputError(
            f"The protein file {protein_path} is {pfmt}; it must be an .h5ad or a CSV/TSV table."
        )
    if fmt == "mtx":
        exclude = {path, protein_path}
        genes = kw.pop("genes", None)
        barcodes = kw.pop("barcodes", None)
        if genes is None:
            genes = sibling_list(path, ("genes", "features"), "gene", "genes", exclude)
        if barcodes is None:
            barcodes = sibling_list(path, ("barcodes", "cells"), "barcode", "barcodes", exclude)
        return read_mtx_pair(path, genes, barcodes, protein_path,
                             **_reader_kw(read_mtx_pair, kw, "an RNA .mtx"))
    if fmt == "table" and pfmt == "table":
        return read_csv_pair(path, protein_path, **_reader_kw(read_csv_pair, kw, "two tables"))
    return read_pair(path, protein_path, **_reader_kw(read_pair, kw, "a pair of files"))


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
        return _read_one(path, fmt, kw)
    return _read_two(path, fmt, Path(protein_path), kw)
