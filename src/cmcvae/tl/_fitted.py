"""Reading a fitted run back for the workflows that score it: its model and its training cells."""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import check_mudata, get_counts, read_input
from cmcvae.model import CMCVAE
from cmcvae.tl._modality import read_fit_data


def json_or_empty(path: Path) -> dict:
    """The JSON object in ``path``, or ``{}`` when the file does not exist.

    Raises
    ------
    CMCVAEInputError
        When the file is not a JSON object (cut, edited by hand, or not cmcvae's).
    """
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CMCVAEInputError(_corrupt(path, f"not valid JSON: {err}")) from None
    if not isinstance(data, dict):
        raise CMCVAEInputError(_corrupt(path, f"a JSON {type(data).__name__}, not an object"))
    return data


def _corrupt(path: Path, problem: str) -> str:
    """The message for a run-folder file that cmcvae cannot read back."""
    return (f"{path} is corrupt ({problem}). cmcvae writes this file itself: restore it from a "
            f"copy, or fit the run again (`cmcvae fit ... --out {path.parent}`).")


def load_fitted(run: Path) -> CMCVAE:
    """The model of the run folder ``run`` (a clean error when ``run`` is not a run folder)."""
    if not (run / "model").is_dir():
        raise CMCVAEInputError(f"{run} is not a run folder (no model/); fit one with `cmcvae fit`.")
    model = CMCVAE.load(run / "model")
    json_or_empty(run / "run.json")  # a corrupt run record is refused up front, not skipped
    if (run / "split.csv").exists():
        _read_split(run / "split.csv", nrows=0)
    return model


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
        if data is not None and not isinstance(data, str):
            raise CMCVAEInputError(_corrupt(run / "run.json", f"its 'data' is {data!r}, not a path"))
        if not data:
            raise CMCVAEInputError(
                f"The run {run} does not record its training data; pass it with --data TRAIN.h5mu."
            )
    setup = model.setup
    if setup.get("rna_mod") is None or setup.get("prot_mod") is None:
        return _one_modality_counts(run, data, model)
    mdata = data if isinstance(data, md.MuData) else read_input(data)
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


def _one_modality_counts(run: Path, data: str | Path | md.MuData | ad.AnnData,
                         model: CMCVAE) -> tuple:
    """:func:`training_counts` of a ``--modality rna|protein`` run: ``None`` for the other."""
    setup, rna_run = model.setup, bool(model.genes)
    mod, names, what = ((setup.get("rna_mod"), model.genes, "RNA") if rna_run
                        else (setup.get("prot_mod"), model.proteins, "protein"))
    if not isinstance(data, (md.MuData, ad.AnnData)):
        data = read_fit_data(data, "rna" if rna_run else "protein", False)
    adata = data.mod[mod] if isinstance(data, md.MuData) and mod in data.mod else data
    if isinstance(adata, md.MuData) or set(names) - set(adata.var_names):
        raise CMCVAEInputError(
            f"The training data does not contain the model's {what} features; pass the file the "
            "run was fitted on with --data."
        )
    cells = _training_cells(run / "split.csv", adata.obs_names)
    counts = get_counts(adata[cells, names], setup.get("rna_layer" if rna_run else "prot_layer"), what)
    return (counts, None) if rna_run else (None, counts)


def _training_cells(split_file: Path, obs_names: pd.Index) -> np.ndarray:
    """Mask of the training-split cells (every cell without ``split.csv`` or when none match)."""
    cells = np.ones(len(obs_names), dtype=bool)
    if split_file.exists():
        split = _read_split(split_file)
        train_cells = split.loc[split["split"] == "train", "cell"].astype(str).to_numpy()
        cells = np.isin(obs_names.astype(str).to_numpy(), train_cells)
        if not cells.any():
            cells[:] = True
    return cells


def _read_split(split_file: Path, nrows: int | None = None) -> pd.DataFrame:
    """``split.csv`` (columns ``cell,split``), or a clear error when it is corrupt."""
    try:
        split = pd.read_csv(split_file, dtype=str, nrows=nrows)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as err:
        raise CMCVAEInputError(_corrupt(split_file, f"not a CSV table: {err}")) from None
    if not {"cell", "split"} <= set(split.columns):
        raise CMCVAEInputError(_corrupt(split_file, f"columns {list(split.columns)}, expected "
                                                    "cell,split"))
    return split
