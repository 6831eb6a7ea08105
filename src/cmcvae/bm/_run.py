"""The benchmark runner: datasets × methods × seeds → rows, a summary and the JSON record.

Three tasks:

- ``grn``: RNA-only network recovery on BEELINE, SERGIO DS4, DREAM4 and krumsiek11 (AUROC,
  AUPRC, AUPRC ratio over random, early precision ratio; directed, self-pairs excluded);
- ``dag``: protein-only structure learning on Sachs 2005 (the same ranking metrics, plus SHD,
  TPR and FDR of a final DAG: the method's own DAG where it outputs one, else the greedy
  acyclic top-k edges with k = number of true edges);
- ``crossmodal``: the simulator's knockdown screens (:mod:`._crossmodal`).

Deterministic methods run once per dataset (their spread over seeds is zero by construction);
seeded methods run once per seed. Each row records the method's wall time.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._beeline import BEELINE_NAMES, load_beeline
from cmcvae.bm._cmcvae import cmcvae_network
from cmcvae.bm._correlation import pearson, spearman
from cmcvae.bm._crossmodal import CROSSMODAL_METHODS, SIM_SETTINGS, crossmodal_task
from cmcvae.bm._dagma import dagma_linear
from cmcvae.bm._dataset import GraphDataset
from cmcvae.bm._dream4 import DREAM4_NETWORKS, load_dream4
from cmcvae.bm._krumsiek11 import load_krumsiek11
from cmcvae.bm._partial import graphical_lasso, partial_correlation
from cmcvae.bm._sachs import load_sachs
from cmcvae.bm._scores import dag_scores, grn_scores, top_k_dag, undirected_scores
from cmcvae.bm._sergio import load_sergio
from cmcvae.bm._trees import genie3, grnboost2
from cmcvae.bm._trivial import empty_graph, random_scores

__all__ = ["GRN_METHODS", "DETERMINISTIC", "grn_datasets", "run_benchmark", "summarize"]

#: Network methods of the ``grn`` and ``dag`` tasks, in display order.
GRN_METHODS: dict[str, Callable[..., pd.DataFrame]] = {
    "cmcvae": partial(cmcvae_network, arch="latent"),
    "cmcvae_sem": partial(cmcvae_network, arch="sem"),
    "pearson": pearson,
    "spearman": spearman,
    "partial_correlation": partial_correlation,
    "graphical_lasso": graphical_lasso,
    "genie3": genie3,
    "grnboost2": grnboost2,
    "dagma": dagma_linear,
    "random": random_scores,
    "empty": empty_graph,
}

#: Methods whose output does not depend on the seed (run once per dataset).
DETERMINISTIC = frozenset({"cmcvae_sem", "pearson", "spearman", "partial_correlation",
                           "graphical_lasso", "dagma", "empty"})

#: Methods that take the modality (single-modality CMC-VAE).
_MODALITY_AWARE = frozenset({"cmcvae", "cmcvae_sem"})


def grn_datasets(data_root: str | Path, quick: bool = False,
                 ) -> tuple[list[tuple[str, Callable[[], GraphDataset]]], list[str]]:
    """The one-modality datasets found under ``data_root`` (``../shared/data`` layout).

    Returns ``(datasets, notes)``: lazy loaders by name, and a note for every family that is
    not present (it is skipped, not an error, since users may have only some of them).
    """
    root = Path(data_root)
    found: list[tuple[str, Callable[[], GraphDataset]]] = []
    notes: list[str] = []
    families = {
        "beeline_boolode": [(f"beeline/{n}", partial(load_beeline, root / "beeline_boolode", n))
                            for n in (BEELINE_NAMES if not quick else
                                      ("dyn-LI", "dyn-CY", "dyn-BF", "HSC", "mCAD"))],
        "sergio": [("sergio/DS4", partial(load_sergio, root / "sergio", "DS4"))],
        "dream4": [(f"dream4/{i}", partial(load_dream4, root / "dream4", i))
                   for i in (DREAM4_NETWORKS if not quick else (1,))],
        "krumsiek11_scanpy": [("krumsiek11", partial(load_krumsiek11, root / "krumsiek11_scanpy"))],
        "sachs2005": [("sachs", partial(load_sachs, root / "sachs2005", log=True))],
    }
    if quick:
        families.pop("sergio")
    for folder, items in families.items():
        if (root / folder).is_dir():
            found.extend(items)
        else:
            notes.append(f"{folder}: not found under {root} — skipped")
    return found, notes


def _method_options(name: str, ds: GraphDataset, quick: bool) -> dict[str, Any]:
    """Caps that keep the whole table within its time budget on 2 CPU cores."""
    if name in _MODALITY_AWARE:
        return {"modality": ds.modality}
    if name in ("genie3", "grnboost2") and quick:
        return {"max_cells": 300}  # full mode: the adapters' own size-aware default
    if name == "dagma" and ds.X.shape[1] > 20:
        # dagma's default (up to 40,000 iterations in each of 5 stages) takes ~10 min on
        # 100 features on 2 cores; 4,000 per stage keeps the table within its hour
        return {"warm_iter": 2000, "max_iter": 4000}
    return {}


def _too_big(name: str, ds: GraphDataset, quick: bool) -> str | None:
    if name == "dagma" and ds.X.shape[1] > (20 if quick else 100):
        return f"skipped: DAGMA capped at {20 if quick else 100} features"
    return None


def _grn_row(ds: GraphDataset, name: str, seed: int, quick: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"task": "dag" if ds.family == "sachs" else "grn", "dataset": ds.name,
                           "method": name, "seed": seed, "n_cells": int(ds.X.shape[0]),
                           "n_features": int(ds.X.shape[1]), "n_true": int(len(ds.truth))}
    skip = _too_big(name, ds, quick)
    if skip:
        row["note"] = skip
        return row
    start = time.perf_counter()
    pred = GRN_METHODS[name](ds.X, ds.features, seed=seed, **_method_options(name, ds, quick))
    row["seconds"] = time.perf_counter() - start
    row.update(grn_scores(pred, ds.truth, ds.features))
    row["undirected_auroc"] = undirected_scores(pred, ds.truth, ds.features)["auroc"]
    if ds.family == "sachs":
        dag = pred.attrs.get("dag")
        row["dag_source"] = "method" if dag is not None else "top-k acyclic"
        if dag is None:
            dag = top_k_dag(pred, ds.features, len(ds.truth))
        row.update({f"dag_{k}": v for k, v in dag_scores(np.asarray(dag), ds.truth_matrix()).items()})
    return row


def _log(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress is not None:
        progress(msg)


def _versions() -> dict[str, str]:
    import importlib.metadata as im

    out = {"python": platform.python_version()}
    for pkg in ("cmcvae", "torch", "lightning", "scikit-learn", "numpy", "scipy", "anndata",
                "dagma", "scvi-tools"):
        try:
            out[pkg] = im.version(pkg)
        except im.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run_benchmark(*, data_root: str | Path, seeds: Sequence[int] = (0, 1, 2), quick: bool = False,
                  methods: Sequence[str] | None = None, datasets: Sequence[str] | None = None,
                  crossmodal: bool = True, progress: Callable[[str], None] | None = print,
                  checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Run the benchmark and return its record (rows, summary, speed, metadata).

    Parameters
    ----------
    data_root
        Folder with the public benchmark data (``beeline_boolode/``, ``sergio/``, ``dream4/``,
        ``krumsiek11_scanpy/``, ``sachs2005/``); families that are absent are skipped.
    seeds
        Seeds (at least 3 for medians with a spread).
    quick
        Fewer datasets, smaller simulations, tighter caps (under 10 minutes on 2 CPU cores).
    methods
        Restrict to these method names (network and cross-modal ones).
    datasets
        Restrict to dataset names starting with one of these prefixes (e.g. ``"beeline"``,
        ``"sachs"``, ``"simulator/easy"``).
    crossmodal
        Run the simulator's cross-modal task.
    progress
        Called with one line per finished piece (``None``: silent).
    checkpoint
        JSON file rewritten after every dataset, so an interrupted run keeps what it measured.
    """
    if len(seeds) < 1:
        raise CMCVAEInputError("Give at least one seed (three or more for a spread).")
    unknown = set(methods or ()) - set(GRN_METHODS) - set(CROSSMODAL_METHODS)
    if unknown:
        raise CMCVAEInputError(
            f"Unknown methods {sorted(unknown)}; choose from {sorted(set(GRN_METHODS) | set(CROSSMODAL_METHODS))}."
        )
    start = time.perf_counter()
    record: dict[str, Any] = {
        "meta": {"date": date.today().isoformat(), "quick": quick, "seeds": list(seeds),
                 "versions": _versions(), "machine": f"{platform.machine()}, {_cores()} cores",
                 "command": " ".join(sys.argv)},
        "rows": [], "notes": [],
    }
    run = _Run(record, seeds, quick, datasets, progress, checkpoint, start)
    run.grn_tasks(data_root, [m for m in GRN_METHODS if methods is None or m in methods])
    if crossmodal:
        run.crossmodal_tasks(tuple(m for m in CROSSMODAL_METHODS
                                   if methods is None or m in methods))
    record["summary"] = summarize(record["rows"])
    record["speed"] = speed_summary(record["rows"])
    record["meta"]["total_seconds"] = time.perf_counter() - start
    _save(record, checkpoint)
    return record


class _Run:
    """One benchmark run in progress: appends rows to ``record``, logs and checkpoints."""

    def __init__(self, record: dict[str, Any], seeds: Sequence[int], quick: bool,
                 datasets: Sequence[str] | None, progress: Callable[[str], None] | None,
                 checkpoint: str | Path | None, start: float) -> None:
        self.record, self.seeds, self.quick, self.datasets = record, seeds, quick, datasets
        self.progress, self.checkpoint, self.start = progress, checkpoint, start

    def keep(self, name: str) -> bool:
        """Whether dataset ``name`` is selected (``datasets`` prefixes; all when ``None``)."""
        return self.datasets is None or any(name.startswith(p) for p in self.datasets)

    def _done(self, what: str) -> None:
        _log(self.progress, f"{what} ({time.perf_counter() - self.start:.0f} s)")
        _save(self.record, self.checkpoint)

    def grn_tasks(self, data_root: str | Path, grn_methods: list[str]) -> None:
        """Every network method on every one-modality dataset found (deterministic ones once)."""
        loaders, notes = grn_datasets(data_root, self.quick)
        self.record["notes"].extend(notes)
        for name, load in loaders:
            if not self.keep(name):
                continue
            try:
                ds = load()
            except CMCVAEInputError as err:  # a partial copy of a family: skip what is missing
                self.record["notes"].append(f"{name}: skipped ({str(err).split('. ')[0]})")
                continue
            for m in grn_methods:
                for seed in (self.seeds[:1] if m in DETERMINISTIC else self.seeds):
                    self.record["rows"].append(_grn_row(ds, m, seed, self.quick))
            self._done(f"{name}: {len(grn_methods)} methods done")

    def crossmodal_tasks(self, cm_methods: tuple[str, ...]) -> None:
        """The simulator's cross-modal task for every setting and seed."""
        for setting in SIM_SETTINGS:
            if not self.keep(f"simulator/{setting}"):
                continue
            for seed in self.seeds:
                self.record["rows"].extend(crossmodal_task(
                    setting, seed, methods=cm_methods, scale=0.5 if self.quick else 1.0,
                    totalvi_epochs=5 if self.quick else 20))
                self._done(f"simulator/{setting} seed {seed} done")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _save(record: dict[str, Any], path: str | Path | None) -> None:
    if path is not None:
        Path(path).write_text(json.dumps(record, indent=1, default=_json_default))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


#: Metrics summarised per (task, dataset, method).
METRICS = ("auroc", "auprc", "auprc_ratio", "epr", "undirected_auroc", "dag_shd", "dag_tpr",
           "dag_fdr", "dag_n_pred", "direction_accuracy", "grn_auroc", "grn_auprc_ratio", "grn_auroc_all",
           "seconds", "cells_per_second")


def summarize(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median, min and max over seeds of every metric, per (task, dataset, method)."""
    frame = pd.DataFrame(list(rows))
    out: list[dict[str, Any]] = []
    if frame.empty:
        return out
    for (task, dataset, method), grp in frame.groupby(["task", "dataset", "method"], sort=False):
        entry: dict[str, Any] = {"task": task, "dataset": dataset, "method": method,
                                 "n_seeds": int(grp["seed"].nunique())}
        if "note" in grp and grp["note"].notna().any():
            entry["note"] = str(grp["note"].dropna().iloc[0])
        for m in METRICS:
            if m not in grp:
                continue
            v = pd.to_numeric(grp[m], errors="coerce").dropna().to_numpy(dtype=float)
            if v.size:
                entry[m] = {"median": float(np.median(v)), "min": float(v.min()),
                            "max": float(v.max())}
        out.append(entry)
    return out


def speed_summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Throughput and wall-time ratios measured in the same run.

    ``cmcvae_vs_totalvi``: CMC-VAE training cells/s over totalVI's, per simulator setting and
    seed (same data, same batch size). ``dagma_vs_cmcvae``: DAGMA wall time over CMC-VAE's on
    the same feature graph, per dataset.
    """
    frame = pd.DataFrame(list(rows))
    out: dict[str, Any] = {"cmcvae_vs_totalvi": [], "dagma_vs_cmcvae": []}
    if frame.empty or "seconds" not in frame:
        return out
    cm = frame[frame["task"] == "crossmodal"]
    if "cells_per_second" in cm:
        for (dataset, seed), grp in cm.groupby(["dataset", "seed"]):
            cps = grp.set_index("method")["cells_per_second"]
            if {"cmcvae", "totalvi"} <= set(cps.dropna().index):
                out["cmcvae_vs_totalvi"].append({
                    "dataset": dataset, "seed": int(seed),
                    "cmcvae_cells_per_second": float(cps["cmcvae"]),
                    "totalvi_cells_per_second": float(cps["totalvi"]),
                    "ratio": float(cps["cmcvae"] / cps["totalvi"])})
    net = frame[frame["task"].isin(["grn", "dag"])]
    for dataset, grp in net.groupby("dataset", sort=False):
        secs = grp.groupby("method")["seconds"].median()
        if "dagma" not in secs or not np.isfinite(secs["dagma"]):
            continue
        entry = {"dataset": dataset, "n_features": int(grp["n_features"].iloc[0]),
                 "dagma_seconds": float(secs["dagma"])}
        for m in ("cmcvae", "cmcvae_sem"):
            if m in secs and np.isfinite(secs[m]):
                entry[f"{m}_seconds"] = float(secs[m])
                entry[f"dagma_over_{m}"] = float(secs["dagma"] / secs[m])
        out["dagma_vs_cmcvae"].append(entry)
    return out
