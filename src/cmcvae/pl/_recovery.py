"""Recovery of the true networks of a simulation: AUROC and AUPRC per network vs random."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, producer, read_json
from cmcvae.pl.style import NETWORKS, is_number, method_color, new_figure, save_figure

KINDS = ("direct", "total")


def is_network_scores(value: Any) -> bool:
    """True for ``{network: {"auroc": …, …}}`` (one method's recovery scores).

    Parameters
    ----------
    value
        An entry of ``analysis.json["recovery"]``.

    Returns
    -------
    bool
        Whether it holds per-network scores.
    """
    return isinstance(value, dict) and any(isinstance(v, dict) and "auroc" in v
                                           for v in value.values())


def recovery_table(analysis: dict[str, Any],
                   kind: str = "direct") -> dict[str, dict[str, dict[str, Any]]]:
    """Recovery scores of the model (``recovery[kind]``) and of each baseline in ``analysis.json``.

    Parameters
    ----------
    analysis
        ``analysis.json`` as a dict, or its ``recovery`` entry.
    kind
        ``"direct"`` or ``"total"``: which of the model's effects.

    Returns
    -------
    dict
        ``{"cmcvae": {network: scores}, baseline: {network: scores}, …}``, scores with
        ``auroc``, ``auprc``, ``auprc_random``, ``n_true``, ``n_candidates`` ….

    Raises
    ------
    CMCVAEInputError
        There is no recovery of ``kind``.
    """
    if kind not in KINDS:
        raise CMCVAEInputError(f"kind must be 'direct' or 'total', not {kind!r}.")
    rec = analysis.get("recovery", analysis)
    if not isinstance(rec, dict) or not is_network_scores(rec.get(kind)):
        raise CMCVAEInputError(
            f"analysis.json has no recovery of {kind} effects against a truth: run "
            f"`{producer('recovery')}` first (simulated data only)."
        )
    out = {"cmcvae": rec[kind]}
    out.update({name: v for name, v in rec.items() if name not in KINDS and is_network_scores(v)})
    return {m: {k: v for k, v in nets.items() if isinstance(v, dict) and "auroc" in v}
            for m, nets in out.items()}


def recovery(run: str | Path | dict[str, Any], kind: Literal["direct", "total"] = "direct", *,
             save: str | Path | None = None) -> Figure:
    """AUROC and AUPRC of each feature network against the simulated truth, next to random.

    Baselines stored beside the model in ``analysis.json`` (e.g. correlation) get bars too.

    Parameters
    ----------
    run
        Run folder after ``cmcvae analyze --truth`` (reads ``analysis.json``), or that dict
        (or its ``recovery`` entry).
    kind
        ``"direct"`` or ``"total"`` effects of the model.
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: AUROC per network (one bar per method and network; random = 0.5 line) and
        AUPRC per network (one bar per method and network, plus the random expectation = share
        of true edges among candidates).

    Raises
    ------
    CMCVAEInputError
        ``analysis.json`` is missing or holds no recovery.
    """
    analysis = (read_json(run, "analysis.json", producer_key="recovery") if is_pathlike(run)
                else run)
    table = recovery_table(analysis, kind)
    model = table["cmcvae"]
    keys = [k for k in NETWORKS if k in model] + sorted(set(model) - set(NETWORKS))
    labels = [NETWORKS.get(k, (None, None, k))[2] for k in keys]
    x = np.arange(len(keys))

    def val(method: str, k: str, field: str) -> float:
        v = (table[method].get(k) or {}).get(field)
        return float(v) if is_number(v) else np.nan

    methods = list(table)
    n_bars = len(methods) + 1
    width = 0.8 / n_bars
    fig = new_figure(2.4 + 0.5 * len(keys) * n_bars, 3.6)
    left, right = fig.subplots(1, 2)
    for i, m in enumerate(methods):
        off = (i - (len(methods) - 1) / 2) * 0.8 / len(methods)
        left.bar(x + off, [val(m, k, "auroc") for k in keys], 0.8 / len(methods),
                 color=method_color(m, i), label=m if i else f"cmcvae ({kind})")
        off = (i - (n_bars - 1) / 2) * width
        right.bar(x + off, [val(m, k, "auprc") for k in keys], width,
                  color=method_color(m, i), label=m if i else f"cmcvae ({kind})")
    right.bar(x + (n_bars - 1) / 2 * width, [val("cmcvae", k, "auprc_random") for k in keys],
              width, color="0.7", label="random (share of true edges)")
    left.axhline(0.5, color="0.3", ls="--", lw=1, label="random (0.5)")
    left.set(ylim=(0, 1.15), ylabel="AUROC", title="Recovery of true edges: AUROC")
    right.set(ylim=(0, 1.15), ylabel="AUPRC", title="AUPRC")
    for ax in (left, right):
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
        ax.title.set_fontsize(10)
        ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    return save_figure(fig, save)
