"""The Typer app, its consoles and the entry point, which turns every error into one paragraph.

:func:`main` prints a :class:`~cmcvae.CMCVAEInputError` as it is (exit code 2), explains the
operating-system and parsing errors a bad path or file raises (exit code 2, see
:func:`explain`), and reports anything else as an internal error with its type and message
(exit code 1). The traceback is shown only with ``CMCVAE_DEBUG=1`` in the environment.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.markup import escape

from cmcvae import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.cli._help import CMCVAETyper
from cmcvae.cli._options import Seed  # noqa: F401  (the shared option types live in _options.py)

#: the conventions of every command's --help (flags, argument names, examples): ``_help.py``
app = CMCVAETyper(help="CMC-VAE: directed gene and protein networks from CITE-seq.")
#: progress and errors (stderr)
console = Console(stderr=True)
#: results (stdout)
out_console = Console()

Force = Annotated[bool, typer.Option("--force", help="Replace the files cmcvae wrote earlier in an existing output folder (those its .cmcvae-manifest.json lists); other files are never touched.")]



def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cmcvae {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", "-V", callback=_print_version, is_eager=True,
        help="Print the version of cmcvae and exit.")] = False) -> None:
    """CMC-VAE: directed gene and protein networks from CITE-seq."""


#: Set (to anything but 0 or empty) to see the traceback of an error instead of one paragraph.
DEBUG_ENV = "CMCVAE_DEBUG"


def _path(err: OSError) -> str:
    return str(err.filename) if err.filename is not None else "a file"


def _os_error(err: OSError) -> str:
    reason = err.strerror or str(err)
    return (f"could not read or write {_path(err)}: {reason}. Check the path, that the disk has "
            "room and that the file is the kind the option expects.")


#: exception type → what to tell the user, in the order they are tried (subclasses first)
_EXPLAINED: tuple[tuple[type[BaseException], Callable], ...] = (
    (FileNotFoundError, lambda e: f"file not found: {_path(e)}. Check the path."),
    (PermissionError, lambda e: (f"permission denied: {_path(e)}. Check that you may read it (or "
                                 "write in its folder), or choose another path.")),
    (NotADirectoryError, lambda e: (f"{_path(e)}: a part of this path is a regular file, not a "
                                    "folder. Choose a path whose parent folders are folders.")),
    (IsADirectoryError, lambda e: f"{_path(e)} is a folder where a file was expected; give a file."),
    (FileExistsError, lambda e: (f"{_path(e)} already exists (as a file where a folder is needed, "
                                 "or the reverse); choose another path.")),
    (json.JSONDecodeError, lambda e: (f"a JSON file could not be parsed (line {e.lineno}, column "
                                      f"{e.colno}: {e.msg}); it may be cut or edited by hand. "
                                      "Rewrite it with the command that produced it.")),
    (yaml.YAMLError, lambda e: f"a YAML file could not be parsed: {' '.join(str(e).split())}."),
    (UnicodeDecodeError, lambda e: (f"a file that should be text is not ({e.reason} at byte "
                                    f"{e.start}); check that the path names the right file.")),
    (MemoryError, lambda e: ("out of memory: the data or the model does not fit in this machine's "
                             "memory. Use fewer cells or features, a smaller batch_size, or "
                             "`cmcvae fit --backed`.")),
    (OSError, _os_error),
)


def explain(err: BaseException) -> tuple[str, int]:
    """One paragraph for ``err`` and the exit code: 2 for a bad input or path, 1 for a bug."""
    if isinstance(err, CMCVAEInputError):
        return str(err), 2
    for kind, describe in _EXPLAINED:
        if isinstance(err, kind):
            return describe(err), 2
    detail = " ".join(str(err).split()) or "(no message)"
    return (f"internal error in cmcvae: {type(err).__name__}: {detail}. This is a bug, not a "
            f"problem cmcvae found in your input; run the same command with {DEBUG_ENV}=1 to see "
            "the traceback, and report it with that traceback."), 1


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


def main() -> None:
    """Entry point: run the app; any error becomes one paragraph on stderr (never a traceback)."""
    # proteins may share names with genes (CD4 …): unique names are per modality by design
    warnings.filterwarnings("ignore", message="var_names are not unique")
    # mudata's notice about a future default of MuData.update (it changes nothing cmcvae reads)
    warnings.filterwarnings("ignore", message=r"From 0\.4 \.update\(\)", category=FutureWarning)
    try:
        app()  # standalone mode: usage errors and --help exit through click as usual
    except Exception as err:  # noqa: BLE001  (every error gets a message, none a traceback)
        if _debug() and not isinstance(err, CMCVAEInputError):
            raise
        message, code = explain(err)
        # soft wrap: the terminal folds the paragraph; rich would cut file paths mid-name
        console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, soft_wrap=True)
        sys.exit(code)
