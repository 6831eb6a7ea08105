"""Writing a benchmark record: ``benchmark.json`` and ``benchmark.md`` in one folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._run import _json_default
from cmcvae.bm._table import render_markdown

__all__ = ["RESULT_FILES", "check_out_dir", "write_results"]

RESULT_FILES = ("benchmark.json", "benchmark.md")


def check_out_dir(out: str | Path, force: bool) -> Path:
    """Create ``out``; refuse to replace earlier results there unless ``force``."""
    out = Path(out)
    existing = [f for f in RESULT_FILES if (out / f).exists()]
    if existing and not force:
        raise CMCVAEInputError(
            f"{out} already holds benchmark results ({', '.join(existing)}); pass --force to "
            "replace them or choose another --out."
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_results(record: dict[str, Any], out: str | Path, force: bool = False) -> tuple[Path, Path]:
    """Write the record as JSON and its Markdown tables; returns both paths."""
    out = check_out_dir(out, force)
    js, mdp = out / RESULT_FILES[0], out / RESULT_FILES[1]
    js.write_text(json.dumps(record, indent=1, default=_json_default))
    mdp.write_text(render_markdown(record))
    return js, mdp
