"""``cmcvae benchmark``: the results table against baselines and peers (issue 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cmcvae.bm import check_out_dir, render_markdown, run_benchmark, update_readme, write_results
from cmcvae.cli._app import console, out_console
from cmcvae.cli._options import out_path
from cmcvae.tl import parse_seeds


def benchmark(
    out: Annotated[Path, typer.Option("--out", help="Folder for benchmark.json and benchmark.md.", callback=out_path("folder"))] = Path("cmcvae_benchmark"),
    data_root: Annotated[Path, typer.Option("--data-root", help="Folder with beeline_boolode/, sergio/, dream4/, krumsiek11_scanpy/, sachs2005/ (absent ones are skipped).")] = Path("../shared/data"),
    quick: Annotated[bool, typer.Option("--quick", help="Fewer datasets and smaller simulations (under 10 minutes on 2 CPU cores).")] = False,
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated seeds (3 or more for a spread).")] = "0,1,2",
    methods: Annotated[str | None, typer.Option("--methods", help="Comma-separated subset of methods.")] = None,
    datasets: Annotated[str | None, typer.Option("--datasets", help="Comma-separated dataset name prefixes, e.g. beeline,sachs,simulator/easy.")] = None,
    crossmodal: Annotated[bool, typer.Option("--crossmodal/--no-crossmodal", help="Run the simulator's cross-modal task.")] = True,
    readme: Annotated[Path | None, typer.Option("--readme", help="Also rewrite the marked benchmark section of this README.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace earlier results in --out.")] = False,
) -> None:
    """Benchmark CMC-VAE against baselines on data with a known answer; write JSON and Markdown."""
    check_out_dir(out, force)  # fail before hours of work, not after
    record = run_benchmark(data_root=data_root, seeds=parse_seeds(seeds), quick=quick,
                           methods=_split(methods), datasets=_split(datasets), crossmodal=crossmodal,
                           progress=lambda msg: console.print(msg),
                           checkpoint=out / "benchmark.partial.json")
    js, md = write_results(record, out, force=True)
    (out / "benchmark.partial.json").unlink(missing_ok=True)
    if readme is not None:
        update_readme(readme, render_markdown(record))
        out_console.print(f"Updated the benchmark section of [bold]{readme}[/]")
    out_console.print(f"Wrote [bold]{js}[/] and [bold]{md}[/] ({record['meta']['total_seconds'] / 60:.1f} min)")


def _split(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None
