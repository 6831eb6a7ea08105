"""The table format of the bad-input tests (``tests/cli/test_bad_inputs.py``).

Each row is one command line a user might type, the file changes that make its input bad or
unusual, and what cmcvae must answer: the exit code and a pattern the one-paragraph message
contains. The runner checks the rest for every row: no traceback, and every file that existed
before the command is still there with the same content (nothing a user owns is deleted or
changed), unless the row names the files the command is meant to replace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """One row of the bad-input table.

    Attributes
    ----------
    id
        Short name of the case (the test id).
    args
        The command line after ``cmcvae``. ``{sim}`` is a copy of a small simulation folder
        (``train.h5mu``, ``perturb.h5mu``, ``priors/``, ``protein_map.csv``, ``truth/``), ``{run}``
        a copy of a run folder fitted on it (validated), ``{tmp}`` the case's own empty folder.
    message
        Regular expression searched (case-insensitive, whitespace collapsed) in stdout + stderr.
    setup
        Called with the case's root folder (holding ``sim/``, ``run/``, ``tmp/``) before the command,
        to write the bad input.
    code
        Expected exit code: 2 for a refusal, 0 for a valid-but-unusual input that must work.
    replaced
        Paths (relative to the root, ``{sim}``-style placeholders allowed) the command may rewrite.
    """

    id: str
    args: tuple[str, ...]
    message: str
    setup: Callable[[Path], None] | None = None
    code: int = 2
    replaced: tuple[str, ...] = field(default_factory=tuple)
