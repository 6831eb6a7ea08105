"""Reading model input and checking it against the data contract (docs/design.md §2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError

md.set_options(pull_on_update=False)



def read_input(path: str | Path, protein_path: str | Path | None = None, **kwargs: Any) -> md.MuData:
    """Read a CITE-seq dataset into a MuData with ``rna`` and ``prot`` modalities.

    Delegates to :func:`cmcvae.io._readers.read_dataset`, which detects the format from the
    content: ``.h5mu``; ``.h5ad`` with proteins in ``.obsm["protein_expression"]`` or with
    ``.var["feature_types"]``; 10x ``.h5`` and ``matrix.mtx`` folders; and, with
    ``protein_path``, pairs of ``.h5ad``, CSV/TSV or ``.mtx`` files.

    Parameters
    ----------
    path
        The dataset, or the RNA file of a pair.
    protein_path
        The protein file of a pair.
    **kwargs
        Reader options (e.g. ``make_unique=True``, ``orientation=...``); see
        :func:`~cmcvae.io._readers.read_dataset`.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` with the same cells in the same order.

    Raises
    ------
    CMCVAEInputError
        A missing file, an unsupported or misnamed format, or data that fails the readers' checks.
    """
    from cmcvae.io._readers import read_dataset

    return read_dataset(path, protein_path, **kwargs)


def get_counts(adata: ad.AnnData, layer: str | None, what: str):
    """Raw counts of a modality: ``layer`` if given, else ``layers['counts']`` if present, else ``.X``."""
    if layer is not None:
        if layer not in adata.layers:
            raise CMCVAEInputError(
                f"Layer {layer!r} not found in the {what} modality; available layers: "
                f"{list(adata.layers)} (omit the option to use layers['counts'] or .X)."
            )
        return adata.layers[layer]
    if "counts" in adata.layers:
        return adata.layers["counts"]
    return adata.X


def check_counts(matrix, what: str, require_integer: bool = True, block: int = 1 << 24) -> None:
    """Raise a clear error for NaN/inf, negative or (optionally) non-integer counts.

    The stored values are checked in blocks of ``block`` entries, so an atlas-sized matrix
    needs no full-size temporary arrays.
    """
    if matrix is None:
        raise CMCVAEInputError(f"The {what} modality has no data matrix (.X is empty).")
    from cmcvae.io._backed import stored_values

    for chunk in stored_values(matrix, block):
        finite = np.isfinite(chunk)
        if not finite.all():
            raise CMCVAEInputError(
                f"The {what} counts contain NaN or infinite values. Remove or fill them "
                "(cmcvae expects raw counts) before fitting."
            )
        if (chunk < 0).any():
            raise CMCVAEInputError(
                f"The {what} counts contain negative values ({chunk.min():.3g}): cmcvae expects raw, "
                "non-negative counts, not normalised or scaled values. Put the raw counts in .X or "
                "layers['counts']."
            )
        if require_integer and chunk.dtype.kind == "f":
            frac = np.abs(chunk - np.round(chunk)) > 1e-6 * np.maximum(1.0, np.abs(chunk))
            if frac.any():
                raise CMCVAEInputError(
                    f"The {what} counts are not integers (e.g. {chunk[np.argmax(frac)]:.4g}): "
                    "cmcvae expects raw counts. If .X holds normalised values, store the raw counts in "
                    "layers['counts']."
                )


def check_mudata(mdata: md.MuData, batch_key: str | None, rna_mod: str = RNA_MOD,
                 prot_mod: str = PROT_MOD) -> pd.Series:
    """Check modalities, cells and batch key; return the donor labels per cell.

    Raises
    ------
    CMCVAEInputError
        Missing modality, mismatched cells, empty data or unknown batch key.
    """
    for mod, what in ((rna_mod, "RNA"), (prot_mod, "protein")):
        if mod not in mdata.mod:
            raise CMCVAEInputError(
                f"The {what} modality {mod!r} is missing; the data has modalities "
                f"{list(mdata.mod)}. CMC-VAE needs RNA and protein from the same cells: name "
                f"them 'rna' and 'prot' or pass the names (--rna-mod / --protein-mod)."
            )
    rna, prot = mdata.mod[rna_mod], mdata.mod[prot_mod]
    if rna.n_obs == 0 or rna.n_vars == 0 or prot.n_vars == 0:
        raise CMCVAEInputError(
            f"Empty input: {rna.n_obs} cells, {rna.n_vars} genes, {prot.n_vars} proteins."
        )
    if rna.n_obs != prot.n_obs or not np.array_equal(rna.obs_names, prot.obs_names):
        shared = len(set(rna.obs_names) & set(prot.obs_names))
        raise CMCVAEInputError(
            f"RNA and protein do not hold the same cells in the same order ({rna.n_obs} RNA cells, "
            f"{prot.n_obs} protein cells, {shared} shared barcodes). Keep the shared cells in both, "
            "e.g. `mudata.pp.intersect_obs(mdata)`, and make sure the barcodes match."
        )
    if not rna.obs_names.is_unique:
        raise CMCVAEInputError("Cell barcodes are not unique; call `mdata.obs_names_make_unique()`.")
    if batch_key is None:
        return pd.Series("all", index=rna.obs_names, name="donor")
    for frame in (mdata.obs, rna.obs, prot.obs):
        if batch_key in frame.columns and len(frame) == rna.n_obs:
            donors = frame[batch_key].reindex(rna.obs_names) if frame is mdata.obs else frame[batch_key]
            if donors.isna().any():
                raise CMCVAEInputError(
                    f"The batch key {batch_key!r} has {int(donors.isna().sum())} missing values; "
                    "give every cell a donor/batch label."
                )
            return donors.astype(str)
    cols = sorted(set(mdata.obs.columns) | set(rna.obs.columns) | set(prot.obs.columns))
    raise CMCVAEInputError(
        f"Unknown batch key {batch_key!r}: no such column in obs. Available columns: {cols}. "
        "Pass the donor column with --batch-key (or omit it for a single batch)."
    )
