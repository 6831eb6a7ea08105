"""RNA and proteins in two files: ``.h5ad`` pairs, dense CSV/TSV tables and MatrixMarket exports.

The cells of the two files are matched by barcode (:func:`cmcvae.io._assemble.pair_cells`); a
table's orientation (which axis holds the cells) is detected from the barcodes the two files
share (see :func:`read_csv_pair` for the rule).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.io._assemble import Notes, assemble, examples, pair_cells, quiet_names
from cmcvae.io._h5 import read_anndata
from cmcvae.io._sniff import sniff_format

_ORIENTATIONS = ("auto", "features_x_cells", "cells_x_features")


# ---------------------------------------------------------------------------------------------
# dense tables


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
        with quiet_names():
            return ad.AnnData(X=x, obs=pd.DataFrame(index=cells), var=pd.DataFrame(index=feats))


def _opener(path: Path):
    return gzip.open if path.name.lower().endswith(".gz") else open


def _table_sep(path: Path) -> str:
    try:
        with _opener(path)(path, "rt", newline="") as fh:
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


def _read_rows(path: Path, sep: str, n_header: int) -> tuple[list[sp.csr_matrix], list[str]]:
    """The table's rows below the header, in chunks of about 16 M values, as sparse blocks."""
    parts: list[sp.csr_matrix] = []
    rows: list[str] = []
    chunk_rows = max(1, 16_000_000 // max(n_header, 1))
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
    return parts, rows


def _read_table(path: Path) -> _Table:
    """A dense CSV/TSV count table (names in the first row and column) read in row chunks."""
    sep = _table_sep(path)
    with _opener(path)(path, "rt", newline="") as fh:
        header = next(csv.reader(fh, delimiter=sep))
    parts, rows = _read_rows(path, sep, len(header))
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


# ---------------------------------------------------------------------------------------------
# orientation


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


Side = ad.AnnData | _Table


def _options(side: Side, fixed: str) -> list[str]:
    if isinstance(side, ad.AnnData):
        return ["cells_x_features"]
    return ["features_x_cells", "cells_x_features"] if fixed == "auto" else [fixed]


def _cells(side: Side, o: str) -> pd.Index:
    return side.obs_names if isinstance(side, ad.AnnData) else side.cells(o)


def _cells_on_longer_axis(side: Side, o: str) -> bool:
    if isinstance(side, ad.AnnData):
        return True
    other = "cells_x_features" if o == "features_x_cells" else "features_x_cells"
    return side.n_axis(o) > side.n_axis(other)


def _show(side: Side) -> str:
    if isinstance(side, ad.AnnData):
        return f"cells {examples(side.obs_names, 3)}"
    return f"first row {examples(side.cols, 3)}, first column {examples(side.rows, 3)}"


def _name(side: Side) -> str:
    return str(side.path) if isinstance(side, _Table) else "the AnnData"


def _score_orientations(rna: Side, prot: Side, rna_o: str, prot_o: str) -> list[tuple]:
    """``(score, rna orientation, protein orientation)``, best first: shared cells, then the
    protein table's cells on its longer axis, then as many cells in both."""
    scored = []
    for ro in _options(rna, rna_o):
        for po in _options(prot, prot_o):
            rc, pc = _cells(rna, ro), _cells(prot, po)
            shared = len(rc.intersection(pc))
            scored.append(((shared, _cells_on_longer_axis(prot, po), len(rc) == len(pc)), ro, po))
    scored.sort(key=lambda s: s[0], reverse=True)
    return scored


def _orient(rna: Side, prot: Side, orientation: Any,
            notes: Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Choose how to read each table (see :func:`read_csv_pair` for the rule)."""
    rna_o, prot_o = _check_orientation(orientation)
    scored = _score_orientations(rna, prot, rna_o, prot_o)
    best = scored[0]
    if best[0][0] == 0:
        raise CMCVAEInputError(
            f"The RNA ({_name(rna)}) and protein ({_name(prot)}) data share no cell barcode in any "
            f"orientation (RNA: {_show(rna)}; protein: {_show(prot)}). Make the barcodes match (a "
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


# ---------------------------------------------------------------------------------------------
# pairs of files


def _read_side(path: str | Path, what: str) -> Side:
    """One modality from an .h5ad or a CSV/TSV table."""
    path = Path(path)
    fmt = sniff_format(path)
    if fmt == "h5ad":
        return read_anndata(path)
    if fmt == "table":
        return _read_table(path)
    raise CMCVAEInputError(
        f"The {what} file {path} is {fmt}; a file of a pair must be an .h5ad or a CSV/TSV count "
        "table (an .h5mu or a 10x file holds both modalities: pass it alone)."
    )


def _pair(rna_side: Side, prot_side: Side, rna_src: str, prot_src: str, fmt: str,
          orientation: Any, make_unique: bool, strip_genome_prefix: bool,
          notes: Notes) -> md.MuData:
    rna, prot = _orient(rna_side, prot_side, orientation, notes)
    rna, prot = pair_cells(rna, prot, rna_src, prot_src, notes)
    return assemble(rna, prot, source=f"{rna_src} + {prot_src}", fmt=fmt, notes=notes,
                    make_unique=make_unique, strip_genome_prefix=strip_genome_prefix,
                    sources=(rna_src, prot_src))


@fill_docs
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
    {make_unique}
    {strip_genome_prefix}

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` over the shared cells.

    Raises
    ------
    CMCVAEInputError
        No shared barcodes, duplicated barcodes or names, negative counts, unreadable files.
    """
    notes = Notes()
    rna = _read_side(rna_path, "RNA")
    prot = _read_side(prot_path, "protein")
    return _pair(rna, prot, str(rna_path), str(prot_path), "pair", orientation, make_unique,
                 strip_genome_prefix, notes)


@fill_docs
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
    {make_unique}
    {strip_genome_prefix}

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
    notes = Notes()
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


# ---------------------------------------------------------------------------------------------
# MatrixMarket + lists + protein table


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


def _read_mtx(matrix: Path) -> sp.csr_matrix:
    try:
        x = scipy.io.mmread(matrix)
    except Exception as err:  # scipy raises many types for a malformed file
        raise CMCVAEInputError(
            f"Could not read {matrix} as a MatrixMarket (.mtx) file ({err}); write it with "
            "Matrix::writeMM or scipy.io.mmwrite."
        ) from err
    return sp.csr_matrix(x, dtype=np.float32)


def _mtx_anndata(matrix: Path, genes: Path, barcodes: Path, notes: Notes) -> ad.AnnData:
    """Cells × genes from a ``.mtx`` (either orientation, told by its shape) and its lists."""
    x = _read_mtx(matrix)
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
    with quiet_names():
        return ad.AnnData(X=x, obs=pd.DataFrame(index=pd.Index(cells)), var=var)


@fill_docs
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
    {make_unique}
    {strip_genome_prefix}

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` over the shared cells (RNA order).

    Raises
    ------
    CMCVAEInputError
        Files that do not match in size, no shared cells, duplicated names or negative counts.
    """
    matrix, genes, barcodes = Path(matrix), Path(genes), Path(barcodes)
    for path in (matrix, genes, barcodes):
        if not path.exists():
            raise CMCVAEInputError(f"Input file {path} does not exist. Check the path.")
    if not isinstance(orientation, str) or orientation not in _ORIENTATIONS:
        raise CMCVAEInputError(
            f"orientation={orientation!r} is not valid for the protein table; use one of "
            f"{list(_ORIENTATIONS)}."
        )
    notes = Notes()
    rna = _mtx_anndata(matrix, genes, barcodes, notes)
    prot_side = _read_side(prot_csv, "protein")
    return _pair(rna, prot_side, str(matrix), str(prot_csv), "mtx_pair",
                 ("cells_x_features", orientation), make_unique, strip_genome_prefix, notes)


def sibling_list(matrix: Path, words: tuple[str, ...], what: str, option: str,
                 exclude: set[Path]) -> Path:
    """The one ``.tsv``/``.txt`` list next to ``matrix`` whose name holds one of ``words``."""
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
