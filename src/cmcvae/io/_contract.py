"""The model-input data contract (``docs/design.md`` §2), checked here and nowhere else.

Data the model can be set up on is a MuData with an RNA and a protein modality of the same cells
(or one of them), or one AnnData of either modality, such that:

- the modalities exist and are not empty; two modalities hold the same cells in the same order;
- cell barcodes are unique (and, for one modality, feature names);
- the values are raw counts (finite, non-negative integers of at most :data:`MAX_COUNT`, i.e.
  10⁷, per entry; :func:`check_counts`) or, declared with ``counts=False``, finite continuous
  values (:func:`check_values`); a modality whose values are all zero is refused;
- the batch key, when given, is a column of ``obs`` with a label for every cell.

:func:`check_layout` checks everything but the values and returns the donor label per cell
(the one place donors are resolved); :func:`check_input` adds the values. ``check_mudata`` is the
layout check of a two-modality MuData. :func:`read_input` reads any supported file into data that
meets the contract (the readers build it that way, see :mod:`cmcvae.io._read`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._constants import MODALITIES, PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.io._backed import stored_values
from cmcvae.io._read import read_dataset

md.set_options(pull_on_update=False)

#: The largest count one entry (a gene or protein in one cell) may hold. Real UMI counts stay far
#: below it (a whole cell holds ~10³–10⁵ UMIs); a larger value is a corrupt or mis-scaled
#: matrix (e.g. an int32 overflow), refused before anything is sized from it.
MAX_COUNT = 10_000_000


def read_input(path: str | Path, protein_path: str | Path | None = None, **kwargs: Any) -> md.MuData:
    """Read a CITE-seq dataset into a MuData with ``rna`` and ``prot`` modalities.

    Delegates to :func:`cmcvae.io.read_dataset`, which detects the format from the
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
        :func:`cmcvae.io.read_dataset`.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot`` with the same cells in the same order.

    Raises
    ------
    CMCVAEInputError
        A missing file, an unsupported or misnamed format, or data that fails the readers' checks.
    """
    return read_dataset(path, protein_path, **kwargs)


# ---------------------------------------------------------------------------------------------
# values


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
        if chunk.size and float(chunk.max()) > MAX_COUNT:
            raise CMCVAEInputError(
                f"The {what} counts contain an implausible value ({float(chunk.max()):.6g}; the "
                f"largest count cmcvae accepts for one entry is {MAX_COUNT:.0e}): the matrix is "
                "corrupt or not raw counts (e.g. an integer overflow, or values scaled by a large "
                "factor). Fix or remove that entry, or store the raw UMI counts."
            )


def check_values(matrix, what: str, counts: bool = True) -> None:
    """Raw counts (``counts=True``, see :func:`check_counts`) or finite continuous values;
    either way not all zero (:func:`check_not_all_zero`)."""
    if counts:
        try:
            check_counts(matrix, what)
        except CMCVAEInputError as err:
            raise CMCVAEInputError(
                f"{err} If the {what} data are continuous values by design (log-expression, "
                "simulated levels, intensities), register them with counts=False."
            ) from None
    elif not all(np.isfinite(values).all() for values in stored_values(matrix)):
        raise CMCVAEInputError(
            f"The {what} values contain NaN or infinite entries; remove or impute them before fitting."
        )
    check_not_all_zero(matrix, what)


def check_not_all_zero(matrix, what: str) -> None:
    """Refuse a modality whose values are all zero (nothing to learn from; the fit would
    still "succeed" and report a meaningless graph). Cells with zero counts are fine."""
    if any(np.any(values != 0) for values in stored_values(matrix)):
        return
    raise CMCVAEInputError(
        f"The {what} matrix is all zeros (shape {tuple(matrix.shape)}): there is nothing to learn "
        f"from. Check that the {what} counts were read from the right file, layer or modality "
        "(.X or layers['counts']), or leave that modality out (cmcvae fit --modality)."
    )


# ---------------------------------------------------------------------------------------------
# layout and donors


def _donors(batch_key: str | None, cells: pd.Index, frames: Sequence[pd.DataFrame],
            listed: Sequence[pd.DataFrame]) -> pd.Series:
    """Donor label per cell from the first of ``frames`` with the column ``batch_key``.

    A frame indexed otherwise than ``cells`` is reindexed to them; ``listed`` are the frames
    whose columns an unknown batch key's message lists.
    """
    if batch_key is None:
        return pd.Series("all", index=cells, name="donor")
    for frame in frames:
        if batch_key in frame.columns:
            donors = frame[batch_key]
            if not frame.index.equals(cells):
                donors = donors.reindex(cells)
            if donors.isna().any():
                raise CMCVAEInputError(
                    f"The batch key {batch_key!r} has {int(donors.isna().sum())} missing values; "
                    "give every cell a donor/batch label."
                )
            return donors.astype(str)
    cols = sorted(set().union(*(frame.columns for frame in listed)))
    raise CMCVAEInputError(
        f"Unknown batch key {batch_key!r}: no such column in obs. Available columns: {cols}. "
        "Pass the donor column (batch_key=… / --batch-key), or omit it for a single batch."
    )


def check_mudata(mdata: md.MuData, batch_key: str | None, rna_mod: str = RNA_MOD,
                 prot_mod: str = PROT_MOD) -> pd.Series:
    """Check modalities, cells and batch key of a two-modality MuData; return the donor labels.

    The batch key is looked up in ``mdata.obs`` (when it covers exactly these cells), then in the
    RNA and the protein modality's ``obs``.

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
                f"them 'rna' and 'prot' in the file, or pass their names in Python with "
                f"`CMCVAE.setup_mudata(mdata, rna_mod=..., prot_mod=...)`."
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
    listed = (mdata.obs, rna.obs, prot.obs)
    frames = [frame for frame in listed if len(frame) == rna.n_obs]
    return _donors(batch_key, rna.obs_names, frames, listed)


def _check_modality(adata: ad.AnnData, modality: str, batch_key: str | None,
                    outer: pd.DataFrame | None = None) -> pd.Series:
    """Check one modality (an AnnData, or one of a MuData with ``obs`` ``outer``); donors."""
    if modality not in MODALITIES:
        raise CMCVAEInputError(f"Unknown modality {modality!r}; use 'rna' or 'protein'.")
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise CMCVAEInputError(f"Empty input: {adata.n_obs} cells × {adata.n_vars} features.")
    if not adata.obs_names.is_unique:
        raise CMCVAEInputError("Cell barcodes are not unique; call `adata.obs_names_make_unique()`.")
    if not adata.var_names.is_unique:
        raise CMCVAEInputError("Feature names are not unique; call `adata.var_names_make_unique()`.")
    frames = (adata.obs,) if outer is None else (adata.obs, outer)
    return _donors(batch_key, adata.obs_names, frames, frames)


def input_modalities(data: md.MuData | ad.AnnData, rna_mod: str | None, prot_mod: str | None,
                     modality: str | None = None) -> tuple[ad.AnnData | None, ad.AnnData | None]:
    """The RNA and the protein AnnData of ``data`` (``None`` for an absent modality).

    An AnnData holds ``modality`` (``"rna"``, the default, or ``"protein"``); a MuData holds the
    modalities named ``rna_mod`` / ``prot_mod`` (either may be ``None``).
    """
    if isinstance(data, ad.AnnData):
        return (data, None) if (modality or "rna") == "rna" else (None, data)
    return (None if rna_mod is None else data.mod[rna_mod],
            None if prot_mod is None else data.mod[prot_mod])


def check_layout(data: md.MuData | ad.AnnData, batch_key: str | None, rna_mod: str | None = RNA_MOD,
                 prot_mod: str | None = PROT_MOD, modality: str | None = None) -> pd.Series:
    """Check everything in the contract but the values; return the donor label per cell.

    Parameters
    ----------
    data
        A MuData (modalities ``rna_mod`` and ``prot_mod``, one of them may be ``None``) or an
        AnnData holding ``modality`` (``"rna"``, the default, or ``"protein"``).
    batch_key
        Column of ``obs`` with the donor/batch of each cell (``None``: one batch, ``"all"``).

    Returns
    -------
    pandas.Series
        Donor label (str) per cell, indexed by the cell barcodes, in the data's order.

    Raises
    ------
    CMCVAEInputError
        Not a MuData/AnnData, a missing or unknown modality, empty data, mismatched or duplicated
        cells, duplicated feature names of one modality, or an unknown or incomplete batch key.
    """
    if isinstance(data, ad.AnnData):
        return _check_modality(data, modality or "rna", batch_key)
    if not isinstance(data, md.MuData):
        raise CMCVAEInputError(
            f"Expected a MuData or AnnData, got {type(data).__name__}; read files with "
            "`cmcvae.io.read_input` or `mudata.read_h5mu`."
        )
    if rna_mod is None and prot_mod is None:
        raise CMCVAEInputError("Name at least one modality (rna_mod or prot_mod).")
    if rna_mod is not None and prot_mod is not None:
        return check_mudata(data, batch_key, rna_mod, prot_mod)
    mod, name = (rna_mod, "rna") if rna_mod is not None else (prot_mod, "protein")
    if mod not in data.mod:
        raise CMCVAEInputError(
            f"The modality {mod!r} is missing; the data has modalities {list(data.mod)}."
        )
    return _check_modality(data.mod[mod], name, batch_key, data.obs)


def check_input(data: md.MuData | ad.AnnData, *, batch_key: str | None, rna_mod: str | None,
                prot_mod: str | None, rna_layer: str | None = None, prot_layer: str | None = None,
                counts: bool = True, modality: str | None = None) -> pd.Series:
    """Check ``data`` against the whole contract: layout (:func:`check_layout`) and values.

    Parameters
    ----------
    data, batch_key, rna_mod, prot_mod, modality
        As in :func:`check_layout`.
    rna_layer, prot_layer
        Layers with the values (default ``layers['counts']`` if present, else ``.X``).
    counts
        Whether the values must be raw counts (else finite continuous values).

    Returns
    -------
    pandas.Series
        Donor label (str) per cell.
    """
    donors = check_layout(data, batch_key, rna_mod, prot_mod, modality)
    rna, prot = input_modalities(data, rna_mod, prot_mod, modality)
    for adata, layer, what in ((rna, rna_layer, "RNA"), (prot, prot_layer, "protein")):
        if adata is not None:
            check_values(get_counts(adata, layer, what), what, counts)
    return donors
