"""Benchmark of `cmcvae run` (issue: foundation): wall time, peak memory and results per seed.

Runs the CLI in a fresh subprocess per seed (so peak RSS is that run's own), then prints a
table with the model next to the baselines and writes JSON.

    python benchmarks/run_default.py --seeds 0 1 2 --out benchmarks/results/run_default.json
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

METHODS = ("cmcvae", "correlation", "ridge", "random", "always_down", "oracle")


def one_run(seed: int, workdir: Path, extra: list[str]) -> dict:
    out = workdir / f"seed{seed}"
    argv = ["cmcvae", "run", "--out", str(out), "--seed", str(seed), "--force", *extra]
    wall, peak_gb = run_measured(argv)
    summary = json.loads((out / "summary.json").read_text())
    metrics = json.loads((out / "run" / "metrics.json").read_text())
    return {
        "seed": seed,
        "wall_seconds": wall,
        "peak_rss_gb": peak_gb,
        "summary": summary,
        "epochs": metrics.get("epochs"),
        "is_dag": metrics.get("is_dag"),
        "h_final": metrics.get("h_final"),
    }


def render_markdown(result: dict) -> str:
    """Markdown table of a result JSON (embedded in the README)."""
    runs = result["runs"]
    lines = [
        f"`cmcvae run` on the default simulation, regime `{runs[0]['summary'].get('regime')}` "
        "(20,000 cells × 500 genes + 40 proteins, 8 donors; "
        f"30 knockdowns on 2 unseen donors), {result['machine']}, Python {result['python']}, "
        f"{result['date']}, seeds {', '.join(map(str, result['seeds']))}. "
        "Zero-shot AUROC / gene-level direction accuracy; `always_down` = every knockdown lowers every protein.",
        "",
        "| seed | wall s | peak RSS GB | matched pairs RNA→protein | " + " | ".join(METHODS) + " |",
        "|---" * (4 + len(METHODS)) + "|",
    ]
    for r in runs:
        zs = r["summary"]["zero_shot"]
        cells = [f"{zs[m]['auroc']:.3f} / {zs[m]['direction_accuracy']:.2f}" if m in zs else "–" for m in METHODS]
        lines.append(f"| {r['seed']} | {r['wall_seconds']:.0f} | {r['peak_rss_gb']:.2f} | "
                     f"{r['summary']['matched_pair_direction_accuracy']['direct']:.2f} | " + " | ".join(cells) + " |")
    med = result["median"]
    cells = [f"{med.get('auroc_' + m, float('nan')):.3f} / {med.get('direction_' + m, float('nan')):.2f}" for m in METHODS]
    lines.append(f"| **median** | {med['wall_seconds']:.0f} | {med['peak_rss_gb']:.2f} (max) | "
                 f"{med['matched_pair_direction_direct']:.2f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--render", action="store_true", help="only re-render the Markdown from --out")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/run_default.json"))
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra args for cmcvae run")
    args = parser.parse_args()
    if args.render:
        args.out.with_suffix(".md").write_text(render_markdown(json.loads(args.out.read_text())))
        return
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_run(s, Path(tmp), args.extra) for s in args.seeds]
    rows = []
    header = f"{'seed':>4} {'wall s':>7} {'RSS GB':>7} {'epochs':>6} {'DAG':>4} {'pair dir':>8} " + " ".join(
        f"{m[:11]:>11}" for m in METHODS)
    print("zero-shot AUROC / gene-level direction accuracy per method")
    print(header)
    for r in runs:
        s = r["summary"]
        zs = s["zero_shot"]
        cells = " ".join(
            f"{zs[m]['auroc']:.3f}/{zs[m]['direction_accuracy']:.2f}" if m in zs and zs[m]["auroc"] is not None
            else f"{'–':>11}" for m in METHODS)
        print(f"{r['seed']:>4} {r['wall_seconds']:7.1f} {r['peak_rss_gb']:7.2f} {r['epochs']:>6} "
              f"{str(r['is_dag'])[0]:>4} {s['matched_pair_direction_accuracy']['direct']:8.2f} {cells}")
        rows.append(r)
    med = {
        "wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
        "peak_rss_gb": max(r["peak_rss_gb"] for r in runs),
        "matched_pair_direction_direct": statistics.median(
            r["summary"]["matched_pair_direction_accuracy"]["direct"] for r in runs),
    }
    for m in METHODS:
        vals = [r["summary"]["zero_shot"].get(m, {}).get("auroc") for r in runs]
        vals = [v for v in vals if v is not None]
        dirs = [r["summary"]["zero_shot"].get(m, {}).get("direction_accuracy") for r in runs]
        dirs = [v for v in dirs if v is not None]
        if vals:
            med[f"auroc_{m}"] = statistics.median(vals)
        if dirs:
            med[f"direction_{m}"] = statistics.median(dirs)
    print("median:", json.dumps({k: round(v, 3) for k, v in med.items()}))
    result = {
        "benchmark": "cmcvae run (default simulation)",
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "seeds": args.seeds,
        "median": med,
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    args.out.with_suffix(".md").write_text(render_markdown(result))
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
