"""Cell Ranger outputs: the feature-barcode ``.h5`` and the ``matrix.mtx`` folder.

Both hold RNA and antibodies as features of one matrix; :func:`split_feature_types` splits them
by ``var["feature_types"]`` (``Gene Expression`` → ``rna``, ``Antibody Capture`` → ``prot``),
which is also how a 10x-style ``.h5ad`` is read (:func:`cmcvae.io.from_anndata`).
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import mudata as md
import pandas as pd
import scipy.io
import scipy.sparse as sp

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.io._assemble import Notes, assemble, quiet_names, unique_cells
from cmcvae.io._sniff import SUPPORTED_FORMATS, sniff_format

GENE_EXPRESSION = "Gene Expression"
ANTIBODY_CAPTURE = "Antibody Capture"
_MTX_NAMES = ("matrix.mtx.gz", "matrix.mtx")
_10X_SUBFOLDERS = ("filtered_feature_bc_matrix", "sample_filtered_feature_bc_matrix",
                   "outs/filtered_feature_bc_matrix")


# ---------------------------------------------------------------------------------------------
# feature types


def feature_type_col(var: pd.DataFrame) -> str | None:
    """The ``var`` column holding 10x feature types, if any."""
    for col in ("feature_types", "feature_type"):
        if col in var.columns:
            return col
    return None


def _check_feature_types(counts: pd.Series, has_gex: bool, has_prot: bool, source: str,
                         protein_feature_type: str) -> None:
    """Both kinds of features present, or an error naming the types found."""
    if not has_prot:
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
    if not has_gex:
        raise CMCVAEInputError(
            f"{source} has no {GENE_EXPRESSION!r} features (feature types: {dict(counts)}); pass "
            "the RNA counts as the first file and the proteins as protein_path."
        )


def split_feature_types(adata: ad.AnnData, source: str, protein_feature_type: str,
                        notes: Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Split a 10x-style AnnData into Gene Expression and protein (Antibody Capture) features."""
    col = feature_type_col(adata.var)
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
    _check_feature_types(counts, is_gex.any(), is_prot.any(), source, protein_feature_type)
    other = counts.drop([GENE_EXPRESSION, protein_feature_type], errors="ignore")
    if len(other):
        notes.add(f"Dropped features of other types: {dict(other)}.")
    notes.add(f"Split {adata.n_vars} features by var[{col!r}]: {int(is_gex.sum())} "
              f"{GENE_EXPRESSION!r} → rna, {int(is_prot.sum())} {protein_feature_type!r} → prot.")
    with quiet_names():
        rna = adata[:, is_gex].copy()
        prot_view = adata[:, is_prot]
        prot = ad.AnnData(X=prot_view.X, obs=pd.DataFrame(index=adata.obs_names.copy()),
                          var=prot_view.var.copy())
    return rna, prot


def _from_10x(adata: ad.AnnData, source: str, fmt: str, protein_feature_type: str,
              make_unique: bool, strip_genome_prefix: bool, notes: Notes) -> md.MuData:
    """The MuData of one 10x matrix (RNA and antibodies as features)."""
    unique_cells(adata, "10x", source, make_unique, notes, paired_by_name=False)
    rna, prot = split_feature_types(adata, source, protein_feature_type, notes)
    return assemble(rna, prot, source=source, fmt=fmt, notes=notes, make_unique=make_unique,
                    strip_genome_prefix=strip_genome_prefix)


# ---------------------------------------------------------------------------------------------
# .h5


def _check_10x_h5(path: Path) -> None:
    fmt = sniff_format(path)
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


@fill_docs
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
    {protein_feature_type}
    {make_unique}
    {strip_genome_prefix}

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``.

    Raises
    ------
    CMCVAEInputError
        Not a 10x HDF5, no Antibody Capture features, duplicated names or negative counts.
    """
    import scanpy as sc  # heavy to import; only the 10x readers need it

    path = Path(path)
    _check_10x_h5(path)
    try:
        with quiet_names():
            adata = sc.read_10x_h5(path, gex_only=False)
    except Exception as err:  # scanpy/h5py raise many types for a broken file
        raise CMCVAEInputError(
            f"Could not read {path} as a 10x .h5 ({type(err).__name__}: {err}). It needs the "
            "Cell Ranger v3 layout matrix/{data,indices,indptr,shape,barcodes,features/{id,name,"
            "feature_type}}; check that the file is complete."
        ) from err
    return _from_10x(adata, str(path), "10x_h5", protein_feature_type, make_unique,
                     strip_genome_prefix, Notes())


# ---------------------------------------------------------------------------------------------
# matrix.mtx folder


def _has_matrix(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _MTX_NAMES)


def _find_10x_folder(folder: Path) -> Path:
    """The folder holding matrix.mtx(.gz): ``folder`` or a Cell Ranger subfolder of it."""
    if _has_matrix(folder):
        return folder
    for sub in _10X_SUBFOLDERS:
        if _has_matrix(folder / sub):
            return folder / sub
    subs = [p for p in sorted(folder.glob("*filtered_feature_bc_matrix*"))
            if p.is_dir() and _has_matrix(p)]
    if len(subs) == 1:
        return subs[0]
    if len(subs) > 1:
        raise CMCVAEInputError(
            f"{folder} holds several 10x matrices ({[p.name for p in subs]}); pass one of them."
        )
    raise CMCVAEInputError(_no_matrix_message(folder))


def _no_matrix_message(folder: Path) -> str:
    """Why ``folder`` is not a 10x folder, with the file or folder to pass instead."""
    raw = [sub for sub in ("raw_feature_bc_matrix", "outs/raw_feature_bc_matrix")
           if (folder / sub).is_dir()]
    if raw:
        return (f"{folder} holds only {raw[0]}/ (all droplets, including empty ones), no "
                "filtered_feature_bc_matrix/. Pass the filtered matrix, or pass the raw folder "
                "itself if you have filtered the cells already.")
    h5 = sorted(folder.glob("*filtered_feature_bc_matrix.h5"))
    if h5:
        return f"{folder} has no matrix.mtx(.gz) but has {h5[0].name}; pass that file instead."
    listing = sorted(p.name for p in folder.iterdir())[:10]
    return (f"{folder} is a folder without matrix.mtx(.gz) or filtered_feature_bc_matrix/ (it "
            f"holds {listing}). Pass a 10x folder (matrix.mtx.gz, features.tsv.gz, "
            f"barcodes.tsv.gz) or a file. Supported: {SUPPORTED_FORMATS}.")


def _first_file(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / n for n in names if (folder / n).is_file()), None)


def _read_10x_mtx_any(folder: Path) -> ad.AnnData:
    """scanpy for the layouts it reads (v3 gzipped, legacy); our own reader for the others."""
    import scanpy as sc  # heavy to import; only the 10x readers need it

    standard_v3 = all((folder / n).is_file()
                      for n in ("matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"))
    legacy = (folder / "genes.tsv").is_file() and (folder / "matrix.mtx").is_file()
    if standard_v3 or legacy:
        with quiet_names():
            return sc.read_10x_mtx(folder, gex_only=False, make_unique=False)
    return _read_10x_mtx_files(folder)


def _read_10x_mtx_files(folder: Path) -> ad.AnnData:
    """A 10x folder in a layout scanpy does not read (e.g. uncompressed v3 files)."""
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
    with quiet_names():
        return ad.AnnData(X=x, obs=pd.DataFrame(index=pd.Index(cells)), var=var)


@fill_docs
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
    {protein_feature_type}
    {make_unique}
    {strip_genome_prefix}

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
    notes = Notes()
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
    return _from_10x(adata, str(folder), "10x_mtx", protein_feature_type, make_unique,
                     strip_genome_prefix, notes)
