"""Knockdown-effect estimators and the simple baselines across the simulator's mechanism settings.

    python benchmarks/effects_settings.py [--settings default saturating sparse heldout_a heldout_b]
                                          [--seeds 0 1 2] [--jobs 2]

For each setting and seed, through the command line a user runs: ``cmcvae simulate --setting S``
(8,000 cells × 300 genes + 30 proteins, 4 donors, 30 knockdowns on unseen donors), ``cmcvae fit``
with the simulation's priors and protein map, ``cmcvae validate --readout both`` with the simulated
true effects. Zero-shot knockdown→protein and knockdown→gene AUROC and direction accuracy of
every estimator of :mod:`cmcvae.effects` (``cmcvae`` = the default estimator) next to
correlation, ridge, random, always-down and the true effects (``oracle``), all from the same
``validation.json`` / ``validation_rna.json``. The held-out settings (``heldout_a``,
``heldout_b``) were fixed before any tuning and are reported separately: nothing was chosen on them.

Writes JSON (``--out``) and a Markdown table (median [min–max] over seeds) beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

READOUTS = {"protein": "validation.json", "rna": "validation_rna.json"}
METRICS = ("auroc", "direction_accuracy")


def _cli(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "cmcvae", *args], capture_output=True, text=True,
                          env={**os.environ, "CMCVAE_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"cmcvae {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def one(setting: str, seed: int, work: Path, cells: int, genes: int, proteins: int) -> dict:
    sim, run = work / f"{setting}_{seed}_sim", work / f"{setting}_{seed}_run"
    t0 = time.perf_counter()
    _cli("simulate", "--out", str(sim), "--setting", setting, "--cells", str(cells), "--genes", str(genes),
         "--proteins", str(proteins), "--donors", "4", "--perturbations", "30", "--seed", str(seed))
    _cli("fit", str(sim / "train.h5mu"), "--out", str(run), "--batch-key", "donor",
         "--grn-prior", str(sim / "priors" / "grn.csv"), "--ppi-prior", str(sim / "priors" / "ppi.csv"),
         "--protein-map", str(sim / "protein_map.csv"), "--seed", str(seed))
    t_fit = time.perf_counter()
    _cli("validate", str(run), "--perturb", str(sim / "perturb.h5mu"), "--readout", "both",
         "--truth", str(sim / "truth" / "knockdown_effects.csv"))
    row = {"setting": setting, "seed": seed, "seconds_fit": t_fit - t0,
           "seconds_validate": time.perf_counter() - t_fit}
    for readout, name in READOUTS.items():
        v = json.loads((run / name).read_text())
        row[f"{readout}_estimator"] = v.get("estimator")
        row[f"{readout}_n_pairs"] = v.get("n_pairs")
        row[f"{readout}_n_significant"] = v.get("n_significant")
        for method in v.get("methods", []):
            for metric in METRICS:
                row[f"{readout}:{method}:{metric}"] = v[method].get(metric)
    return row


def _fmt(values: list) -> str:
    vals = [x for x in values if x is not None]
    if not vals:
        return "–"
    return f"{statistics.median(vals):.3f} [{min(vals):.3f}–{max(vals):.3f}]"


def table(rows: list[dict], settings: list[str], readout: str, metric: str) -> str:
    methods = list(dict.fromkeys(k.split(":")[1] for r in rows for k in r
                                 if k.startswith(f"{readout}:") and k.endswith(f":{metric}")))
    lines = ["| setting | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for setting in settings:
        sub = [r for r in rows if r["setting"] == setting]
        lines.append(f"| {setting} | "
                     + " | ".join(_fmt([r.get(f"{readout}:{m}:{metric}") for r in sub]) for m in methods) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["default", "saturating", "sparse", "heldout_a", "heldout_b", "heldout_c"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--cells", type=int, default=8000)
    ap.add_argument("--genes", type=int, default=300)
    ap.add_argument("--proteins", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "effects_settings.json")
    args = ap.parse_args()
    jobs = [(s, seed) for s in args.settings for seed in args.seeds]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, s, seed, Path(tmp), args.cells, args.genes, args.proteins) for s, seed in jobs]
        for fut in futures:
            rows.append(fut.result())
            print(json.dumps({k: v for k, v in rows[-1].items() if "auroc" in k and ":cmcvae:" in k}
                             | {"setting": rows[-1]["setting"], "seed": rows[-1]["seed"]}), file=sys.stderr, flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"rows": rows, "args": {k: str(v) for k, v in vars(args).items()}}, indent=2))
    parts = [f"Seeds {args.seeds}; median [min–max]. `cmcvae` = the default estimator "
             f"({rows[0].get('protein_estimator')}). Held-out settings: heldout_a, heldout_b (never tuned on).\n"]
    for readout in READOUTS:
        for metric in METRICS:
            parts.append(f"### knockdown → {readout}: {metric}\n\n{table(rows, args.settings, readout, metric)}\n")
    args.out.with_suffix(".md").write_text("\n".join(parts))
    print("\n".join(parts))


if __name__ == "__main__":
    main()
