"""``cmcvae predict``: a fitted run's predicted knockdown effects, by gene or by readout."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from cmcvae.cli._app import out_console
from cmcvae.cli._options import in_range, out_path
from cmcvae.cli._tables import predict_table
from cmcvae.effects import DEFAULT_ESTIMATOR, ESTIMATORS
from cmcvae.tl import predict_run

#: what an effect means, printed under the tables and in --help
UNITS = ("effect = predicted change of the readout, in its standard deviations, when the gene drops "
         "by one standard deviation (+ up, − down); se its standard error; z = effect / se; "
         "p two-sided.")

Estimator = Annotated[Literal[tuple(ESTIMATORS)], typer.Option(  # type: ignore[valid-type]
    "--estimator", case_sensitive=False,
    help=f"Effect estimator: {' | '.join(ESTIMATORS)} (default {DEFAULT_ESTIMATOR}: regression on the "
         "gene and the GRN prior's regulators that are not its descendants; cmcvae.effects."
         "ESTIMATORS). ridge and propagate give no standard errors.")]


def predict(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit` (one seed's folder of an ensemble).")],
    knockdown: Annotated[str | None, typer.Option("--knockdown", help="Genes to knock down, comma-separated (G1,G2): every readout's predicted change, per gene.")] = None,
    readout: Annotated[str | None, typer.Option("--readout", help="A gene or protein (a protein may be named by its antigen, CD4 for ADT_CD4): which knockdowns move it most. Several, comma-separated.")] = None,
    estimator: Estimator = DEFAULT_ESTIMATOR,
    regulators: Annotated[Path | None, typer.Option("--regulators", help="TF list file (one name a line, or a table whose first column names them) overriding the sources of the run's GRN prior.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Training data (default: the file recorded in the run).")] = None,
    top: Annotated[int, typer.Option("--top", help="Rows printed per knockdown (or readout), at least 1.", callback=in_range(1))] = 20,
    sort: Annotated[Literal["effect", "z"], typer.Option("--sort", case_sensitive=False, help="Rank by |effect| (default) or |z| (the other breaks ties).")] = "effect",
    out: Annotated[Path | None, typer.Option("--out", help="Write the full table (every row) to this CSV: perturbation, readout, modality, predicted_effect, se, z, pvalue, estimator.", callback=out_path("file"))] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if `cmcvae predict` wrote it (its folder's .cmcvae-manifest.json lists it); any other file is never overwritten.")] = False,
) -> None:
    """Predicted knockdown effects with their uncertainty, by gene (--knockdown) or readout (--readout).

    An effect is the predicted change of the readout, in standard deviations of the readout,
    when the knocked-down gene drops by one standard deviation (log-normalised RNA, CLR
    protein of the training cells); its sign is the direction. se is its standard error,
    z = effect / se and p the two-sided p-value.
    """
    table = predict_run(run, knockdown=knockdown, readout=readout, estimator=estimator.lower(),
                        regulators=regulators, data=data, sort_by=sort.lower(), out=out, force=force)
    by, first = ("perturbation", "readout") if knockdown is not None else ("readout", "perturbation")
    for name, rows in table.groupby(by, sort=False):
        what = (f"Knockdown of {name}: top {min(top, len(rows))} of {len(rows)} readouts"
                if by == "perturbation" else
                f"Knockdowns moving {name} ({rows['modality'].iloc[0]}): top "
                f"{min(top, len(rows))} of {len(rows)} genes")
        out_console.print(predict_table(rows.head(top), f"{what} ({estimator.lower()})", first))
    out_console.print(UNITS, highlight=False)
    if out is not None:
        out_console.print(f"Wrote {out} ({len(table):,} rows)", highlight=False)
