"""Today's models and the simple baselines on the simulator's mechanism settings (held-out ones included).

    python benchmarks/heldout_settings.py [--settings heldout_a heldout_b] [--seeds 0 1 2] [--arch latent]

For each setting and seed, through the command line a user runs: ``cmcvae simulate --setting S``
(8,000 cells × 300 genes + 30 proteins, 4 donors, 30 knockdowns on unseen donors), ``cmcvae fit``
with the simulation's priors and protein map, ``cmcvae validate`` with the simulated true effects.
Zero-shot knockdown→protein AUROC and direction accuracy of the model next to correlation, ridge,
random, always-down and the true effects (``oracle``), all from the same ``validation.json``.
Writes JSON (``--out``) and prints a Markdown table with the median [min–max] over seeds.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from _settings import cli, median_range

METHODS = ("cmcvae", "correlation", "ridge", "random", "always_down", "oracle")


def one(setting: str, seed: int, arch: str, work: Path, cells: int, genes: int, proteins: int) -> dict:
    sim, run = work / f"{setting}_{seed}_sim", work / f"{setting}_{seed}_run"
    t0 = time.perf_counter()
    cli("simulate", "--out", str(sim), "--setting", setting, "--cells", str(cells), "--genes", str(genes),
        "--proteins", str(proteins), "--donors", "4", "--perturbations", "30", "--seed", str(seed), one_thread=False)
    cli("fit", str(sim / "train.h5mu"), "--out", str(run), "--batch-key", "donor", "--arch", arch,
        "--grn-prior", str(sim / "priors" / "grn.csv"), "--ppi-prior", str(sim / "priors" / "ppi.csv"),
        "--protein-map", str(sim / "protein_map.csv"), "--seed", str(seed), one_thread=False)
    cli("validate", str(run), "--perturb", str(sim / "perturb.h5mu"),
        "--truth", str(sim / "truth" / "knockdown_effects.csv"), one_thread=False)
    v = json.loads((run / "validation.json").read_text())
    row = {"setting": setting, "seed": seed, "arch": arch, "seconds": time.perf_counter() - t0,
           "n_pairs": v.get("n_pairs"), "n_significant": v.get("n_significant")}
    for m in METHODS:
        block = v.get(m) if isinstance(v.get(m), dict) else None
        row[f"{m}_auroc"] = v.get(m) if not isinstance(v.get(m), dict) else block.get("auroc")
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["heldout_a", "heldout_b"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--arch", default="latent")
    ap.add_argument("--cells", type=int, default=8000)
    ap.add_argument("--genes", type=int, default=300)
    ap.add_argument("--proteins", type=int, default=30)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "heldout_settings.json")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for setting in args.settings:
            for seed in args.seeds:
                rows.append(one(setting, seed, args.arch, Path(tmp), args.cells, args.genes, args.proteins))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps({"rows": rows, "args": {k: str(v) for k, v in vars(args).items()}}, indent=2))
    lines = ["| setting | " + " | ".join(METHODS) + " |", "|---|" + "---|" * len(METHODS)]
    for setting in args.settings:
        sub = [r for r in rows if r["setting"] == setting]
        lines.append(f"| {setting} | " + " | ".join(median_range([r[f'{m}_auroc'] for r in sub]) for m in METHODS) + " |")
    table = "\n".join(lines)
    args.out.with_suffix(".md").write_text(
        f"Zero-shot knockdown→protein AUROC, arch={args.arch}, seeds {args.seeds}, median [min–max]\n\n{table}\n")
    print(table)


if __name__ == "__main__":
    main()
