"""The Typer app, its consoles and the option types several commands share; the entry point."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer
from rich.console import Console

from cmcvae import CMCVAEInputError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="CMC-VAE: directed gene and protein networks from CITE-seq.")
#: progress and errors (stderr)
console = Console(stderr=True)
#: results (stdout)
out_console = Console()

Force = Annotated[bool, typer.Option("--force", help="Overwrite the files cmcvae writes in an existing output folder.")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed (data split, initialisation, simulation).")]


def main() -> None:
    """Entry point: run the app and turn input errors into a one-paragraph message."""
    # proteins may share names with genes (CD4 …): unique names are per modality by design
    warnings.filterwarnings("ignore", message="var_names are not unique")
    try:
        app()  # standalone mode: usage errors and --help exit through click as usual
    except CMCVAEInputError as err:
        console.print(f"[bold red]Error:[/] {err}", highlight=False)
        sys.exit(2)
    except FileNotFoundError as err:
        console.print(f"[bold red]Error:[/] file not found: {err.filename}. Check the path.", highlight=False)
        sys.exit(2)
