"""Shared pieces of the benchmarks that run the CLI over simulator settings × seeds.

``effects_settings.py`` and ``screen_settings.py`` differ only in what one (setting, seed) runs;
the command runner, the reading of ``validation*.json``, the parallel grid, and the Markdown
tables (median [min–max] over seeds) are here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: the validation file of each readout
READOUTS = {"protein": "validation.json", "rna": "validation_rna.json"}
METRICS = ("auroc", "direction_accuracy")
SETTINGS = ["default", "saturating", "sparse", "heldout_a", "heldout_b", "heldout_c", "heldout_d",
            "heldout_e"]


def cli(*args: str, one_thread: bool = True) -> None:
    """Run ``cmcvae ARGS`` in a fresh process, on one thread unless told otherwise (two jobs
    share two cores)."""
    env = {**os.environ, "CMCVAE_NUM_THREADS": "1"} if one_thread else None
    proc = subprocess.run([sys.executable, "-m", "cmcvae", *args], capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"cmcvae {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def read_scores(run: Path, row: dict, extra: Callable[[dict], dict] | None = None) -> dict:
    """Add every method's metrics of both readouts (``"{readout}:{method}:{metric}"``) to ``row``."""
    for readout, name in READOUTS.items():
        v = json.loads((run / name).read_text())
        row[f"{readout}_estimator"] = v.get("estimator")
        row[f"{readout}_n_pairs"] = v.get("n_pairs")
        row[f"{readout}_n_significant"] = v.get("n_significant")
        for key, value in (extra(v) if extra else {}).items():
            row[f"{readout}_{key}"] = value
        for method in v.get("methods", []):
            for metric in METRICS:
                row[f"{readout}:{method}:{metric}"] = v[method].get(metric)
    return row


def parser(doc: str, out: str) -> argparse.ArgumentParser:
    """The options every settings benchmark takes."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--cells", type=int, default=8000)
    ap.add_argument("--genes", type=int, default=300)
    ap.add_argument("--proteins", type=int, default=30)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / out)
    return ap


def run_grid(one: Callable[..., dict], args: argparse.Namespace, progress: tuple[str, ...]) -> list[dict]:
    """``one(setting, seed, work, cells, genes, proteins)`` for every pair, ``args.jobs`` at a time;
    the JSON is rewritten after each row and the AUROCs of the ``progress`` methods printed."""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, s, seed, Path(tmp), args.cells, args.genes, args.proteins)
                   for s in args.settings for seed in args.seeds]
        for fut in futures:
            rows.append(fut.result())
            shown = {k: v for k, v in rows[-1].items()
                     if "auroc" in k and any(f":{m}:" in k for m in progress)}
            print(json.dumps(shown | {"setting": rows[-1]["setting"], "seed": rows[-1]["seed"]}),
                  file=sys.stderr, flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"rows": rows, "args": {k: str(v) for k, v in vars(args).items()}},
                                           indent=2))
    return rows


def median_range(values: list) -> str:
    vals = [x for x in values if x is not None]
    if not vals:
        return "–"
    return f"{statistics.median(vals):.3f} [{min(vals):.3f}–{max(vals):.3f}]"


def table(rows: list[dict], settings: list[str], readout: str, metric: str) -> str:
    """Markdown: one row per setting, one column per method, median [min–max] over seeds."""
    methods = list(dict.fromkeys(k.split(":")[1] for r in rows for k in r
                                 if k.startswith(f"{readout}:") and k.endswith(f":{metric}")))
    lines = ["| setting | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for setting in settings:
        sub = [r for r in rows if r["setting"] == setting]
        lines.append(f"| {setting} | "
                     + " | ".join(median_range([r.get(f"{readout}:{m}:{metric}") for r in sub]) for m in methods)
                     + " |")
    return "\n".join(lines)


def write_tables(rows: list[dict], args: argparse.Namespace, header: str, title: str) -> None:
    """Every readout × metric table under ``header``, into ``args.out`` with suffix ``.md``."""
    parts = [header]
    for readout in READOUTS:
        for metric in METRICS:
            parts.append(f"### {title} → {readout}: {metric}\n\n{table(rows, args.settings, readout, metric)}\n")
    args.out.with_suffix(".md").write_text("\n".join(parts))
    print("\n".join(parts))
