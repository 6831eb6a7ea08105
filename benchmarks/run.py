"""Reproduce the README's benchmark table: ``python benchmarks/run.py [--quick]``.

Runs :func:`cmcvae.bm.run_benchmark` on the public data in ``../shared/data`` (absent
families are skipped) and the simulator, writes ``benchmarks/results/benchmark{,_quick}.json``
and ``.md``, and (full mode) regenerates the README section between the
``<!-- cmcvae-benchmark:start/end -->`` markers. Equivalent to
``cmcvae benchmark --out benchmarks/results/benchmark --readme README.md --force``.
Needs the optional peers for the full table: ``pip install -e ".[bench]"`` (dagma, scvi-tools).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmcvae.bm import render_markdown, run_benchmark, update_readme, write_results

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the under-10-minute version")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=None, help="results folder")
    ap.add_argument("--no-readme", action="store_true", help="do not rewrite README.md")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "benchmarks" / "results" / ("benchmark_quick" if args.quick else "benchmark")
    record = run_benchmark(data_root=args.data_root, seeds=args.seeds, quick=args.quick,
                           progress=lambda m: print(m, file=sys.stderr, flush=True),
                           checkpoint=out.with_suffix(".partial.json"))
    js, md = write_results(record, out, force=True)
    print(render_markdown(record))
    print(f"wrote {js} and {md}", file=sys.stderr)
    if not args.quick and not args.no_readme:
        update_readme(ROOT / "README.md", render_markdown(record))
        print("updated README.md", file=sys.stderr)


if __name__ == "__main__":
    main()
