"""``cmcvae validate``: zero-shot validation against a perturbation screen, with baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from cmcvae import CMCVAEInputError
from cmcvae.cli._app import out_console
from cmcvae.cli._options import Seed, in_range
from cmcvae.cli._tables import aggregate_table, fmt, validation_table
from cmcvae.effects import DEFAULT_ESTIMATOR, ESTIMATORS
from cmcvae.evaluate import VALIDATION_FILES
from cmcvae.tl import validate_run


def validate(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit`.")],
    perturb: Annotated[Path, typer.Option("--perturb", help="Perturb-CITE-seq data: .h5mu, or the RNA .h5ad of a pair (with --perturb-protein).")],
    perturb_protein: Annotated[Path | None, typer.Option("--perturb-protein", help="Protein .h5ad of an RNA/protein pair (scPerturb layout, e.g. the FrangiehIzar2021 protein file).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Training data (default: the file recorded in the run).")] = None,
    control_label: Annotated[str, typer.Option("--control-label", help="Label(s) of control cells in the perturbation column, comma-separated (e.g. 'control,NT').")] = "control",
    condition_key: Annotated[str | None, typer.Option("--condition-key", help="obs column with each cell's condition (e.g. Control / IFNγ / Co-culture): compare perturbed cells with controls of the same condition.")] = None,
    truth: Annotated[Path | None, typer.Option("--truth", help="A simulation's knockdown_effects.csv (in its truth/ folder): adds the oracle.")] = None,
    perturbation_key: Annotated[str, typer.Option("--perturbation-key", help="obs column naming the targeted gene.")] = "perturbation",
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV (default: the map the run was fitted with).")] = None,
    no_knockdown_filter: Annotated[bool, typer.Option("--no-knockdown-filter", help="Keep perturbations whose target transcript did not drop.")] = False,
    min_cells: Annotated[int, typer.Option("--min-cells", help="Minimum cells per perturbation (and control cells per condition), at least 2.", callback=in_range(2, why=" (a mean and a variance need two cells per group)"))] = 10,
    fdr: Annotated[float, typer.Option("--fdr", help="Benjamini-Hochberg FDR for calling an observed effect significant, in (0, 1].", callback=in_range(0, 1, what="a false discovery rate", low_open=True))] = 0.05,
    test: Annotated[Literal["welch", "mannwhitney"], typer.Option("--test", case_sensitive=False, help="welch | mannwhitney.")] = "welch",
    readout: Annotated[Literal["protein", "rna", "both"], typer.Option("--readout", case_sensitive=False, help="What to score: protein (the screen's antibody panel; validation.json, predictions.csv), rna (its genes, the target's own transcript reported as knockdown efficiency; validation_rna.json, predictions_rna.csv) or both.")] = "protein",
    estimator: Annotated[str | None, typer.Option("--estimator", help=f"Effect estimator of the model's predictions: {', '.join(ESTIMATORS)} (default {DEFAULT_ESTIMATOR}; correlation when the run has no regulators). The others are scored beside it.")] = None,
    regulators: Annotated[Path | None, typer.Option("--regulators", help="TF list (one gene per line) for the adjustment sets, instead of the GRN prior's sources.")] = None,
    include_trained: Annotated[bool, typer.Option("--include-trained", help="For a run fitted on a screen (fit --perturbation-key): also score the perturbations it was trained on (left out by default); predictions.csv then flags them held_out=False.")] = False,
    seed: Seed = 0,
) -> None:
    """Zero-shot validation against a perturbation screen, with baselines."""
    controls = [c.strip() for c in control_label.split(",") if c.strip()]
    if not controls:
        raise CMCVAEInputError("--control-label is empty; give the control label(s), e.g. 'control,NT'.")
    res = validate_run(run, perturb, data=data, control_label=controls[0] if len(controls) == 1 else controls,
                       truth_effects=truth, perturbation_key=perturbation_key, protein_map=protein_map,
                       knockdown_filter=not no_knockdown_filter, min_cells=min_cells, fdr=fdr,
                       test=test, seed=seed, perturb_protein=perturb_protein, condition_key=condition_key,
                       readout=readout, estimator=estimator, regulators=regulators,
                       include_trained=include_trained)
    by_readout = res if readout == "both" else {readout: res}
    for name, result in by_readout.items():
        _print_readout(run, name, result)


def _print_readout(run: Path, readout: str, res: dict) -> None:
    """The scores of one read-out and the files written (the protein one as it always was)."""
    json_name, csv_name = VALIDATION_FILES[readout]
    genes = " (gene read-out)" if readout == "rna" else ""
    if "aggregate" in res:
        out_console.print(aggregate_table(res, f"Zero-shot validation across seeds{genes}"))
        out_console.print(f"Wrote {run / json_name} (and {json_name}, {csv_name} per seed)")
        return
    table = validation_table(res)
    if genes:
        table.title = f"{table.title}{genes}"
    out_console.print(table)
    _print_details(res)
    if readout == "rna":
        _print_knockdown(res.get("knockdown_efficiency") or {})
    out_console.print(f"Wrote {run / json_name} and {run / csv_name}")


def _print_knockdown(eff: dict) -> None:
    """The knockdown efficiency of the gene read-out: how far the target transcripts dropped."""
    if eff.get("n_measured"):
        out_console.print(f"Knockdown efficiency: {eff['n_knocked_down']} of {eff['n_measured']} measured "
                          f"targets dropped; median target log fold change {fmt(eff.get('median_target_log_fc'))} "
                          "(scored perturbations).", highlight=False)


def _print_trained(res: dict, filt: dict) -> None:
    """For a run fitted on a screen: the trained perturbations left out, or scored."""
    excluded = filt.get("trained_perturbations_excluded") or []
    if excluded:
        out_console.print(f"{len(excluded)} perturbations were in training and are not scored "
                          f"({', '.join(excluded[:10])}{' …' if len(excluded) > 10 else ''}); "
                          "--include-trained scores them.", highlight=False)
    if res.get("n_trained_scored") is not None:
        out_console.print(f"{res['n_trained_scored']} scored perturbations were in training "
                          "(held_out=False in the predictions).", highlight=False)


def _print_details(res: dict) -> None:
    """Protein matching, the cells scored per condition and the cis / trans split, when reported."""
    filt = res.get("filtering", {})
    _print_trained(res, filt)
    match = filt.get("protein_matching", {})
    if match:
        renamed = ", ".join(f"{m}={p}" for m, p in match.get("canonical", {}).items())
        out_console.print(f"Proteins: {match.get('n_matched')} of the model's {match.get('n_model')} matched to "
                          f"the panel ({len(match.get('exact', []))} by name"
                          + (f", {len(match.get('canonical', {}))} by antigen: {renamed}" if renamed else "") + ").",
                          highlight=False)
    for cond, c in (filt.get("conditions") or {}).items():
        out_console.print(f"Condition {cond}: {c['n_control']} control, {c['n_perturbed']} perturbed cells scored"
                          + ("" if c["used"] else " (not used: too few control cells)"), highlight=False)
    cis = res.get("fraction_significant_cis")
    if cis is not None and cis == cis:
        rows = [f"{m} {fmt(res[m].get('direction_accuracy_cis'))} / {fmt(res[m].get('direction_accuracy_trans'))}"
                for m in res.get("methods", []) if isinstance(res.get(m), dict)]
        out_console.print(f"{res.get('n_significant')} significant pairs, {cis:.0%} cis (the target's own protein); "
                          f"direction accuracy cis / trans: {'; '.join(rows)}", highlight=False)
