"""Edge stability across the seeds of an ensemble: histograms of edge frequency per network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, read_csv, require_columns, run_dir
from cmcvae.pl.style import NETWORKS, new_figure, save_figure


def _n_seeds(folder: Path | None, table: pd.DataFrame) -> int | None:
    if "n_runs" in table and len(table):
        return int(table["n_runs"].max())
    if folder is not None:
        seeds = [p for p in folder.glob("seed_*") if p.is_dir()]
        return len(seeds) or None
    return None


def edge_stability(ensemble: str | Path | pd.DataFrame, *, bins: int | None = None,
                   save: str | Path | None = None) -> Figure:
    """Histogram of how often each edge is kept across seeds, one panel per network.

    Parameters
    ----------
    ensemble
        Ensemble folder of ``cmcvae fit --seeds`` (reads ``stability.csv``), or that table
        (``source,target,source_modality,target_modality,frequency``).
    bins
        Histogram bins over [0, 1] (default: one bin per possible frequency k / n_seeds when
        the number of seeds is known, else 10).
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        One axis per network present in the table (gene→gene, protein→protein, RNA→protein,
        protein→RNA), each a histogram of edge frequencies.

    Raises
    ------
    CMCVAEInputError
        ``stability.csv`` is missing, lacks columns, or holds no edge.
    """
    folder = run_dir(ensemble) if is_pathlike(ensemble) else None
    table = read_csv(folder, "stability.csv") if folder is not None else ensemble
    require_columns(table, ("source_modality", "target_modality", "frequency"), "stability.csv")
    if table.empty:
        raise CMCVAEInputError("stability.csv holds no edge: no seed kept any edge.")
    n_seeds = _n_seeds(folder, table)
    if bins is not None:
        edges = np.linspace(0, 1, bins + 1)
    elif n_seeds:
        edges = (np.arange(n_seeds + 2) - 0.5) / n_seeds
        edges = np.clip(edges, 0, 1) if n_seeds == 1 else edges
    else:
        edges = np.linspace(0, 1, 11)
    keys = table["source_modality"].astype(str) + "_" + table["target_modality"].astype(str)
    present = [k for k in NETWORKS if (keys == k).any()]
    present += sorted(set(keys) - set(present))
    fig = new_figure(2.6 * len(present) + 0.6, 3.0)
    axes = np.atleast_1d(fig.subplots(1, len(present), squeeze=False).ravel())
    for ax, key in zip(axes, present, strict=True):
        freq = table.loc[keys == key, "frequency"].to_numpy(dtype=float)
        ax.hist(freq, bins=edges, color="#2471a3", edgecolor="white")
        label = NETWORKS.get(key, (None, None, key))[2]
        ax.set_title(f"{label} ({freq.size} edges)", fontsize=9)
        ax.set_xlabel("fraction of seeds keeping the edge")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_ylabel("edges")
    if n_seeds:
        fig.suptitle(f"Edge stability over {n_seeds} seeds", fontsize=10)
    return save_figure(fig, save)
