"""ROC curves of the model and every baseline on the zero-shot screen (poster Fig. 2, left)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import auroc
from cmcvae.io import is_pathlike, read_csv, read_json, require_columns, run_dir
from cmcvae.pl._perturbation_auroc import VALIDATE
from cmcvae.pl._sources import is_results_data, stored_result
from cmcvae.pl.style import method_color, new_figure, save_figure


def method_scores(predictions: pd.DataFrame, model: str = "cmcvae") -> dict[str, np.ndarray]:
    """Predicted effects of each method in ``predictions.csv``, model first.

    Parameters
    ----------
    predictions
        ``predictions.csv`` of ``cmcvae validate`` (``predicted_effect`` is the model,
        ``predicted_<method>`` every other method).
    model
        Name shown for ``predicted_effect``.

    Returns
    -------
    dict
        ``{method: predicted effects}`` in column order.
    """
    out = {model: predictions["predicted_effect"].to_numpy(dtype=float)}
    for col in predictions.columns:
        if col.startswith("predicted_") and col != "predicted_effect":
            out[col.removeprefix("predicted_")] = predictions[col].to_numpy(dtype=float)
    return out


def _load(run: str | Path | pd.DataFrame | Any) -> tuple[pd.DataFrame, str]:
    if is_results_data(run):
        validation = stored_result(run, "validation", VALIDATE)
        return stored_result(run, "predictions", VALIDATE), str(validation.get("method", "cmcvae"))
    if not is_pathlike(run):
        return run, "cmcvae"
    folder = run_dir(run)
    predictions = read_csv(folder, "predictions.csv")
    model = "cmcvae"
    if (folder / "validation.json").is_file():
        model = str(read_json(folder, "validation.json").get("method", model))
    return predictions, model


def roc(run: str | Path | pd.DataFrame | Any, *, methods: Sequence[str] | None = None,
        save: str | Path | None = None) -> Figure:
    """ROC curves of zero-shot knockdown prediction, the model next to every baseline.

    Score = ``|predicted effect|``, label = the observed effect is significant (one point per
    scored perturbation–protein pair), as in ``validation.json``.

    Parameters
    ----------
    run
        Run folder after ``cmcvae validate`` (reads ``predictions.csv``), that table, or a
        MuData holding a validated run's results (:func:`cmcvae.tl.write_results` with the
        run folder).
    methods
        Methods to draw (default: all, model first).
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        One axis with one curve per method, its AUROC in the legend.

    Raises
    ------
    CMCVAEInputError
        ``predictions.csv`` is missing or has only one class of pairs.
    """
    predictions, model = _load(run)
    require_columns(predictions, ("predicted_effect", "significant"), "predictions.csv")
    labels = predictions["significant"].astype(str).str.lower().isin(["true", "1", "1.0"])
    labels = labels.to_numpy()
    if labels.all() or not labels.any():
        raise CMCVAEInputError(
            "ROC curves need both significant and non-significant pairs in predictions.csv; "
            f"this screen has {int(labels.sum())} significant of {labels.size}."
        )
    scores = method_scores(predictions, model)
    if methods is not None:
        unknown = [m for m in methods if m not in scores]
        if unknown:
            raise CMCVAEInputError(f"Unknown method(s) {unknown}; available: {list(scores)}.")
        scores = {m: scores[m] for m in methods}
    fig = new_figure(4.6, 4.4)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="0.6", lw=1, label="_chance")
    for i, (method, pred) in enumerate(scores.items()):
        keep = np.isfinite(pred)
        fpr, tpr, _ = roc_curve(labels[keep], np.abs(pred[keep]))
        area = auroc(np.abs(pred), labels)
        ax.plot(fpr, tpr, color=method_color(method, i), lw=2.4 if i == 0 else 1.4,
                label=f"{method} (AUROC {area:.3f})", zorder=3 if i == 0 else 2)
    ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate", ylabel="true positive rate",
           title=f"Zero-shot knockdown prediction ({labels.size} pairs, {int(labels.sum())} hits)")
    ax.title.set_fontsize(10)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return save_figure(fig, save)
