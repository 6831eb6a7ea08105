"""End-to-end workflows behind the command line: fit, validate and the default run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import CHECKPOINTS, prepare_out_dir, write_json, write_run
from cmcvae.io._contract import check_mudata, get_counts, read_input
from cmcvae.model import CMCVAE, CMCVAEConfig
from cmcvae.pp._priors import read_network
from cmcvae.pp._protein_map import read_protein_map

# sub-folder of a run that holds fit_args.json and last.ckpt while it trains


def fit_run(data: str | Path | md.MuData, out: str | Path, *, batch_key: str | None = None,
            grn_prior: str | Path | pd.DataFrame | None = None,
            ppi_prior: str | Path | pd.DataFrame | None = None,
            protein_map: str | Path | pd.DataFrame | None = None,
            config: str | Path | CMCVAEConfig | None = None, max_epochs: int | None = None,
            seed: int | None = None, accelerator: str = "cpu", devices: int | str = 1,
            force: bool = False, progress_bar: bool = True, strategy: str | Any | None = None,
            num_nodes: int = 1, resume: bool = False, checkpoints: bool = True,
            precision: str | None = None, data_on_device: bool = False, backed: bool = False,
            **overrides: Any) -> CMCVAE:
    """Read data and priors, train CMC-VAE and write the run folder ``out`` (docs/design.md §3).

    While it trains, ``out/checkpoints/`` holds ``fit_args.json`` (the inputs and settings of
    this call, written once the inputs passed their checks, before training) and ``last.ckpt`` (a Lightning checkpoint rewritten
    after every epoch). Both are deleted once the run folder is written. A run whose training
    was cut is continued by ``cmcvae fit --resume OUT`` (:func:`resume_run`), or by calling
    this function again with the same arguments and ``resume=True``; it ends with the graph an
    uninterrupted run gives.

    Parameters
    ----------
    data
        ``.h5mu`` / ``.h5ad`` path or a MuData.
    out
        Run folder.
    batch_key, grn_prior, ppi_prior, protein_map
        Donor column and optional prior networks / protein map (paths or data frames).
    config, max_epochs, seed, **overrides
        A :class:`CMCVAEConfig` or YAML/JSON file, and fields that override it.
    accelerator, devices, strategy, num_nodes
        Lightning Trainer options (:meth:`CMCVAE.train`); ``strategy="ddp"`` with
        ``devices`` > 1 trains data-parallel. Only rank 0 writes the run folder.
    force
        Replace the files cmcvae writes in a non-empty ``out`` (and an interrupted run's
        checkpoint there).
    progress_bar
        Show Lightning's progress bar.
    resume
        Continue the interrupted training in ``out`` from ``out/checkpoints/last.ckpt``. The
        config must be the one the run was started with (checked against ``fit_args.json``).
        Not for ``arch="sem"``.
    checkpoints
        Write the per-epoch checkpoint (``False``: the run cannot be resumed).
    precision, data_on_device
        Mixed precision (e.g. ``"bf16-mixed"``) and preloading the data on the GPU
        (:meth:`CMCVAE.train`).
    backed
        Leave the RNA matrix of the ``.h5mu`` on disk and read each minibatch's cells from it
        (out-of-core: for data larger than memory; :func:`cmcvae.io._backed.read_backed`).

    Returns
    -------
    CMCVAE
        The trained model (on every rank; check ``model.global_rank`` before writing more).
    """
    from cmcvae.model import (
        check_data_on_device,
        check_lightning_options,
        is_primary_process,
    )

    check_data_on_device(data_on_device, accelerator)  # before anything is written

    out = Path(out)
    ckpt_dir = out / CHECKPOINTS
    base = CMCVAEConfig.from_file(config) if isinstance(config, (str, Path)) else config or CMCVAEConfig()
    if seed is not None:
        overrides["seed"] = seed
    if max_epochs is not None:
        overrides["max_epochs"] = max_epochs
    cfg = CMCVAEConfig.from_dict({**base.to_dict(), **overrides})
    check_lightning_options(cfg.arch, resume=resume, strategy=strategy, num_nodes=num_nodes)
    primary = is_primary_process(strategy, devices, num_nodes)  # False in a DDP child process
    if resume:
        _check_resumable(out, cfg)
    elif primary:
        if not force and (ckpt_dir / "last.ckpt").is_file():
            raise CMCVAEInputError(
                f"{out} holds an interrupted run ({CHECKPOINTS}/last.ckpt): continue it with "
                f"`cmcvae fit --resume {out}`, or pass --force to train again from the start."
            )
        prepare_out_dir(out, force)  # fail before training, not after
        _clear_checkpoints(ckpt_dir)
    args = {
        "data": None if isinstance(data, md.MuData) else str(Path(data).resolve()),
        "batch_key": batch_key,
        **{key: str(Path(value).resolve()) if isinstance(value, (str, Path)) else None
           for key, value in (("grn_prior", grn_prior), ("ppi_prior", ppi_prior),
                              ("protein_map", protein_map))},
        "in_memory": [key for key, value in (("data", data), ("grn_prior", grn_prior),
                                             ("ppi_prior", ppi_prior), ("protein_map", protein_map))
                      if value is not None and not isinstance(value, (str, Path))],
        "config": cfg.to_dict(), "accelerator": accelerator, "devices": devices,
        "strategy": strategy if isinstance(strategy, str) else None, "num_nodes": num_nodes,
        "precision": precision, "data_on_device": bool(data_on_device), "backed": bool(backed),
    }
    if not isinstance(data, md.MuData):
        if backed:
            from cmcvae.io._backed import read_backed

            data = read_backed(data)
        else:
            data = read_input(data)
    grn = read_network(grn_prior, "GRN prior") if isinstance(grn_prior, (str, Path)) else grn_prior
    ppi = read_network(ppi_prior, "PPI prior") if isinstance(ppi_prior, (str, Path)) else ppi_prior
    pmap = read_protein_map(protein_map) if isinstance(protein_map, (str, Path)) else protein_map
    if pmap is None and isinstance(data.uns.get("protein_map"), pd.DataFrame):
        pmap = data.uns["protein_map"]  # written by `cmcvae prepare`
    CMCVAE.setup_mudata(data, batch_key=batch_key)
    model = CMCVAE(data, grn_prior=grn, ppi_prior=ppi, protein_map=pmap, config=cfg)
    if checkpoints and primary and not resume:  # only once the inputs passed their checks
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        write_json(ckpt_dir / "fit_args.json", args)
    model.train(accelerator=accelerator, devices=devices, progress_bar=progress_bar,
                checkpoint_dir=ckpt_dir if checkpoints or resume else None, resume=resume,
                strategy=strategy, num_nodes=num_nodes, precision=precision,
                data_on_device=data_on_device)
    if getattr(model, "global_rank", 0) != 0:
        return model  # distributed training: rank 0 writes the run folder
    info = {key: args[key] for key in ("data", "batch_key", "grn_prior", "ppi_prior", "protein_map")}
    info["config"] = model.config.to_dict()
    write_run(model, out, force=True, run_info=info)
    _clear_checkpoints(ckpt_dir)
    return model


def resume_run(run: str | Path, *, accelerator: str | None = None, devices: int | str | None = None,
               strategy: str | None = None, num_nodes: int | None = None,
               progress_bar: bool = True, precision: str | None = None,
               data_on_device: bool | None = None) -> CMCVAE:
    """Continue the interrupted ``cmcvae fit`` in ``run`` (``cmcvae fit --resume RUN``).

    Reads the data and prior paths, batch key and config (seed included) from
    ``run/checkpoints/fit_args.json``, continues training from ``run/checkpoints/last.ckpt``
    and writes the run folder as :func:`fit_run` does. The hardware options default to the
    ones the run was started with. Lightning checkpoints are read with
    ``torch.load(weights_only=True)``.

    Parameters
    ----------
    run
        Run folder of the interrupted fit.
    accelerator, devices, strategy, num_nodes, precision, data_on_device
        Override the recorded Lightning options (e.g. fewer devices). Changing the number of
        processes changes the sharding of later epochs, so the graph is no longer exactly the
        one an uninterrupted run gives.
    progress_bar
        Show Lightning's progress bar.

    Returns
    -------
    CMCVAE
        The trained model.
    """
    run = Path(run)
    args_file = run / CHECKPOINTS / "fit_args.json"
    if not args_file.is_file():
        raise CMCVAEInputError(_nothing_to_resume(run))
    args = _read_json(args_file)
    cfg = CMCVAEConfig.from_dict(args["config"])
    from cmcvae.model import check_lightning_options

    check_lightning_options(cfg.arch, resume=True)
    if args.get("in_memory"):
        raise CMCVAEInputError(
            f"{run} was started from Python with in-memory {', '.join(args['in_memory'])}, which "
            "the command line cannot read back; resume it in Python with fit_run(<the same "
            f"inputs>, {str(run)!r}, resume=True)."
        )
    return fit_run(args["data"], run, batch_key=args.get("batch_key"),
                   grn_prior=args.get("grn_prior"), ppi_prior=args.get("ppi_prior"),
                   protein_map=args.get("protein_map"), config=cfg,
                   accelerator=accelerator or args.get("accelerator") or "cpu",
                   devices=devices if devices is not None else args.get("devices", 1),
                   strategy=strategy if strategy is not None else args.get("strategy"),
                   num_nodes=num_nodes if num_nodes is not None else args.get("num_nodes", 1),
                   precision=precision if precision is not None else args.get("precision"),
                   data_on_device=(data_on_device if data_on_device is not None
                                   else args.get("data_on_device", False)),
                   backed=args.get("backed", False), progress_bar=progress_bar, resume=True)


def _nothing_to_resume(run: Path) -> str:
    if (run / "model").is_dir():
        why = "it holds a finished run (model/ is written and its checkpoint was removed)"
    elif not run.is_dir():
        why = "the folder does not exist"
    else:
        why = f"it has no checkpoint ({CHECKPOINTS}/last.ckpt): training never finished an epoch"
    return (f"nothing to resume in {run}: {why}. Run `cmcvae fit DATA --out {run}` without "
            "--resume (with --force to reuse the folder).")


def _check_resumable(out: Path, cfg: CMCVAEConfig) -> None:
    """A checkpoint is there, and the config is the one the run was started with."""
    if not (out / CHECKPOINTS / "last.ckpt").is_file():
        raise CMCVAEInputError(_nothing_to_resume(out))
    started = _read_json(out / CHECKPOINTS / "fit_args.json").get("config")
    if started is None:
        return
    started = CMCVAEConfig.from_dict(started).to_dict()
    now = json.loads(json.dumps(cfg.to_dict()))
    changed = sorted(k for k in now if now[k] != started.get(k))
    if changed:
        raise CMCVAEInputError(
            f"The run in {out} was started with another config ({', '.join(changed)} differ): "
            "resume it with the settings it was started with (`cmcvae fit --resume` reads them "
            f"from {CHECKPOINTS}/fit_args.json)."
        )


def _clear_checkpoints(folder: Path) -> None:
    """Remove the files a fit keeps in ``folder`` while training (and ``folder`` if then empty)."""
    for name in ("last.ckpt", "fit_args.json"):
        if (folder / name).is_file():
            (folder / name).unlink()
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _training_counts(run: Path, data: str | Path | md.MuData | None, model: CMCVAE):
    """RNA and protein counts of the training-split cells used to fit the run."""
    if data is None:
        info = _read_json(run / "run.json")
        data = info.get("data")
        if not data:
            raise CMCVAEInputError(
                f"The run {run} does not record its training data; pass it with --data TRAIN.h5mu."
            )
    mdata = data if isinstance(data, md.MuData) else read_input(data)
    setup = model.setup
    check_mudata(mdata, setup.get("batch_key"), setup["rna_mod"], setup["prot_mod"])
    rna = mdata.mod[setup["rna_mod"]]
    prot = mdata.mod[setup["prot_mod"]]
    missing = set(model.genes) - set(rna.var_names)
    if missing:
        raise CMCVAEInputError(
            f"The training data does not contain {len(missing)} of the model's genes; pass the file "
            "the run was fitted on with --data."
        )
    cells = np.ones(rna.n_obs, dtype=bool)
    split_file = run / "split.csv"
    if split_file.exists():
        split = pd.read_csv(split_file)
        train_cells = split.loc[split["split"] == "train", "cell"].astype(str).to_numpy()
        cells = np.isin(rna.obs_names.astype(str).to_numpy(), train_cells)
        if not cells.any():
            cells[:] = True
    rna_sub = rna[cells, model.genes]
    prot_sub = prot[cells, model.proteins]
    return (get_counts(rna_sub, setup.get("rna_layer"), "RNA"),
            get_counts(prot_sub, setup.get("prot_layer"), "protein"))


def _read_json(path: Path) -> dict:
    import json

    if not path.exists():
        return {}
    return json.loads(path.read_text())


def knockdown_truth_matrix(truth: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Oracle effect matrix (genes × proteins) from ``truth/knockdown_effects.csv``."""
    df = pd.read_csv(truth) if isinstance(truth, (str, Path)) else truth
    need = {"perturbation", "protein", "true_effect"}
    if not need <= set(df.columns):
        raise CMCVAEInputError(f"Truth effects need columns {sorted(need)}; found {list(df.columns)}.")
    return df.pivot_table(index="perturbation", columns="protein", values="true_effect", aggfunc="mean")


def validate_run(run: str | Path, perturb: str | Path | md.MuData, *, data=None,
                 control_label: str | list[str] = "control", perturbation_key: str = "perturbation",
                 truth_effects: str | Path | pd.DataFrame | None = None,
                 knockdown_filter: bool = True, seed: int = 0, fdr: float = 0.05,
                 min_cells: int = 10, test: str = "welch",
                 protein_map: str | Path | pd.DataFrame | None = None,
                 perturb_protein: str | Path | None = None,
                 condition_key: str | None = None) -> dict:
    """Zero-shot validation of a fitted run against a perturbation screen.

    Scores the model's predicted knockdown effects next to the correlation, ridge, random and
    "every knockdown lowers every protein" baselines (and the oracle when ``truth_effects`` is
    given); writes ``validation.json`` and ``predictions.csv`` into the run folder.

    ``perturb`` is a MuData, an ``.h5mu`` file, or, with ``perturb_protein``, the RNA file of
    an RNA + protein pair (scPerturb's ``*_RNA.h5ad`` + ``*_protein.h5ad``). ``control_label``
    may list several labels. With ``condition_key`` each perturbed cell is compared with the
    control cells of its own condition (:func:`cmcvae.evaluate._perturbation.observed_effects`).
    The perturbation data's columns and control cells are checked before the baselines are
    computed, so a wrong label or key fails fast.
    """
    from cmcvae.evaluate._baselines import (
        always_down_effects,
        correlation_effects,
        random_effects,
        ridge_effects,
    )
    from cmcvae.evaluate._perturbation import check_perturbation_data, validate, write_validation
    from cmcvae.tl._ensemble import is_ensemble, seed_runs

    run = Path(run)
    if is_ensemble(run):
        if not isinstance(perturb, md.MuData):  # read the screen once for all seeds
            perturb = read_input(perturb, perturb_protein)
            perturb_protein = None
        kwargs = dict(data=data, control_label=control_label, perturbation_key=perturbation_key,
                      truth_effects=truth_effects, knockdown_filter=knockdown_filter, seed=seed,
                      fdr=fdr, min_cells=min_cells, test=test, protein_map=protein_map,
                      condition_key=condition_key)
        return _over_seeds(run, seed_runs(run), "validation.json",
                           lambda r: validate_run(r, perturb, **kwargs))
    if not (run / "model").is_dir():
        raise CMCVAEInputError(f"{run} is not a run folder (no model/); fit one with `cmcvae fit`.")
    model = CMCVAE.load(run / "model")
    if isinstance(perturb, md.MuData):
        if perturb_protein is not None:
            raise CMCVAEInputError("perturb_protein is only for a pair of files; the perturbation "
                                   "data is already a MuData.")
        pert = perturb
    else:
        pert = read_input(perturb, perturb_protein)
    check_perturbation_data(pert, control_label=control_label, perturbation_key=perturbation_key,
                            condition_key=condition_key)
    rna_counts, prot_counts = _training_counts(run, data, model)
    t0 = time.perf_counter()
    effects: dict[str, pd.DataFrame] = {"cmcvae": model.predict_knockdown()}
    effects["correlation"] = correlation_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["ridge"] = ridge_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["random"] = random_effects(model.genes, model.proteins, seed=seed)
    effects["always_down"] = always_down_effects(model.genes, model.proteins)
    if truth_effects is not None:
        effects["oracle"] = knockdown_truth_matrix(truth_effects).reindex(
            index=model.genes, columns=model.proteins).fillna(0.0)
    pmap = read_protein_map(protein_map) if isinstance(protein_map, (str, Path)) else protein_map
    results, predictions = validate(effects, pert, control_label=control_label,
                                    perturbation_key=perturbation_key,
                                    condition_key=condition_key, genes=model.genes,
                                    proteins=model.proteins, knockdown_filter=knockdown_filter,
                                    fdr=fdr, min_cells=min_cells, test=test,
                                    protein_map=model.pairs if pmap is None else pmap)
    results["seconds"] = time.perf_counter() - t0
    write_validation(results, predictions, run)
    return results


def direction_accuracy_vs_truth(pairs: pd.DataFrame, truth_pairs: pd.DataFrame) -> dict[str, float]:
    """Matched-pair direction calls (RNA→protein if the forward effect is larger) vs the truth."""
    merged = pairs.merge(truth_pairs, on=["protein", "gene"])
    merged = merged[merged["direction"].isin(["forward", "reversed"])]
    if merged.empty:
        return {"direct": float("nan"), "total": float("nan"), "n_pairs": 0}
    truth_fwd = merged["direction"].eq("forward").to_numpy()
    direct = (merged["rna_to_protein"] > merged["protein_to_rna"]).to_numpy()
    out = {"direct": float((direct == truth_fwd).mean()), "n_pairs": int(len(merged))}
    if "rna_to_protein_total" in merged:
        total = (merged["rna_to_protein_total"] > merged["protein_to_rna_total"]).to_numpy()
        out["total"] = float((total == truth_fwd).mean())
    return out


def run_default(out: str | Path = "cmcvae_run", *, seed: int = 0, force: bool = False,
                max_epochs: int | None = None, progress_bar: bool = True,
                sim_kwargs: dict | None = None, **overrides: Any) -> dict:
    """Simulate the default dataset, fit, validate zero-shot and summarise (``cmcvae run``)."""
    from cmcvae.datasets.simulate import simulate

    out = prepare_out_dir(out, force, what="output folder", owned=("data", "run", "summary.json"))
    t0 = time.perf_counter()
    sim = simulate(seed=seed, **(sim_kwargs or {}))
    data_dir = sim.write(out / "data", force=True)
    t_sim = time.perf_counter() - t0
    model = fit_run(data_dir / "train.h5mu", out / "run", batch_key="donor",
                    grn_prior=data_dir / "priors" / "grn.csv", ppi_prior=data_dir / "priors" / "ppi.csv",
                    protein_map=data_dir / "protein_map.csv", seed=seed, max_epochs=max_epochs,
                    force=True, progress_bar=progress_bar, **overrides)
    t_fit = time.perf_counter() - t0 - t_sim
    val = validate_run(out / "run", data_dir / "perturb.h5mu",
                       truth_effects=data_dir / "truth" / "knockdown_effects.csv", seed=seed)
    truth_pairs = pd.read_csv(data_dir / "truth" / "matched_pairs.csv")
    direction = direction_accuracy_vs_truth(model.get_matched_pairs(), truth_pairs)
    summary = {
        "seed": seed,
        "regime": sim.params.get("regime"),
        "matched_pair_direction_accuracy": direction,
        "zero_shot": {m: {k: val[m].get(k) for k in ("auroc", "auprc", "direction_accuracy",
                                                       "median_perturbation_auroc")}
                      for m in val.get("methods", [])},
        "n_perturbations": val.get("n_perturbations"),
        "n_pairs": val.get("n_pairs"),
        "is_dag": model.metrics.get("is_dag"),
        "seconds": {"simulate": t_sim, "fit": t_fit, "total": time.perf_counter() - t0},
    }
    write_json(out / "summary.json", summary)
    return summary


def prepare_run(inputs: list[str | Path], out: str | Path, *, batch_key: str | None = "donor",
                n_top_genes: int = 2000, protein_map: str | Path | None = None,
                grn_prior: str | Path | None = None, ppi_prior: str | Path | None = None,
                min_genes: int = 200, max_mito: float = 0.2, min_protein_counts: float = 10,
                empty_droplets: str | Path | None = None, force: bool = False) -> dict:
    """``cmcvae prepare``: read datasets, harmonise, QC, select genes; write ``out`` and side files.

    Side files next to ``out`` (``atlas.h5mu``): ``atlas.report.json``, ``atlas.protein_map.csv``
    and, when priors are given, ``atlas.grn.csv`` / ``atlas.ppi.csv`` filtered to the prepared
    features (ready for ``cmcvae fit --grn-prior … --protein-map …``).
    """
    from cmcvae.pp._atlas import prepare

    out = Path(out)
    if out.suffix != ".h5mu":
        raise CMCVAEInputError(f"--out must be a .h5mu file, not {out.name!r}.")
    stem = out.with_suffix("")
    side = [out, Path(f"{stem}.report.json"), Path(f"{stem}.protein_map.csv"),
            Path(f"{stem}.grn.csv"), Path(f"{stem}.ppi.csv")]
    existing = [p for p in side if p.exists()]
    if existing and not force:
        raise CMCVAEInputError(
            f"{existing[0]} already exists; choose another --out or pass --force to overwrite it."
        )
    datasets: dict[str, md.MuData] = {}
    for path in inputs:
        name = Path(path).name.split(".")[0] or "dataset"
        while name in datasets:
            name += "_"
        datasets[name] = read_input(path)
    pmap = read_protein_map(protein_map) if protein_map is not None else None
    grn = read_network(grn_prior, "GRN prior") if grn_prior is not None else None
    ppi = read_network(ppi_prior, "PPI prior") if ppi_prior is not None else None
    empty = None
    if empty_droplets is not None:
        e = read_input(empty_droplets)
        empty = e.mod["prot"].X
    atlas, report = prepare(datasets, batch_key=batch_key, n_top_genes=n_top_genes, protein_map=pmap,
                            min_genes=min_genes, max_mito=max_mito, min_protein_counts=min_protein_counts,
                            empty_droplets=None if empty is None else np.asarray(
                                empty.toarray() if hasattr(empty, "toarray") else empty),
                            grn_prior=grn, ppi_prior=ppi)
    out.parent.mkdir(parents=True, exist_ok=True)
    atlas.uns["protein_map"].to_csv(side[2], index=False)
    for key, path in (("grn_prior", side[3]), ("ppi_prior", side[4])):
        if key in atlas.uns:
            atlas.uns[key].to_csv(path, index=False)
    atlas.write(out)
    write_json(side[1], report)
    report["files"] = {"atlas": str(out), "report": str(side[1]), "protein_map": str(side[2])}
    return report


def _over_seeds(ens: Path, runs: list[Path], name: str, func) -> dict:
    """Run ``func`` on every seed's run folder; write ``ens/name`` with mean ± spread across seeds.

    Every seed folder gets its own ``name``; the ensemble's file holds ``{"ensemble": {...},
    "aggregate": ...}`` where each number is ``{"mean", "sd", "min", "max", "values"}`` over
    seeds and each label (e.g. a call) is the common value or the list of the seeds' values.
    """
    from cmcvae.graph.stability import aggregate_numbers

    results = [func(r) for r in runs]
    out = {"ensemble": {"runs": [r.name for r in runs], "n_seeds": len(runs)},
           "aggregate": aggregate_numbers(results)}
    write_json(ens / name, out)
    return out


def _truth_files(truth: str | Path) -> tuple[Path | None, Path | None]:
    """``(edges.csv, matched_pairs.csv)`` of a simulation's truth folder (or one of its files)."""
    truth = Path(truth)
    folder = truth if truth.is_dir() else truth.parent
    if not truth.exists():
        raise CMCVAEInputError(f"Truth {truth} does not exist; pass a simulation's truth/ folder.")
    edges, pairs = folder / "edges.csv", folder / "matched_pairs.csv"
    if not edges.exists() and not pairs.exists():
        raise CMCVAEInputError(
            f"{folder} holds neither edges.csv nor matched_pairs.csv; pass a simulation's truth/ folder."
        )
    return (edges if edges.exists() else None), (pairs if pairs.exists() else None)


def _prior_split(run: Path, name: str) -> pd.DataFrame | None:
    path = run / "priors" / name
    return read_network(path, name) if path.exists() and path.stat().st_size > 0 else None


def analyze_run(run: str | Path, *, truth: str | Path | None = None,
                grn: str | Path | pd.DataFrame | None = None, data=None, seed: int = 0) -> dict:
    """The evidence analyses of a fitted run → ``analysis.json`` and ``tf_target_edges.csv``.

    1. Central-dogma asymmetry of the matched protein–gene pairs (direct and total effects)
       against a random-pair null (:func:`~cmcvae.evaluate._asymmetry.central_dogma`).
    2. TF→target asymmetry and sign agreement on the GRN prior edges held out from training
       (``priors/grn_holdout.csv``), separately on the training edges (labelled ``train``) and,
       with ``grn``, on an external network (:mod:`cmcvae.evaluate._tf_target`).
    3. With ``truth`` (a simulation's ``truth/`` folder or one of its files): per-pair direction
       accuracy and recovery AUROC/AUPRC per network, excluding training prior edges, next to
       correlation and partial-correlation baselines on the training cells
       (:mod:`cmcvae.evaluate._recovery`).
    """
    from cmcvae.evaluate._asymmetry import central_dogma
    from cmcvae.evaluate._recovery import association_networks, recovery_scores
    from cmcvae.evaluate._tf_target import tf_target_asymmetry, tf_target_edges
    from cmcvae.tl._ensemble import is_ensemble, seed_runs

    run = Path(run)
    if is_ensemble(run):
        return _over_seeds(run, seed_runs(run), "analysis.json",
                           lambda r: analyze_run(r, truth=truth, grn=grn, data=data, seed=seed))
    if not (run / "model").is_dir():
        raise CMCVAEInputError(f"{run} is not a run folder (no model/); fit one with `cmcvae fit`.")
    model = CMCVAE.load(run / "model")
    truth_edges = truth_pairs = None
    if truth is not None:
        e, p = _truth_files(truth)
        truth_edges = pd.read_csv(e) if e is not None else None
        truth_pairs = pd.read_csv(p, dtype=str) if p is not None else None
    nets = {kind: model.get_feature_networks(kind) for kind in ("direct", "total")}
    result: dict[str, Any] = {"central_dogma": {}}
    pairs = model.get_matched_pairs()
    for kind in ("direct", "total"):
        if len(pairs) < 3:
            result["central_dogma"][kind] = {"n_pairs": int(len(pairs)), "call": "none",
                                             "message": "fewer than 3 matched pairs"}
            continue
        result["central_dogma"][kind] = central_dogma(pairs, nets[kind], kind=kind,
                                                      truth=truth_pairs, seed=seed)

    splits = {"holdout": _prior_split(run, "grn_holdout.csv"),
              "train": _prior_split(run, "grn_train.csv")}
    if grn is not None:
        splits["external"] = read_network(grn, "GRN") if isinstance(grn, (str, Path)) else grn
    all_prior = pd.concat([f for f in splits.values() if f is not None] or [pd.DataFrame(
        columns=["source", "target"])], ignore_index=True)
    tables, result["tf_target"] = [], {}
    for split, frame in splits.items():
        if frame is None:
            continue
        table = tf_target_edges(frame, nets["direct"]["rna_rna"], nets["total"]["rna_rna"], split=split)
        tables.append(table)
        result["tf_target"][split] = {
            kind: tf_target_asymmetry(table, nets[kind], kind=kind, exclude=all_prior, seed=seed)
            for kind in ("direct", "total")}
        result["tf_target"][split]["n_prior_edges"] = table.attrs.get("n_input", len(frame))
    if tables:
        pd.concat(tables, ignore_index=True).to_csv(run / "tf_target_edges.csv", index=False)

    if truth_edges is not None:
        exclude = pd.concat([f for f in (splits["train"], _prior_split(run, "ppi_train.csv"))
                             if f is not None] or [pd.DataFrame(columns=["source", "target"])])
        rec: dict[str, Any] = {kind: recovery_scores(nets[kind], truth_edges, exclude=exclude)
                               for kind in ("direct", "total")}
        try:
            rna_counts, prot_counts = _training_counts(run, data, model)
        except CMCVAEInputError as err:
            rec["baselines_skipped"] = str(err)
        else:
            for method in ("correlation", "partial_correlation"):
                assoc = association_networks(rna_counts, prot_counts, model.genes, model.proteins,
                                             method=method, seed=seed)
                rec[method] = recovery_scores(assoc, truth_edges, exclude=exclude)
        result["recovery"] = rec
    write_json(run / "analysis.json", result)
    return result
