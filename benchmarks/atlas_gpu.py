"""Atlas training on a GPU: epoch time, cells/s and peak GPU memory at the poster's atlas shape.

    python benchmarks/atlas_gpu.py --out benchmarks/results/atlas_gpu.json [--cells 809130]

Everything runs in one process on one GPU (the machine's time is short): the atlas of the poster's
shape (``--cells`` × 2,000 genes + 144 proteins, 138 donors, RNA library median 1,000) is built
from a simulated block of ``--block`` cells repeated to ``--cells`` rows (an epoch's cost depends on
the shape and sparsity, not on the causal content; ``benchmarks/atlas_training.py`` does the same
for its 2M-cell row). CMC-VAE (``arch="latent"``, NB likelihood, split 0.9/0.1/0) is trained for
``--epochs`` epochs per setting: data preloaded on the GPU or streamed from host memory, batch
1,024 and 8,192, fp32 and bf16-mixed. The time of each training epoch is measured by a callback
with ``torch.cuda.synchronize()`` at its ends (the validation pass is timed apart); the first
epoch includes CUDA warm-up, so the table reports the median of the later ones. totalVI
(scvi-tools) trains one epoch on the first ``--totalvi-cells`` cells at batch 1,024 for the ratio,
and the feature-level SEM (``arch="sem"``) is fitted on ``--sem-cells`` cells at 2,000 genes.
Writes JSON (``--out``) and a Markdown table beside it and prints the table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

import numpy as np


def _atlas(n_cells: int, block: int, seed: int = 0):
    """``n_cells`` rows: a simulated block of ``block`` cells repeated (donors kept)."""
    import anndata as ad
    import mudata as md
    import scipy.sparse as sp

    from cmcvae.datasets import simulate_atlas

    t0 = time.perf_counter()
    base = simulate_atlas(n_cells=block, rna_library_median=1000.0, seed=seed)
    sim_s = time.perf_counter() - t0
    rows = np.tile(np.arange(base.n_obs), int(np.ceil(n_cells / base.n_obs)))[:n_cells]
    mods = {}
    for key in ("rna", "prot"):
        a = base.mod[key]
        X = a.X[rows] if sp.issparse(a.X) else np.asarray(a.X)[rows]
        obs = a.obs.iloc[rows].copy()
        obs.index = [f"c{i}" for i in range(n_cells)]
        mods[key] = ad.AnnData(X, obs=obs, var=a.var.copy())
    mdata = md.MuData(mods)
    mdata.obs["donor"] = mdata.mod["rna"].obs["donor"].astype(str).to_numpy()
    return mdata, sim_s, time.perf_counter() - t0


class _EpochTimer:
    """Lightning callback: wall time of every training epoch and validation pass (synchronised)."""

    def __new__(cls):
        import lightning.pytorch as pl
        import torch

        class Timer(pl.Callback):
            def __init__(self):
                self.train, self.val = [], []

            def _now(self):
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                return time.perf_counter()

            def on_train_epoch_start(self, trainer, module):
                self._t = self._now()

            def on_train_epoch_end(self, trainer, module):
                self.train.append(self._now() - self._t)

            def on_validation_epoch_start(self, trainer, module):
                self._v = self._now()

            def on_validation_epoch_end(self, trainer, module):
                self.val.append(self._now() - self._v)

        return Timer()


def _cmcvae(mdata, *, batch: int, precision: str | None, preload: bool, epochs: int,
            accelerator: str) -> dict:
    import torch

    from cmcvae import CMCVAE

    CMCVAE.setup_mudata(mdata, batch_key="donor")
    model = CMCVAE(mdata, split=[0.9, 0.1, 0.0], batch_size=batch, max_epochs=epochs, seed=0)
    n_train = int((model.split == "train").sum())
    timer = _EpochTimer()
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model.train(max_epochs=epochs, accelerator=accelerator, precision=precision,
                data_on_device=preload, progress_bar=False, callbacks=[timer])
    total = time.perf_counter() - t0
    later = timer.train[1:] or timer.train
    epoch = statistics.median(later)
    return {"method": "cmcvae", "data": "preloaded" if preload else "streaming", "batch_size": batch,
            "precision": precision or "32-true", "n_train": n_train, "epochs": epochs,
            "train_epoch_seconds": epoch, "train_epoch_seconds_all": timer.train,
            "val_seconds_all": timer.val, "fit_seconds_total": total,
            "train_cells_per_second": n_train / epoch,
            "peak_gpu_gb": torch.cuda.max_memory_allocated() / 1024**3 if torch.cuda.is_available() else None,
            "finite": bool(model.metrics.get("finite", True)), "is_dag": bool(model.metrics.get("is_dag"))}


def _totalvi(mdata, n_cells: int, accelerator: str) -> dict:
    import scvi
    import torch

    from cmcvae.bm._totalvi import _anndata as totalvi_anndata

    scvi.settings.seed = 0
    adata = totalvi_anndata(mdata[:n_cells].copy(), "donor")
    scvi.model.TOTALVI.setup_anndata(adata, protein_expression_obsm_key="protein_expression",
                                     batch_key="donor")
    model = scvi.model.TOTALVI(adata)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model.train(max_epochs=1, batch_size=1024, train_size=0.9, early_stopping=False,
                accelerator=accelerator, enable_progress_bar=False)
    epoch = time.perf_counter() - t0
    n_train = int(round(0.9 * adata.n_obs))
    return {"method": "totalvi", "data": "scvi-tools loader", "batch_size": 1024, "precision": "32-true",
            "n_train": n_train, "epochs": 1, "train_epoch_seconds": epoch,
            "train_cells_per_second": n_train / epoch,
            "peak_gpu_gb": torch.cuda.max_memory_allocated() / 1024**3 if torch.cuda.is_available() else None}


def _sem(mdata, n_cells: int, accelerator: str) -> dict:
    import torch

    from cmcvae import CMCVAE

    sub = mdata[:n_cells].copy()
    CMCVAE.setup_mudata(sub, batch_key="donor")
    model = CMCVAE(sub, arch="sem", seed=0)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    model.train(accelerator=accelerator, progress_bar=False)
    total = time.perf_counter() - t0
    stages = model.metrics.get("history", [])
    iters = sum(int(s.get("iterations", 0) or 0) for s in stages) if stages else None
    return {"method": "cmcvae_sem", "n_cells": n_cells, "n_features": len(model.genes) + len(model.proteins),
            "fit_seconds_total": total, "iterations": iters,
            "seconds_per_iteration": total / iters if iters else None, "is_dag": bool(model.metrics.get("is_dag")),
            "peak_gpu_gb": torch.cuda.max_memory_allocated() / 1024**3 if torch.cuda.is_available() else None}


def markdown(record: dict) -> str:
    lines = [f"Atlas training on {record['device']} ({record['cells']:,} cells × 2,000 genes + 144 proteins, "
             f"138 donors; {record['date']}). Train-epoch time = median of epochs 2..N (epoch 1 "
             "includes CUDA warm-up); the validation pass is not included.", "",
             "| method | data | batch | precision | train cells | epoch s | cells/s | peak GPU GB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in record["rows"]:
        if "error" in r:
            lines.append(f"| {r.get('method')} | {r.get('data', '')} | {r.get('batch_size', '')} | "
                         f"{r.get('precision', '')} | failed: {r['error'][:80]} | | | |")
            continue
        if r["method"] == "cmcvae_sem":
            continue
        gb = "" if r.get("peak_gpu_gb") is None else f"{r['peak_gpu_gb']:.2f}"
        lines.append(f"| {r['method']} | {r['data']} | {r['batch_size']:,} | {r['precision']} | "
                     f"{r['n_train']:,} | {r['train_epoch_seconds']:.3f} | {r['train_cells_per_second']:,.0f} | {gb} |")
    for r in record["rows"]:
        if r.get("method") == "cmcvae_sem" and "error" not in r:
            lines += ["", f"SEM (`arch=\"sem\"`, {r['n_cells']:,} cells, {r['n_features']} features): "
                          f"{r['fit_seconds_total']:.1f} s in total, {r['iterations']} iterations "
                          f"({(r['seconds_per_iteration'] or float('nan')) * 1e3:.1f} ms each), DAG: {r['is_dag']}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=809_130)
    ap.add_argument("--block", type=int, default=101_142, help="simulated cells, repeated to --cells")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per preloaded setting")
    ap.add_argument("--streaming-epochs", type=int, default=2, help="epochs per streaming setting")
    ap.add_argument("--batches", type=int, nargs="*", default=[1024, 8192])
    ap.add_argument("--streaming-batches", type=int, nargs="*", default=[1024, 8192])
    ap.add_argument("--totalvi-cells", type=int, default=100_000)
    ap.add_argument("--sem-cells", type=int, default=20_000)
    ap.add_argument("--accelerator", default="gpu")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "atlas_gpu.json")
    args = ap.parse_args(argv)
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu"
    mdata, sim_s, build_s = _atlas(args.cells, min(args.block, args.cells))
    print(f"atlas: simulated {min(args.block, args.cells):,} cells in {sim_s:.0f} s, "
          f"{args.cells:,} rows in {build_s:.0f} s", file=sys.stderr, flush=True)
    settings = [dict(batch=b, precision=p, preload=True) for b in args.batches for p in (None, "bf16-mixed")]
    settings += [dict(batch=b, precision=None, preload=False) for b in args.streaming_batches]
    if args.batches:  # the fp16 path (GradScaler) is CUDA-only: run it once
        settings.append(dict(batch=max(args.batches), precision="16-mixed", preload=True))
    record = {"device": device, "cells": args.cells, "date": time.strftime("%Y-%m-%d"),
              "torch": torch.__version__, "python": platform.python_version(),
              "simulate_seconds": sim_s, "rows": []}

    def save():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2))
        args.out.with_suffix(".md").write_text(markdown(record))

    jobs = [(f"cmcvae {s}", lambda s=s: _cmcvae(
        mdata, epochs=args.epochs if s["preload"] else args.streaming_epochs,
        accelerator=args.accelerator, **s)) for s in settings]
    if args.totalvi_cells:
        jobs.append(("totalvi", lambda: _totalvi(mdata, min(args.totalvi_cells, args.cells), args.accelerator)))
    if args.sem_cells:
        jobs.append(("sem", lambda: _sem(mdata, min(args.sem_cells, args.cells), args.accelerator)))
    for name, job in jobs:
        t0 = time.perf_counter()
        try:
            row = job()
        except Exception as err:  # one failing setting must not lose the others' numbers
            row = {"method": name, "error": f"{type(err).__name__}: {err}",
                   "traceback": traceback.format_exc()[-4000:]}
        row["wall_seconds"] = time.perf_counter() - t0
        record["rows"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "traceback"}), file=sys.stderr, flush=True)
        save()
    print(markdown(record))


if __name__ == "__main__":
    main()
