"""Central-dogma asymmetry of matched protein–gene pairs (poster Fig. 4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, producer, read_csv, require_columns, run_dir
from cmcvae.pl._paired import annotation_panel, asymmetry_lines, paired_dots
from cmcvae.pl._sources import is_model, is_results_data, stored_result
from cmcvae.pl.style import FORWARD_COLOR, REVERSE_COLOR, TIE_COLOR, new_figure, save_figure


def _columns(kind: str) -> tuple[str, str]:
    if kind not in ("direct", "total"):
        raise CMCVAEInputError(f"kind must be 'direct' or 'total', not {kind!r}.")
    suffix = "" if kind == "direct" else "_total"
    return f"rna_to_protein{suffix}", f"protein_to_rna{suffix}"


def _stats(folder: Path, kind: str) -> dict[str, Any] | None:
    import json

    path = folder / "analysis.json"
    if not path.is_file():
        return None
    return (json.loads(path.read_text()).get("central_dogma") or {}).get(kind)


def _pairs(run: Any, kind: str, stats: dict[str, Any] | None) -> tuple[pd.DataFrame, Any]:
    """The matched-pairs table of ``run`` and the test statistics (read from a run folder)."""
    if is_pathlike(run):
        folder = run_dir(run)
        return read_csv(folder, "matched_pairs.csv"), stats if stats is not None else _stats(folder, kind)
    if is_model(run):
        return run.get_matched_pairs(), stats
    if is_results_data(run):
        return stored_result(run, "matched_pairs", "fit a model on RNA and protein"), stats
    return run, stats


def direction_colors(forward: np.ndarray, reverse: np.ndarray) -> list[str]:
    """Colour of each pair: forward stronger, reverse stronger, or a tie.

    Parameters
    ----------
    forward, reverse
        Absolute effects of each pair.

    Returns
    -------
    list of str
        One colour per pair.
    """
    return [FORWARD_COLOR if f > r else REVERSE_COLOR if r > f else TIE_COLOR
            for f, r in zip(forward, reverse, strict=True)]


def central_dogma(run: str | Path | pd.DataFrame | Any, kind: Literal["direct", "total"] = "direct", *,
                  stats: dict[str, Any] | None = None, save: str | Path | None = None) -> Figure:
    """Paired dot plot of matched pairs: |protein→RNA| vs |RNA→protein| effect of each pair.

    Each matched protein–gene pair is a line from its protein→RNA effect to its RNA→protein
    effect, with violins of both behind, and the test of ``cmcvae analyze`` beside it
    (fraction of pairs with the stronger RNA→protein effect, Wilcoxon p, the random-pair null
    and the direction call).

    Parameters
    ----------
    run
        Run folder (reads ``matched_pairs.csv`` and, if present, ``analysis.json``), the
        ``matched_pairs.csv`` table, a fitted :class:`~cmcvae.CMCVAE`
        (``model.get_matched_pairs()``) or a MuData holding its results
        (:func:`cmcvae.tl.write_results`).
    kind
        ``"direct"`` or ``"total"`` effects.
    stats
        The ``analysis.json`` entry ``central_dogma[kind]`` (read from the run folder when
        ``run`` is a path and this is ``None``).
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the paired dots (one line per pair) and the statistics text.

    Raises
    ------
    CMCVAEInputError
        ``matched_pairs.csv`` is missing or lacks the effect columns of ``kind``.
    """
    fwd_col, rev_col = _columns(kind)
    pairs, stats = _pairs(run, kind, stats)
    require_columns(pairs, (fwd_col, rev_col), "matched_pairs.csv")
    forward = pairs[fwd_col].abs().to_numpy(dtype=float)
    reverse = pairs[rev_col].abs().to_numpy(dtype=float)
    fig = new_figure(6.4, 4.2)
    ax, text_ax = fig.subplots(1, 2, width_ratios=[1.5, 1])
    paired_dots(ax, reverse, forward, direction_colors(forward, reverse),
                labels=("protein→RNA", "RNA→protein"))
    ax.set_ylabel(f"|{kind} effect|")
    ax.set_title(f"Central dogma: {len(pairs)} matched pairs ({kind})", fontsize=10)
    handles = [Line2D([], [], color=c, label=lab) for c, lab in
               ((FORWARD_COLOR, "RNA→protein stronger"), (REVERSE_COLOR, "protein→RNA stronger"),
                (TIE_COLOR, "equal"))]
    ax.legend(handles=handles, fontsize=7, frameon=False, loc="upper left")
    lines = asymmetry_lines(stats, forward="RNA→protein")
    if not lines:
        share = float(np.mean(forward > reverse)) if len(pairs) else float("nan")
        lines = [f"RNA→protein stronger: {share:.0%} of {len(pairs)}",
                 "no test against random pairs:",
                 f"run `{producer('analysis.json')}`"]
    annotation_panel(text_ax, lines)
    return save_figure(fig, save)
