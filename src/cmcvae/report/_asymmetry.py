"""Report sections: central-dogma asymmetry and TF→target asymmetry."""

from __future__ import annotations

from typing import Any

from cmcvae import pl
from cmcvae.pl.style import CALLS, SPLIT_TITLES, fmt_num
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, esc, note, table

DOGMA_TITLE = "Central dogma"
TF_TITLE = "TF→target asymmetry"
HEADER = ("", "n", "forward stronger", "random pairs forward", "Wilcoxon p", "p vs random",
          "rank-biserial [95% CI]", "call")
#: Row labels of each split of prior edges.
SPLIT_SHORT = {"holdout": "held-out edges", "train": "training edges (not evidence)",
               "external": "external network"}
NUMERIC = (False, True, True, True, True, True, True, False)


def stats_row(name: str, s: dict[str, Any]) -> tuple[str, ...]:
    """One table row of an asymmetry test from ``analysis.json``.

    Parameters
    ----------
    name
        Row label.
    s
        The test's statistics (may hold only ``message`` and ``call`` for too few edges).

    Returns
    -------
    tuple of str
        Cells matching :data:`HEADER`.
    """
    n = s.get("n_pairs", s.get("n_edges", "–"))
    call = CALLS.get(s.get("call", "none"), str(s.get("call")))
    if "fraction_forward" not in s:
        return (name, str(n), "–", "–", "–", "–", str(s.get("message", "–")), call)
    ci = s.get("rank_biserial_ci") or [None, None]
    return (name, str(n), fmt_num(s.get("fraction_forward"), ".1%"),
            fmt_num(s.get("null_fraction_forward"), ".1%"), fmt_num(s.get("wilcoxon_p"), ".2g"),
            fmt_num(s.get("p_vs_null"), ".2g"),
            f"{fmt_num(s.get('rank_biserial'), '.2f')} [{fmt_num(ci[0], '.2f')}, "
            f"{fmt_num(ci[1], '.2f')}]", call)


def dogma_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Matched-pair RNA→protein vs protein→RNA figure and the tests of ``cmcvae analyze``.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        Figure and table, with notes for what is missing.
    """
    modality = (ctx.read_json("run.json") or {}).get("modality", "both")
    if modality in ("rna", "protein"):
        return Section("central-dogma", DOGMA_TITLE, note(
            f"Skipped: a single-modality run (fitted with --modality {modality}) has no "
            "protein–gene pairs, so the central-dogma asymmetry does not apply."))
    if not (ctx.run / "matched_pairs.csv").is_file():
        return Section("central-dogma", DOGMA_TITLE, note(ctx.missing("matched_pairs.csv")))
    analysis = ctx.read_json("analysis.json")
    parts = ["<p>Each matched protein–gene pair: its protein→RNA and RNA→protein effect. A "
             "direction is called only if the pairs differ from random non-matched gene–protein "
             "pairs (p vs random).</p>"]
    cd = (analysis or {}).get("central_dogma") or {}
    if analysis is None:
        parts.append(note(ctx.missing("analysis.json")))
    elif cd:
        parts.append(table(HEADER, [stats_row(k, v) for k, v in cd.items() if isinstance(v, dict)],
                           numeric=NUMERIC))
    parts.append(sink.add("central_dogma_direct", lambda: pl.central_dogma(ctx.run, "direct"),
                          "Central dogma, direct effects: each line joins one matched pair's "
                          "protein→RNA and RNA→protein effect, coloured by which is stronger."))
    return Section("central-dogma", DOGMA_TITLE, "".join(parts))


def _sign_rows(tf: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for split, by_kind in tf.items():
        for kind, s in (by_kind or {}).items() if isinstance(by_kind, dict) else []:
            if isinstance(s, dict) and "sign_agreement" in s:
                rows.append((f"{SPLIT_SHORT.get(split, split)}, {kind}",
                             str(s.get("n_signed_edges", "–")),
                             fmt_num(s.get("sign_agreement"), ".1%"),
                             fmt_num(s.get("null_sign_agreement"), ".1%"),
                             fmt_num(s.get("sign_p"), ".2g")))
    return rows


def _tf_tables(tf: dict[str, Any]) -> list[str]:
    """The asymmetry tests of each split and kind, then the sign agreements (if any)."""
    rows = []
    for split, by_kind in tf.items():
        if not isinstance(by_kind, dict):
            continue
        for kind in ("direct", "total"):
            if isinstance(by_kind.get(kind), dict):
                rows.append(stats_row(f"{SPLIT_SHORT.get(split, split)}, {kind}", by_kind[kind]))
    parts = [table(HEADER, rows, numeric=NUMERIC)] if rows else []
    sign = _sign_rows(tf)
    if sign:
        parts.append(table(("edges", "n with known mode", "sign agreement", "null (modes permuted)",
                            "p"), sign, numeric=(False, True, True, True, True),
                           caption="Sign of the forward effect vs the mode of regulation"))
    return parts


def _tf_figures(ctx: RunContext, sink: FigureSink, tf: dict[str, Any]) -> list[str]:
    """One paired-dot figure of direct effects per split: held-out, training, then the others."""
    parts = []
    for split in [s for s in ("holdout", "train") if s in tf] + [s for s in tf
                                                                  if s not in ("holdout", "train")]:
        label = SPLIT_TITLES.get(split, split)
        parts.append(f"<h3>{esc(label[0].upper() + label[1:])}</h3>")
        parts.append(sink.add(f"tf_target_{split}_direct",
                              lambda split=split: pl.tf_target(ctx.run, split, "direct"),
                              f"TF→target, {label}, direct effects: each line joins one edge's "
                              "target→TF and TF→target effect, coloured by mode of regulation."))
    return parts


def tf_section(ctx: RunContext, sink: FigureSink) -> Section:
    """TF→target forward vs reverse effects of prior edges, held-out and training edges apart.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        Figures and tables, with notes for what is missing.
    """
    analysis = ctx.read_json("analysis.json")
    if analysis is None:
        return Section("tf-target", TF_TITLE, note(ctx.missing("analysis.json")))
    tf = analysis.get("tf_target") or {}
    if not tf:
        return Section("tf-target", TF_TITLE, note(
            f"{ctx.run / 'analysis.json'} has no TF→target test: rerun `cmcvae analyze "
            f"{ctx.run}` with a run fitted with a GRN prior (--grn-prior)."))
    parts = ["<p>Prior TF→target edges: the effect TF→target against target→TF. "
             "<b>Held-out edges</b> were hidden from training and are the test; "
             "<b>training edges</b> were pushed forward by the prior term and are shown only for "
             "comparison (not evidence).</p>", *_tf_tables(tf)]
    if not (ctx.run / "tf_target_edges.csv").is_file():
        parts.append(note(ctx.missing("tf_target_edges.csv")))
    else:
        parts += _tf_figures(ctx, sink, tf)
    return Section("tf-target", TF_TITLE, "".join(parts))
