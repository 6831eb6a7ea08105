"""Report section: zero-shot perturbation validation, the model next to every baseline."""

from __future__ import annotations

from typing import Any

from cmcvae import pl
from cmcvae.effects import ESTIMATORS
from cmcvae.pl.style import fmt_num, is_number
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, esc, note, table

TITLE = "Zero-shot validation"
COLUMNS = (("auroc", "AUROC"), ("auprc", "AUPRC"),
           ("median_perturbation_auroc", "median per-perturbation AUROC"),
           ("direction_accuracy", "direction accuracy"),
           ("pair_direction_accuracy", "pair direction accuracy"))
#: What each baseline row of the table is (the estimators' lines come from cmcvae.effects).
DESCRIPTIONS = {
    "random": "random effects",
    "always_down": "every knockdown lowers every readout",
    "oracle": "the simulation's true effects (upper bound)",
}
#: Keys of ``validation.json`` holding a dict that is never a method's scores.
NOT_METHODS = frozenset({"definitions", "filtering", "effects", "estimator", "seconds",
                         "knockdown", "knockdown_efficiency", "aggregate", "ensemble"})


def methods(val: dict[str, Any]) -> list[str]:
    """Methods scored in ``validation.json``, model first: the entries of ``val["methods"]``.

    A file without a ``methods`` list (an older cmcvae) falls back to the dicts whose ``auroc``
    is a number, bookkeeping keys (:data:`NOT_METHODS`, e.g. ``definitions``) excluded.

    Parameters
    ----------
    val
        ``validation.json``.

    Returns
    -------
    list of str
        Method names with a result dict.
    """
    listed = val.get("methods")
    if isinstance(listed, list):
        return [str(m) for m in listed if isinstance(val.get(m), dict)]
    return [k for k, v in val.items() if k not in NOT_METHODS and isinstance(v, dict)
            and (v.get("auroc") is None or is_number(v.get("auroc"))) and "auroc" in v]


def describe(method: str, val: dict[str, Any]) -> str:
    """One line on what a row of the table is.

    Parameters
    ----------
    method
        A method of ``validation.json``.
    val
        ``validation.json`` (its ``estimator`` names what ``cmcvae`` used).

    Returns
    -------
    str
        E.g. ``"the model: estimator adjust (regression on …)"``.
    """
    if method == "cmcvae":
        est = val.get("estimator")
        line = ESTIMATORS[est].summary if est in ESTIMATORS else ""
        return f"the model: estimator {est} ({line})" if est else "the model"
    if method in ESTIMATORS:
        e = ESTIMATORS[method]
        return f"{'baseline: ' if e.reference == 'baseline' else ''}{e.summary}"
    return DESCRIPTIONS.get(method, "")


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
    rows = [(m, *(fmt_num(val[m].get(k)) for k, _ in COLUMNS), describe(m, val)) for m in names]
    return table(("method", *(label for _, label in COLUMNS), "what it is"), rows,
                 numeric=(False, *[True] * len(COLUMNS), False),
                 highlight=[m == model for m in names])


def both_classes(val: dict[str, Any]) -> tuple[int, Any]:
    """How many knockdowns have a per-perturbation AUROC (the model's), and how many were scored.

    A knockdown has one only when its pairs hold both classes, significant and not significant.

    Parameters
    ----------
    val
        ``validation.json``.

    Returns
    -------
    tuple
        ``(with an AUROC, n_perturbations)``.
    """
    names = methods(val)
    per = (val.get(names[0]) or {}).get("per_perturbation_auroc") if names else None
    n = sum(1 for v in (per or {}).values() if is_number(v))
    return n, val.get("n_perturbations", "–")


def _intro(val: dict[str, Any], readout: str) -> str:
    """What was scored: the screen, the pairs, the test, the estimator, what was dropped."""
    filt = val.get("filtering") or {}
    intro = (f"<p>Knockdowns of a perturbation screen the model never saw: "
             f"{esc(val.get('n_perturbations', '–'))} perturbations, {esc(val.get('n_pairs', '–'))} "
             f"perturbation–{esc(readout)} pairs, {esc(val.get('n_significant', '–'))} significant "
             f"(test {esc(filt.get('test', '–'))}, FDR {esc(filt.get('fdr', '–'))}). The model's "
             f"predictions come from the effect estimator <code>{esc(val.get('estimator', '–'))}"
             "</code> (row <code>cmcvae</code>); the other estimators and the baselines are "
             "scored on the same pairs. Score = |predicted effect|, label = significant observed "
             "change; direction accuracy = share of significant changes whose sign is predicted "
             "(per knockdown, then averaged).</p>")
    dropped = filt.get("n_dropped")
    if dropped:
        intro += (f"<p>{esc(dropped)} perturbation(s) dropped before scoring: "
                  f"{esc(filt.get('dropped_by_reason', {}))}.</p>")
    return intro


def _per_perturbation(ctx: RunContext, sink: FigureSink, val: dict[str, Any]) -> str:
    """The per-perturbation AUROC figure, saying how many knockdowns it can show and why."""
    k, n = both_classes(val)
    why = (f"{k} of {n} knockdowns have both classes (significant and non-significant "
           "proteins), so only they have a per-perturbation AUROC; the table above scores all "
           f"{n}.")
    return (f"<p>{esc(why)}</p>"
            + sink.add("perturbation_auroc", lambda: pl.perturbation_auroc(ctx.run),
                       "AUROC within each knockdown (its proteins ranked by |predicted effect|), "
                       f"model vs the correlation baseline, dashed line = chance; {why}"))


def _rna_readout(ctx: RunContext) -> str:
    """The gene read-out's table (``validation_rna.json``), when ``cmcvae validate`` wrote it."""
    val = ctx.read_json("validation_rna.json")
    if val is None:
        return ""
    k, n = both_classes(val)
    return ("<h3>Gene read-out (validation_rna.json)</h3>" + _intro(val, "gene")
            + validation_table(val)
            + f"<p>{esc(f'{k} of {n} knockdowns have both classes among their genes.')}</p>")


def validation_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Table of every method's scores, ROC curves and per-perturbation AUROC.

    With ``validation_rna.json`` in the run folder, the gene read-out's table follows.

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
        rna = _rna_readout(ctx)
        return Section("validation", TITLE, (rna or note(ctx.missing("validation.json"))))
    parts = ["<h3>Protein read-out (validation.json)</h3>", _intro(val, "protein"),
             validation_table(val)]
    if (ctx.run / "predictions.csv").is_file():
        parts.append(sink.add("roc", lambda: pl.roc(ctx.run),
                              "ROC curves of zero-shot knockdown prediction over all scored "
                              "pairs, one per method, AUROC in the legend."))
    else:
        parts.append(note(ctx.missing("predictions.csv")))
    parts.append(_per_perturbation(ctx, sink, val))
    parts.append(_rna_readout(ctx))
    return Section("validation", TITLE, "".join(parts))
