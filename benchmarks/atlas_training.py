"""Training cost at atlas scale: epoch time, throughput and peak memory vs cells and latent size.

    python benchmarks/atlas_training.py --workdir /tmp/atlas [--repeats 3]

Simulates the poster's atlas shape once (809,130 cells × 2,000 genes + 144 proteins, 138
donors, RNA library median 1,000: ~580 non-zero genes per cell) with
:func:`cmcvae.datasets._simulate.simulate_atlas` and writes it as ``.h5mu`` in ``--workdir``; the
smaller sizes are seeded row subsets of it and the larger ones repeat its rows (the cost of a
training epoch depends on the shape and sparsity, not on the causal content). Every
measurement runs in a fresh process: read the file, build the model (``arch="poster"``,
``likelihood="nb"``), train ONE epoch at batch 1,024 with a 0.9/0.1/0 split (the epoch includes
its validation pass) and report the epoch wall time, training cells/s and the process's peak
RSS (which includes the loaded MuData). totalVI (scvi-tools) runs one epoch on the same file at
the same batch size for the throughput ratio; a plain MLP autoencoder of the same size on the
same minibatches gives the model-free ceiling; the atlas is also trained out-of-core (RNA left
on disk, ``read_backed``). Medians of ``--repeats`` runs; writes JSON and a Markdown table
(``--out`` and the same name with ``.md``) and prints the table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ATLAS_CELLS = 809_130


def _atlas(workdir: Path) -> Path:
    path = workdir / f"atlas_base_{ATLAS_CELLS}.h5mu"
    if path.exists():
        return path
    from cmcvae.datasets import simulate_atlas

    t0 = time.perf_counter()
    m = simulate_atlas(n_cells=ATLAS_CELLS, rna_library_median=1000.0, seed=0)
    for key in ("truth_edges", "matched_pairs", "simulation_params"):
        m.uns.pop(key, None)
    m.obs["donor"] = m.obs["donor"].astype(str)
    m.write(path)
    print(f"simulated the atlas in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return path


def _sized(workdir: Path, n: int) -> Path:
    """The atlas with ``n`` cells: a seeded row subset, or its rows repeated."""
    import mudata as md
    import numpy as np
    import scipy.sparse as sp

    path = workdir / f"atlas_{n}.h5mu"
    if n == ATLAS_CELLS:
        return _atlas(workdir)
    if path.exists():
        return path
    base = md.read_h5mu(_atlas(workdir))
    if n <= base.n_obs:
        rows = np.sort(np.random.default_rng(0).choice(base.n_obs, n, replace=False))
        sub = base[rows].copy()
    else:
        import anndata as ad

        reps = int(np.ceil(n / base.n_obs))
        rows = np.tile(np.arange(base.n_obs), reps)[:n]
        mods = {}
        for key in ("rna", "prot"):
            a = base.mod[key]
            X = a.X[rows] if sp.issparse(a.X) else np.asarray(a.X)[rows]
            obs = a.obs.iloc[rows].copy()
            obs.index = [f"{c}-{i // base.n_obs}" for i, c in zip(range(n), obs.index, strict=True)]
            mods[key] = ad.AnnData(X, obs=obs, var=a.var.copy())
        sub = md.MuData(mods)
        sub.obs["donor"] = sub.mod["rna"].obs["donor"].astype(str).to_numpy()
    sub.write(path)
    return path


def _one(path: str, n_latent: int, batch: int, method: str) -> dict:
    """One measurement (runs in the child process)."""
    import mudata as md

    backed = method == "cmcvae_backed"
    t0 = time.perf_counter()
    if backed:  # the RNA matrix stays on disk
        from cmcvae.io import read_backed

        mdata, method = read_backed(path), "cmcvae"
    else:
        mdata = md.read_h5mu(path)
    n_cells = int(mdata.n_obs)
    t_read = time.perf_counter() - t0
    if method == "mlp":
        epoch, n_train = _plain_mlp(mdata, n_latent, batch)
    elif method == "totalvi":
        import scvi

        from cmcvae.bm._totalvi import _anndata

        scvi.settings.seed = 0
        adata = _anndata(mdata, "donor")
        del mdata
        scvi.model.TOTALVI.setup_anndata(adata, protein_expression_obsm_key="protein_expression",
                                         batch_key="donor")
        model = scvi.model.TOTALVI(adata)
        t1 = time.perf_counter()
        model.train(max_epochs=1, batch_size=batch, train_size=0.9, early_stopping=False,
                    accelerator="cpu", enable_progress_bar=False)
        epoch = time.perf_counter() - t1
        n_train = int(round(0.9 * adata.n_obs))
    else:
        from cmcvae import CMCVAE

        CMCVAE.setup_mudata(mdata, batch_key="donor")
        kr = max(1, int(round(n_latent * 0.8)))
        model = CMCVAE(mdata, n_latent_rna=kr, n_latent_protein=n_latent - kr, split=[0.9, 0.1, 0.0],
                       batch_size=batch, max_epochs=1)
        model.train(progress_bar=False)
        epoch = model.metrics["timings"]["fit_seconds"]
        n_train = int((model.split == "train").sum())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    method = "cmcvae (backed)" if backed else method
    return {"method": method, "n_cells": n_cells, "n_train": n_train,
            "n_latent": n_latent, "batch_size": batch, "read_seconds": t_read,
            "epoch_seconds": epoch, "train_cells_per_second": n_train / epoch, "peak_rss_gb": peak}


def _plain_mlp(mdata, n_latent: int, batch: int) -> tuple[float, int]:
    """One epoch of a plain MLP autoencoder of CMC-VAE's size on the same minibatches.

    Encoder ``genes + proteins → 256 → 256 → K`` (LayerNorm, ReLU), linear decoder ``K →
    genes + proteins``, squared error, Adam (fused): the model-free ceiling for this input size
    on this machine. It reads the same sparse minibatches and builds the same dense input.
    """
    import numpy as np
    import torch
    from torch import nn

    from cmcvae import CMCVAE
    from cmcvae.model.latent._sampling import EpochBatchSampler

    CMCVAE.setup_mudata(mdata, batch_key="donor")
    kr = max(1, int(round(n_latent * 0.8)))
    model = CMCVAE(mdata, n_latent_rna=kr, n_latent_protein=n_latent - kr, split=[0.9, 0.1, 0.0])
    data, prep = model._data, model.module
    n_in = len(model.genes) + len(model.proteins)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(n_in, 256), nn.LayerNorm(256), nn.ReLU(), nn.Linear(256, 256),
                        nn.LayerNorm(256), nn.ReLU(), nn.Linear(256, n_latent), nn.Linear(n_latent, n_in))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    train = np.flatnonzero(model.split == "train")
    t0 = time.perf_counter()
    for idx in EpochBatchSampler(len(train), batch, seed=0):
        xy = prep.encoder_input(data[train[idx]])
        loss = ((net(xy) - xy) ** 2).sum(1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, len(train)


def _measure(path: Path, n_latent: int, batch: int, method: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        proc = subprocess.run([sys.executable, __file__, "--one", str(path), str(n_latent),
                               str(batch), method], capture_output=True, text=True)
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not line:
            raise RuntimeError(f"{method} on {path} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(line[-1][7:]))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    out = dict(runs[0])
    for key in ("epoch_seconds", "train_cells_per_second", "read_seconds"):
        out[key] = statistics.median(r[key] for r in runs)
        out[f"{key}_all"] = [r[key] for r in runs]
    out["peak_rss_gb"] = max(r["peak_rss_gb"] for r in runs)
    out["repeats"] = repeats
    return out


def main(argv: list[str] | None = None) -> None:
    global ATLAS_CELLS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", type=Path, required=False, default=Path("/tmp/cmcvae_atlas"))
    ap.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000, ATLAS_CELLS, 2_000_000])
    ap.add_argument("--latent", type=int, nargs="+", default=[64, 128, 256, 512])
    ap.add_argument("--latent-cells", type=int, default=100_000)
    ap.add_argument("--default-latent", type=int, default=80, help="K for the cells sweep (64 + 16)")
    ap.add_argument("--totalvi-cells", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "atlas_training.json")
    ap.add_argument("--atlas-cells", type=int, default=ATLAS_CELLS,
                    help="size of the simulated base atlas (smaller for a smoke test)")
    ap.add_argument("--no-backed", dest="backed", action="store_false",
                    help="skip the out-of-core (backed .h5mu) run at the atlas size")
    ap.add_argument("--no-mlp", dest="mlp", action="store_false",
                    help="skip the plain-MLP ceiling at the atlas size")
    ap.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    ATLAS_CELLS = args.atlas_cells
    if args.one:
        path, k, batch, method = args.one
        print("RESULT " + json.dumps(_one(path, int(k), int(batch), method)), flush=True)
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.cells:
        rows.append({"sweep": "cells", **_measure(_sized(args.workdir, n), args.default_latent,
                                                   args.batch, "cmcvae", args.repeats)})
    for k in args.latent:
        rows.append({"sweep": "latent", **_measure(_sized(args.workdir, args.latent_cells), k,
                                                    args.batch, "cmcvae", args.repeats)})
    if args.backed:
        path = _sized(args.workdir, ATLAS_CELLS)
        rows.append({"sweep": "out-of-core", **_measure(path, args.default_latent, args.batch,
                                                         "cmcvae_backed", args.repeats)})
    if args.mlp:
        path = _sized(args.workdir, ATLAS_CELLS)
        rows.append({"sweep": "ceiling", **_measure(path, args.default_latent, args.batch, "mlp",
                                                     args.repeats)})
    if args.totalvi_cells:
        path = _sized(args.workdir, args.totalvi_cells)
        cm = next((r for r in rows if r["sweep"] == "cells" and r["n_cells"] == args.totalvi_cells
                   and r["n_latent"] == args.default_latent), None)
        cm = cm or _measure(path, args.default_latent, args.batch, "cmcvae", args.repeats)
        tv = _measure(path, args.default_latent, args.batch, "totalvi", args.repeats)
        rows.append({"sweep": "totalvi", **tv})
        ratio = cm["train_cells_per_second"] / tv["train_cells_per_second"]
    record = {"benchmark": "one training epoch at atlas scale, CPU", "date": time.strftime("%Y-%m-%d"),
              "python": platform.python_version(), "machine": platform.machine(),
              "threads": __import__("torch").get_num_threads(), "rows": rows,
              "cmcvae_over_totalvi_throughput": ratio if args.totalvi_cells else None}
    ceiling = next((r for r in rows if r["sweep"] == "ceiling"), None)
    atlas = next((r for r in rows if r["sweep"] == "cells" and r["n_cells"] == ATLAS_CELLS), None)
    if ceiling and atlas:
        record["cmcvae_over_plain_mlp_throughput"] = (atlas["train_cells_per_second"]
                                                      / ceiling["train_cells_per_second"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1))
    table = markdown(record)
    args.out.with_suffix(".md").write_text(table)
    print(table)


def markdown(record: dict) -> str:
    """The benchmark table (Markdown) from the JSON record."""
    lines = ["| sweep | method | cells | K | epoch s (median) | train cells/s | peak RSS GB | runs |",
             "|---|---|---|---|---|---|---|---|"]
    for r in record["rows"]:
        runs = ", ".join(f"{v:.1f}" for v in r.get("epoch_seconds_all", []))
        lines.append(f"| {r['sweep']} | {r['method']} | {r['n_cells']:,} | {r['n_latent']} | "
                     f"{r['epoch_seconds']:.1f} | {r['train_cells_per_second']:,.0f} | "
                     f"{r['peak_rss_gb']:.2f} | {runs} |")
    for key, label in (("cmcvae_over_totalvi_throughput", "CMC-VAE / totalVI training throughput"),
                       ("cmcvae_over_plain_mlp_throughput",
                        "CMC-VAE / plain MLP of the same size (same minibatches)")):
        if record.get(key):
            lines.append(f"\n{label}: {record[key]:.2f}×")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
