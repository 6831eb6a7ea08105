"""Which folder holds the run, which the ensemble, and tolerant readers of their files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import producer


def _seed_dirs(folder: Path) -> list[Path]:
    def order(p: Path) -> tuple[int, str]:
        m = re.fullmatch(r"seed_(\d+)", p.name)
        return (int(m.group(1)) if m else 1 << 30, p.name)

    return sorted((p for p in folder.glob("seed_*") if (p / "metrics.json").is_file()), key=order)


@dataclass
class RunContext:
    """The folders a report is built from.

    Attributes
    ----------
    folder
        The folder the user named (report and figures go here).
    run
        The run folder read for per-run sections (``folder`` itself, or an ensemble's first
        seed when ``folder`` is an ensemble without top-level run files).
    ensemble
        Folder holding ``stability.csv`` (``folder`` or its parent), or ``None``.
    """

    folder: Path
    run: Path
    ensemble: Path | None

    @classmethod
    def locate(cls, folder: str | Path) -> RunContext:
        """Find the run and ensemble folders behind ``folder``.

        Parameters
        ----------
        folder
            A run folder of ``cmcvae fit`` (possibly a seed of an ensemble) or an ensemble folder.

        Returns
        -------
        RunContext
            The folders.

        Raises
        ------
        CMCVAEInputError
            ``folder`` is not a run folder (no ``metrics.json``) nor an ensemble of runs.
        """
        folder = Path(folder)
        fit = producer("metrics.json")
        if not folder.is_dir():
            raise CMCVAEInputError(
                f"{folder} is not a run folder (it does not exist or is a file): run `{fit}` "
                "first and pass its --out folder."
            )
        ensemble = None
        for cand in (folder, folder.parent):
            if (cand / "stability.csv").is_file():
                ensemble = cand
                break
        if (folder / "metrics.json").is_file():
            return cls(folder, folder, ensemble)
        seeds = _seed_dirs(folder)
        if seeds:
            return cls(folder, seeds[0], folder if (folder / "stability.csv").is_file() else None)
        raise CMCVAEInputError(
            f"{folder} is not a run folder: it has no metrics.json. Run `{fit}` first and pass "
            "its --out folder to `cmcvae report`."
        )

    def label(self) -> str:
        """How the run is named in the report (notes which seed an ensemble shows).

        Returns
        -------
        str
            Folder description.
        """
        if self.run != self.folder:
            return f"{self.folder} (per-run sections show {self.run.name})"
        return str(self.folder)

    def read_json(self, name: str) -> dict[str, Any] | None:
        """Read ``RUN/name`` as JSON, or ``None`` when it is missing or unreadable.

        Parameters
        ----------
        name
            File name.

        Returns
        -------
        dict or None
            The content.
        """
        path = self.run / name
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError):
            return None
        return data if isinstance(data, dict) else None

    def read_csv(self, name: str) -> pd.DataFrame | None:
        """Read ``RUN/name`` as CSV, or ``None`` when it is missing or unreadable.

        Parameters
        ----------
        name
            File name.

        Returns
        -------
        pandas.DataFrame or None
            The table.
        """
        path = self.run / name
        if not path.is_file():
            return None
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError):
            return None

    def missing(self, name: str, key: str | None = None) -> str:
        """Message for a missing run file naming the command that writes it.

        Parameters
        ----------
        name
            File name.
        key
            Key of :data:`cmcvae.io._run_folder.PRODUCERS` (default ``name``).

        Returns
        -------
        str
            The message.
        """
        command = producer(key or name).replace("RUN", str(self.run))
        return f"{self.run / name} not found: run `{command}` first."
