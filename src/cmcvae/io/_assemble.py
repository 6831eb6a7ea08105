"""Building one MuData from an RNA and a protein AnnData: what every reader shares.

Every reader ends in :func:`assemble`, which gives the MuData the layout of the data contract
(``docs/design.md`` §2): modalities ``rna`` and ``prot`` of the same cells; RNA as CSR, proteins
dense, ``float64`` stored as ``float32``; finite, non-negative counts; unique feature names
(``make_unique=True`` makes them so instead of raising); a gene-name genome prefix stripped; and
``uns["cmcvae_read"]`` recording the source, the detected format and a note for everything the
reader changed (:class:`Notes`). Readers of two sources pair their cells first
(:func:`pair_cells`).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError

log = logging.getLogger("cmcvae")

#: ``mdata.uns`` key of the reader's record (source, format, notes).
READ_KEY = "cmcvae_read"
_GENOME_PREFIX = re.compile(r"^(hg19|hg38|GRCh37|GRCh38|mm9|mm10|mm39|GRCm38|GRCm39)_+")


class Notes(list):
    """Notes on what a reader changed; each is logged, lossy ones also warn."""

    def add(self, message: str, warn: bool = False) -> None:
        """Record ``message``, log it, and warn (:class:`UserWarning`) when ``warn``."""
        self.append(message)
        log.info(message)
        if warn:
            warnings.warn(message, UserWarning, stacklevel=4)


@contextmanager
def quiet_names() -> Iterator[None]:
    """Silence anndata/mudata's 'names are not unique' warnings: we check names ourselves."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*names are not unique.*")
        warnings.filterwarnings("ignore", message=".*var_names are not unique.*")
        yield


def examples(values: Any, n: int = 5) -> str:
    """The first ``n`` of ``values``, quoted, for messages."""
    return ", ".join(repr(str(v)) for v in list(values)[:n])


# ---------------------------------------------------------------------------------------------
# matrices and their values


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


def prot_matrix(x: Any, what: str) -> np.ndarray:
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


# ---------------------------------------------------------------------------------------------
# names


def _strip_genome_prefix(rna: ad.AnnData, notes: Notes) -> None:
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
                 notes: Notes) -> None:
    names = adata.var_names
    if names.is_unique:
        return
    dup = names[names.duplicated()].unique()
    word = "gene" if what == "RNA" else "protein"
    if not make_unique:
        raise CMCVAEInputError(
            f"{len(dup)} {word} names occur more than once in {source} (e.g. {examples(dup)}). "
            f"Each {word} needs a unique name: pass make_unique=True to append '-1', '-2', … to the "
            "repeats (anndata's var_names_make_unique()), call adata.var_names_make_unique() "
            "yourself, or sum/drop the duplicated features before reading."
        )
    adata.var_names_make_unique()
    notes.add(f"Made {len(dup)} duplicated {word} names unique by appending '-1', '-2', … "
              f"(e.g. {examples(dup, 3)}).")


def unique_cells(adata: ad.AnnData, what: str, source: str, make_unique: bool,
                 notes: Notes, paired_by_name: bool) -> None:
    """Raise on duplicated barcodes, or (``make_unique`` of one source) make them unique."""
    names = adata.obs_names
    if names.is_unique:
        return
    dup = names[names.duplicated()].unique()
    if make_unique and not paired_by_name:
        adata.obs_names_make_unique()
        notes.add(f"Made {len(dup)} duplicated cell barcodes unique (e.g. {examples(dup, 3)}).")
        return
    fix = ("rename them before reading (e.g. prefix each sample's barcodes with the sample name): "
           "RNA and protein are matched by barcode, so duplicates are ambiguous"
           if paired_by_name else
           "pass make_unique=True, or prefix each sample's barcodes with the sample name "
           "(anndata.concat(..., index_unique='-')) before saving")
    raise CMCVAEInputError(
        f"{len(dup)} cell barcodes occur more than once in the {what} data of {source} "
        f"(e.g. {examples(dup)}); {fix}."
    )


# ---------------------------------------------------------------------------------------------
# one MuData


def _check_not_empty(rna: ad.AnnData, prot: ad.AnnData, source: str) -> None:
    for adata, what in ((rna, "RNA"), (prot, "protein")):
        if adata.n_obs == 0 or adata.n_vars == 0:
            raise CMCVAEInputError(
                f"The {what} data from {source} is empty ({adata.n_obs} cells × {adata.n_vars} "
                "features): check that the file holds counts and that the cells are not filtered out."
            )
    if not np.array_equal(rna.obs_names, prot.obs_names):  # pragma: no cover - readers align
        raise CMCVAEInputError(f"RNA and protein cells of {source} are not aligned.")


def _convert_and_check(rna: ad.AnnData, prot: ad.AnnData, rna_src: str, prot_src: str) -> None:
    """The contract's matrix types (RNA CSR, proteins dense) and finite non-negative counts."""
    rna.X = _rna_matrix(rna.X, "RNA")
    for key in list(rna.layers):
        rna.layers[key] = _rna_matrix(rna.layers[key], f"RNA layers[{key!r}]")
    prot.X = prot_matrix(prot.X, "protein")
    for adata, what, src in ((rna, "RNA", rna_src), (prot, "protein", prot_src)):
        counts = adata.layers["counts"] if "counts" in adata.layers else adata.X
        _check_values(counts, what, src)


def assemble(rna: ad.AnnData, prot: ad.AnnData, *, source: str, fmt: str, notes: Notes,
             make_unique: bool, strip_genome_prefix: bool, obs: pd.DataFrame | None = None,
             uns: dict | None = None, sources: tuple[str, str] | None = None) -> md.MuData:
    """Checks common to every format, then one MuData with ``rna`` and ``prot``.

    Parameters
    ----------
    rna, prot
        The two modalities, same cells in the same order (modified in place).
    source, fmt
        Where the data came from and the format detected (for messages and ``uns``).
    notes
        What the reader changed so far; :func:`assemble` adds its own.
    make_unique, strip_genome_prefix
        The readers' options of the same names.
    obs, uns
        The MuData's ``obs`` (default: the RNA's) and extra ``uns`` entries.
    sources
        The RNA and protein sources when they differ (a pair of files).

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``; ``uns["cmcvae_read"]`` records source, format and notes.
    """
    _check_not_empty(rna, prot, source)
    rna_src, prot_src = sources if sources is not None else (source, source)
    if strip_genome_prefix:
        _strip_genome_prefix(rna, notes)
    _unique_vars(rna, "RNA", rna_src, make_unique, notes)
    _unique_vars(prot, "protein", prot_src, make_unique, notes)
    _convert_and_check(rna, prot, rna_src, prot_src)
    shared = rna.var_names.intersection(prot.var_names)
    if len(shared):
        notes.add(f"{len(shared)} protein names are also gene names (e.g. {examples(shared, 3)}); "
                  "they stay distinct per modality (mdata['rna'] / mdata['prot']).")
    with quiet_names():
        mdata = md.MuData({RNA_MOD: rna, PROT_MOD: prot})
    mdata.obs = (rna.obs if obs is None else obs).copy()
    if uns:
        mdata.uns.update(uns)
    mdata.uns[READ_KEY] = {"source": source, "format": fmt, "notes": list(notes)}
    log.info("Read %s (%s): %d cells, %d genes, %d proteins.", source, fmt, rna.n_obs,
             rna.n_vars, prot.n_vars)
    return mdata


def pair_cells(rna: ad.AnnData, prot: ad.AnnData, rna_src: str, prot_src: str,
               notes: Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """Keep the cells in both (RNA order); error when none are shared."""
    unique_cells(rna, "RNA", rna_src, False, notes, paired_by_name=True)
    unique_cells(prot, "protein", prot_src, False, notes, paired_by_name=True)
    if np.array_equal(rna.obs_names, prot.obs_names):
        return rna, prot
    keep = rna.obs_names.isin(prot.obs_names)
    n_shared = int(keep.sum())
    if n_shared == 0:
        raise CMCVAEInputError(
            f"The RNA ({rna_src}) and protein ({prot_src}) data share no cell barcode: "
            f"{rna.n_obs} RNA cells (e.g. {examples(rna.obs_names, 3)}) and {prot.n_obs} protein "
            f"cells (e.g. {examples(prot.obs_names, 3)}). Make the barcodes match (a '-1' suffix "
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
