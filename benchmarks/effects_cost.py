"""Cost of the effect estimators at atlas scale: 2,000 genes × (2,000 genes + 144 proteins).

    python benchmarks/effects_cost.py [--cells 20000] [--threads 2] [--repeats 3]
                                      [--screen-cells 200000 --screen-perturbations 1000]

With ``--screen-cells``, also the effect layer of a screen fit: a synthetic screen of that many
cells (half controls, the rest spread over ``--screen-perturbations`` knockdowns of the genes),
timing the control moments, the per-knockdown shifts, the pooled moments and ``adjust_iv`` for
all 2,000 genes (one run each; the structure model's fit on the control cells is the atlas
training of ``benchmarks/atlas_training.py``).

Synthetic counts with a module structure (so the correlation matrix is not the identity) and a
GRN prior of 200 regulators × 50 targets. Times the training moments (one pass over the cells)
and every estimator for all 2,000 genes as knockdowns on all 2,144 readouts, median of
``--repeats`` runs, next to the protein ridge baseline of ``cmcvae validate``
(:func:`cmcvae.evaluate.ridge_effects`, scikit-learn RidgeCV, 144 readouts only) in the same run.
BLAS threads are limited to ``--threads`` (default 2, the CI machine). Writes JSON and Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from cmcvae.effects import (
    ESTIMATORS,
    SCREEN_ESTIMATORS,
    estimate_effects,
    feature_stats,
    intervention_stats,
)
from cmcvae.evaluate import ridge_effects


def synthetic(cells: int, genes: int, proteins: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    load = rng.normal(scale=0.4, size=(40, genes)) * (rng.random((40, genes)) < 0.1)
    offset = rng.normal(scale=0.3, size=genes)
    rna_blocks, prot_blocks = [], []
    for start in range(0, cells, 20_000):  # in blocks: 200,000 × 2,000 dense rates would be 3 GB
        n = min(20_000, cells - start)
        modules = rng.normal(size=(n, 40))
        rna_blocks.append(sp.csr_matrix(rng.poisson(np.exp(-1.0 + modules @ load + offset))
                                        .astype(np.float32)))
        prot_blocks.append(rng.poisson(20 * np.exp(0.3 * modules[:, :1] + rng.normal(
            scale=0.5, size=(n, proteins)))).astype(np.float32))
    rna, prot = sp.vstack(rna_blocks, format="csr"), np.vstack(prot_blocks)
    names = [f"TF{i:03d}" if i < 200 else f"G{i:04d}" for i in range(genes)]
    prior = pd.DataFrame({"source": np.repeat(names[:200], 50),
                          "target": rng.choice(names, size=200 * 50)})
    return rna, prot, names, [f"ADT_{i}" for i in range(proteins)], prior


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def screen_rows(args, genes, proteins, prior) -> list[dict]:
    """The effect layer of a screen fit of ``args.screen_cells`` cells (one run per step)."""
    rna, prot, *_ = synthetic(args.screen_cells, args.genes, args.proteins, seed=1)
    rng = np.random.default_rng(2)
    n_ctrl = args.screen_cells // 2
    targets = rng.choice(genes, size=args.screen_perturbations, replace=False)
    labels = np.concatenate([np.full(n_ctrl, "control", dtype=object),
                             rng.choice(targets, size=args.screen_cells - n_ctrl)])
    ctrl = np.flatnonzero(labels == "control")
    pert = np.flatnonzero(labels != "control")
    what = f"screen of {args.screen_cells:,} cells, {args.screen_perturbations} knockdowns"
    t_ctrl, control = timed(lambda: feature_stats(rna[ctrl], prot[ctrl], genes, proteins), 1)
    t_iv, iv = timed(lambda: intervention_stats(control, labels[pert], rna[pert], prot[pert],
                                                genes, proteins), 1)
    t_pool, pooled = timed(lambda: feature_stats(rna, prot, genes, proteins), 1)
    t_adj, _ = timed(lambda: estimate_effects(control, "adjust_iv", prior=prior, interventions=iv,
                                              pooled=pooled), 1)
    return [{"step": f"{what}: control moments", "seconds": t_ctrl},
            {"step": f"{what}: shifts of every knockdown", "seconds": t_iv},
            {"step": f"{what}: pooled moments", "seconds": t_pool},
            {"step": f"{what}: adjust_iv, {args.genes} knockdowns × {len(control.names)} readouts",
             "seconds": t_adj}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, default=20_000)
    ap.add_argument("--genes", type=int, default=2000)
    ap.add_argument("--proteins", type=int, default=144)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--screen-cells", type=int, default=0)
    ap.add_argument("--screen-perturbations", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "effects_cost.json")
    args = ap.parse_args()
    rna, prot, genes, proteins, prior = synthetic(args.cells, args.genes, args.proteins)
    rows = []
    with threadpool_limits(args.threads):
        t_stats, stats = timed(lambda: feature_stats(rna, prot, genes, proteins), args.repeats)
        rows.append({"step": "training moments (one pass over the cells)", "seconds": t_stats})
        for name in ESTIMATORS:
            if name in ("propagate", "ida", *SCREEN_ESTIMATORS):
                continue  # need a fitted model / graph; propagate is one (I − A)⁻¹ of the SCM
            t, est = timed(lambda n=name: estimate_effects(stats, n, prior=prior), args.repeats)
            rows.append({"step": f"estimator {name}: {args.genes} knockdowns × {len(stats.names)} readouts",
                         "seconds": t, "n_effects": int(np.isfinite(est.effect.to_numpy()).sum())})
        t, _ = timed(lambda: ridge_effects(rna, prot, genes, proteins), 1)
        rows.append({"step": f"baseline: validate's protein ridge (RidgeCV, {args.proteins} readouts)", "seconds": t})
        if args.screen_cells:
            rows += screen_rows(args, genes, proteins, prior)
    lines = ["| step | seconds (median) |", "|---|---|"] + [f"| {r['step']} | {r['seconds']:.2f} |" for r in rows]
    md = (f"{args.cells} cells, {args.genes} genes + {args.proteins} proteins, {args.threads} BLAS threads, "
          f"median of {args.repeats} runs (the ridge baseline: 1 run)\n\n" + "\n".join(lines) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "args": {k: str(v) for k, v in vars(args).items()}}, indent=2))
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
