"""Report section: recovery of a simulation's true networks."""

from __future__ import annotations

from typing import Any

from cmcvae import pl
from cmcvae._errors import CMCVAEInputError
from cmcvae.io import producer
from cmcvae.pl.style import NETWORKS, fmt_num
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, note, table

TITLE = "Recovery vs truth"
HEADER = ("network", "method", "AUROC", "AUPRC", "random AUPRC", "true edges", "candidates",
          "direction accuracy")


def _scores(analysis: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{row name: {network: scores}}``: the model's direct and total effects, then baselines."""
    rec = analysis.get("recovery") or {}
    model: dict[str, dict[str, dict[str, Any]]] = {}
    baselines: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in ("direct", "total"):
        try:
            table = pl.recovery_table(rec, kind)
        except CMCVAEInputError:  # no recovery of this kind of effects
            continue
        for method, nets in table.items():
            if method == "cmcvae":
                model[f"cmcvae ({kind})"] = nets
            else:
                baselines.setdefault(method, nets)
    return {**model, **baselines}


def recovery_section(ctx: RunContext, sink: FigureSink) -> Section:
    """AUROC / AUPRC of each network against the truth of a simulation, with baselines.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        Table and figure, or a note naming ``cmcvae analyze --truth``.
    """
    command = producer("recovery").replace("RUN", str(ctx.run))
    analysis = ctx.read_json("analysis.json")
    if analysis is None:
        return Section("recovery", TITLE, note(
            f"{ctx.run / 'analysis.json'} not found: run `{command}` first (simulated data)."))
    scores = _scores(analysis)
    if not scores:
        return Section("recovery", TITLE, note(
            f"{ctx.run / 'analysis.json'} has no recovery against a truth: run `{command}` "
            "first (simulated data only)."))
    rows, model_rows = [], []
    for key, (_, _, label) in NETWORKS.items():
        for name, nets in scores.items():
            r = nets.get(key)
            if r is None:
                continue
            rows.append((label, name, fmt_num(r.get("auroc")), fmt_num(r.get("auprc")),
                         fmt_num(r.get("auprc_random")), str(r.get("n_true", "–")),
                         str(r.get("n_candidates", "–")), fmt_num(r.get("direction_accuracy"))))
            model_rows.append(name.startswith("cmcvae"))
    kind = "direct" if "cmcvae (direct)" in scores else "total"
    body = ("<p>How well each network ranks the simulation's true edges among all candidate "
            "pairs (training prior edges excluded). Random AUROC = 0.5; random AUPRC = share of "
            "true edges.</p>"
            + table(HEADER, rows, numeric=(False, False, True, True, True, True, True, True),
                    highlight=model_rows)
            + sink.add(f"recovery_{kind}", lambda: pl.recovery(ctx.run, kind),
                       f"How well each network's {kind} effects rank the simulation's true "
                       "edges (AUROC and AUPRC), next to the correlation baselines and random."))
    return Section("recovery", TITLE, body)
