"""Reading a fitted run back for the workflows that score it: its model, its training cells and,
for a fit on a perturbation screen, its perturbed cells."""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import check_mudata, get_counts
from cmcvae.model import CMCVAE
from cmcvae.tl._modality import read_fit_data
from cmcvae.tl._screen_fit import control_list, obs_labels, perturbed_mask


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


def fitted_modality(model: CMCVAE) -> str:
    """``"both"``, or ``"rna"`` / ``"protein"`` for a single-modality model (``fit --modality``)."""
    if not model.proteins:
        return "rna"
    return "protein" if not model.genes else "both"


def training_counts(run: Path, data: str | Path | md.MuData | ad.AnnData | None,
                    model: CMCVAE) -> tuple:
    """RNA and protein counts of the training-split cells used to fit the run.

    Parameters
    ----------
    run
        Run folder; its ``run.json`` names the training data when ``data`` is ``None`` and its
        ``split.csv`` (when present) selects the training cells.
    data
        Training data (path, MuData or, for a single-modality run, AnnData), or ``None``.
    model
        The run's model: its genes, proteins and ``setup`` (modalities, layers, batch key).

    Returns
    -------
    tuple
        Count matrices (dense or sparse, as stored): cells × model genes and cells × model
        proteins; ``None`` for the modality a single-modality run left out
        (:func:`fitted_modality`).
    """
    rna, prot, mdata = _fitted_modalities(run, data, model)
    obs_names = (rna if rna is not None else prot).obs_names
    cells = _training_cells(run / "split.csv", obs_names)
    info = json_or_empty(run / "run.json")
    if info.get("perturbation_key"):  # a screen fit: its own cells (the split) are the controls
        labels = _screen_labels(mdata, obs_names, info["perturbation_key"])
        cells &= labels.isin(control_list(info.get("control_label") or "control")).to_numpy()
    return _counts(rna, prot, cells, model)


def intervention_counts(run: Path, data: str | Path | md.MuData | ad.AnnData | None,
                        model: CMCVAE) -> tuple:
    """The perturbed cells of a run fitted on a screen (``cmcvae fit --perturbation-key``).

    Every cell of the training data whose ``obs[perturbation_key]`` holds a label that is not a
    control label (as ``run.json`` records them), whether or not its label has enough cells to
    count as an intervention of the run; the feature columns are those of
    :func:`training_counts` (the model's genes and proteins, the same layers).

    Parameters
    ----------
    run
        Run folder of a screen fit; its ``run.json`` records the perturbation key, the control
        labels and (when ``data`` is ``None``) the training data.
    data
        Training data (path, MuData or, for a single-modality run, AnnData), or ``None``.
    model
        The run's model.

    Returns
    -------
    tuple
        ``(labels, rna_counts, prot_counts)``: each perturbed cell's label (a string array)
        and its counts, cells × model genes and cells × model proteins; ``None`` for the
        modality a single-modality run left out.

    Raises
    ------
    CMCVAEInputError
        The run was not fitted on a screen.
    """
    info = json_or_empty(run / "run.json")
    key = info.get("perturbation_key")
    if not key:
        raise CMCVAEInputError(
            f"The run {run} was not fitted on a perturbation screen (its run.json records no "
            "perturbation_key), so it has no intervention cells; fit it with `cmcvae fit DATA "
            "--perturbation-key KEY --control-label LABELS`."
        )
    rna, prot, mdata = _fitted_modalities(run, data, model)
    labels = _screen_labels(mdata, (rna if rna is not None else prot).obs_names, key)
    cells = perturbed_mask(labels, control_list(info.get("control_label") or "control"))
    return (labels.to_numpy()[cells].astype(str), *_counts(rna, prot, cells, model))


def screen_counts(run: Path, data: str | Path | md.MuData | ad.AnnData | None,
                  model: CMCVAE) -> tuple:
    """Every labelled cell of a screen fit's training data: controls and perturbed cells.

    Returns
    -------
    tuple
        ``(labels, is_control, batches, rna_counts, prot_counts)``: per cell its label, whether it
        is a control cell, its batch (``None`` when the run has no batch key) and its counts over
        the model's features (``None`` for a modality the run left out).
    """
    info = json_or_empty(run / "run.json")
    key = info.get("perturbation_key")
    if not key:
        raise CMCVAEInputError(f"The run {run} was not fitted on a perturbation screen.")
    rna, prot, mdata = _fitted_modalities(run, data, model)
    first = rna if rna is not None else prot
    labels = _screen_labels(mdata, first.obs_names, key)
    cells = labels.notna().to_numpy()
    control = ~perturbed_mask(labels, control_list(info.get("control_label") or "control"))
    batch_key = model.setup.get("batch_key")
    batches = None
    if batch_key:
        column = obs_labels(mdata, batch_key)
        batches = (column if column.index.equals(first.obs_names)
                   else column.reindex(first.obs_names)).to_numpy()[cells].astype(str)
    return (labels.to_numpy()[cells].astype(str), control[cells], batches,
            *_counts(rna, prot, cells, model))


def read_training_data(run: Path, data: str | Path | md.MuData | ad.AnnData | None,
                       model: CMCVAE) -> md.MuData | ad.AnnData:
    """The training data of a run, read once (``data`` itself when it is already in memory).

    Pass the result as ``data`` to :func:`training_counts`, :func:`screen_counts` and
    :func:`intervention_counts` so that a workflow needing several of them reads the file once.
    """
    data = _training_data(run, data)
    if isinstance(data, (md.MuData, ad.AnnData)):
        return data
    return read_fit_data(data, fitted_modality(model), backed=False)


def _fitted_modalities(run: Path, data, model: CMCVAE) -> tuple:
    """The RNA and protein AnnData of the training data a run was fitted on (``None`` for the
    modality a single-modality run left out), and the data they come from."""
    mdata = read_training_data(run, data, model)
    modality = fitted_modality(model)
    setup = model.setup
    if modality == "both":
        check_mudata(mdata, setup.get("batch_key"), setup["rna_mod"], setup["prot_mod"])
    rna = _modality_data(mdata, setup.get("rna_mod"), modality == "rna")
    prot = _modality_data(mdata, setup.get("prot_mod"), modality == "protein")
    if rna is not None:
        missing = set(model.genes) - set(rna.var_names)
        if missing:
            raise CMCVAEInputError(
                f"The training data does not contain {len(missing)} of the model's genes; pass "
                "the file the run was fitted on with --data."
            )
    return rna, prot, mdata


def _screen_labels(mdata: md.MuData | ad.AnnData, obs_names: pd.Index, key: str) -> pd.Series:
    """The perturbation labels of the training data, in the order of ``obs_names``."""
    labels = obs_labels(mdata, key)
    return labels if labels.index.equals(obs_names) else labels.reindex(obs_names)


def _counts(rna, prot, cells: np.ndarray, model: CMCVAE) -> tuple:
    """Counts of ``cells`` over the model's genes and proteins (``None`` for a missing modality)."""
    setup = model.setup
    return (None if rna is None else get_counts(rna[cells, model.genes], setup.get("rna_layer"), "RNA"),
            None if prot is None else get_counts(prot[cells, model.proteins], setup.get("prot_layer"),
                                                 "protein"))


def _training_data(run: Path, data):
    """``data``, or the training data ``run.json`` records (a clean error when it records none)."""
    if data is not None:
        return data
    data = json_or_empty(run / "run.json").get("data")
    if data is not None and not isinstance(data, str):
        raise CMCVAEInputError(_corrupt(run / "run.json", f"its 'data' is {data!r}, not a path"))
    if not data:
        raise CMCVAEInputError(
            f"The run {run} does not record its training data; pass it with --data TRAIN.h5mu."
        )
    return data


def _modality_data(data: md.MuData | ad.AnnData, name: str | None, alone: bool):
    """One modality of the training data: ``mod[name]``, the AnnData itself when it is the
    only modality (``alone``), or ``None`` when the run does not use it."""
    if isinstance(data, ad.AnnData):
        return data if alone else None
    if name is None:
        return None
    if name not in data.mod:
        raise CMCVAEInputError(
            f"The training data has no modality {name!r} (it has {list(data.mod)}); pass the file "
            "the run was fitted on with --data."
        )
    return data.mod[name]


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
