"""A screen's perturbed cells for the model: read once, in the model's features and donors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.model._inputs import read_inputs
from cmcvae.model.sem import InterventionData


def read_interventions(data: md.MuData | ad.AnnData, setup: dict[str, Any], labels: Sequence[Any],
                       genes: list[str], proteins: list[str],
                       donors: list[str]) -> InterventionData:
    """The perturbed cells of ``data`` as :class:`~cmcvae.model.sem.InterventionData`.

    Parameters
    ----------
    data
        The perturbed cells, with the same features as the model's data.
    setup
        The model's setup record (same modalities, layers and batch key).
    labels
        Each cell's target.
    genes, proteins, donors
        The model's features and donors; a cell of a donor the model has no cells of gets code
        ``-1`` (no batch-matched controls).

    Raises
    ------
    CMCVAEInputError
        ``labels`` does not match the cells, or the features differ from the model's.
    """
    inputs = read_inputs(data, setup)
    labels = np.asarray([None if v is None else str(v) for v in labels], dtype=object)
    if len(labels) != len(inputs.obs_names):
        raise CMCVAEInputError(
            f"{len(labels)} perturbation labels for {len(inputs.obs_names)} perturbed cells: pass "
            "one label per cell of the perturbed data."
        )
    if inputs.genes != genes or inputs.proteins != proteins:
        raise CMCVAEInputError(
            "The perturbed cells have other features than the model's data (genes or proteins "
            "differ in name or order): pass cells of the same screen file, subset the same way."
        )
    codes = pd.Categorical(inputs.donors, categories=donors).codes.astype(np.int64)
    return InterventionData(inputs.rna, np.asarray(inputs.prot), codes, labels)
