"""The run folder: which files it holds, which command writes each, how they are written and read.

This module is the one place the run-folder layout is defined (``docs/design.md`` §3): the files
``cmcvae fit`` writes (:data:`RUN_FILES`), the checkpoint folder of an interrupted fit
(:data:`CHECKPOINTS`), the marker file of a seeds ensemble (:data:`ENSEMBLE_FILE`) and the
command that produces each file (:data:`PRODUCERS`, used in every "not found" message).
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io._graphml import write_graphml

#: Files and folders ``cmcvae fit`` / ``validate`` / ``analyze`` / ``report`` write in a run folder.
RUN_FILES = ("model", "edges.csv", "latent_graph.csv", "matched_pairs.csv", "metrics.json",
             "split.csv", "priors", "run.json", "validation.json", "predictions.csv",
             "network.graphml", "analysis.json", "tf_target_edges.csv", "report.html", "figures")
#: Checkpoint folder of a Lightning fit inside a run folder (``--resume`` reads it).
CHECKPOINTS = "checkpoints"
#: Marker file of a seeds ensemble folder (one ``seed_<k>/`` run folder per seed beside it).
ENSEMBLE_FILE = "ensemble.json"


def prepare_out_dir(out: str | Path, force: bool, what: str = "run folder",
                    owned: tuple[str, ...] = RUN_FILES) -> Path:
    """Create ``out``; refuse to touch a non-empty folder unless ``force``.

    With ``force`` only the files this package writes (``owned``) are replaced: they are removed
    first, so results derived from an earlier fit (``analysis.json``, ``validation.json``, the
    report) cannot sit beside a new model. Other files in the folder are left alone.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CMCVAEInputError(f"{out} exists and is a file, not a folder; choose another --out.")
    if out.exists() and any(out.iterdir()) and not force:
        raise CMCVAEInputError(
            f"The {what} {out} already exists and is not empty. Choose another --out or pass "
            "--force to overwrite the files cmcvae writes there."
        )
    if out.exists() and force:
        for name in owned:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
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


def write_run(out: str | Path, *, edges: pd.DataFrame, latent_graph: pd.DataFrame,
              matched_pairs: pd.DataFrame, metrics: dict[str, Any],
              split: pd.DataFrame | None = None,
              priors: dict[str, dict[str, pd.DataFrame]] | None = None,
              run_info: dict[str, Any] | None = None) -> Path:
    """Write a fitted model's tables into the run folder ``out`` (design.md §3).

    The folder is expected to exist (:func:`prepare_out_dir`); the model's weights (``model/``)
    are written by the model itself. This layer receives plain tables, so it never calls back
    into the model.

    Parameters
    ----------
    out
        The run folder.
    edges
        Feature-level edges: written as ``edges.csv`` and, the same edges, ``network.graphml``.
    latent_graph
        ``source,target,weight`` over latent nodes (``latent_graph.csv``).
    matched_pairs
        ``protein,gene,rna_to_protein,protein_to_rna`` (``matched_pairs.csv``).
    metrics
        Training metrics (``metrics.json``; NaN written as null).
    split
        ``cell,split`` table of the train/validation/test split (``split.csv``).
    priors
        ``{prior: {part: network}}`` (``priors/<prior>_<part>.csv``, e.g. ``grn_train.csv``).
    run_info
        What the run was fitted from (``run.json``).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = Path(out)
    edges.to_csv(out / "edges.csv", index=False)
    write_graphml(edges, out / "network.graphml")
    latent_graph.to_csv(out / "latent_graph.csv", index=False)
    matched_pairs.to_csv(out / "matched_pairs.csv", index=False)
    write_json(out / "metrics.json", metrics)
    if split is not None:
        split.to_csv(out / "split.csv", index=False)
    if priors:
        (out / "priors").mkdir(exist_ok=True)
        for key, parts in priors.items():
            for part, df in parts.items():
                df.to_csv(out / "priors" / f"{key}_{part}.csv", index=False)
    write_json(out / "run.json", run_info or {})
    return out

#: The command that writes each file of a run (or ensemble) folder.
PRODUCERS: dict[str, str] = {
    "metrics.json": "cmcvae fit DATA.h5mu --out RUN",
    "run.json": "cmcvae fit DATA.h5mu --out RUN",
    "edges.csv": "cmcvae fit DATA.h5mu --out RUN",
    "latent_graph.csv": "cmcvae fit DATA.h5mu --out RUN",
    "matched_pairs.csv": "cmcvae fit DATA.h5mu --out RUN",
    "validation.json": "cmcvae validate RUN --perturb PERTURB.h5mu",
    "predictions.csv": "cmcvae validate RUN --perturb PERTURB.h5mu",
    "analysis.json": "cmcvae analyze RUN",
    "tf_target_edges.csv": "cmcvae analyze RUN",
    "recovery": "cmcvae analyze RUN --truth DATA/truth",
    "stability.csv": "cmcvae fit DATA.h5mu --out DIR --seeds 0-4",
}


def producer(name: str) -> str:
    """The command line that writes ``name`` (a run-folder file name or ``"recovery"``).

    Parameters
    ----------
    name
        File name inside a run folder, e.g. ``"validation.json"``.

    Returns
    -------
    str
        The command, e.g. ``"cmcvae validate RUN --perturb PERTURB.h5mu"``.
    """
    return PRODUCERS.get(name, "cmcvae fit DATA.h5mu --out RUN")


def missing_message(path: Path, name: str | None = None) -> str:
    """One-sentence message for a missing input file, naming the command that writes it.

    Parameters
    ----------
    path
        The missing file.
    name
        Key of :data:`PRODUCERS` (default: the file name of ``path``).

    Returns
    -------
    str
        E.g. ``"RUN/validation.json not found: run `cmcvae validate RUN --perturb …` first."``
    """
    return f"{path} not found: run `{producer(name or path.name)}` first."


def run_dir(run: str | Path) -> Path:
    """Check that ``run`` is an existing folder and return it as a path.

    Parameters
    ----------
    run
        A run folder written by ``cmcvae fit`` (or an ensemble folder).

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    CMCVAEInputError
        ``run`` does not exist or is not a folder.
    """
    path = Path(run)
    if not path.is_dir():
        raise CMCVAEInputError(
            f"{path} is not a run folder (it does not exist or is a file): run "
            f"`{producer('metrics.json')}` first and pass its --out folder."
        )
    return path


def read_json(run: str | Path, name: str, *, producer_key: str | None = None) -> dict[str, Any]:
    """Read ``RUN/name`` as JSON.

    Parameters
    ----------
    run
        Run folder.
    name
        File name, e.g. ``"metrics.json"``.
    producer_key
        Key of :data:`PRODUCERS` for the error message (default ``name``).

    Returns
    -------
    dict
        The parsed file.

    Raises
    ------
    CMCVAEInputError
        The folder or the file is missing, or the file is not valid JSON.
    """
    path = run_dir(run) / name
    if not path.is_file():
        raise CMCVAEInputError(missing_message(path, producer_key))
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise CMCVAEInputError(f"{path} is not valid JSON ({err}); rerun "
                               f"`{producer(producer_key or name)}`.") from err


def read_csv(run: str | Path, name: str) -> pd.DataFrame:
    """Read ``RUN/name`` as a CSV table.

    Parameters
    ----------
    run
        Run folder.
    name
        File name, e.g. ``"predictions.csv"``.

    Returns
    -------
    pandas.DataFrame
        The table.

    Raises
    ------
    CMCVAEInputError
        The folder or the file is missing.
    """
    path = run_dir(run) / name
    if not path.is_file():
        raise CMCVAEInputError(missing_message(path))
    return pd.read_csv(path)


def require_columns(df: pd.DataFrame, columns: list[str] | tuple[str, ...], what: str) -> None:
    """Raise :class:`CMCVAEInputError` if ``df`` lacks any of ``columns``.

    Parameters
    ----------
    df
        Table to check.
    columns
        Required column names.
    what
        Name of the table for the message.
    """
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CMCVAEInputError(f"{what} lacks column(s) {missing}; found {list(df.columns)}.")


def is_pathlike(obj: object) -> bool:
    """True for a ``str`` or :class:`pathlib.Path` (a folder to read), False for loaded data.

    Parameters
    ----------
    obj
        Argument given to a plotting function.

    Returns
    -------
    bool
        Whether ``obj`` names a folder.
    """
    return isinstance(obj, (str, Path))
