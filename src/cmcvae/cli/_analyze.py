"""``cmcvae analyze``: central-dogma and TF→target asymmetry, recovery against a known truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.cli._app import out_console
from cmcvae.cli._options import Seed
from cmcvae.cli._tables import aggregate_table, asymmetry_table, recovery_table
from cmcvae.tl import analyze_run


def analyze(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit`.")],
    truth: Annotated[Path | None, typer.Option("--truth", help="A simulation's truth/ folder (or a file in it): adds direction accuracy and network recovery.")] = None,
    grn: Annotated[Path | None, typer.Option("--grn", help="An external TF→target network never used in training (e.g. full CollecTRI) to test as well.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Training data for the recovery baselines (default: the file recorded in the run).")] = None,
    seed: Seed = 0,
) -> None:
    """Central-dogma and TF→target asymmetry, and recovery against a known truth (→ analysis.json)."""
    res = analyze_run(run, truth=truth, grn=grn, data=data, seed=seed)
    width = out_console.width  # a table too wide for the terminal is printed transposed
    if "aggregate" in res:
        out_console.print(aggregate_table(res, "Analyses across seeds"))
        out_console.print(f"Wrote {run / 'analysis.json'} (and one per seed folder)")
        return
    skipped = next((r["message"] for r in res["central_dogma"].values() if r.get("skipped")), None)
    if skipped:
        out_console.print(f"Central-dogma asymmetry skipped: {skipped}.")
    else:
        out_console.print(asymmetry_table(
            "Central-dogma asymmetry (matched protein–gene pairs): RNA→protein vs protein→RNA",
            {kind: r for kind, r in res["central_dogma"].items()}, width))
    rows = {f"{split} {kind}": r[kind] for split, r in res.get("tf_target", {}).items()
            for kind in ("direct", "total")}
    if rows:
        out_console.print(asymmetry_table("TF→target asymmetry (prior edges by split): forward vs reverse", rows, width))
    if "recovery" in res:
        out_console.print(recovery_table(res["recovery"], width))
    out_console.print(f"Wrote {run / 'analysis.json'}")
