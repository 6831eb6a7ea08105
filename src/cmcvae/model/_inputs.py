"""Model inputs from a MuData (RNA + protein) or one modality (AnnData / one-modality MuData).

:func:`make_setup` checks the data against the contract (defined and checked in
:mod:`cmcvae.io`, :func:`~cmcvae.io.check_input`) and returns the ``setup`` record that
:meth:`CMCVAE.setup_mudata` / :meth:`CMCVAE.setup_anndata` store in ``.uns``;
:func:`read_inputs` turns registered data into the matrices the model trains on, with the donors
from :func:`~cmcvae.io.check_layout`. A missing modality becomes a matrix with zero columns, so
the model code has one path.
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
from cmcvae.io import (
    as_rows,
    check_input,
    check_layout,
    get_counts,
    input_modalities,
    is_backed_sparse,
)


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


def make_setup(data: md.MuData | ad.AnnData, *, batch_key: str | None, rna_mod: str | None,
               prot_mod: str | None, rna_layer: str | None, prot_layer: str | None,
               counts: bool, modality: str | None = None) -> dict[str, Any]:
    """Check ``data`` against the data contract (:func:`cmcvae.io.check_input`) and return its
    setup record.

    For an AnnData, ``modality`` says what it holds (``"rna"`` or ``"protein"``); for a MuData,
    ``rna_mod`` / ``prot_mod`` name the modalities and one of them may be ``None``
    (single-modality mode). ``counts=False`` declares continuous values (log-expression,
    intensities, …) that are standardised but not count-normalised.
    """
    if not isinstance(counts, bool):
        raise CMCVAEInputError(f"counts must be True or False, not {counts!r}.")
    if isinstance(data, ad.AnnData):
        modality = modality or "rna"
        layer = rna_layer if modality == "rna" else prot_layer
        check_input(data, batch_key=batch_key, rna_mod=None, prot_mod=None, rna_layer=layer,
                    prot_layer=layer, counts=counts, modality=modality)
        return {"source": "anndata", "modality": modality, "batch_key": batch_key, "counts": counts,
                "rna_mod": None, "prot_mod": None, "rna_layer": layer if modality == "rna" else None,
                "prot_layer": layer if modality == "protein" else None}
    check_input(data, batch_key=batch_key, rna_mod=rna_mod, prot_mod=prot_mod, rna_layer=rna_layer,
                prot_layer=prot_layer, counts=counts)
    return {"source": "mudata", "batch_key": batch_key, "rna_mod": rna_mod, "prot_mod": prot_mod,
            "rna_layer": rna_layer, "prot_layer": prot_layer, "counts": counts}


def _rna_matrix(rna: ad.AnnData | None, layer: str | None, n: int) -> tuple[Any, list[str]]:
    """RNA as CSR float32 (a backed matrix stays on disk: minibatches read its rows) and genes."""
    if rna is None:
        return sp.csr_matrix((n, 0), dtype=np.float32), []
    x = get_counts(rna, layer, "RNA")
    matrix = as_rows(x) if is_backed_sparse(x) else sp.csr_matrix(x, dtype=np.float32)
    return matrix, [str(g) for g in rna.var_names]


def _prot_matrix(prot: ad.AnnData | None, layer: str | None, n: int) -> tuple[np.ndarray, list[str]]:
    """Proteins as a dense float array (floats kept without a copy) and protein names."""
    if prot is None:
        return np.zeros((n, 0)), []
    p = get_counts(prot, layer, "protein")
    p = p.toarray() if sp.issparse(p) else np.asarray(p)
    matrix = p if p.dtype in (np.float32, np.float64) else p.astype(np.float64)
    return matrix, [str(name) for name in prot.var_names]


def read_inputs(data: md.MuData | ad.AnnData, setup: dict[str, Any]) -> ModelInputs:
    """The matrices of registered ``data`` (see :func:`make_setup`).

    The layout is checked again (cheap: no pass over the values), because a setup record saved
    in ``.uns`` can outlive the data it was made on; the same check gives the donors.
    """
    rna_mod, prot_mod, modality = setup.get("rna_mod"), setup.get("prot_mod"), setup.get("modality")
    donors = check_layout(data, setup.get("batch_key"), rna_mod, prot_mod, modality)
    rna, prot = input_modalities(data, rna_mod, prot_mod, modality)
    first = rna if rna is not None else prot
    n = first.n_obs
    rna_m, genes = _rna_matrix(rna, setup.get("rna_layer"), n)
    prot_m, proteins = _prot_matrix(prot, setup.get("prot_layer"), n)
    return ModelInputs(genes, proteins, rna_m, prot_m, donors, np.asarray(first.obs_names),
                       bool(setup.get("counts", True)))
