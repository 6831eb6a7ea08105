"""Reading a run folder's files for the figures, with errors that name the producing command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._errors import CMCVAEInputError

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
