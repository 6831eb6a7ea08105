"""The final screen of ``cmcvae run``: the score table, its legend and a plain-language summary.

Every headline number is printed next to its baseline (correlation and ridge for the knockdown
AUROC, chance and the oracle as bounds, random orientation for a matched-pair direction, random
gene–protein pairs for the central-dogma test). The screen fits 80 columns.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cmcvae.cli._tables import fmt

#: One line per method of the table: what its row is.
METHOD_LINES = {
    "adjust_all": "regress on the gene and every TF",
    "adjust_parents": "regress on the gene and its prior TFs",
    "ida": "IDA on the fitted graph",
    "propagate": "total effect through the fitted graph",
    "correlation": "baseline: correlation, no graph",
    "ridge": "baseline: ridge regression, no graph",
    "random": "baseline: random scores",
    "always_down": "baseline: every knockdown lowers all",
    "oracle": "the true effects (upper bound)",
}

#: The legend under the table: one line per term.
LEGEND = (
    ("AUROC", "how well |predicted effect| ranks the significant knockdown–protein "
              "changes above the rest (0.5 = chance, 1 = perfect)."),
    ("direction accuracy", "share of the significant changes whose sign (up or down) is "
                           "predicted right, averaged over knockdowns (0.5 ≈ guessing)."),
    ("oracle", "the simulation's true effects, scored the same way: the AUROC ceiling on "
               "this noisy screen."),
    ("always_down", "predicts that every knockdown lowers every protein: a trivial baseline "
                    "that wins whenever most changes are drops."),
)

#: Why the matched-pair direction says nothing for an architecture that fixes it.
NOT_IDENTIFIABLE = "not identifiable for this architecture — see `cmcvae analyze`"


def _row_label(method: str, estimator: str | None) -> str:
    return f"cmcvae ({estimator})" if method == "cmcvae" and estimator else method


def run_table(summary: dict) -> Table:
    """The zero-shot score of every method, the model's row first.

    Parameters
    ----------
    summary
        The result of :func:`cmcvae.tl.run_default` (``summary.json``).

    Returns
    -------
    rich.table.Table
        Method, zero-shot AUROC, direction accuracy and what the row is.
    """
    secs = summary.get("seconds", {}).get("total")
    took = f", {secs:.0f} s" if secs is not None else ""
    table = Table(title=(f"cmcvae run (seed {summary['seed']}, arch {summary.get('arch', '–')}, "
                         f"regime {summary['regime']}{took}): zero-shot AUROC and direction "
                         f"accuracy on {summary['n_perturbations']} unseen knockdowns × "
                         f"proteins = {summary['n_pairs']} pairs"))
    table.add_column("method", no_wrap=True)
    table.add_column("AUROC", justify="right", no_wrap=True)
    table.add_column("direction\naccuracy", justify="right", no_wrap=True)
    table.add_column("what it is")
    estimator = summary.get("estimator")
    for method, r in summary["zero_shot"].items():
        what = (f"the model (default estimator {estimator})" if method == "cmcvae"
                else METHOD_LINES.get(method, ""))
        style = "bold" if method == "cmcvae" else None
        table.add_row(_row_label(method, estimator), fmt(r.get("auroc")),
                      fmt(r.get("direction_accuracy")), what, style=style)
    return table


def legend() -> Text:
    """One line per term of the table (AUROC, direction accuracy, oracle, always_down).

    Returns
    -------
    rich.text.Text
        The legend, dimmed.
    """
    text = Text(style="dim")
    for i, (term, line) in enumerate(LEGEND):
        text.append(("\n" if i else "") + term, style="bold")
        text.append(f": {line}")
    return text


def compare(value: float | None, other: str, base: float | None) -> str:
    """``value`` against a baseline in words: beats / trails / ties, by how much.

    Parameters
    ----------
    value
        Its score.
    other
        The baseline's name.
    base
        The baseline's score.

    Returns
    -------
    str
        E.g. ``"beats correlation (0.643) by 0.065"``.
    """
    if value is None or base is None or value != value or base != base:
        return f"{other} has no score to compare with"
    diff = round(value, 3) - round(base, 3)  # the difference of the numbers shown
    if abs(diff) < 0.0005:
        return f"ties with {other} ({fmt(base)})"
    verb = "beats" if diff > 0 else "trails"
    return f"{verb} {other} ({fmt(base)}) by {abs(diff):.3f}"


def _score(summary: dict, method: str, key: str = "auroc") -> float | None:
    return (summary["zero_shot"].get(method) or {}).get(key)


def _learned(summary: dict) -> list[str]:
    """The knockdown-prediction lines: the model's AUROC and direction next to the baselines."""
    auroc = _score(summary, "cmcvae")
    name = _row_label("cmcvae", summary.get("estimator"))
    lines = [f"Knockdown prediction: {name} has zero-shot AUROC {fmt(auroc)}; it "
             f"{compare(auroc, 'correlation', _score(summary, 'correlation'))} and "
             f"{compare(auroc, 'ridge', _score(summary, 'ridge'))}. Chance is 0.500, "
             f"the oracle reaches {fmt(_score(summary, 'oracle'))}."]
    direction = _score(summary, "cmcvae", "direction_accuracy")
    down = _score(summary, "always_down", "direction_accuracy")
    lines.append(f"Direction accuracy {fmt(direction)}: it {compare(direction, 'always_down', down)}.")
    return lines


def _pairs(summary: dict) -> str:
    """The matched-pair direction line: a score vs random orientation, or why there is none."""
    d = summary.get("matched_pair_direction_accuracy") or {}
    if not summary.get("matched_pair_direction_identifiable", True):
        return (f"Matched gene–protein pair direction: {NOT_IDENTIFIABLE} (the latent graph "
                "orders the RNA block before the protein block, so every pair gets the same "
                "direction whatever the data say).")
    if not d.get("n_pairs"):
        return (f"Matched gene–protein pair direction: not scored (no pair has a true direction "
                f"in regime {summary.get('regime')}).")
    n, direct = d["n_pairs"], d.get("direct")
    right = "–" if direct is None or direct != direct else str(round(direct * n))
    return (f"Matched gene–protein pair direction: {right} of {n} pairs ({fmt(direct)}) called "
            f"in the simulation's true direction by the direct effects ({fmt(d.get('total'))} "
            "by the total effects); random orientation scores 0.500.")


def _dogma(summary: dict) -> str | None:
    """The central-dogma test of ``analysis.json`` (direct effects) against random pairs."""
    r = (summary.get("central_dogma") or {}).get("direct")
    if not r or r.get("fraction_forward") is None:
        return None
    p = r.get("p_vs_null")
    return (f"Central-dogma test (direct effects): {fmt(r['fraction_forward'])} of the matched "
            f"pairs are stronger RNA→protein, vs {fmt(r.get('null_fraction_forward'))} for random "
            f"gene–protein pairs (p vs random {'–' if p is None else f'{p:.2g}'}): call "
            f"{r.get('call', 'none')}.")


def _next(summary: dict) -> list[str]:
    """Where to look next: the report, ``cmcvae analyze``, ``cmcvae predict``."""
    paths = summary.get("paths") or {}
    run = paths.get("run", "RUN")
    lines = [f"Report (figures, tables, settings): {paths.get('report', Path(run) / 'report.html')}",
             f"Asymmetry and recovery tables: cmcvae analyze {run} --truth "
             f"{paths.get('truth', 'DATA/truth')}"]
    gene = summary.get("example_knockdown") or "GENE"
    lines.append(f"Effects of one knockdown: cmcvae predict {run} --knockdown {gene}")
    return lines


def plain_summary(summary: dict) -> Text:
    """What was learned, what the matched-pair direction means here, and where to look next.

    Parameters
    ----------
    summary
        The result of :func:`cmcvae.tl.run_default`.

    Returns
    -------
    rich.text.Text
        Short paragraphs, every number next to its baseline.
    """
    text = Text()
    text.append("What was learned\n", style="bold")
    learned = [*_learned(summary), _pairs(summary)]
    dogma = _dogma(summary)
    if dogma:
        learned.append(dogma)
    for line in learned:
        text.append(f"• {line}\n")
    text.append("Where to look next\n", style="bold")
    for line in _next(summary):
        text.append(f"• {line}\n")
    text.rstrip()
    return text


def run_screen(summary: dict) -> Group:
    """The whole final screen of ``cmcvae run``: table, legend, summary.

    Parameters
    ----------
    summary
        The result of :func:`cmcvae.tl.run_default`.

    Returns
    -------
    rich.console.Group
        Renderables in print order.
    """
    return Group(run_table(summary), legend(), Text(""), plain_summary(summary))
