"""TF→target asymmetry of prior edges, by mode of regulation (poster Fig. 3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, producer, read_csv, require_columns, run_dir
from cmcvae.pl._paired import annotation_panel, asymmetry_lines, paired_dots
from cmcvae.pl.style import (
    MODE_COLORS,
    MODE_LABELS,
    SPLIT_TITLES,
    fmt_num,
    new_figure,
    save_figure,
)


def _stats(folder: Path, split: str, kind: str) -> dict[str, Any] | None:
    path = folder / "analysis.json"
    if not path.is_file():
        return None
    tf = json.loads(path.read_text()).get("tf_target") or {}
    return (tf.get(split) or {}).get(kind)


def tf_target(run: str | Path | pd.DataFrame, split: str = "holdout",
              kind: Literal["direct", "total"] = "direct", *, stats: dict[str, Any] | None = None,
              save: str | Path | None = None) -> Figure:
    """Paired dot plot of prior TF→target edges: |target→TF| vs |TF→target| effect per edge.

    Lines are coloured by the edge's mode of regulation (activation, repression, unknown);
    the asymmetry test and sign agreement of ``cmcvae analyze`` are written beside.

    Parameters
    ----------
    run
        Run folder after ``cmcvae analyze`` (reads ``tf_target_edges.csv`` and
        ``analysis.json``), or the ``tf_target_edges.csv`` table.
    split
        ``"holdout"`` (prior edges held out of training: the real test), ``"train"`` (edges
        the prior term pushed forward; not evidence) or another split in the table.
    kind
        ``"direct"`` or ``"total"`` effects.
    stats
        The ``analysis.json`` entry ``tf_target[split][kind]`` (read from the run folder when
        ``run`` is a path and this is ``None``).
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the paired dots (one line per edge) and the statistics text.

    Raises
    ------
    CMCVAEInputError
        ``tf_target_edges.csv`` is missing, lacks the columns of ``kind``, or has no edge of
        ``split``.
    """
    if kind not in ("direct", "total"):
        raise CMCVAEInputError(f"kind must be 'direct' or 'total', not {kind!r}.")
    suffix = "" if kind == "direct" else "_total"
    fwd_col, rev_col = f"forward{suffix}", f"reverse{suffix}"
    if is_pathlike(run):
        folder = run_dir(run)
        table = read_csv(folder, "tf_target_edges.csv")
        if stats is None:
            stats = _stats(folder, split, kind)
    else:
        table = run
    require_columns(table, ("source", "target", "split", fwd_col, rev_col), "tf_target_edges.csv")
    edges = table[table["split"].astype(str) == split]
    if edges.empty:
        raise CMCVAEInputError(
            f"No {split!r} edges in tf_target_edges.csv (splits present: "
            f"{sorted(table['split'].astype(str).unique())}); rerun `{producer('analysis.json')}` "
            "with a prior that has such edges."
        )
    mode = (np.sign(edges["mode"].fillna(0).to_numpy(dtype=float)).astype(int)
            if "mode" in edges else np.zeros(len(edges), dtype=int))
    forward = edges[fwd_col].abs().to_numpy(dtype=float)
    reverse = edges[rev_col].abs().to_numpy(dtype=float)
    fig = new_figure(6.4, 4.2)
    ax, text_ax = fig.subplots(1, 2, width_ratios=[1.5, 1])
    paired_dots(ax, reverse, forward, [MODE_COLORS[m] for m in mode],
                labels=("target→TF", "TF→target"))
    ax.set_ylabel(f"|{kind} effect|")
    ax.set_title(f"TF→target: {len(edges)} {SPLIT_TITLES.get(split, split + ' edges')}",
                 fontsize=9)
    present = [m for m in (1, -1, 0) if (mode == m).any()]
    ax.legend(handles=[Line2D([], [], color=MODE_COLORS[m],
                              label=f"{MODE_LABELS[m]} ({int((mode == m).sum())})")
                       for m in present], fontsize=7, frameon=False, loc="upper left")
    lines = asymmetry_lines(stats, forward="TF→target")
    if not lines:
        share = float(np.mean(forward > reverse))
        lines = [f"TF→target stronger: {share:.0%} of {len(edges)}",
                 "no test against random pairs:", f"run `{producer('analysis.json')}`"]
    if stats and "sign_agreement" in stats:
        lines.append(f"sign agreement: {fmt_num(stats.get('sign_agreement'), '.0%')} "
                     f"(null {fmt_num(stats.get('null_sign_agreement'), '.0%')})")
    if split == "train":
        lines.append("training edges: expected forward, not evidence")
    annotation_panel(text_ax, lines)
    return save_figure(fig, save)
