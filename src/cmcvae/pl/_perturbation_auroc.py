"""Per-perturbation AUROC of the model next to a baseline (poster Fig. 2, right)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import is_pathlike, read_json
from cmcvae.pl._sources import is_results_data, stored_result
from cmcvae.pl.style import fmt_num, method_color, new_figure, save_figure

#: what writes a validation (for the message when a MuData's results have none)
VALIDATE = "run `cmcvae.tl.validate_run(RUN, SCREEN)` (``cmcvae validate``)"


def perturbation_auroc(run: str | Path | dict[str, Any] | Any, *, baseline: str | None = "correlation",
                       save: str | Path | None = None) -> Figure:
    """Bars of each knockdown's AUROC (its proteins ranked by ``|predicted|``), model vs baseline.

    Parameters
    ----------
    run
        Run folder after ``cmcvae validate`` (reads ``validation.json``), that dict, or a
        MuData holding a validated run's results (:func:`cmcvae.tl.write_results`).
    baseline
        Method drawn beside the model (``None``: the model only; skipped if absent).
    save
        Write the figure here (``.png``, ``.svg`` or ``.pdf``).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per perturbation for the model (sorted by its AUROC, highest first), the
        baseline's bars beside them, and a dashed line at 0.5 (chance).

    Raises
    ------
    CMCVAEInputError
        ``validation.json`` is missing, or no perturbation has an AUROC (none had both
        significant and non-significant proteins).
    """
    if is_results_data(run):
        val = stored_result(run, "validation", VALIDATE)
    else:
        val = read_json(run, "validation.json") if is_pathlike(run) else run
    methods = val.get("methods") or [val.get("method", "cmcvae")]
    model = str(methods[0])
    per = (val.get(model) or {}).get("per_perturbation_auroc") or {}
    per = {k: v for k, v in per.items() if v is not None and np.isfinite(v)}
    if not per:
        raise CMCVAEInputError(
            "No per-perturbation AUROC in validation.json: no perturbation had both significant "
            "and non-significant proteins."
        )
    names = sorted(per, key=lambda k: -per[k])
    x = np.arange(len(names))
    base = (val.get(baseline) or {}).get("per_perturbation_auroc") if baseline else None
    width = 0.4 if base else 0.8
    fig = new_figure(max(4.5, 0.28 * len(names) + 1.8), 3.6)
    ax = fig.add_subplot()
    med = val.get(model, {}).get("median_perturbation_auroc")
    ax.bar(x - (width / 2 if base else 0), [per[n] for n in names], width,
           color=method_color(model), label=f"{model} (median {fmt_num(med)})")
    if base:
        heights = [base.get(n) if base.get(n) is not None else np.nan for n in names]
        bmed = val.get(baseline, {}).get("median_perturbation_auroc")
        ax.bar(x + width / 2, heights, width, color=method_color(str(baseline)), alpha=0.75,
               label=f"{baseline} (median {fmt_num(bmed)})")
    ax.axhline(0.5, color="0.3", ls="--", lw=1, label="_chance")
    ax.set_xticks(x, names, rotation=90, fontsize=7)
    ax.set(ylim=(0, 1.2), xlim=(-0.6, len(names) - 0.4), ylabel="AUROC (proteins of one knockdown)",
           title=f"Per-perturbation AUROC ({len(names)} knockdowns)")
    ax.title.set_fontsize(10)
    ax.legend(fontsize=8, frameon=False, loc="upper right", ncols=2)
    return save_figure(fig, save)
