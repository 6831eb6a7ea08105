"""Model inputs from a MuData (RNA + protein) or one modality (AnnData / one-modality MuData).

:func:`make_setup` checks the data against the contract and returns the ``setup`` record that
:meth:`CMCVAE.setup_mudata` / :meth:`CMCVAE.setup_anndata` store in ``.uns``;
:func:`read_inputs` turns registered data into the matrices the model trains on. A missing
modality becomes a matrix with zero columns, so the model code has one path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import MODALITIES
from cmcvae._errors import CMCVAEInputError
from cmcvae.io._backed import as_rows, is_backed_sparse, stored_values
from cmcvae.io._contract import check_counts, check_mudata, get_counts


@dataclass
class ModelInputs:
    """Matrices of one dataset, cells in the same order in both modalities.

    Attributes
    ----------
    genes, proteins
        Feature names (an absent modality has none).
    rna
        Cells × genes (CSR, float32): raw counts, or the user's values when ``counts`` is false.
    prot
        Cells × proteins (dense float64): raw counts or values.
    donors
        Donor/batch label per cell.
    obs_names
        Cell barcodes.
    counts
        Whether the matrices hold raw counts (normalised by the model) or continuous values
        (only standardised).
    """

    genes: list[str]
    proteins: list[str]
    rna: sp.csr_matrix
    prot: np.ndarray
    donors: pd.Series
    obs_names: np.ndarray
    counts: bool

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities present: ``("rna", "protein")``, ``("rna",)`` or ``("protein",)``."""
        return tuple(m for m, f in zip(MODALITIES, (self.genes, self.proteins), strict=True) if f)


def _check_values(matrix, what: str, counts: bool) -> None:
    if counts:
        try:
            check_counts(matrix, what)
        except CMCVAEInputError as err:
            raise CMCVAEInputError(
                f"{err} If the {what} data are continuous values by design (log-expression, "
                "simulated levels, intensities), register them with counts=False."
            ) from None
        return
    if not all(np.isfinite(values).all() for values in stored_values(matrix)):
        raise CMCVAEInputError(
            f"The {what} values contain NaN or infinite entries; remove or impute them before fitting."
        )


def _donors(adata: ad.AnnData, batch_key: str | None, outer: pd.DataFrame | None = None) -> pd.Series:
    """Donor label per cell from ``adata.obs`` (or the MuData's ``outer`` obs)."""
    if batch_key is None:
        return pd.Series("all", index=adata.obs_names, name="donor")
    if batch_key in adata.obs.columns:
        donors = adata.obs[batch_key]
    elif outer is not None and batch_key in outer.columns:
        donors = outer[batch_key].reindex(adata.obs_names)
    else:
        cols = set(adata.obs.columns) | (set() if outer is None else set(outer.columns))
        raise CMCVAEInputError(
            f"Unknown batch key {batch_key!r}: no such column in obs. Available columns: "
            f"{sorted(cols)}. Pass the donor column (or None for a single batch)."
        )
    if donors.isna().any():
        raise CMCVAEInputError(
            f"The batch key {batch_key!r} has {int(donors.isna().sum())} missing values; give every "
            "cell a donor/batch label."
        )
    return donors.astype(str)


def _single(adata: ad.AnnData, modality: str, batch_key: str | None,
            outer: pd.DataFrame | None = None) -> pd.Series:
    if modality not in MODALITIES:
        raise CMCVAEInputError(f"Unknown modality {modality!r}; use 'rna' or 'protein'.")
    if adata.n_obs == 0 or adata.n_vars == 0:
        raise CMCVAEInputError(f"Empty input: {adata.n_obs} cells × {adata.n_vars} features.")
    if not adata.obs_names.is_unique:
        raise CMCVAEInputError("Cell barcodes are not unique; call `adata.obs_names_make_unique()`.")
    if not adata.var_names.is_unique:
        raise CMCVAEInputError("Feature names are not unique; call `adata.var_names_make_unique()`.")
    return _donors(adata, batch_key, outer)


def make_setup(data: md.MuData | ad.AnnData, *, batch_key: str | None, rna_mod: str | None,
               prot_mod: str | None, rna_layer: str | None, prot_layer: str | None,
               counts: bool, modality: str | None = None) -> dict[str, Any]:
    """Check ``data`` and return its setup record.

    For an AnnData, ``modality`` says what it holds (``"rna"`` or ``"protein"``); for a MuData,
    ``rna_mod`` / ``prot_mod`` name the modalities and one of them may be ``None``
    (single-modality mode). ``counts=False`` declares continuous values (log-expression,
    intensities, …) that are standardised but not count-normalised.
    """
    if not isinstance(counts, bool):
        raise CMCVAEInputError(f"counts must be True or False, not {counts!r}.")
    if isinstance(data, ad.AnnData):
        modality = modality or "rna"
        _single(data, modality, batch_key)
        layer = rna_layer if modality == "rna" else prot_layer
        what = "RNA" if modality == "rna" else "protein"
        _check_values(get_counts(data, layer, what), what, counts)
        return {"source": "anndata", "modality": modality, "batch_key": batch_key, "counts": counts,
                "rna_mod": None, "prot_mod": None, "rna_layer": layer if modality == "rna" else None,
                "prot_layer": layer if modality == "protein" else None}
    if not isinstance(data, md.MuData):
        raise CMCVAEInputError(
            f"Expected a MuData or AnnData, got {type(data).__name__}; read files with "
            "`cmcvae.io.read_input` or `mudata.read_h5mu`."
        )
    if rna_mod is None and prot_mod is None:
        raise CMCVAEInputError("Name at least one modality (rna_mod or prot_mod).")
    if rna_mod is not None and prot_mod is not None:
        check_mudata(data, batch_key, rna_mod, prot_mod)
    else:
        mod, name = (rna_mod, "rna") if rna_mod is not None else (prot_mod, "protein")
        if mod not in data.mod:
            raise CMCVAEInputError(
                f"The modality {mod!r} is missing; the data has modalities {list(data.mod)}."
            )
        _single(data.mod[mod], name, batch_key, data.obs)
    for mod, layer, what in ((rna_mod, rna_layer, "RNA"), (prot_mod, prot_layer, "protein")):
        if mod is not None:
            _check_values(get_counts(data.mod[mod], layer, what), what, counts)
    return {"source": "mudata", "batch_key": batch_key, "rna_mod": rna_mod, "prot_mod": prot_mod,
            "rna_layer": rna_layer, "prot_layer": prot_layer, "counts": counts}


def _modality_data(data, setup: dict[str, Any], which: str) -> ad.AnnData | None:
    if setup.get("source") == "anndata":
        return data if setup["modality"] == which else None
    mod = setup["rna_mod"] if which == "rna" else setup["prot_mod"]
    return None if mod is None else data.mod[mod]


def read_inputs(data: md.MuData | ad.AnnData, setup: dict[str, Any]) -> ModelInputs:
    """The matrices of registered ``data`` (see :func:`make_setup`)."""
    counts = bool(setup.get("counts", True))
    rna = _modality_data(data, setup, "rna")
    prot = _modality_data(data, setup, "protein")
    first = rna if rna is not None else prot
    if rna is not None and prot is not None:
        donors = check_mudata(data, setup.get("batch_key"), setup["rna_mod"], setup["prot_mod"])
    else:
        outer = data.obs if isinstance(data, md.MuData) else None
        donors = _donors(first, setup.get("batch_key"), outer)
    n = first.n_obs
    if rna is not None:
        x = get_counts(rna, setup.get("rna_layer"), "RNA")
        # a backed (on-disk) matrix stays on disk: minibatches read their rows
        rna_m = as_rows(x) if is_backed_sparse(x) else sp.csr_matrix(x, dtype=np.float32)
        genes = [str(g) for g in rna.var_names]
    else:
        rna_m, genes = sp.csr_matrix((n, 0), dtype=np.float32), []
    if prot is not None:
        p = get_counts(prot, setup.get("prot_layer"), "protein")
        p = p.toarray() if sp.issparse(p) else np.asarray(p)
        prot_m = p if p.dtype in (np.float32, np.float64) else p.astype(np.float64)  # no copy of floats
        proteins = [str(p) for p in prot.var_names]
    else:
        prot_m, proteins = np.zeros((n, 0)), []
    return ModelInputs(genes, proteins, rna_m, prot_m, donors, np.asarray(first.obs_names), counts)
