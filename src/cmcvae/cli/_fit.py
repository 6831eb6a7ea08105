"""``cmcvae fit``: one run, a seeds ensemble (``--seeds``) or the rest of a cut fit (``--resume``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cmcvae import CMCVAEInputError
from cmcvae.cli._app import Force, out_console
from cmcvae.cli._options import (
    Accelerator,
    Arch,
    MaxEpochs,
    OptSeed,
    Precision,
    check_devices,
    in_range,
    out_path,
)
from cmcvae.io import read_json
from cmcvae.model import check_hardware
from cmcvae.tl import fit_run, fit_seeds, is_ensemble, resume_run


def fit(
    data: Annotated[Path | None, typer.Argument(help="Input .h5mu (modalities rna, prot; raw counts) or .h5ad with obsm['protein_expression']; with --modality rna an RNA-only .h5ad (not with --resume).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run folder to write (with --seeds: the ensemble folder).", callback=out_path("folder"))] = None,
    batch_key: Annotated[str | None, typer.Option("--batch-key", help="obs column with the donor/batch of each cell.")] = None,
    grn_prior: Annotated[Path | None, typer.Option("--grn-prior", help="TF→target prior: CSV/TSV with columns source, target[, weight].")] = None,
    ppi_prior: Annotated[Path | None, typer.Option("--ppi-prior", help="Protein→protein prior: CSV/TSV with columns source, target[, weight].")] = None,
    protein_map: Annotated[Path | None, typer.Option("--protein-map", help="protein,gene CSV pairing antibodies with genes.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML/JSON file of CMCVAEConfig fields.")] = None,
    max_epochs: MaxEpochs = None,
    seed: OptSeed = None,
    seeds: Annotated[str | None, typer.Option("--seeds", help="Seeds ensemble instead of one run: '0,1,2' or '0-4' trains one run per seed into OUT/seed_<k>/ and writes ensemble.json, stability.csv, matched_pairs.csv and network.graphml (edges kept in at least half the seeds) in OUT.")] = None,
    arch: Arch = None,
    accelerator: Accelerator = None,
    devices: Annotated[str | None, typer.Option("--devices", help="Number of devices per node, -1 (all) or 'auto' (default 1).", callback=check_devices)] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help="Lightning strategy for several devices or nodes, e.g. ddp (data parallel: each process trains on its own shard of the cells; rank 0 writes the run). Not for --arch sem.")] = None,
    num_nodes: Annotated[int | None, typer.Option("--num-nodes", help="Number of nodes for distributed training (default 1).", callback=in_range(1))] = None,
    precision: Precision = None,
    preload: Annotated[bool, typer.Option("--preload", help="Copy the data to the GPU once and build minibatches there (with --accelerator gpu).")] = False,
    backed: Annotated[bool, typer.Option("--backed", help="Out-of-core: leave the RNA matrix of DATA (.h5mu with modalities rna, prot, e.g. from cmcvae prepare) on disk and read each minibatch's cells from it.")] = False,
    modality: Annotated[str | None, typer.Option("--modality", help="Which modalities to fit: both (default; RNA and protein), rna (RNA only: DATA may be an RNA-only .h5ad with counts in X or layers['counts'], or a .h5mu whose protein modality is left out) or protein (proteins only). --protein-map and --ppi-prior are refused with rna, --grn-prior and --protein-map with protein.")] = None,
    perturbation_key: Annotated[str | None, typer.Option("--perturbation-key", help="Fit on a perturbation screen: the obs column naming each cell's targeted gene. The control cells are the observational data; with --arch sem the perturbed cells enter the likelihood as interventions (mean shifts; a target outside the model as an environment), with --arch latent only the effect layer uses them. They are recorded as the run's interventions (run.json, interventions.csv) and `cmcvae validate` leaves them out of its scores.")] = None,
    control_label: Annotated[str | None, typer.Option("--control-label", help="With --perturbation-key: label(s) of the control cells, comma-separated (e.g. 'control,NT'; default control).")] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Continue the interrupted fit in this run folder from its last checkpoint (checkpoints/last.ckpt in it), with the data, priors, config and seed it was started with; then write the run folder.")] = None,
    force: Force = False,
) -> None:
    """Train CMC-VAE on DATA and write the run folder (model, edges, graphs, metrics).

    With --seeds, train one run per seed and summarise how stable the edges are across seeds.
    While training, OUT/checkpoints/ holds a checkpoint of the last finished epoch (removed once the run folder is written); if the fit is cut, `cmcvae fit --resume OUT` continues it.
    """
    devices_ = None if devices is None else _devices(devices)
    check_hardware(accelerator or "cpu", precision)  # before anything is read or written
    if resume is not None:
        _resume(resume, seeds, {
            "DATA": data, "--out": out, "--batch-key": batch_key, "--grn-prior": grn_prior,
            "--ppi-prior": ppi_prior, "--protein-map": protein_map, "--config": config,
            "--max-epochs": max_epochs, "--seed": seed, "--arch": arch, "--force": force or None,
            "--backed": backed or None, "--modality": modality,
            "--perturbation-key": perturbation_key, "--control-label": control_label,
        }, {"accelerator": accelerator, "devices": devices_, "strategy": strategy,
            "num_nodes": num_nodes, "precision": precision, "data_on_device": preload or None})
        return
    if data is None or out is None:
        raise CMCVAEInputError("cmcvae fit needs DATA and --out RUN (or --resume RUN to continue "
                               "an interrupted fit).")
    if control_label is not None and perturbation_key is None:
        raise CMCVAEInputError("--control-label names the control cells of a screen; give the obs "
                               "column of the perturbation labels with --perturbation-key too (or "
                               "drop --control-label to fit every cell as observational data).")
    screen = {} if perturbation_key is None else {"perturbation_key": perturbation_key,
                                                  "control_label": control_label or "control"}
    inputs = {"batch_key": batch_key, "grn_prior": grn_prior, "ppi_prior": ppi_prior,
              "protein_map": protein_map, "config": config, "max_epochs": max_epochs,
              "force": force, "modality": modality or "both",
              **({} if arch is None else {"arch": arch}), **screen}
    hardware = {"accelerator": accelerator or "cpu", "devices": devices_ or 1,
                "strategy": strategy, "num_nodes": num_nodes or 1, "precision": precision,
                "data_on_device": preload}
    if seeds is not None:
        _check_one_run_options(seed, backed, preload, precision, strategy, num_nodes)
        _fit_ensemble(data, out, seeds, inputs, hardware)
        return
    if is_ensemble(out):
        raise CMCVAEInputError(f"{out} holds a seeds ensemble; write the single run to another --out "
                               "(or refit the ensemble with --seeds … --force).")
    model = fit_run(data, out, seed=seed, backed=backed, **inputs, **hardware)
    if getattr(model, "global_rank", 0) == 0:  # distributed: one report, from rank 0
        _fitted(model, out)
        _interventions(model, out)


def _resume(run: Path, seeds: str | None, given: dict[str, Any], hardware: dict[str, Any]) -> None:
    """``--resume RUN``: refuse the options in ``given`` (all but the hardware ones) when set."""
    if seeds is not None:
        raise CMCVAEInputError("--resume continues one run; it cannot be combined with --seeds "
                               "(resume a seed's folder on its own, or refit the ensemble).")
    names = [name for name, value in given.items() if value is not None]
    if names:
        raise CMCVAEInputError(
            f"--resume continues the run with the inputs and settings it was started with; "
            f"drop {', '.join(names)} (only --accelerator, --devices, --strategy, "
            "--num-nodes, --precision and --preload may change)."
        )
    model = resume_run(run, **hardware)
    if getattr(model, "global_rank", 0) == 0:
        _fitted(model, run, "Resumed and finished the fit")
        _interventions(model, run)


def _check_one_run_options(seed: int | None, backed: bool, preload: bool, precision: str | None,
                           strategy: str | None, num_nodes: int | None) -> None:
    """Refuse with ``--seeds`` the options that apply to one run only."""
    if seed is not None:
        raise CMCVAEInputError("Give either --seed (one run) or --seeds (an ensemble), not both.")
    if backed or preload or precision is not None:
        raise CMCVAEInputError("--backed / --preload / --precision apply to one run: run "
                               "`cmcvae fit --seed K …` for each seed instead of --seeds.")
    if strategy is not None or (num_nodes or 1) != 1:
        raise CMCVAEInputError("--strategy / --num-nodes train one run at a time; run "
                               "`cmcvae fit --seed K --strategy …` for each seed instead of --seeds.")


def _fit_ensemble(data: Path, out: Path, seeds: str, inputs: dict[str, Any],
                  hardware: dict[str, Any]) -> None:
    """``--seeds``: one run per seed, a line per finished seed, then the ensemble's edge counts."""
    def _done(k: int, model) -> None:
        m = model.metrics
        out_console.print(f"Seed {k}: {m['epochs']} epochs in {m['timings']['fit_seconds']:.1f} s; "
                          f"latent DAG: {m['is_dag']} ({m['n_latent_edges']} edges)")

    ens = fit_seeds(data, out, seeds, accelerator=hardware["accelerator"],
                    devices=hardware["devices"], callback=_done, **inputs)
    n = ens["n_edges"]
    out_console.print(
        f"Ensemble of {len(ens['seeds'])} seeds written to [bold]{out}[/]: {n['any_seed']} edges in any "
        f"seed, {n['all_seeds']} in all, {n['network_graphml']} in at least half (network.graphml)."
    )


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


def _interventions(model, out: Path) -> None:
    """For a fit on a screen: the control cells trained on and the interventions recorded."""
    info = read_json(out, "run.json")
    if not info.get("perturbation_key"):
        return
    n_train = int((model.split == "train").sum()) if hasattr(model, "split") else None
    few = info.get("interventions_too_few") or {}
    out_console.print(
        "Screen: the control cells are the observational data"
        + (f" ({n_train} in the training split)" if n_train is not None else "")
        + f"; {len(info.get('interventions') or {})} interventions recorded "
        f"({len(info.get('interventions_in_model') or [])} on genes of the model"
        + (f"; {len(few)} labels with fewer than 10 cells left out" if few else "")
        + ") in interventions.csv.", highlight=False)
    used = model.metrics.get("interventions") or {}
    if used.get("in_likelihood"):
        out_console.print(
            f"The SEM's likelihood also holds {used['n_cells']:,} perturbed cells of "
            f"{used['n_regimes']} perturbations as interventions ({used['n_targets_in_model']} "
            f"on a modelled gene, {used['n_targets_outside_model']} outside the model as "
            "environments).", highlight=False)
    elif used:
        why = used.get("reason") or ("sem_interventions is false" if model.config.arch == "sem"
                                     else "arch 'latent' does not use them; --arch sem does")
        out_console.print(f"The perturbed cells did not enter the structure model ({why}); the "
                          "effect layer uses them.", highlight=False)


def _devices(value: str) -> int | str:
    return int(value) if value.isdigit() or value == "-1" else value
