"""Training curves: losses and ELBO per epoch, DAGMA stages shaded, and h(A)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, producer, read_json
from cmcvae.pl._sources import is_model
from cmcvae.pl.style import new_figure, save_figure

#: Curves of the top panel: history key → (label, colour, line style).
LOSS_CURVES = {
    "train_loss": ("train loss", "#c0392b", "-"),
    "val_loss": ("validation loss", "#c0392b", "--"),
    "train_elbo": ("train −ELBO", "#2471a3", "-"),
    "val_elbo": ("validation −ELBO", "#2471a3", "--"),
}
H_CURVES = {"train_h": ("train h(A)", "#1e8449", "-"), "val_h": ("validation h(A)", "#1e8449", "--")}


def history_frame(run: str | Path | dict[str, Any] | Sequence[dict] | pd.DataFrame) -> pd.DataFrame:
    """The per-epoch training history as a table.

    Parameters
    ----------
    run
        Run folder (reads ``metrics.json``), the ``metrics.json`` dict, its ``history`` list,
        a table of it, or a trained :class:`~cmcvae.CMCVAE` (its ``history``).

    Returns
    -------
    pandas.DataFrame
        One row per epoch (``epoch``, ``stage``, losses …).

    Raises
    ------
    CMCVAEInputError
        No history is recorded.
    """
    if is_model(run):
        run = run.history
    if isinstance(run, pd.DataFrame):
        hist = run
    else:
        metrics = read_json(run, "metrics.json") if is_pathlike(run) else run
        records = metrics.get("history") if isinstance(metrics, dict) else metrics
        hist = pd.DataFrame(list(records or []))
    if hist.empty:
        raise CMCVAEInputError(
            f"metrics.json has no per-epoch history; refit with `{producer('metrics.json')}`."
        )
    if "epoch" not in hist:
        hist = hist.assign(epoch=np.arange(len(hist), dtype=float))
    return hist.reset_index(drop=True)


def _shade_stages(ax: Axes, hist: pd.DataFrame, label: bool) -> int:
    if "stage" not in hist:
        return 0
    epoch = hist["epoch"].to_numpy(dtype=float)
    stage = hist["stage"].to_numpy(dtype=float)
    starts = np.flatnonzero(np.r_[True, stage[1:] != stage[:-1]])
    ends = np.r_[starts[1:], len(stage)]
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        x0 = epoch[a] - 0.5
        x1 = epoch[b - 1] + 0.5
        ax.axvspan(x0, x1, color="0.92" if i % 2 == 0 else "white", zorder=0, lw=0)
        if label:
            ax.text((x0 + x1) / 2, 1.0, f"stage {int(stage[a])}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=7, color="0.35")
    return len(starts)


def training_curves(run: str | Path | dict[str, Any] | Sequence[dict] | pd.DataFrame, *,
                    save: str | Path | None = None) -> Figure:
    """Loss and −ELBO per epoch (train and validation) and the acyclicity h(A) on a log axis.

    DAGMA stages (``stage`` in the history) are shaded alternately in both panels.

    Parameters
    ----------
    run
        Run folder (reads ``metrics.json``), the ``metrics.json`` dict, its ``history``, or a
        trained :class:`~cmcvae.CMCVAE`.
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes sharing the epoch axis: losses (one line per recorded curve) and h(A).

    Raises
    ------
    CMCVAEInputError
        ``metrics.json`` is missing or has no history.
    """
    hist = history_frame(run)
    epoch = hist["epoch"].to_numpy(dtype=float)
    fig = new_figure(6.4, 5.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.6, 1])
    n_stages = _shade_stages(top, hist, label=True)
    _shade_stages(bottom, hist, label=False)
    for key, (label, color, ls) in LOSS_CURVES.items():
        if key in hist:
            top.plot(epoch, hist[key].to_numpy(dtype=float), color=color, ls=ls, lw=1.5,
                     label=label, marker="o" if len(hist) < 4 else None, ms=3)
    top.set_ylabel("loss per cell")
    top.legend(fontsize=7, frameon=False, ncols=2)
    top.set_title(f"Training: {len(hist)} epochs, {n_stages} DAGMA stages", fontsize=10, pad=14)
    positive = False
    for key, (label, color, ls) in H_CURVES.items():
        if key in hist:
            h = hist[key].to_numpy(dtype=float)
            positive = positive or bool((h > 0).any())
            bottom.plot(epoch, np.where(h > 0, h, np.nan), color=color, ls=ls, lw=1.5,
                        label=label, marker="o", ms=2.5)
    if positive:
        bottom.set_yscale("log")
    else:
        bottom.text(0.5, 0.5, "h(A) = 0 at every epoch", transform=bottom.transAxes,
                    ha="center", va="center", fontsize=8, color="0.4")
    bottom.set(xlabel="epoch", ylabel="h(A) (acyclicity)")
    if bottom.lines:
        bottom.legend(fontsize=7, frameon=False)
    return save_figure(fig, save)
