"""A fit on a perturbation screen (``cmcvae fit DATA --perturbation-key KEY --control-label LABELS``).

The data holds control cells and perturbed cells: ``obs[KEY]`` names each cell's targeted gene,
the control cells carry one of the control labels. The structure model's cells are the control
cells (observational data); the perturbed cells are added with
:meth:`~cmcvae.CMCVAE.set_interventions` — ``arch="sem"`` puts them in its likelihood (mean
shifts with a known or unknown footprint), ``arch="latent"`` does not use them. The effect layer
reads them back with :func:`cmcvae.tl._fitted.intervention_counts`. The run records what it was given in ``run.json``
(:func:`screen_record`) and ``interventions.csv`` (:func:`interventions_table`); ``cmcvae
validate`` then leaves the perturbations seen in training out of its scores
(:func:`trained_perturbations`, :func:`drop_trained`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

#: fewest cells of a label to count it as an intervention of the run
MIN_INTERVENTION_CELLS = 10
#: fewest control cells a screen fit trains on
MIN_CONTROL_CELLS = 50
#: the columns of ``interventions.csv``
INTERVENTION_COLUMNS = ("perturbation", "n_cells", "in_model")


def control_list(control_label: str | Sequence[str]) -> list[str]:
    """The control labels: a comma-separated string (``"control,NT"``) or a list of labels."""
    raw = control_label.split(",") if isinstance(control_label, str) else list(control_label)
    labels = [str(label).strip() for label in raw if str(label).strip()]
    if not labels:
        raise CMCVAEInputError("--control-label is empty; give the control label(s), e.g. "
                               "'control,NT'.")
    return labels


def obs_labels(data: md.MuData | ad.AnnData, key: str) -> pd.Series:
    """Per-cell labels of the ``obs`` column ``key`` as strings (``None`` where missing).

    Looked up in ``data.obs``, then in each modality's ``obs`` of a MuData; indexed like
    ``data.obs_names``.

    Raises
    ------
    CMCVAEInputError
        No such column; the message lists the obs columns there are.
    """
    frames = [data.obs] + ([m.obs for m in data.mod.values()] if isinstance(data, md.MuData) else [])
    for frame in frames:
        if key in frame.columns:
            col = frame[key] if frame is data.obs else frame[key].reindex(data.obs_names)
            values = col.astype(object).where(col.notna(), None)
            return pd.Series([None if v is None or str(v) == "" else str(v) for v in values],
                             index=data.obs_names, dtype=object)
    cols = sorted({str(c) for frame in frames for c in frame.columns})
    shown = f"{cols[:40]}{' …' if len(cols) > 40 else ''}"
    raise CMCVAEInputError(
        f"The data has no obs column {key!r} naming each cell's targeted gene (obs columns: "
        f"{shown}). Pass the column that holds the perturbation labels with --perturbation-key "
        "(perturbation_key=), or fit without it to train on every cell as observational data."
    )


def split_screen(data: md.MuData | ad.AnnData, perturbation_key: str,
                 control_label: str | Sequence[str],
                 ) -> tuple[md.MuData | ad.AnnData, dict[str, Any], tuple[Any, np.ndarray] | None]:
    """The control cells of a screen (a copy), what the screen holds, and its perturbed cells.

    Parameters
    ----------
    data
        The screen, read into memory (MuData, or an AnnData for a single-modality fit).
    perturbation_key
        ``obs`` column naming each cell's targeted gene.
    control_label
        Label(s) of the control cells (:func:`control_list`).

    Returns
    -------
    tuple
        The control cells; the screen record: ``perturbation_key``, ``control_label``
        (list), ``interventions`` (``{target: n_cells}`` for labels with at least
        :data:`MIN_INTERVENTION_CELLS` cells) and ``interventions_too_few`` (the others); and
        the cells of the interventions (a copy) with their labels (``None`` when every label
        has too few cells).

    Raises
    ------
    CMCVAEInputError
        A missing column, no or fewer than :data:`MIN_CONTROL_CELLS` control cells, or no
        perturbed cells.
    """
    controls = control_list(control_label)
    labels = obs_labels(data, perturbation_key)
    is_control = labels.isin(controls).to_numpy()
    n_control = int(is_control.sum())
    if n_control == 0:
        top = labels.dropna().value_counts().head(10)
        shown = ", ".join(f"{lab!r} ({n})" for lab, n in top.items()) or "none"
        raise CMCVAEInputError(
            f"No control cells: no cell of obs[{perturbation_key!r}] is labelled "
            f"{', '.join(map(repr, controls))}. The most frequent labels are {shown}. Pass the "
            "label(s) of the control cells with --control-label (comma-separated, e.g. "
            "'control,NT')."
        )
    if n_control < MIN_CONTROL_CELLS:
        raise CMCVAEInputError(
            f"Only {n_control} control cells (label {', '.join(map(repr, controls))}); a screen fit "
            f"trains the structure model on the control cells and needs at least "
            f"{MIN_CONTROL_CELLS}. Add control labels with --control-label (e.g. 'control,NT'), or "
            "fit without --perturbation-key to train on every cell."
        )
    counts = labels[~is_control].dropna().value_counts()
    if counts.empty:
        raise CMCVAEInputError(
            f"The data has no perturbed cells: every labelled cell of obs[{perturbation_key!r}] is a "
            "control. Fit it without --perturbation-key (observational data), or pass the screen "
            "that holds the perturbed cells."
        )
    counts = counts.sort_index()
    record = {
        "perturbation_key": perturbation_key, "control_label": controls,
        "interventions": {str(k): int(n) for k, n in counts.items() if n >= MIN_INTERVENTION_CELLS},
        "interventions_too_few": {str(k): int(n) for k, n in counts.items()
                                  if n < MIN_INTERVENTION_CELLS},
    }
    chosen = labels.isin(list(record["interventions"])).to_numpy()
    perturbed = (data[chosen].copy(), labels[chosen].to_numpy()) if chosen.any() else None
    return data[is_control].copy(), record, perturbed


def screen_record(record: dict[str, Any], genes: Sequence[str]) -> dict[str, Any]:
    """``record`` (:func:`split_screen`) with ``interventions_in_model``: its targets among ``genes``."""
    genes = set(genes)
    return {**record, "interventions_in_model": [t for t in record["interventions"] if t in genes]}


def interventions_table(record: dict[str, Any]) -> pd.DataFrame:
    """``interventions.csv``: ``perturbation,n_cells,in_model`` per intervention of the run."""
    in_model = set(record.get("interventions_in_model", []))
    rows = [(target, n, target in in_model) for target, n in record["interventions"].items()]
    return pd.DataFrame(rows, columns=list(INTERVENTION_COLUMNS))


def trained_perturbations(run_info: dict[str, Any]) -> list[str]:
    """The perturbations a screen fit saw (``run.json``): its interventions, those with too few
    cells included (the effect layer reads every perturbed cell); ``[]`` for other fits."""
    if not run_info.get("perturbation_key"):
        return []
    seen = {**(run_info.get("interventions_too_few") or {}), **(run_info.get("interventions") or {})}
    return sorted(str(t) for t in seen)


def drop_trained(screen: md.MuData | ad.AnnData, perturbation_key: str, trained: Sequence[str],
                 controls: Sequence[str]) -> tuple[md.MuData | ad.AnnData, list[str]]:
    """The screen without the cells of ``trained`` perturbations, and which of them it held.

    Raises
    ------
    CMCVAEInputError
        Every perturbation of the screen was in training.
    """
    labels = obs_labels(screen, perturbation_key)
    perturbed = labels.notna() & ~labels.isin(list(controls))
    in_training = labels.isin(list(trained)).to_numpy() & perturbed.to_numpy()
    found = sorted(set(labels[in_training]))
    if not found:
        return screen, []
    if not (perturbed.to_numpy() & ~in_training).any():
        raise CMCVAEInputError(
            f"Every perturbation of the screen ({len(found)}: {', '.join(found[:10])}"
            f"{' …' if len(found) > 10 else ''}) was in the run's training data (cmcvae fit "
            "--perturbation-key), so none is held out to score. Pass --include-trained "
            "(include_trained=True) to score them anyway, or validate on a screen of other "
            "perturbations."
        )
    return screen[~in_training].copy(), found


def held_out_column(predictions: pd.DataFrame, trained: Sequence[str]) -> pd.DataFrame:
    """``predictions`` with a boolean ``held_out`` column (False for a trained perturbation)."""
    out = predictions.copy()
    out["held_out"] = ~out["perturbation"].astype(str).isin(list(trained)).to_numpy()
    return out


def n_trained_scored(predictions: pd.DataFrame, trained: Sequence[str]) -> int:
    """How many trained perturbations the predictions table scores."""
    scored = set(predictions["perturbation"].astype(str)) if len(predictions) else set()
    return len(scored & set(trained))


def perturbed_mask(labels: pd.Series, controls: Sequence[str]) -> np.ndarray:
    """Cells with a label that is not a control label."""
    return (labels.notna() & ~labels.isin(list(controls))).to_numpy()
