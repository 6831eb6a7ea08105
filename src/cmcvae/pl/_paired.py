"""The paired dot layout shared by the asymmetry figures (poster Figs. 3 and 4)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from cmcvae.pl.style import CALLS, fmt_num

#: Above this many pairs the connecting lines are rasterised (keeps SVG files small).
RASTER_ABOVE = 300


def paired_dots(ax: Axes, reverse: np.ndarray, forward: np.ndarray, colors: Sequence[str], *,
                labels: tuple[str, str], jitter: float = 0.04, seed: int = 0) -> LineCollection:
    """Draw each pair as a line from its reverse (x = 0) to its forward effect (x = 1).

    Violins of both distributions are drawn behind the lines and dots.

    Parameters
    ----------
    ax
        Target axis.
    reverse, forward
        Absolute effects of each pair in the reverse and forward direction.
    colors
        One colour per pair.
    labels
        Tick labels of the reverse and forward columns.
    jitter
        Horizontal jitter of the dots (in x units), so ties stay visible.
    seed
        Seed of the jitter.

    Returns
    -------
    matplotlib.collections.LineCollection
        The pair lines (one segment per pair; ``gid`` ``"pairs"``).
    """
    reverse = np.asarray(reverse, dtype=float)
    forward = np.asarray(forward, dtype=float)
    n = reverse.size
    for pos, values in ((0, reverse), (1, forward)):
        finite = values[np.isfinite(values)]
        if finite.size > 1 and np.ptp(finite) > 0:
            parts = ax.violinplot([finite], positions=[pos], widths=0.7, showextrema=False)
            for body in parts["bodies"]:
                body.set(facecolor="0.85", edgecolor="0.6", alpha=0.7, zorder=0)
    dx = np.random.default_rng(seed).uniform(-jitter, jitter, size=n)
    x0, x1 = 0 + dx, 1 + dx
    segments = np.stack([np.column_stack([x0, reverse]), np.column_stack([x1, forward])], axis=1)
    lines = LineCollection(segments, colors=list(colors), linewidths=0.8, alpha=0.6, zorder=2)
    lines.set_gid("pairs")
    lines.set_rasterized(n > RASTER_ABOVE)
    ax.add_collection(lines)
    ax.scatter(np.concatenate([x0, x1]), np.concatenate([reverse, forward]),
               c=list(colors) * 2, s=10, zorder=3, linewidths=0, rasterized=n > RASTER_ABOVE)
    ax.set_xticks([0, 1], list(labels))
    ax.set_xlim(-0.6, 1.6)
    top = np.nanmax(np.concatenate([reverse, forward, [0.0]])) if n else 0.0
    ax.set_ylim(bottom=0, top=top * 1.08 if top > 0 else 1.0)
    ax.set_ylabel("|effect|")
    return lines


def annotation_panel(ax: Axes, lines: Sequence[str]) -> None:
    """Write statistics as text in an axis without frame or ticks.

    Parameters
    ----------
    ax
        Axis to turn into a text panel.
    lines
        Text lines, top to bottom.
    """
    ax.set_axis_off()
    ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, va="top", ha="left",
            fontsize=8, linespacing=1.5)


def asymmetry_lines(stats: dict | None, *, forward: str) -> list[str]:
    """Text lines summarising one asymmetry test of ``analysis.json``.

    Parameters
    ----------
    stats
        One entry of ``analysis.json`` (``n_pairs``, ``fraction_forward``, ``wilcoxon_p``,
        ``rank_biserial``, ``rank_biserial_ci``, ``null_fraction_forward``, ``p_vs_null``,
        ``call``, optional ``direction_accuracy_vs_truth``); ``None`` gives no lines.
    forward
        Name of the forward direction, e.g. ``"RNA→protein"``.

    Returns
    -------
    list of str
        Lines for :func:`annotation_panel`.
    """
    if not stats:
        return []
    if "fraction_forward" not in stats:
        return [str(stats.get("message", "no asymmetry statistics")),
                f"call: {CALLS.get(stats.get('call', 'none'), stats.get('call'))}"]
    ci = stats.get("rank_biserial_ci") or [None, None]
    lines = [
        f"{forward} stronger: {fmt_num(stats.get('fraction_forward'), '.0%')}"
        f" of {stats.get('n_pairs', '–')}",
        f"Wilcoxon p = {fmt_num(stats.get('wilcoxon_p'), '.2g')}",
        f"rank-biserial {fmt_num(stats.get('rank_biserial'), '.2f')} "
        f"[{fmt_num(ci[0], '.2f')}, {fmt_num(ci[1], '.2f')}]",
        f"random pairs: {fmt_num(stats.get('null_fraction_forward'), '.0%')} forward",
        f"p vs random-pair null = {fmt_num(stats.get('p_vs_null'), '.2g')}",
        f"call: {CALLS.get(stats.get('call', 'none'), stats.get('call'))}",
    ]
    if stats.get("direction_accuracy_vs_truth") is not None:
        lines.append(f"accuracy vs truth: {fmt_num(stats['direction_accuracy_vs_truth'], '.0%')}")
    return lines
