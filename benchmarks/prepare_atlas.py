"""Benchmark of `cmcvae prepare` on a simulated two-dataset atlas of the poster's shape.

Simulates two datasets (default 161,764 + 647,366 cells = 809,130; 2,000 genes; 144 proteins;
8 + 130 donors) with the simulator's chunked atlas generator, writes them as .h5mu, then runs
`cmcvae prepare A.h5mu B.h5mu --out atlas.h5mu` in a fresh process and reports its wall time and
peak resident memory (the simulation is not counted). Medians over --repeats runs.

    python benchmarks/prepare_atlas.py --cells 161764 647366 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from _subprocess import run_measured


def simulate_datasets(cells: list[int], donors: list[int], genes: int, proteins: int, tmp: Path,
                      library: float) -> list[Path]:
    import pandas as pd

    from cmcvae.datasets import simulate_atlas

    paths = []
    for i, (n, d) in enumerate(zip(cells, donors, strict=True)):
        m = simulate_atlas(n_cells=n, n_genes=genes, n_proteins=proteins, n_donors=d, seed=0,
                           rna_library_median=library)
        # the second dataset names antibodies the way another vendor would
        if i == 1:
            m.mod["prot"].var_names = [f"{p.removeprefix('ADT_')}_TotalSeqB" for p in m.mod["prot"].var_names]
        for key in ("truth_edges", "matched_pairs", "simulation_params"):
            m.uns.pop(key, None)
        m.obs["donor"] = m.obs["donor"].astype(str)
        path = tmp / f"ds{i}.h5mu"
        m.write(path)
        paths.append(path)
        if i == 0:
            pmap = pd.DataFrame({"protein": [p.removeprefix("ADT_") for p in m.mod["prot"].var_names],
                                 "gene": [p.removeprefix("ADT_") for p in m.mod["prot"].var_names]})
            pmap.to_csv(tmp / "map.csv", index=False)
        del m
    return paths


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--cells", type=int, nargs=2, default=[161_764, 647_366])
    p.add_argument("--donors", type=int, nargs=2, default=[8, 130])
    p.add_argument("--genes", type=int, default=3000, help="simulated genes (prepare keeps 2,000 HVGs)")
    p.add_argument("--proteins", type=int, default=144)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--library", type=float, default=1000.0,
                   help="median RNA UMIs per cell over the simulated genes (sets the matrix density)")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/prepare_atlas.json"))
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=".") as tmpdir:
        tmp = Path(tmpdir)
        t0 = time.perf_counter()
        paths = simulate_datasets(args.cells, args.donors, args.genes, args.proteins, tmp, args.library)
        sim_s = time.perf_counter() - t0
        runs = []
        for r in range(args.repeats):
            argv = ["cmcvae", "prepare", *map(str, paths), "--out", str(tmp / "atlas.h5mu"), "--force",
                    "--protein-map", str(tmp / "map.csv"), "--min-genes", "50"]
            wall, peak_gb = run_measured(argv)
            runs.append({"wall_seconds": wall, "peak_rss_gb": peak_gb})
            print(f"run {r}: {wall:.1f} s, peak RSS {runs[-1]['peak_rss_gb']:.2f} GB", flush=True)
            report = json.loads((tmp / "atlas.report.json").read_text())
    result = {
        "benchmark": "cmcvae prepare, simulated 2-dataset atlas",
        "date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
        "cells": args.cells, "donors": args.donors, "rna_library_median": args.library, "genes": args.genes, "proteins": args.proteins,
        "simulate_seconds": sim_s, "runs": runs,
        "median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "max_peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
        "report": {k: report[k] for k in ("cells", "n_genes", "n_proteins", "n_donors", "hvg", "qc")},
    }
    print(json.dumps({k: v for k, v in result.items() if k != "report"}, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
