"""Report section: zero-shot perturbation validation, the model next to every baseline."""

from __future__ import annotations

from typing import Any

from cmcvae import pl
from cmcvae.pl.style import fmt_num
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, esc, note, table

TITLE = "Zero-shot validation"
COLUMNS = (("auroc", "AUROC"), ("auprc", "AUPRC"),
           ("median_perturbation_auroc", "median per-perturbation AUROC"),
           ("direction_accuracy", "direction accuracy"),
           ("pair_direction_accuracy", "pair direction accuracy"))
DESCRIPTIONS = {
    "cmcvae": "the model's total effect of the knockdown",
    "correlation": "gene–protein correlation in the training cells",
    "ridge": "ridge regression of proteins on genes",
    "random": "random effects",
    "always_down": "every knockdown lowers every protein",
    "oracle": "the simulation's true effects (upper bound)",
}


def methods(val: dict[str, Any]) -> list[str]:
    """Methods scored in ``validation.json``, model first.

    Parameters
    ----------
    val
        ``validation.json``.

    Returns
    -------
    list of str
        Method names with a result dict.
    """
    names = list(val.get("methods") or [])
    names += [k for k, v in val.items() if isinstance(v, dict) and "auroc" in v and k not in names]
    return [m for m in names if isinstance(val.get(m), dict)]


def validation_table(val: dict[str, Any]) -> str:
    """HTML table: one row per method, AUROC, AUPRC, median per-perturbation AUROC, directions.

    Parameters
    ----------
    val
        ``validation.json``.

    Returns
    -------
    str
        HTML table with the model's row highlighted.
    """
    names = methods(val)
    model = names[0] if names else val.get("method", "cmcvae")
    rows = [(m, *(fmt_num(val[m].get(k)) for k, _ in COLUMNS), DESCRIPTIONS.get(m, ""))
            for m in names]
    return table(("method", *(label for _, label in COLUMNS), "what it is"), rows,
                 numeric=(False, *[True] * len(COLUMNS), False),
                 highlight=[m == model for m in names])


def validation_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Table of every method's scores, ROC curves and per-perturbation AUROC.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        Table and figures, or a note naming ``cmcvae validate``.
    """
    val = ctx.read_json("validation.json")
    if val is None:
        return Section("validation", TITLE, note(ctx.missing("validation.json")))
    filt = val.get("filtering") or {}
    intro = (f"<p>Knockdowns of a perturbation screen the model never saw: "
             f"{esc(val.get('n_perturbations', '–'))} perturbations, {esc(val.get('n_pairs', '–'))} "
             f"perturbation–protein pairs, {esc(val.get('n_significant', '–'))} significant "
             f"(test {esc(filt.get('test', '–'))}, FDR {esc(filt.get('fdr', '–'))}). Score = "
             "|predicted effect|, label = significant observed change; direction accuracy = "
             "share of significant changes whose sign is predicted (per knockdown, then "
             "averaged).</p>")
    dropped = filt.get("n_dropped")
    if dropped:
        intro += (f"<p>{esc(dropped)} perturbation(s) dropped before scoring: "
                  f"{esc(filt.get('dropped_by_reason', {}))}.</p>")
    parts = [intro, validation_table(val)]
    if (ctx.run / "predictions.csv").is_file():
        parts.append(sink.add("roc", lambda: pl.roc(ctx.run),
                              "ROC curves of zero-shot knockdown prediction, AUROC in the legend."))
    else:
        parts.append(note(ctx.missing("predictions.csv")))
    parts.append(sink.add("perturbation_auroc", lambda: pl.perturbation_auroc(ctx.run),
                          "AUROC within each knockdown (its proteins ranked), model vs the "
                          "correlation baseline; dashed line = chance."))
    return Section("validation", TITLE, "".join(parts))
