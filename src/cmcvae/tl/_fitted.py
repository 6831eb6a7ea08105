"""Reading a fitted run back for the workflows that score it: its model and its training cells."""

from __future__ import annotations

import json
from pathlib import Path

import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import check_mudata, get_counts, read_input
from cmcvae.model import CMCVAE


def json_or_empty(path: Path) -> dict:
    """The JSON object in ``path``, or ``{}`` when the file does not exist."""
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def load_fitted(run: Path) -> CMCVAE:
    """The model of the run folder ``run`` (a clean error when ``run`` is not a run folder)."""
    if not (run / "model").is_dir():
        raise CMCVAEInputError(f"{run} is not a run folder (no model/); fit one with `cmcvae fit`.")
    return CMCVAE.load(run / "model")


def training_counts(run: Path, data: str | Path | md.MuData | None, model: CMCVAE) -> tuple:
    """RNA and protein counts of the training-split cells used to fit the run.

    Parameters
    ----------
    run
        Run folder; its ``run.json`` names the training data when ``data`` is ``None`` and its
        ``split.csv`` (when present) selects the training cells.
    data
        Training data (path or MuData), or ``None``.
    model
        The run's model: its genes, proteins and ``setup`` (modalities, layers, batch key).

    Returns
    -------
    tuple
        Count matrices (dense or sparse, as stored): cells × model genes and cells × model
        proteins.
    """
    if data is None:
        data = json_or_empty(run / "run.json").get("data")
        if not data:
            raise CMCVAEInputError(
                f"The run {run} does not record its training data; pass it with --data TRAIN.h5mu."
            )
    mdata = data if isinstance(data, md.MuData) else read_input(data)
    setup = model.setup
    check_mudata(mdata, setup.get("batch_key"), setup["rna_mod"], setup["prot_mod"])
    rna = mdata.mod[setup["rna_mod"]]
    prot = mdata.mod[setup["prot_mod"]]
    missing = set(model.genes) - set(rna.var_names)
    if missing:
        raise CMCVAEInputError(
            f"The training data does not contain {len(missing)} of the model's genes; pass the file "
            "the run was fitted on with --data."
        )
    cells = _training_cells(run / "split.csv", rna.obs_names)
    return (get_counts(rna[cells, model.genes], setup.get("rna_layer"), "RNA"),
            get_counts(prot[cells, model.proteins], setup.get("prot_layer"), "protein"))


def _training_cells(split_file: Path, obs_names: pd.Index) -> np.ndarray:
    """Mask of the training-split cells (every cell without ``split.csv`` or when none match)."""
    cells = np.ones(len(obs_names), dtype=bool)
    if split_file.exists():
        split = pd.read_csv(split_file)
        train_cells = split.loc[split["split"] == "train", "cell"].astype(str).to_numpy()
        cells = np.isin(obs_names.astype(str).to_numpy(), train_cells)
        if not cells.any():
            cells[:] = True
    return cells
