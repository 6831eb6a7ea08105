"""``cmcvae fit``: train CMC-VAE on a dataset and write the run folder; resume a cut fit.

While a fit trains, ``OUT/checkpoints/`` holds ``fit_args.json`` (the inputs and settings of
the call) and ``last.ckpt`` (rewritten after every epoch); both go once the run folder is
written. :func:`resume_run` reads them back to continue a fit that was cut.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    CHECKPOINT_FILES,
    CHECKPOINTS,
    MODEL_FILES,
    RUN_FILES,
    forget_files,
    prepare_out_dir,
    record_files,
    run_folder_files,
    write_json,
    write_run,
)
from cmcvae.model import (
    CMCVAE,
    CMCVAEConfig,
    check_data_on_device,
    check_lightning_options,
    is_primary_process,
)
from cmcvae.pp import read_network, read_protein_map
from cmcvae.tl._fitted import json_or_empty
from cmcvae.tl._modality import check_modality, read_fit_data, setup_fit_data
from cmcvae.tl._screen_fit import control_list, interventions_table, screen_record, split_screen

#: the inputs a fit reads from a path or takes as an object, in the order fit_args.json lists them
_INPUTS = ("grn_prior", "ppi_prior", "protein_map")
#: how messages name each input of a fit
_LABELS = {"data": "DATA", "grn_prior": "--grn-prior", "ppi_prior": "--ppi-prior",
           "protein_map": "--protein-map", "config": "--config"}
#: the checkpoint files, relative to the run folder
_CKPT_FILES = tuple(f"{CHECKPOINTS}/{name}" for name in CHECKPOINT_FILES)


@fill_docs
def fit_run(data: str | Path | md.MuData | ad.AnnData, out: str | Path, *, batch_key: str | None = None,
            grn_prior: str | Path | pd.DataFrame | None = None,
            ppi_prior: str | Path | pd.DataFrame | None = None,
            protein_map: str | Path | pd.DataFrame | None = None,
            config: str | Path | CMCVAEConfig | None = None, max_epochs: int | None = None,
            seed: int | None = None, accelerator: str = "cpu", devices: int | str = 1,
            force: bool = False, progress_bar: bool = True, strategy: str | Any | None = None,
            num_nodes: int = 1, resume: bool = False, checkpoints: bool = True,
            precision: str | None = None, data_on_device: bool = False, backed: bool = False,
            modality: str = "both", perturbation_key: str | None = None,
            control_label: str | list[str] = "control", **overrides: Any) -> CMCVAE:
    """Read data and priors, train CMC-VAE and write the run folder ``out`` (docs/design.md §3).

    While it trains, ``out/checkpoints/`` holds ``fit_args.json`` (the inputs and settings of
    this call, written once the inputs passed their checks, before training) and ``last.ckpt``
    (a Lightning checkpoint rewritten after every epoch). Both are deleted once the run folder
    is written. A run whose training was cut is continued by ``cmcvae fit --resume OUT``
    (:func:`resume_run`), or by calling this function again with the same arguments and
    ``resume=True``; it ends with the graph an uninterrupted run gives.

    Parameters
    ----------
    data
        ``.h5mu`` / ``.h5ad`` path, a MuData, or (one modality) an AnnData.
    {out}
    {batch_key}
    {grn_prior}
    {ppi_prior}
    {protein_map}
    {config}
    max_epochs, seed
        Override the config's ``max_epochs`` and ``seed`` when given.
    accelerator, devices, strategy, num_nodes
        Lightning Trainer options (:meth:`CMCVAE.train`); ``strategy="ddp"`` with
        ``devices`` > 1 trains data-parallel. Only rank 0 writes the run folder.
    {force}
    progress_bar
        Show Lightning's progress bar.
    resume
        Continue the interrupted training in ``out`` from ``out/checkpoints/last.ckpt``. The
        config must be the one the run was started with (checked against ``fit_args.json``).
        Not for ``arch="sem"``. Without ``resume`` or ``force``, a folder holding an
        interrupted run's checkpoint is refused.
    checkpoints
        Write the per-epoch checkpoint (``False``: the run cannot be resumed).
    precision, data_on_device
        Mixed precision (e.g. ``"bf16-mixed"``) and preloading the data on the GPU
        (:meth:`CMCVAE.train`).
    backed
        Leave the RNA matrix of the ``.h5mu`` on disk and read each minibatch's cells from it
        (out-of-core: for data larger than memory; :func:`cmcvae.io.read_backed`).
    modality
        ``"both"`` (RNA and protein, the default), ``"rna"`` or ``"protein"``: fit one modality
        (single-modality mode; DATA may then be an RNA-only ``.h5ad`` or a one-modality
        ``.h5mu``, see :mod:`cmcvae.tl._modality`). Recorded in ``run.json``.
    perturbation_key
        Fit on a perturbation screen: the ``obs`` column naming each cell's targeted gene.
        The control cells are the model's observational cells (``split.csv`` covers them);
        the perturbed cells are added as interventions (:meth:`CMCVAE.set_interventions`:
        in the likelihood of ``arch="sem"``, unused by ``arch="latent"``; ``metrics.json``
        ``interventions``) and recorded as the run's interventions (``run.json``
        ``interventions``, ``interventions_too_few``, ``interventions_in_model``;
        ``interventions.csv``) for the effect layer (:mod:`cmcvae.tl._screen_fit`).
        ``None`` (the default): every cell is observational data.
    control_label
        Label(s) of the control cells in ``perturbation_key``: a list, or one string with
        labels separated by commas (``"control,NT"``).
    **overrides
        Config fields that override ``config``.

    Returns
    -------
    CMCVAE
        The trained model (on every rank; check ``model.global_rank`` before writing more).
    """
    check_data_on_device(data_on_device, accelerator)  # before anything is written
    out = Path(out)
    ckpt_dir = out / CHECKPOINTS
    cfg = _fit_config(config, max_epochs, seed, overrides)
    check_lightning_options(cfg.arch, resume=resume, strategy=strategy, num_nodes=num_nodes)
    primary = is_primary_process(strategy, devices, num_nodes)  # False in a DDP child process
    priors = {"grn_prior": grn_prior, "ppi_prior": ppi_prior, "protein_map": protein_map}
    check_modality(modality, priors)
    if perturbation_key is not None:
        control_label = control_list(control_label)
        if backed:
            raise CMCVAEInputError(
                "--perturbation-key selects the control cells of the screen in memory; it cannot "
                "be combined with --backed. Fit without --backed, or write the control cells to "
                "their own .h5mu and fit that file --backed without --perturbation-key."
            )
    inputs = {_LABELS[key]: value for key, value in
              {"data": data, **priors, "config": config}.items() if isinstance(value, (str, Path))}
    if resume:
        _check_resumable(out, cfg, inputs)
    elif primary:
        _start_afresh(out, force, inputs)
    hardware = {"accelerator": accelerator, "devices": devices, "strategy": strategy,
                "num_nodes": num_nodes, "precision": precision, "data_on_device": data_on_device}
    args = _fit_args(data, batch_key, priors, cfg, hardware, backed)
    args["modality"] = modality
    screen = None if perturbation_key is None else (perturbation_key, control_label)
    if screen is not None:
        args.update(perturbation_key=perturbation_key, control_label=control_label)
    model, record = _build_model(data, batch_key, priors, cfg, backed, modality, screen)
    if checkpoints and primary and not resume:  # only once the inputs passed their checks
        record_files(out, _CKPT_FILES, "fit")  # listed before written: a killed fit leaves them listed
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        write_json(ckpt_dir / "fit_args.json", args)
    model.train(progress_bar=progress_bar, checkpoint_dir=ckpt_dir if checkpoints or resume else None,
                resume=resume, **hardware)
    if getattr(model, "global_rank", 0) != 0:
        return model  # distributed training: rank 0 writes the run folder
    info = {key: args[key] for key in ("data", "batch_key", "modality", *_INPUTS)}
    info["config"] = model.config.to_dict()
    if record is not None:
        info.update(screen_record(record, model.genes))
    _write_fitted(model, out, info, inputs)
    _clear_checkpoints(ckpt_dir)
    return model


def _write_fitted(model: CMCVAE, out: Path, info: dict[str, Any], inputs: dict[str, Any]) -> Path:
    """The run folder of a fitted model: its weights (``model/``) and tables (:func:`cmcvae.io.write_run`).

    Results of an earlier fit recorded in the folder (a resumed run's) are removed first; the
    checkpoint stays until the run folder is written.
    """
    out = prepare_out_dir(out, force=True, owned=RUN_FILES, writes=_run_files(), inputs=inputs)
    record_files(out, [f"model/{name}" for name in MODEL_FILES], "fit")
    model.save(out / "model", overwrite=True)
    split = pd.DataFrame({"cell": model.cell_names, "split": model.split}) if hasattr(model, "split") else None
    interventions = interventions_table(info) if info.get("perturbation_key") else None
    return write_run(out, edges=model.get_edges(), latent_graph=model.get_latent_graph(),
                     matched_pairs=model.get_matched_pairs(), metrics=model.metrics, split=split,
                     priors=model.priors, run_info=info, interventions=interventions)


def resume_run(run: str | Path, *, accelerator: str | None = None, devices: int | str | None = None,
               strategy: str | None = None, num_nodes: int | None = None,
               progress_bar: bool = True, precision: str | None = None,
               data_on_device: bool | None = None) -> CMCVAE:
    """Continue the interrupted ``cmcvae fit`` in ``run`` (``cmcvae fit --resume RUN``).

    Reads the data and prior paths, batch key, config (seed included) and, for a fit on a
    screen, its perturbation key and control labels from
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
    args = json_or_empty(args_file)
    cfg = CMCVAEConfig.from_dict(args["config"])
    check_lightning_options(cfg.arch, resume=True)
    if args.get("in_memory"):
        raise CMCVAEInputError(
            f"{run} was started from Python with in-memory {', '.join(args['in_memory'])}, which "
            "the command line cannot read back; resume it in Python with fit_run(<the same "
            f"inputs>, {str(run)!r}, resume=True)."
        )
    given = {"accelerator": accelerator or None, "devices": devices, "strategy": strategy,
             "num_nodes": num_nodes, "precision": precision, "data_on_device": data_on_device}
    defaults = {"accelerator": "cpu", "devices": 1, "strategy": None, "num_nodes": 1,
                "precision": None, "data_on_device": False}
    hardware = {key: given[key] if given[key] is not None else args.get(key, default)
                for key, default in defaults.items()}  # given, else recorded, else default
    hardware["accelerator"] = hardware["accelerator"] or "cpu"
    return fit_run(args["data"], run, batch_key=args.get("batch_key"),
                   **{key: args.get(key) for key in _INPUTS}, config=cfg,
                   backed=args.get("backed", False), modality=args.get("modality", "both"),
                   perturbation_key=args.get("perturbation_key"),
                   control_label=args.get("control_label", "control"), progress_bar=progress_bar, resume=True,
                   **hardware)


def _fit_config(config: str | Path | CMCVAEConfig | None, max_epochs: int | None,
                seed: int | None, overrides: dict[str, Any]) -> CMCVAEConfig:
    """The config file or object (default: the defaults) with the given fields overridden."""
    base = CMCVAEConfig.from_file(config) if isinstance(config, (str, Path)) else config or CMCVAEConfig()
    if seed is not None:
        overrides["seed"] = seed
    if max_epochs is not None:
        overrides["max_epochs"] = max_epochs
    return CMCVAEConfig.from_dict({**base.to_dict(), **overrides})


def _fit_args(data: Any, batch_key: str | None, priors: dict[str, Any], cfg: CMCVAEConfig,
              hardware: dict[str, Any], backed: bool) -> dict[str, Any]:
    """The content of ``fit_args.json``: resolved input paths, what was in memory, settings."""
    inputs = {"data": data, **priors}
    return {
        "data": None if isinstance(data, (md.MuData, ad.AnnData)) else str(Path(data).resolve()),
        "batch_key": batch_key,
        **{key: str(Path(value).resolve()) if isinstance(value, (str, Path)) else None
           for key, value in priors.items()},
        "in_memory": [key for key, value in inputs.items()
                      if value is not None and not isinstance(value, (str, Path))],
        "config": cfg.to_dict(), "accelerator": hardware["accelerator"],
        "devices": hardware["devices"],
        "strategy": hardware["strategy"] if isinstance(hardware["strategy"], str) else None,
        "num_nodes": hardware["num_nodes"], "precision": hardware["precision"],
        "data_on_device": bool(hardware["data_on_device"]), "backed": bool(backed),
    }


def _build_model(data: Any, batch_key: str | None, priors: dict[str, Any], cfg: CMCVAEConfig,
                 backed: bool, modality: str = "both",
                 screen: tuple[str, list[str]] | None = None) -> tuple[CMCVAE, dict[str, Any] | None]:
    """Read what was given as paths, register the data and make the (untrained) model.

    With ``screen`` (perturbation key, control labels) the model's cells are the control cells
    and the perturbed cells of the run's interventions are added with
    :meth:`CMCVAE.set_interventions`; the screen's record (:func:`split_screen`) comes back
    beside it (``None`` without).
    """
    if not isinstance(data, (md.MuData, ad.AnnData)):
        data = read_fit_data(data, modality, backed)
    record = perturbed = None
    if screen is not None:
        data, record, perturbed = split_screen(data, *screen)
    grn, ppi, pmap = (priors[key] for key in _INPUTS)
    grn = read_network(grn, "GRN prior") if isinstance(grn, (str, Path)) else grn
    ppi = read_network(ppi, "PPI prior") if isinstance(ppi, (str, Path)) else ppi
    pmap = read_protein_map(pmap) if isinstance(pmap, (str, Path)) else pmap
    if pmap is None and modality == "both" and isinstance(data.uns.get("protein_map"), pd.DataFrame):
        pmap = data.uns["protein_map"]  # written by `cmcvae prepare`
    setup_fit_data(data, modality, batch_key)
    model = CMCVAE(data, grn_prior=grn, ppi_prior=ppi, protein_map=pmap, config=cfg)
    if perturbed is not None:
        model.set_interventions(*perturbed)
    return model, record


def _run_files() -> tuple[str, ...]:
    """The run folder's files but the checkpoint's."""
    return tuple(name for name in run_folder_files() if name not in _CKPT_FILES)


def _start_afresh(out: Path, force: bool, inputs: dict[str, Any]) -> None:
    """Refuse an interrupted run without ``force``; make ``out`` ready before training.

    With ``force`` the files an earlier fit (and validate, analyze, report) recorded there are
    removed, its checkpoint included; anything else in ``out`` is kept (:func:`prepare_out_dir`).
    """
    if not force and (out / CHECKPOINTS / "last.ckpt").is_file():
        raise CMCVAEInputError(
            f"{out} holds an interrupted run ({CHECKPOINTS}/last.ckpt): continue it with "
            f"`cmcvae fit --resume {out}`, or pass --force to train again from the start."
        )
    prepare_out_dir(out, force, inputs=inputs)  # fail before training, not after


def _nothing_to_resume(run: Path) -> str:
    if (run / "model").is_dir():
        why = "it holds a finished run (model/ is written and its checkpoint was removed)"
    elif not run.is_dir():
        why = "the folder does not exist"
    else:
        why = f"it has no checkpoint ({CHECKPOINTS}/last.ckpt): training never finished an epoch"
    return (f"nothing to resume in {run}: {why}. Run `cmcvae fit DATA --out {run}` without "
            "--resume (with --force to reuse the folder).")


def _check_resumable(out: Path, cfg: CMCVAEConfig, inputs: dict[str, Any]) -> None:
    """A checkpoint is there, the config is the one the run was started with, and the run
    folder can be written once training ends (nothing of the user's in the way)."""
    if not (out / CHECKPOINTS / "last.ckpt").is_file():
        raise CMCVAEInputError(_nothing_to_resume(out))
    prepare_out_dir(out, force=True, owned=RUN_FILES, writes=_run_files(), inputs=inputs,
                    check_only=True)
    started = json_or_empty(out / CHECKPOINTS / "fit_args.json").get("config")
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
    for name in CHECKPOINT_FILES:
        if (folder / name).is_file():
            (folder / name).unlink()
    forget_files(folder.parent, _CKPT_FILES)
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
