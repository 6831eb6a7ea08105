"""Central-dogma and TF→target asymmetry on real CITE-seq data in ../shared/data (issue: evidence).

For each dataset: ``cmcvae prepare`` (with CollecTRI, OmniPath), then per seed ``cmcvae fit``
and ``cmcvae analyze``. Prints and writes the per-seed results and the median, whatever their
sign. Datasets that are absent are skipped.

    python benchmarks/real_data.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
COLLECTRI = DATA / "collectri_dorothea" / "collectri_human.csv"
OMNIPATH = DATA / "omnipath_signaling" / "omnipath_signed_directed_sif.tsv"
DATASETS = {
    "pbmc10k": (DATA / "citeseq_10x_pbmc10k_totalvi_repro" / "pbmc10k_4000hvg_14adt_paired.h5ad", []),
    "eccite": (DATA / "citeseq_eccite_mimitou2019_citefuse" / "eccite_pbmc_control_500cells.h5ad", []),
}


def _run(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def one_dataset(name: str, path: Path, seeds: list[int], work: Path, extra: list[str]) -> dict:
    atlas = work / f"{name}.h5mu"
    _run(["cmcvae", "prepare", str(path), "--out", str(atlas), "--batch-key", "none",
          "--grn-prior", str(COLLECTRI), "--ppi-prior", str(OMNIPATH), "--force"])
    report = json.loads((work / f"{name}.report.json").read_text())
    runs = []
    for s in seeds:
        run = work / f"{name}_run{s}"
        cmd = ["cmcvae", "fit", str(atlas), "--out", str(run), "--grn-prior", str(work / f"{name}.grn.csv"),
               "--seed", str(s), "--force", *extra]
        if (work / f"{name}.ppi.csv").exists():
            cmd += ["--ppi-prior", str(work / f"{name}.ppi.csv")]
        fit_s = _run(cmd)
        _run(["cmcvae", "analyze", str(run), "--seed", str(s)])
        analysis = json.loads((run / "analysis.json").read_text())
        metrics = json.loads((run / "metrics.json").read_text())
        runs.append({"seed": s, "fit_seconds": fit_s, "epochs": metrics["epochs"],
                     "n_latent_edges": metrics["n_latent_edges"], "analysis": analysis})
        cd = analysis["central_dogma"]["direct"]
        print(f"{name} seed {s}: {cd.get('n_pairs')} pairs, RNA→protein stronger "
              f"{cd.get('fraction_forward', float('nan')):.2f} (random pairs "
              f"{_med([cd.get('null_fraction_forward')]):.2f}), Wilcoxon p "
              f"{cd.get('wilcoxon_p', float('nan')):.2g}, p vs random {cd.get('p_vs_null')}, call "
              f"{cd.get('call')}; fit {fit_s:.0f} s", flush=True)
    return {"dataset": name, "file": str(path), "cells": report["cells"], "n_genes": report["n_genes"],
            "n_proteins": report["n_proteins"], "pairs": report["protein_map"]["pairs"], "runs": runs}


def _med(xs) -> float:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def render_markdown(result: dict) -> str:
    lines = [f"{result['machine']}, Python {result['python']}, {result['date']}, seeds "
             f"{', '.join(map(str, result['seeds']))}; `cmcvae prepare` (CollecTRI, OmniPath) → "
             "`cmcvae fit` (defaults) → `cmcvae analyze`. Direct effects; median over seeds, calls "
             "counted per seed.", "",
             "| dataset | cells × genes + proteins | matched pairs | RNA→protein stronger | random "
             "pairs | Wilcoxon p | p vs random | calls (RNA→protein / protein→RNA / none) | "
             "TF→target held-out: forward (random) | sign agreement (null) | TF→target calls |",
             "|---" * 10 + "|"]
    for d in result["datasets"]:
        cds = [r["analysis"]["central_dogma"]["direct"] for r in d["runs"]]
        tfs = [r["analysis"].get("tf_target", {}).get("holdout", {}).get("direct", {}) for r in d["runs"]]
        calls = [c.get("call", "none") for c in cds]
        tcalls = [t.get("call", "none") for t in tfs]
        lines.append(
            f"| {d['dataset']} | {d['cells']:,} × {d['n_genes']:,} + {d['n_proteins']} | {cds[0].get('n_pairs')} | "
            f"{_med([c.get('fraction_forward') for c in cds]):.2f} | "
            f"{_med([c.get('null_fraction_forward') for c in cds]):.2f} | "
            f"{_med([c.get('wilcoxon_p') for c in cds]):.2g} | {_med([c.get('p_vs_null') for c in cds]):.2g} | "
            + " / ".join(str(calls.count(k)) for k in ("rna_to_protein", "protein_to_rna", "none"))
            + f" | {_med([t.get('fraction_forward') for t in tfs]):.2f} ({_med([t.get('null_fraction_forward') for t in tfs]):.2f}) | "
            f"{_med([t.get('sign_agreement') for t in tfs]):.2f} ({_med([t.get('null_sign_agreement') for t in tfs]):.2f}) | "
            + " / ".join(str(tcalls.count(k)) for k in ("tf_to_target", "target_to_tf", "none")) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS))
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/real_data.json"))
    p.add_argument("--render", action="store_true")
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra args for cmcvae fit")
    args = p.parse_args()
    if args.render:
        args.out.with_suffix(".md").write_text(render_markdown(json.loads(args.out.read_text())))
        return
    if not COLLECTRI.exists():
        raise SystemExit(f"{COLLECTRI} not found: the shared data are absent.")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            path, _ = DATASETS[name]
            if not path.exists():
                print(f"skip {name}: {path} absent")
                continue
            out.append(one_dataset(name, path, args.seeds, Path(tmp), args.extra))
    result = {"benchmark": "real-data asymmetry", "date": time.strftime("%Y-%m-%d"),
              "python": platform.python_version(),
              "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
              "seeds": args.seeds, "datasets": out}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    md = render_markdown(result)
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
