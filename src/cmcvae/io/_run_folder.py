"""The run folder: which files it holds, which command writes each, how they are written and read.

This module is the one place the run-folder layout is defined (``docs/design.md`` §3): the files
``cmcvae fit`` writes (:data:`RUN_FILES`, every file by name in :func:`run_folder_files`), the
checkpoint folder of an interrupted fit (:data:`CHECKPOINTS`), the marker file of a seeds
ensemble (:data:`ENSEMBLE_FILE`, :data:`ENSEMBLE_FILES`), the report's figures (:data:`FIGURES`)
and the command that produces each file (:data:`PRODUCERS`, used in every "not found" message).
What a command wrote in a folder is recorded in the folder's manifest (``_manifest.py``), and
``--force`` replaces nothing else.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io._graphml import write_graphml
from cmcvae.io._manifest import Inputs, prepare_output, record_files

#: Files and folders ``cmcvae fit`` / ``validate`` / ``analyze`` / ``report`` write in a run folder.
RUN_FILES = ("model", "edges.csv", "latent_graph.csv", "matched_pairs.csv", "metrics.json",
             "split.csv", "priors", "run.json", "interventions.csv", "validation.json", "predictions.csv",
             "validation_rna.json", "predictions_rna.csv", "network.graphml", "analysis.json", "tf_target_edges.csv", "report.html", "figures")
#: Checkpoint folder of a Lightning fit inside a run folder (``--resume`` reads it).
CHECKPOINTS = "checkpoints"
#: Files of :data:`CHECKPOINTS` while a fit trains (removed once the run folder is written).
CHECKPOINT_FILES = ("fit_args.json", "last.ckpt")
#: Files of ``model/`` (:meth:`cmcvae.CMCVAE.save`).
MODEL_FILES = ("model.pt", "config.json")
#: Files of ``priors/``: the prior edges used in training and held out from it.
PRIOR_FILES = tuple(f"{key}_{part}.csv" for key in ("grn", "ppi") for part in ("train", "holdout"))
#: Figures ``cmcvae report`` writes in ``figures/``, each as ``<name>.png`` and ``<name>.svg``.
FIGURES = ("training_curves", "roc", "perturbation_auroc", "central_dogma_direct",
           "tf_target_holdout_direct", "tf_target_train_direct", "tf_target_external_direct",
           "recovery_direct", "recovery_total", "edge_stability")
#: Marker file of a seeds ensemble folder (one ``seed_<k>/`` run folder per seed beside it).
ENSEMBLE_FILE = "ensemble.json"
#: Files ``cmcvae fit --seeds`` / ``validate`` / ``analyze`` / ``report`` write in an ensemble folder.
ENSEMBLE_FILES = (ENSEMBLE_FILE, "stability.csv", "matched_pairs.csv", "network.graphml",
                  "validation.json", "validation_rna.json", "analysis.json", "report.html",
                  "figures")
#: The commands writing into a run folder, as its manifest records them.
RUN_COMMANDS = ("fit", "validate", "analyze", "report")
#: The commands writing into an ensemble folder, as its manifest records them.
ENSEMBLE_COMMANDS = ("fit --seeds", "validate", "analyze", "report")


def report_files() -> tuple[str, ...]:
    """``report.html`` and every figure file ``cmcvae report`` may write (relative paths)."""
    return ("report.html", *(f"figures/{name}.{ext}" for name in FIGURES for ext in ("png", "svg")))


def run_folder_files(ensemble: bool = False) -> tuple[str, ...]:
    """Every file a run folder (or, with ``ensemble``, an ensemble folder) may hold, by name.

    Parameters
    ----------
    ensemble
        The files of an ensemble folder itself (its ``seed_<k>/`` run folders excluded).

    Returns
    -------
    tuple of str
        Paths relative to the folder, e.g. ``"model/model.pt"``, ``"figures/roc.png"``.
    """
    if ensemble:
        flat = [name for name in ENSEMBLE_FILES if name not in ("report.html", "figures")]
        return (*flat, *report_files())
    nested = {"model": MODEL_FILES, "priors": PRIOR_FILES}
    flat = [name for name in RUN_FILES if name not in (*nested, "report.html", "figures")]
    return (*flat, *(f"{folder}/{name}" for folder, names in nested.items() for name in names),
            *(f"{CHECKPOINTS}/{name}" for name in CHECKPOINT_FILES), *report_files())


def prepare_out_dir(out: str | Path, force: bool, what: str = "run folder",
                    owned: tuple[str, ...] = (*RUN_FILES, CHECKPOINTS), *,
                    writes: tuple[str, ...] | None = None, command: str = "fit",
                    replaces: tuple[str, ...] = RUN_COMMANDS, inputs: Inputs | None = None,
                    check_only: bool = False) -> Path:
    """Create the run folder ``out``; refuse a non-empty one unless ``force``.

    With ``force`` only the files cmcvae recorded writing there (its manifest) under ``owned``
    are replaced: they are removed first, so results derived from an earlier fit
    (``analysis.json``, ``validation.json``, the report) cannot sit beside a new model. A file
    of the run folder's names that cmcvae did not record, or an input of the command that
    would be removed, is a refusal; other files in the folder are left alone
    (:func:`cmcvae.io.prepare_output`).

    Parameters
    ----------
    out
        The folder.
    force
        Replace the files cmcvae wrote there.
    what
        Name of the folder in messages.
    owned
        Names whose recorded files are replaced (default: the run folder's).
    writes
        Every file the command may write (default: :func:`run_folder_files`).
    command, replaces
        The command (as the manifest records it) and the commands whose files it replaces.
    inputs
        The command's inputs, ``{label: path}``: refused when ``--force`` would remove one.
    check_only
        Only check; change nothing.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    return prepare_output(out, force=force, owned=owned,
                          writes=run_folder_files() if writes is None else writes,
                          command=command, replaces=replaces, inputs=inputs, what=what,
                          check_only=check_only)


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
              run_info: dict[str, Any] | None = None,
              interventions: pd.DataFrame | None = None) -> Path:
    """Write a fitted model's tables into the run folder ``out`` (design.md §3).

    The folder is expected to exist (:func:`prepare_out_dir`); the model's weights (``model/``)
    are written by the model itself. Every file is recorded in the folder's manifest first. This layer receives plain tables, so it never calls back
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
    interventions
        ``perturbation,n_cells,in_model`` of a fit on a perturbation screen
        (``interventions.csv``; not written without).

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    out = Path(out)
    files = ["edges.csv", "network.graphml", "latent_graph.csv", "matched_pairs.csv",
             "metrics.json", "run.json", *(["split.csv"] if split is not None else []),
             *(["interventions.csv"] if interventions is not None else []),
             *(f"priors/{key}_{part}.csv" for key, parts in (priors or {}).items() for part in parts)]
    record_files(out, files, "fit")  # recorded before written: a killed fit leaves them listed
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
    if interventions is not None:
        interventions.to_csv(out / "interventions.csv", index=False)
    write_json(out / "run.json", run_info or {})
    return out

#: The command that writes each file of a run (or ensemble) folder.
PRODUCERS: dict[str, str] = {
    "metrics.json": "cmcvae fit DATA.h5mu --out RUN",
    "run.json": "cmcvae fit DATA.h5mu --out RUN",
    "interventions.csv": "cmcvae fit SCREEN.h5mu --out RUN --perturbation-key perturbation",
    "edges.csv": "cmcvae fit DATA.h5mu --out RUN",
    "latent_graph.csv": "cmcvae fit DATA.h5mu --out RUN",
    "matched_pairs.csv": "cmcvae fit DATA.h5mu --out RUN",
    "validation.json": "cmcvae validate RUN --perturb PERTURB.h5mu",
    "predictions.csv": "cmcvae validate RUN --perturb PERTURB.h5mu",
    "validation_rna.json": "cmcvae validate RUN --perturb PERTURB.h5mu --readout rna",
    "predictions_rna.csv": "cmcvae validate RUN --perturb PERTURB.h5mu --readout rna",
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
