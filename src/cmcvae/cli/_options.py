"""The option types several commands share, each checked while the command line is parsed.

A number out of range or an ``--out`` that cannot be written is refused while the command line
is parsed, before any work, with a :class:`~cmcvae.CMCVAEInputError` naming the option, the value
and what is allowed (one paragraph, exit code 2); an unknown choice is click's usage error (exit
code 2), which lists the choices.

Table of contents
-----------------
- :func:`in_range` — a callback refusing a number outside ``[low, high]``.
- :func:`out_path` — a callback refusing an ``--out`` below a regular file, a folder where a
  file is wanted (or the reverse), or a folder this process may not write in.
- ``Seed``, ``OptSeed``, ``MaxEpochs``, ``Arch``, ``Regime``, ``Accelerator``, ``Precision`` —
  the shared ``Annotated`` option types.
- :func:`check_devices` — ``--devices``; :func:`check_sim_sizes` — the sizes of a simulation
  that depend on each other.
- :data:`MIN_RUN_CELLS` — the fewest cells ``cmcvae run`` simulates (train, validate, test).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from cmcvae._errors import CMCVAEInputError
from cmcvae.model import ACCELERATORS, ARCH_ALIASES, ARCHS, MAX_SEED, PRECISIONS

#: The simulator's matched-pair directions (``cmcvae.datasets.simulate(regime=…)``).
REGIMES = ("forward", "reversed", "mixed", "confounded")
#: ``cmcvae run`` splits its cells 80/10/10 into train / validation / test: below this many the
#: validation split has too few cells to stop early on, and the fit is not worth validating.
MIN_RUN_CELLS = 100
#: ``cmcvae run`` knocks down this many simulated genes in its screen.
RUN_PERTURBATIONS = 30


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _name(param: typer.CallbackParam) -> str:
    return max(param.opts, key=len) if param.opts else str(param.name)


def in_range(low: float, high: float | None = None, *, what: str = "a whole number",
             why: str = "", low_open: bool = False) -> Callable[..., Any]:
    """A typer callback: the value unchanged if in range (``None`` passes), else a refusal
    naming the option, the value and the range."""
    def check(param: typer.CallbackParam, value: Any) -> Any:
        if value is None:
            return value
        low_ok = value > low if low_open else value >= low
        if low_ok and (high is None or value <= high):
            return value
        bound = (f"{'>' if low_open else '≥'} {_num(low)}" if high is None
                 else f"from {_num(low)} to {_num(high)}")
        raise CMCVAEInputError(f"{_name(param)} {value} is out of range: use {what} {bound}{why}.")
    return check


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest parent that exists (``.`` for a relative path that does not)."""
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _out_problem(path: Path, kind: str) -> str | None:
    """Why ``path`` cannot be written as a ``kind`` (``"folder"`` or ``"file"``), or ``None``."""
    if path.exists():
        if kind == "folder" and not path.is_dir():
            return f"{path} is a file, not a folder; give a folder (new or existing)"
        if kind == "file" and path.is_dir():
            return f"{path} is a folder; give a file name, e.g. {path / 'out'}"
    base = _first_existing(path.parent if kind == "file" or not path.exists() else path)
    if not base.is_dir():
        return (f"{base} is a regular file, so nothing can be written below it; choose a path "
                "whose parent folders are folders")
    if not os.access(base, os.W_OK | os.X_OK):
        return (f"this process may not write in {base.resolve()} (permission denied); choose a "
                "folder you can write in")
    return None


def out_path(kind: str = "folder") -> Callable[..., Path | None]:
    """A typer callback refusing an ``--out`` (``kind`` ``"folder"`` or ``"file"``) that cannot be
    written, before any work is done."""
    def check(param: typer.CallbackParam, value: Path | None) -> Path | None:
        if value is None:
            return value
        problem = _out_problem(Path(value), kind)
        if problem is not None:
            raise CMCVAEInputError(f"{_name(param)} {value}: {problem}.")
        return value
    return check


_SEED_HELP = "Random seed (data split, initialisation, simulation): a whole number from 0 to 2³²−1."
Seed = Annotated[int, typer.Option("--seed", help=_SEED_HELP, callback=in_range(0, MAX_SEED))]
OptSeed = Annotated[int | None, typer.Option("--seed", help="Random seed (0 to 2³²−1).",
                                             callback=in_range(0, MAX_SEED))]
MaxEpochs = Annotated[int | None, typer.Option(
    "--max-epochs", help="Maximum training epochs (at least 1).",
    callback=in_range(1, why=" (an untrained model has no graph to read)"))]

_ARCH_NAMES = (*ARCHS, *ARCH_ALIASES)
Arch = Annotated[Literal[_ARCH_NAMES] | None, typer.Option(  # type: ignore[valid-type]
    "--arch", case_sensitive=False,
    help="Model architecture: latent | sem (overrides the config; 'poster' = latent).")]
Regime = Annotated[Literal[REGIMES], typer.Option(  # type: ignore[valid-type]
    "--regime", case_sensitive=False,
    help="Matched-pair direction: forward | reversed | mixed | confounded.")]
Accelerator = Annotated[Literal[ACCELERATORS] | None, typer.Option(  # type: ignore[valid-type]
    "--accelerator", case_sensitive=False,
    help="cpu | gpu | auto (Lightning; default cpu; auto picks a GPU when there is one).")]
Precision = Annotated[Literal[PRECISIONS] | None, typer.Option(  # type: ignore[valid-type]
    "--precision", case_sensitive=False,
    help=("32-true (default), or mixed precision bf16-mixed or 16-mixed (GPU); the acyclicity log-det, the "
          "guard, the SCM inverse and the NB likelihood stay float32/64."))]


def check_devices(value: str | None) -> str | None:
    """``--devices``: ``auto``, ``-1`` (all), a whole number ≥ 1 or device indices ``0,1``."""
    if value is None or value in ("auto", "-1") or (value.isdigit() and int(value) >= 1):
        return value
    if "," in value and all(part.strip().isdigit() for part in value.split(",") if part.strip()):
        return value
    raise CMCVAEInputError(f"--devices {value!r} is not a number of devices: use a whole number ≥ 1, "
                           "-1 (all), device indices such as 0,1, or auto.")


def check_sim_sizes(cells: int, genes: int, proteins: int, donors: int, perturbations: int) -> None:
    """The sizes of a simulation that depend on each other (each option's own range is checked
    while parsing): every protein is encoded by its own gene, every knocked-down gene is one of
    ``--genes``, and every donor has cells."""
    if proteins > genes - 2:
        raise CMCVAEInputError(
            f"--proteins {proteins} is too many for --genes {genes}: each protein is encoded by its own "
            f"gene, so at most --genes − 2 = {genes - 2} proteins; raise --genes or lower --proteins.")
    if perturbations > genes:
        raise CMCVAEInputError(
            f"--perturbations {perturbations} exceeds --genes {genes}: the screen knocks down distinct "
            "genes; lower --perturbations or raise --genes.")
    if donors > cells:
        raise CMCVAEInputError(
            f"--donors {donors} is more than --cells {cells}: every donor needs cells; lower --donors "
            "or raise --cells.")
