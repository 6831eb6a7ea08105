"""Cost of training the SEM on a screen: 200,000 cells × (2,000 genes + 144 proteins), 2 cores.

    python benchmarks/screen_fit_cost.py [--cells 200000] [--perturbations 1000] [--threads 2]
                                         [--repeats 1] [--genes 2000] [--proteins 144]

A synthetic screen (counts with a module structure, as in ``effects_cost.py``): half of the
cells are controls, the rest spread over ``--perturbations`` knockdowns — half of them of genes
in the model (the target's rate drops to 30 %), half of genes outside it (an unknown footprint:
one module shifts). The same ``arch="sem"`` model is fitted twice on the same cells and seed:
with the perturbed cells in its likelihood (``sem_interventions=True``, the default of a screen
fit) and without (``False``, the observational-only fit), so the ratio is the price of the
interventions. Timed: building the model (reading the cells), the shifts of every
perturbation, the noise-corrected correlation and the DAGMA fit; BLAS/torch threads limited to
``--threads``. Writes JSON and Markdown next to this file's results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from threadpoolctl import threadpool_limits

from cmcvae import CMCVAE


def synthetic_screen(cells: int, genes: int, proteins: int, perturbations: int, seed: int = 0):
    """Controls and perturbed cells as two MuData, with each perturbed cell's target."""
    rng = np.random.default_rng(seed)
    load = rng.normal(scale=0.4, size=(40, genes)) * (rng.random((40, genes)) < 0.1)
    offset = rng.normal(scale=0.3, size=genes)
    names = [f"G{i:04d}" for i in range(genes)]
    n_ctrl = cells // 2
    labels = np.array(["control"] * n_ctrl
                      + [f"P{i:04d}" for i in rng.integers(0, perturbations, cells - n_ctrl)])
    # the first half of the perturbations target genes of the model, the others outside it
    in_model = {f"P{i:04d}": names[rng.integers(0, genes)] for i in range(perturbations // 2)}
    targets = np.array([in_model.get(lab, lab) for lab in labels], dtype=object)
    rna_blocks, prot_blocks = [], []
    for start in range(0, cells, 20_000):
        n = min(20_000, cells - start)
        modules = rng.normal(size=(n, 40))
        lab = labels[start:start + n]
        for j, p in enumerate(lab):
            if p != "control" and p not in in_model:
                modules[j, int(p[1:]) % 40] -= 1.5  # outside the model: one module shifts
        rate = np.exp(-1.0 + modules @ load + offset)
        for j, p in enumerate(lab):
            if p in in_model:
                rate[j, names.index(in_model[p])] *= 0.3
        rna_blocks.append(sp.csr_matrix(rng.poisson(rate).astype(np.float32)))
        prot_blocks.append(rng.poisson(20 * np.exp(0.3 * modules[:, :1] + rng.normal(
            scale=0.5, size=(n, proteins)))).astype(np.float32))
    rna, prot = sp.vstack(rna_blocks, format="csr"), np.vstack(prot_blocks)
    donors = np.array([f"D{i % 4}" for i in range(cells)])

    def mudata(rows: np.ndarray) -> md.MuData:
        obs = pd.DataFrame({"donor": donors[rows]}, index=[f"c{i}" for i in rows])
        data = md.MuData({
            "rna": ad.AnnData(rna[rows], obs=obs.copy(), var=pd.DataFrame(index=names)),
            "prot": ad.AnnData(prot[rows], obs=obs.copy(),
                               var=pd.DataFrame(index=[f"ADT_{i}" for i in range(proteins)]))})
        data.obs["donor"] = obs["donor"].to_numpy()
        return data

    ctrl = np.flatnonzero(labels == "control")
    pert = np.flatnonzero(labels != "control")
    return mudata(ctrl), mudata(pert), targets[pert]


def one_fit(controls: md.MuData, perturbed: md.MuData, targets: np.ndarray,
            interventions: bool) -> dict:
    t0 = time.perf_counter()
    CMCVAE.setup_mudata(controls, batch_key="donor")
    model = CMCVAE(controls, arch="sem", seed=0, sem_interventions=interventions)
    model.set_interventions(perturbed, targets)
    t_build = time.perf_counter() - t0
    model.train(progress_bar=False)
    m = model.metrics
    return {"interventions": interventions, "seconds_total": time.perf_counter() - t0,
            "seconds_build": t_build, "seconds_fit": m["timings"]["fit_seconds"],
            "seconds_correlation": m["timings"]["correlation_seconds"],
            "seconds_shifts": m["timings"]["shift_seconds"],
            "seconds_sem": m["timings"]["sem_seconds"],
            "used": m.get("interventions"), "n_edges": m["n_latent_edges"], "is_dag": m["is_dag"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=200_000)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--proteins", type=int, default=144)
    ap.add_argument("--perturbations", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "screen_fit_cost.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    controls, perturbed, targets = synthetic_screen(args.cells, args.genes, args.proteins,
                                                    args.perturbations)
    t_sim = time.perf_counter() - t0
    rows = []
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        for _ in range(args.repeats):
            for interventions in (False, True):
                rows.append(one_fit(controls.copy(), perturbed.copy(), targets, interventions))
                print(json.dumps(rows[-1]), flush=True)
    med = {flag: {k: statistics.median(r[k] for r in rows if r["interventions"] == flag)
                  for k in ("seconds_total", "seconds_build", "seconds_correlation", "seconds_shifts",
                      "seconds_sem")}
           for flag in (False, True)}
    out = {"args": {k: str(v) for k, v in vars(args).items()}, "seconds_simulate": t_sim,
           "rows": rows, "median": {str(k): v for k, v in med.items()},
           "ratio_total": med[True]["seconds_total"] / med[False]["seconds_total"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    lines = [f"Screen fit cost: {args.cells:,} cells ({args.cells // 2:,} controls, "
             f"{args.perturbations} perturbations, half of them outside the model) × "
             f"{args.genes:,} genes + {args.proteins} proteins, {args.threads} threads, "
             f"median of {args.repeats} run(s).", "",
             "| fit | total s | build s | correlation s | shifts s | DAGMA s |",
             "|---|---|---|---|---|---|"]
    for flag, name in ((False, "observational only (controls)"),
                       (True, "with the perturbed cells in the likelihood")):
        m = med[flag]
        lines.append(f"| {name} | {m['seconds_total']:.1f} | {m['seconds_build']:.1f} | "
                     f"{m['seconds_correlation']:.1f} | {m['seconds_shifts']:.1f} | "
                     f"{m['seconds_sem']:.1f} |")
    lines.append(f"\nRatio (with / without interventions): {out['ratio_total']:.2f}.")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
