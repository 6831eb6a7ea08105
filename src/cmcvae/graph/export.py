"""Writing a fitted model's run folder (DESIGN §3 contract)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import CMCVAEInputError

RUN_FILES = ("model", "edges.csv", "latent_graph.csv", "matched_pairs.csv", "metrics.json",
             "split.csv", "priors", "run.json", "validation.json", "predictions.csv")


def prepare_out_dir(out: str | Path, force: bool, what: str = "run folder",
                    owned: tuple[str, ...] = RUN_FILES) -> Path:
    """Create ``out``; refuse to touch a non-empty folder unless ``force``.

    With ``force`` only the files this package writes (``owned``) are replaced.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CMCVAEInputError(f"{out} exists and is a file, not a folder; choose another --out.")
    if out.exists() and any(out.iterdir()) and not force:
        raise CMCVAEInputError(
            f"The {what} {out} already exists and is not empty. Choose another --out or pass "
            "--force to overwrite the files cmcvae writes there."
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def clean_json(obj: Any) -> Any:
    """Recursively turn numpy scalars into Python and NaN/inf into ``None``."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (NaN → null)."""
    path.write_text(json.dumps(clean_json(obj), indent=2))


def write_run(model, out: str | Path, force: bool = False, run_info: dict | None = None) -> Path:
    """Write ``model/``, ``edges.csv``, ``latent_graph.csv``, ``matched_pairs.csv``,
    ``metrics.json``, ``split.csv``, the training/held-out priors and ``run.json``.
    """
    out = prepare_out_dir(out, force)
    model.save(out / "model", overwrite=True)
    model.get_edges().to_csv(out / "edges.csv", index=False)
    model.get_latent_graph().to_csv(out / "latent_graph.csv", index=False)
    model.get_matched_pairs().to_csv(out / "matched_pairs.csv", index=False)
    write_json(out / "metrics.json", model.metrics)
    if hasattr(model, "split"):
        pd.DataFrame({"cell": model.cell_names, "split": model.split}).to_csv(out / "split.csv", index=False)
    if model.priors:
        (out / "priors").mkdir(exist_ok=True)
        for key, parts in model.priors.items():
            for part, df in parts.items():
                df.to_csv(out / "priors" / f"{key}_{part}.csv", index=False)
    write_json(out / "run.json", run_info or {})
    return out
