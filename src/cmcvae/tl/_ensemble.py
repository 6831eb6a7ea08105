"""Seeds ensembles: one ordinary run folder per seed plus their agreement.

``cmcvae fit DATA --out ENS --seeds 0-4`` trains one model per seed into ``ENS/seed_<k>/`` (each a
complete run folder, docs/design.md §3) and summarises them in ``ENS``:

- ``ensemble.json`` — seeds, run folders, fit seconds and summary metrics per seed, and their
  mean ± spread;
- ``stability.csv`` — per feature-level edge, the fraction of seeds keeping it, its mean and sd
  weight and sign consistency (:func:`cmcvae.graph.stability.edge_stability`);
- ``matched_pairs.csv`` — per matched pair, mean and sd of each effect and the share of seeds
  calling RNA→protein stronger (:func:`cmcvae.graph.stability.matched_pair_stability`);
- ``network.graphml`` — the edges kept in at least half the seeds, with mean weights and
  frequencies.
"""

from __future__ import annotations

import gc
import json
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.graph.stability import aggregate_numbers, edge_stability, matched_pair_stability
from cmcvae.io import (
    ENSEMBLE_COMMANDS,
    ENSEMBLE_FILE,
    ENSEMBLE_FILES,
    check_files,
    claim_files,
    prepare_out_dir,
    run_folder_files,
    write_graphml,
    write_json,
)
from cmcvae.pp import read_network, read_protein_map
from cmcvae.tl._fit import fit_run
from cmcvae.tl._modality import check_modality, read_fit_data

SUMMARY_METRICS = ("epochs", "is_dag", "n_latent_edges", "val_elbo")
MIN_FREQUENCY = 0.5
_SEED_DIR = re.compile(r"^seed_(\d+)$")
_PATH_KEYS = ("data", "grn_prior", "ppi_prior", "protein_map")
_LABELS = {"data": "DATA", "grn_prior": "--grn-prior", "ppi_prior": "--ppi-prior",
           "protein_map": "--protein-map", "config": "--config"}
#: the files of the ensemble folder itself that fit_seeds writes
_SUMMARY_FILES = (ENSEMBLE_FILE, "stability.csv", "matched_pairs.csv", "network.graphml")


def parse_seeds(spec: str | int | Iterable[int]) -> list[int]:
    """Seeds from ``"0,1,2"``, ``"0-4"``, ``"0-2,7"``, an int or a list of ints.

    Parameters
    ----------
    spec
        Comma-separated seeds and inclusive ranges ``a-b``, or integers.

    Returns
    -------
    list of int
        The seeds in the order given.

    Raises
    ------
    CMCVAEInputError
        On an empty list, a malformed item, a negative seed, a reversed range or a repeated seed.
    """
    if isinstance(spec, bool):
        raise CMCVAEInputError(f"Invalid seeds {spec!r}.")
    if isinstance(spec, int):
        seeds = [spec]
    elif isinstance(spec, str):
        seeds = _seeds_from_text(spec)
    else:
        seeds = _seeds_from_list(spec)
    if not seeds:
        raise CMCVAEInputError("--seeds is empty; give e.g. 0,1,2 or 0-4.")
    if min(seeds) < 0:
        raise CMCVAEInputError(f"Seeds must be non-negative; got {min(seeds)}.")
    dupes = sorted({s for s in seeds if seeds.count(s) > 1})
    if dupes:
        raise CMCVAEInputError(f"--seeds repeats seed(s) {dupes}; each seed gets one run folder.")
    return seeds


def _seeds_from_text(spec: str) -> list[int]:
    """Seeds of ``"0,1,2"``, ``"0-4"``, ``"0-2,7"`` (checked by :func:`parse_seeds`)."""
    seeds: list[int] = []
    for item in (p.strip() for p in spec.split(",")):
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise CMCVAEInputError(f"--seeds range {item!r} runs backwards; write {hi}-{lo}.")
            seeds.extend(range(lo, hi + 1))
        elif re.fullmatch(r"\d+", item):
            seeds.append(int(item))
        else:
            raise CMCVAEInputError(
                f"Cannot read {item!r} in --seeds {spec!r}: give non-negative integers separated by "
                "commas (0,1,2) or a range (0-4)."
            )
    return seeds


def _seeds_from_list(spec: Iterable[int]) -> list[int]:
    """Seeds of a list of integers (or digit strings)."""
    seeds: list[int] = []
    for s in spec:
        if isinstance(s, bool) or not isinstance(s, int) and not str(s).isdigit():
            raise CMCVAEInputError(f"Seeds must be non-negative integers; got {s!r}.")
        seeds.append(int(s))
    return seeds


def is_ensemble(path: str | Path) -> bool:
    """Whether ``path`` is a seeds-ensemble folder (it holds ``ensemble.json``)."""
    return (Path(path) / ENSEMBLE_FILE).is_file()


def seed_runs(path: str | Path) -> list[Path]:
    """The run folders of a seeds ensemble, in seed order.

    Parameters
    ----------
    path
        Ensemble folder written by :func:`fit_seeds`.

    Returns
    -------
    list of pathlib.Path
        ``path/seed_<k>`` for the runs listed in ``ensemble.json`` (folders from an earlier,
        overwritten ensemble are not included); without ``ensemble.json``, every
        ``seed_<k>`` sub-folder that holds ``edges.csv``.
    """
    path = Path(path)
    if is_ensemble(path):
        info = json.loads((path / ENSEMBLE_FILE).read_text())
        runs = [path / r for r in info.get("runs", [])]
        missing = [str(r) for r in runs if not r.is_dir()]
        if missing:
            raise CMCVAEInputError(f"The ensemble {path} lists run folders that are missing: {missing}.")
        return runs
    found = [(int(m.group(1)), p) for p in path.glob("seed_*")
             if p.is_dir() and (m := _SEED_DIR.match(p.name)) and (p / "edges.csv").exists()]
    if not found:
        raise CMCVAEInputError(
            f"{path} is not a seeds ensemble (no {ENSEMBLE_FILE} and no seed_<k>/ run folders); "
            "write one with `cmcvae fit DATA --out ENS --seeds 0,1,2`."
        )
    return [p for _, p in sorted(found)]


def _read_once(data: str | Path | md.MuData, kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Read the data and priors once; return the objects and the paths run.json should record."""
    paths: dict[str, str | None] = {}
    if isinstance(data, (md.MuData, ad.AnnData)):
        paths["data"] = None
    else:
        paths["data"] = str(Path(data).resolve())
        data = read_fit_data(data, kwargs.get("modality", "both"), False)
    readers = {"grn_prior": lambda p: read_network(p, "GRN prior"),
               "ppi_prior": lambda p: read_network(p, "PPI prior"),
               "protein_map": read_protein_map}
    for key, reader in readers.items():
        value = kwargs.get(key)
        if isinstance(value, (str, Path)):
            paths[key] = str(Path(value).resolve())
            kwargs[key] = reader(value)
    return data, paths


def _patch_run_json(run: Path, paths: dict[str, str | None], seed: int) -> None:
    """Record the data and prior paths (lost when fit_run gets objects) in ``run/run.json``."""
    file = run / "run.json"
    info = json.loads(file.read_text()) if file.exists() else {}
    for key, value in paths.items():
        if value is not None or key not in info:
            info[key] = value
    info["seed"] = seed
    info["ensemble"] = str(run.parent.resolve())
    write_json(file, info)


@fill_docs
def fit_seeds(data: str | Path | md.MuData, out: str | Path, seeds: str | int | Iterable[int], *,
              force: bool = False, callback: Callable[[int, Any], None] | None = None,
              **fit_run_kwargs: Any) -> dict:
    """Train one run per seed into ``out/seed_<k>/`` and summarise their agreement.

    Parameters
    ----------
    data
        Training data (path or MuData); read once and reused for every seed.
    out
        Ensemble folder. Refuses a non-empty folder unless ``force``.
    seeds
        Seeds as a list or a spec like ``"0,1,2"`` / ``"0-4"`` (see :func:`parse_seeds`).
    {force}
    callback
        Called as ``callback(seed, model)`` after each seed's run folder is written.
    **fit_run_kwargs
        Passed to :func:`fit_run` (``batch_key``, priors, ``config``,
        ``max_epochs``, ``accelerator``, config overrides …) except ``seed``.

    Returns
    -------
    dict
        The content of ``ensemble.json`` (see :func:`summarize_ensemble`) plus ``fit_seconds``.
    """
    if fit_run_kwargs.get("seed") is not None:
        raise CMCVAEInputError("Give either one --seed or a list of --seeds, not both.")
    fit_run_kwargs.pop("seed", None)
    check_modality(fit_run_kwargs.get("modality", "both"),
                   {key: fit_run_kwargs.get(key) for key in ("grn_prior", "ppi_prior", "protein_map")})
    seeds = parse_seeds(seeds)
    if (Path(out) / "model").is_dir() and not is_ensemble(out):
        raise CMCVAEInputError(
            f"{out} holds a single run (model/); write the seeds ensemble to another --out so its "
            "summary files do not mix with that run's."
        )
    out = Path(out)
    given = {"data": data, **{key: fit_run_kwargs.get(key) for key in _LABELS if key != "data"}}
    _prepare_ensemble(out, seeds, force, {_LABELS[key]: value for key, value in given.items()
                                                if isinstance(value, (str, Path))})
    data, paths = _read_once(data, fit_run_kwargs)
    fit_seconds: dict[str, float] = {}
    runs: list[str] = []
    for seed in seeds:
        name = f"seed_{seed}"
        t0 = time.perf_counter()
        model = fit_run(data, out / name, seed=seed, force=force, **fit_run_kwargs)
        _patch_run_json(out / name, paths, seed)
        fit_seconds[name] = time.perf_counter() - t0
        runs.append(name)
        if callback is not None:
            callback(seed, model)
        del model
        gc.collect()
    return summarize_ensemble(out, runs=runs, seeds=seeds,
                              extra={"data": paths["data"], "fit_seconds": fit_seconds})


def _prepare_ensemble(out: Path, seeds: list[int], force: bool, inputs: dict[str, Any]) -> None:
    """Check the ensemble folder and every seed's run folder, then clear what ``force`` replaces.

    Nothing is removed unless every folder passes (:func:`cmcvae.io.prepare_out_dir`).
    """
    ensemble = {"what": "ensemble folder", "owned": ENSEMBLE_FILES,
                "writes": run_folder_files(ensemble=True), "command": "fit --seeds",
                "replaces": ENSEMBLE_COMMANDS, "inputs": inputs}
    prepare_out_dir(out, force, check_only=True, **ensemble)
    for seed in seeds:
        prepare_out_dir(out / f"seed_{seed}", force, inputs=inputs, check_only=True)
    prepare_out_dir(out, force, **ensemble)


def summarize_ensemble(out: str | Path, *, runs: list[str] | None = None,
                       seeds: list[int] | None = None, extra: dict[str, Any] | None = None,
                       min_frequency: float = MIN_FREQUENCY) -> dict:
    """Write ``ensemble.json``, ``stability.csv``, ``matched_pairs.csv`` and ``network.graphml``.

    Parameters
    ----------
    out
        Ensemble folder holding the seed run folders.
    runs
        Run folder names relative to ``out`` (default: :func:`seed_runs`).
    seeds
        The seeds of ``runs`` (default: read from each run's config).
    extra
        Further entries for ``ensemble.json`` (e.g. ``fit_seconds``, ``data``).
    min_frequency
        Edges kept in at least this fraction of seeds go into ``network.graphml``.

    Returns
    -------
    dict
        The content written to ``ensemble.json``: ``seeds``, ``runs``, ``metrics`` (per-run
        ``epochs, is_dag, n_latent_edges, val_elbo, train_seconds``), ``metrics_summary``
        (:func:`cmcvae.graph.stability.aggregate_numbers` over them), ``n_edges`` (edges in any
        seed / in ``network.graphml``), ``min_frequency`` and ``extra``.
    """
    out = Path(out)
    run_dirs = seed_runs(out) if runs is None else [out / r for r in runs]
    runs = [p.name for p in run_dirs]
    claim_files(out, _SUMMARY_FILES, command="fit --seeds", what="ensemble folder")
    metrics: dict[str, dict] = {}
    found_seeds = []
    for run in run_dirs:
        m = json.loads((run / "metrics.json").read_text())
        metrics[run.name] = {k: m.get(k) for k in SUMMARY_METRICS}
        metrics[run.name]["train_seconds"] = (m.get("timings") or {}).get("fit_seconds")
        cfg = json.loads((run / "model" / "config.json").read_text()) \
            if (run / "model" / "config.json").exists() else {}
        found_seeds.append(cfg.get("seed", cfg.get("config", {}).get("seed")))
    stab = edge_stability([pd.read_csv(r / "edges.csv") for r in run_dirs])
    stab.to_csv(out / "stability.csv", index=False)
    matched_pair_stability([pd.read_csv(r / "matched_pairs.csv") for r in run_dirs]).to_csv(
        out / "matched_pairs.csv", index=False)
    kept = stab[stab["frequency"] >= min_frequency - 1e-12]
    write_graphml(kept.rename(columns={"mean_weight": "weight"}), out / "network.graphml",
                  stability=stab)
    info = {
        "seeds": list(seeds) if seeds is not None else found_seeds,
        "runs": runs,
        **(extra or {}),
        "metrics": metrics,
        "metrics_summary": aggregate_numbers(list(metrics.values())),
        "min_frequency": min_frequency,
        "n_edges": {"any_seed": int(len(stab)), "network_graphml": int(len(kept)),
                    "all_seeds": int((stab["frequency"] >= 1.0 - 1e-12).sum())},
    }
    write_json(out / ENSEMBLE_FILE, info)
    return info


def over_seeds(ens: Path, runs: list[Path], name: str, func: Callable[[Path], dict], *,
               command: str, inputs: dict[str, Any] | None = None) -> dict:
    """Run ``func`` on every seed's run folder; write ``ens/name`` with mean ± spread across seeds.

    Every seed folder gets its own ``name``; the ensemble's file holds ``{"ensemble": {...},
    "aggregate": ...}`` where each number is ``{"mean", "sd", "min", "max", "values"}`` over
    seeds and each label (e.g. a call) is the common value or the list of the seeds' values.
    ``command`` (as the manifests record it) may rewrite only its own files; every folder is
    checked before the first seed runs (:func:`cmcvae.io.check_files`).
    """
    for folder in (ens, *runs):
        check_files(folder, [name], command=command, inputs=inputs,
                    what="ensemble folder" if folder == ens else "run folder")
    results = [func(r) for r in runs]
    out = {"ensemble": {"runs": [r.name for r in runs], "n_seeds": len(runs)},
           "aggregate": aggregate_numbers(results)}
    claim_files(ens, [name], command=command, inputs=inputs, what="ensemble folder")
    write_json(ens / name, out)
    return out
