"""The ``cmcvae`` command line (docs/design.md §4)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cmcvae._errors import CMCVAEInputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="CMC-VAE: directed gene and protein networks from CITE-seq.")
console = Console(stderr=True)
out_console = Console()

from cmcvae.cli._data import data_app, priors_app  # noqa: E402

app.add_typer(priors_app, name="priors", help="Fetch or filter prior networks (CollecTRI, OmniPath).")
app.add_typer(data_app, name="data", help="Public datasets: list, info, fetch (checksummed).")
from cmcvae.cli._report import report as _report  # noqa: E402

app.command(name="report")(_report)
from cmcvae.cli._benchmark import benchmark as _benchmark  # noqa: E402

app.command(name="benchmark")(_benchmark)

Force = Annotated[bool, typer.Option("--force", help="Overwrite the files cmcvae writes in an existing output folder.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (data split, initialisation, simulation).")]


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write train.h5mu, perturb.h5mu, priors/, protein_map.csv, truth/.")],
    cells: Annotated[int, typer.Option("--cells", help="Number of training cells.")] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help="Number of genes.")] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Number of panel proteins (each encoded by one gene).")] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Number of training donors.")] = 8,
    regime: Annotated[str, typer.Option("--regime", help="Matched-pair direction: forward | reversed | mixed | confounded.")] = "forward",
    perturbations: Annotated[int, typer.Option("--perturbations", help="Number of knocked-down genes in the screen.")] = 30,
    seed: Seed = 0,
    force: Force = False,
) -> None:
    """Simulate CITE-seq data with a known causal structure and a perturbation screen."""
    from cmcvae.datasets.simulate import simulate as _simulate

    with console.status("Simulating…"):
        sim = _simulate(n_cells=cells, n_genes=genes, n_proteins=proteins, n_donors=donors,
                        regime=regime, n_perturbations=perturbations, seed=seed)
        path = sim.write(out, force=force)
    out_console.print(f"Wrote simulation ({cells:,} cells × {genes} genes + {proteins} proteins, "
                      f"regime {regime}) to [bold]{path}[/]")


@app.command()
def prepare(
    inputs: Annotated[list[Path], typer.Argument(help="Datasets: .h5mu, .h5ad, 10x .h5 or matrix.mtx folders (one or more).")],
    out: Annotated[Path, typer.Option("--out", help="Output atlas .h5mu (report, protein map and filtered priors are written beside it).")],
    batch_key: Annotated[str, typer.Option("--batch-key", help="Donor column present in every dataset; 'none' = one batch per dataset.")] = "donor",
    n_top_genes: Annotated[int, typer.Option("--n-top-genes", help="Highly variable genes (seurat_v3); panel-encoding genes are always kept.")] = 2000,
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV overriding the packaged antibody→gene map.")] = None,
    grn_prior: Annotated[Path | None, typer.Option("--grn-prior", help="TF→target prior to filter to the prepared genes.")] = None,
    ppi_prior: Annotated[Path | None, typer.Option("--ppi-prior", help="Protein interaction prior (gene symbols) to map onto the panel.")] = None,
    min_genes: Annotated[int, typer.Option("--min-genes", help="QC: minimum detected genes per cell.")] = 200,
    max_mito: Annotated[float, typer.Option("--max-mito", help="QC: maximum mitochondrial fraction.")] = 0.2,
    min_protein_counts: Annotated[float, typer.Option("--min-protein-counts", help="QC: minimum protein counts per cell.")] = 10,
    empty_droplets: Annotated[Path | None, typer.Option("--empty-droplets", help="Empty droplets' protein counts (enables DSB in layers['dsb']).")] = None,
    force: Force = False,
) -> None:
    """Harmonise CITE-seq datasets into one model-ready atlas (genes ∩, panels ∩, QC, HVG)."""
    from cmcvae.tl._workflows import prepare_run

    with console.status("Preparing…"):
        rep = prepare_run(inputs, out, batch_key=None if batch_key.lower() == "none" else batch_key,
                          n_top_genes=n_top_genes, protein_map=protein_map, grn_prior=grn_prior,
                          ppi_prior=ppi_prior, min_genes=min_genes, max_mito=max_mito,
                          min_protein_counts=min_protein_counts, empty_droplets=empty_droplets, force=force)
    table = Table(title=f"Prepared {out}")
    table.add_column("item")
    table.add_column("value")
    table.add_row("cells (after QC)", f"{rep['cells']:,} of {rep['qc']['cells_in']:,}")
    table.add_row("donors", str(rep["n_donors"]))
    table.add_row("genes", f"{rep['n_genes']:,} ({rep['hvg']['selected']:,} HVG + {rep['hvg']['panel_genes_added']} panel genes)")
    table.add_row("proteins", f"{rep['n_proteins']} (dropped: {sum(len(v) for v in rep['proteins']['dropped'].values())})")
    table.add_row("matched protein–gene pairs", str(rep["protein_map"]["pairs"]))
    for key in ("grn_prior", "ppi_prior"):
        if key in rep:
            table.add_row(key.replace("_", " "), str(rep[key].get("message", rep[key])))
    table.add_row("seconds", f"{rep['seconds']:.1f}")
    out_console.print(table)


@app.command()
def fit(
    data: Annotated[Path | None, typer.Argument(help="Input .h5mu (modalities rna, prot; raw counts) or .h5ad with obsm['protein_expression'] (not with --resume).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run folder to write (with --seeds: the ensemble folder).")] = None,
    batch_key: Annotated[str | None, typer.Option("--batch-key", help="obs column with the donor/batch of each cell.")] = None,
    grn_prior: Annotated[Path | None, typer.Option("--grn-prior", help="TF→target prior (source,target[,weight] CSV/TSV).")] = None,
    ppi_prior: Annotated[Path | None, typer.Option("--ppi-prior", help="Protein→protein prior (source,target[,weight]).")] = None,
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV pairing antibodies with genes.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML/JSON file of CMCVAEConfig fields.")] = None,
    max_epochs: Annotated[int | None, typer.Option("--max-epochs", help="Maximum training epochs.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Seeds ensemble instead of one run: '0,1,2' or '0-4' trains one run per seed into OUT/seed_<k>/ and writes ensemble.json, stability.csv, matched_pairs.csv and network.graphml (edges kept in at least half the seeds) in OUT.")] = None,
    arch: Annotated[str | None, typer.Option("--arch", help="Model architecture: sem | poster (overrides the config).")] = None,
    accelerator: Annotated[str | None, typer.Option("--accelerator", help="cpu | gpu | auto (Lightning; default cpu).")] = None,
    devices: Annotated[str | None, typer.Option("--devices", help="Number of devices per node or 'auto' (default 1).")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Lightning strategy for several devices or nodes, e.g. ddp (data parallel: each process trains on its own shard of the cells; rank 0 writes the run). Not for --arch sem.")] = None,
    num_nodes: Annotated[int | None, typer.Option("--num-nodes", help="Number of nodes for distributed training (default 1).")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help="Lightning precision, e.g. bf16-mixed or 16-mixed (GPU) for mixed precision; the acyclicity log-det, the guard, the SCM inverse and the NB likelihood stay float32/64 (default: 32-true).")] = None,
    preload: Annotated[bool, typer.Option("--preload", help="Copy the data to the GPU once and build minibatches there (with --accelerator gpu).")] = False,
    backed: Annotated[bool, typer.Option("--backed", help="Out-of-core: leave the RNA matrix of DATA (.h5mu with modalities rna, prot, e.g. from cmcvae prepare) on disk and read each minibatch's cells from it.")] = False,
    resume: Annotated[Path | None, typer.Option("--resume", help="Continue the interrupted fit in this run folder from its last checkpoint (RUN/checkpoints/last.ckpt), with the data, priors, config and seed it was started with; then write the run folder.")] = None,
    force: Force = False,
) -> None:
    """Train CMC-VAE on DATA and write the run folder (model, edges, graphs, metrics).

    With --seeds, train one run per seed and summarise how stable the edges are across seeds.
    While training, OUT/checkpoints/ holds a checkpoint of the last finished epoch (removed once the run folder is written); if the fit is cut, `cmcvae fit --resume OUT` continues it.
    """
    from cmcvae.tl._workflows import fit_run, resume_run

    hardware = {"accelerator": accelerator, "devices": None if devices is None else _devices(devices),
                "strategy": strategy, "num_nodes": num_nodes, "precision": precision,
                "data_on_device": preload or None}
    if resume is not None:
        if seeds is not None:
            raise CMCVAEInputError("--resume continues one run; it cannot be combined with --seeds "
                                   "(resume a seed's folder on its own, or refit the ensemble).")
        given = [name for name, value in (("DATA", data), ("--out", out), ("--batch-key", batch_key),
                                          ("--grn-prior", grn_prior), ("--ppi-prior", ppi_prior),
                                          ("--protein-map", protein_map), ("--config", config),
                                          ("--max-epochs", max_epochs), ("--seed", seed),
                                          ("--arch", arch), ("--force", force or None),
                                          ("--backed", backed or None))
                 if value is not None]
        if given:
            raise CMCVAEInputError(
                f"--resume continues the run with the inputs and settings it was started with; "
                f"drop {', '.join(given)} (only --accelerator, --devices, --strategy, "
                "--num-nodes, --precision and --preload may change)."
            )
        model = resume_run(resume, **hardware)
        if getattr(model, "global_rank", 0) == 0:
            _fitted(model, resume, "Resumed and finished the fit")
        return
    if data is None or out is None:
        raise CMCVAEInputError("cmcvae fit needs DATA and --out RUN (or --resume RUN to continue "
                               "an interrupted fit).")
    hardware = {"accelerator": accelerator or "cpu", "devices": hardware["devices"] or 1,
                "strategy": strategy, "num_nodes": num_nodes or 1, "precision": precision,
                "data_on_device": preload}
    if seeds is not None:
        if seed is not None:
            raise CMCVAEInputError("Give either --seed (one run) or --seeds (an ensemble), not both.")
        if backed or preload or precision is not None:
            raise CMCVAEInputError("--backed / --preload / --precision apply to one run: run "
                                   "`cmcvae fit --seed K …` for each seed instead of --seeds.")
        if strategy is not None or (num_nodes or 1) != 1:
            raise CMCVAEInputError("--strategy / --num-nodes train one run at a time; run "
                                   "`cmcvae fit --seed K --strategy …` for each seed instead of --seeds.")
        from cmcvae.tl._ensemble import fit_seeds

        def _done(k: int, model) -> None:
            m = model.metrics
            out_console.print(f"Seed {k}: {m['epochs']} epochs in {m['timings']['fit_seconds']:.1f} s; "
                              f"latent DAG: {m['is_dag']} ({m['n_latent_edges']} edges)")

        ens = fit_seeds(data, out, seeds, batch_key=batch_key, grn_prior=grn_prior,
                        ppi_prior=ppi_prior, protein_map=protein_map, config=config,
                        max_epochs=max_epochs, accelerator=hardware["accelerator"],
                        devices=hardware["devices"], force=force, callback=_done,
                        **({} if arch is None else {"arch": arch}))
        n = ens["n_edges"]
        out_console.print(
            f"Ensemble of {len(ens['seeds'])} seeds written to [bold]{out}[/]: {n['any_seed']} edges in any "
            f"seed, {n['all_seeds']} in all, {n['network_graphml']} in at least half (network.graphml)."
        )
        return
    from cmcvae.tl._ensemble import is_ensemble

    if is_ensemble(out):
        raise CMCVAEInputError(f"{out} holds a seeds ensemble; write the single run to another --out "
                               "(or refit the ensemble with --seeds … --force).")
    model = fit_run(data, out, batch_key=batch_key, grn_prior=grn_prior, ppi_prior=ppi_prior,
                    protein_map=protein_map, config=config, max_epochs=max_epochs, seed=seed,
                    force=force, backed=backed, **hardware, **({} if arch is None else {"arch": arch}))
    if getattr(model, "global_rank", 0) == 0:  # distributed: one report, from rank 0
        _fitted(model, out)


def _fitted(model, out: Path, what: str | None = None) -> None:
    m = model.metrics
    if what is None:
        what = (f"Fitted the feature-level SEM ({m['epochs']} iterations)" if model.config.arch == "sem"
                else f"Trained {m['epochs']} epochs")
    elif model.config.arch != "sem":
        what = f"{what} ({m['epochs']} epochs)"
    out_console.print(
        f"{what} in {m['timings']['fit_seconds']:.1f} s; DAG: {m['is_dag']} "
        f"({m['n_latent_edges']} edges). Run written to [bold]{out}[/]"
    )


@app.command()
def validate(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit`.")],
    perturb: Annotated[Path, typer.Option("--perturb", help="Perturb-CITE-seq data: .h5mu, or the RNA .h5ad of a pair (with --perturb-protein).")],
    perturb_protein: Annotated[Path | None, typer.Option("--perturb-protein", help="Protein .h5ad of an RNA/protein pair (scPerturb layout, e.g. FrangiehIzar2021_protein.h5ad).")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Training data (default: the file recorded in the run).")] = None,
    control_label: Annotated[str, typer.Option("--control-label", help="Label(s) of control cells in the perturbation column, comma-separated (e.g. 'control,NT').")] = "control",
    condition_key: Annotated[str | None, typer.Option("--condition-key", help="obs column with each cell's condition (e.g. Control / IFNγ / Co-culture): compare perturbed cells with controls of the same condition.")] = None,
    truth: Annotated[Path | None, typer.Option("--truth", help="truth/knockdown_effects.csv of a simulation, adds the oracle.")] = None,
    perturbation_key: Annotated[str, typer.Option("--perturbation-key", help="obs column naming the targeted gene.")] = "perturbation",
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV (default: the map the run was fitted with).")] = None,
    no_knockdown_filter: Annotated[bool, typer.Option("--no-knockdown-filter", help="Keep perturbations whose target transcript did not drop.")] = False,
    min_cells: Annotated[int, typer.Option("--min-cells", help="Minimum cells per perturbation (and control cells per condition).")] = 10,
    fdr: Annotated[float, typer.Option("--fdr", help="Benjamini-Hochberg FDR for calling an observed effect significant.")] = 0.05,
    test: Annotated[str, typer.Option("--test", help="welch | mannwhitney.")] = "welch",
    seed: Seed = 0,
) -> None:
    """Zero-shot validation against a perturbation screen, with baselines."""
    from cmcvae.tl._workflows import validate_run

    controls = [c.strip() for c in control_label.split(",") if c.strip()]
    if not controls:
        raise CMCVAEInputError("--control-label is empty; give the control label(s), e.g. 'control,NT'.")
    res = validate_run(run, perturb, data=data, control_label=controls[0] if len(controls) == 1 else controls,
                       truth_effects=truth, perturbation_key=perturbation_key, protein_map=protein_map,
                       knockdown_filter=not no_knockdown_filter, min_cells=min_cells, fdr=fdr,
                       test=test, seed=seed, perturb_protein=perturb_protein, condition_key=condition_key)
    if "aggregate" in res:
        out_console.print(_aggregate_table(res, "Zero-shot validation across seeds"))
        out_console.print(f"Wrote {run / 'validation.json'} (and validation.json, predictions.csv per seed)")
        return
    out_console.print(_validation_table(res))
    filt = res.get("filtering", {})
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
        rows = [f"{m} {_fmt(res[m].get('direction_accuracy_cis'))} / {_fmt(res[m].get('direction_accuracy_trans'))}"
                for m in res.get("methods", []) if isinstance(res.get(m), dict)]
        out_console.print(f"{res.get('n_significant')} significant pairs, {cis:.0%} cis (the target's own protein); "
                          f"direction accuracy cis / trans: {'; '.join(rows)}", highlight=False)
    out_console.print(f"Wrote {run / 'validation.json'} and {run / 'predictions.csv'}")


@app.command()
def analyze(
    run: Annotated[Path, typer.Argument(help="Run folder written by `cmcvae fit`.")],
    truth: Annotated[Path | None, typer.Option("--truth", help="A simulation's truth/ folder (or a file in it): adds direction accuracy and network recovery.")] = None,
    grn: Annotated[Path | None, typer.Option("--grn", help="An external TF→target network never used in training (e.g. full CollecTRI) to test as well.")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="Training data for the recovery baselines (default: the file recorded in the run).")] = None,
    seed: Seed = 0,
) -> None:
    """Central-dogma and TF→target asymmetry, and recovery against a known truth (→ analysis.json)."""
    from cmcvae.tl._workflows import analyze_run

    res = analyze_run(run, truth=truth, grn=grn, data=data, seed=seed)
    if "aggregate" in res:
        out_console.print(_aggregate_table(res, "Analyses across seeds"))
        out_console.print(f"Wrote {run / 'analysis.json'} (and one per seed folder)")
        return
    out_console.print(_asymmetry_table(
        "Central-dogma asymmetry (matched protein–gene pairs): RNA→protein vs protein→RNA",
        {kind: r for kind, r in res["central_dogma"].items()}))
    rows = {f"{split} {kind}": r[kind] for split, r in res.get("tf_target", {}).items()
            for kind in ("direct", "total")}
    if rows:
        out_console.print(_asymmetry_table("TF→target asymmetry (prior edges by split): forward vs reverse", rows))
    if "recovery" in res:
        out_console.print(_recovery_table(res["recovery"]))
    out_console.print(f"Wrote {run / 'analysis.json'}")


_AGG_KEYS = ("fraction_forward", "null_fraction_forward", "wilcoxon_p", "p_vs_null", "rank_biserial",
             "sign_agreement", "null_sign_agreement", "direction_accuracy_vs_truth", "call", "auroc",
             "direction_accuracy", "auprc")


def _aggregate_table(res: dict, title: str) -> Table:
    """Mean ± sd [min–max] across seeds of the headline numbers of an ensemble's analyses."""
    from cmcvae.graph.stability import aggregate_rows

    table = Table(title=f"{title} ({res['ensemble']['n_seeds']} seeds)")
    for col in ("analysis", "statistic", "mean ± sd [min–max] / per seed"):
        table.add_column(col)
    for row in aggregate_rows(res["aggregate"], _AGG_KEYS, skip_none=False):
        table.add_row(*row)
    return table


def _asymmetry_table(title: str, rows: dict) -> Table:
    table = Table(title=title)
    for col in ("effects", "n", "fwd>rev", "random", "Wilcoxon p", "p vs random", "r_rb [95% CI]",
                "sign (null)", "call", "vs truth"):
        table.add_column(col)
    for name, r in rows.items():
        if "fraction_forward" not in r:
            table.add_row(name, str(r.get("n_pairs", r.get("n_edges", 0))), *["–"] * 6,
                          r.get("call", "none"), r.get("message", "–"))
            continue
        ci = r["rank_biserial_ci"]
        sign = "–"
        if r.get("sign_agreement") is not None:
            sign = f"{r['sign_agreement']:.2f} ({r['null_sign_agreement']:.2f})"
        table.add_row(name, str(r["n_pairs"]), _fmt(r["fraction_forward"]), _fmt(r["null_fraction_forward"]),
                      f"{r['wilcoxon_p']:.2g}", "–" if r["p_vs_null"] is None else f"{r['p_vs_null']:.2g}",
                      f"{r['rank_biserial']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]", sign, r["call"],
                      _fmt(r.get("direction_accuracy_vs_truth")))
    return table


def _recovery_table(rec: dict) -> Table:
    table = Table(title="Recovery of the true networks (training prior edges excluded): AUROC / AUPRC (random)")
    table.add_column("network")
    methods = [m for m in ("direct", "total", "correlation", "partial_correlation") if m in rec]
    for m in methods:
        table.add_column("cmcvae " + m if m in ("direct", "total") else m)
    table.add_column("direction acc. (direct)")
    for key in ("rna_rna", "rna_protein", "protein_protein", "protein_rna"):
        cells = []
        for m in methods:
            r = rec[m].get(key, {})
            cells.append(f"{_fmt(r.get('auroc'))} / {_fmt(r.get('auprc'))} ({_fmt(r.get('auprc_random'))})")
        table.add_row(key.replace("_", "→"), *cells, _fmt(rec["direct"].get(key, {}).get("direction_accuracy")))
    return table


@app.command()
def run(
    out: Annotated[Path, typer.Option("--out", help="Output folder (data/, run/, summary.json).")] = Path("cmcvae_run"),
    seed: Seed = 0,
    max_epochs: Annotated[int | None, typer.Option("--max-epochs", help="Maximum training epochs.")] = None,
    regime: Annotated[str, typer.Option("--regime", help="Simulated matched-pair direction: forward | reversed | mixed | confounded.")] = "forward",
    cells: Annotated[int, typer.Option("--cells", help="Simulated training cells.")] = 20_000,
    genes: Annotated[int, typer.Option("--genes", help="Simulated genes.")] = 500,
    proteins: Annotated[int, typer.Option("--proteins", help="Simulated proteins.")] = 40,
    donors: Annotated[int, typer.Option("--donors", help="Simulated training donors.")] = 8,
    arch: Annotated[str | None, typer.Option("--arch", help="Model architecture: sem | poster (default: the config's).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML/JSON file of CMCVAEConfig fields.")] = None,
    force: Force = False,
) -> None:
    """The whole pipeline on the built-in default: simulate → fit → validate → summary."""
    from cmcvae.tl._workflows import run_default

    sim = {"n_cells": cells, "n_genes": genes, "n_proteins": proteins, "n_donors": donors, "regime": regime}
    extra = {} if arch is None else {"arch": arch}
    if config is not None:
        extra["config"] = config
    summary = run_default(out, seed=seed, force=force, max_epochs=max_epochs, sim_kwargs=sim, **extra)
    out_console.print(_summary_table(summary))
    out_console.print(f"Results in [bold]{out}[/] (run folder {out / 'run'}, summary.json)")


def _fmt(x) -> str:
    return "–" if x is None or x != x else f"{x:.3f}"


def _validation_table(res: dict) -> Table:
    table = Table(title=f"Zero-shot validation: {res.get('n_perturbations')} perturbations, {res.get('n_pairs')} pairs")
    for col in ("method", "AUROC", "AUPRC", "median per-perturbation AUROC", "direction accuracy"):
        table.add_column(col)
    for method in res.get("methods", []):
        r = res[method]
        table.add_row(method, _fmt(r.get("auroc")), _fmt(r.get("auprc")),
                      _fmt(r.get("median_perturbation_auroc")), _fmt(r.get("direction_accuracy")))
    return table


def _summary_table(summary: dict) -> Table:
    d = summary["matched_pair_direction_accuracy"]
    table = Table(title=(f"cmcvae run (seed {summary['seed']}, regime {summary['regime']}): "
                         f"{summary['n_perturbations']} knockdowns, {summary['n_pairs']} pairs, "
                         f"{summary['seconds']['total']:.0f} s"))
    for col in ("method", "zero-shot AUROC", "direction accuracy", "matched-pair RNA→protein direction"):
        table.add_column(col)
    for method, r in summary["zero_shot"].items():
        pair = "–"
        if method == "cmcvae":
            pair = f"{_fmt(d.get('direct'))} direct / {_fmt(d.get('total'))} total"
        elif method == "oracle":
            pair = "1.000"
        elif method in ("correlation", "ridge"):
            pair = "n/a (undirected)"
        table.add_row(method, _fmt(r.get("auroc")), _fmt(r.get("direction_accuracy")), pair)
    return table


def _devices(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def main() -> None:
    """Entry point: run the app and turn input errors into a one-paragraph message."""
    import warnings

    # proteins may share names with genes (CD4 …): unique names are per modality by design
    warnings.filterwarnings("ignore", message="var_names are not unique")
    try:
        app()  # standalone mode: usage errors and --help exit through click as usual
    except CMCVAEInputError as err:
        console.print(f"[bold red]Error:[/] {err}", highlight=False)
        sys.exit(2)
    except FileNotFoundError as err:
        console.print(f"[bold red]Error:[/] file not found: {err.filename}. Check the path.", highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
