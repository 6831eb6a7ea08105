"""The help conventions every command follows, in one place: :class:`CMCVAETyper` applies them.

typer 0.29 renders the type of every option in ``--help``, a boolean flag included
(``--force <bool>``), and writes a required argument as ``{run}`` in the usage line. The command
classes here keep click's conventions instead, for every command and group alike:

- a flag is a flag: no type after it (``--force``, ``--crossmodal / --no-crossmodal``);
- an argument is named in capitals, as the docstrings name it (``RUN``, ``DATA``): ``Usage:
  cmcvae validate [OPTIONS] RUN``, ``[DATA]`` when it is optional, ``INPUTS...`` for several;
- defaults are shown (``show_default``), required options marked ``[required]`` (typer's own);
- a docstring's hard line breaks are folded, so ``--help`` wraps to the terminal's width;
- ``--help`` ends with an ``Examples`` section: :data:`EXAMPLES`, keyed by the command's path.

Table of contents
-----------------
- :data:`EXAMPLES` — one to three command lines per command and group, the root's under ``""``.
- :func:`command_path` — ``"priors collectri"`` for a context; :func:`examples_epilog`.
- :class:`CMCVAECommand`, :class:`CMCVAEGroup` — the command and group classes.
- :class:`CMCVAETyper` — a :class:`typer.Typer` whose commands and groups use them.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

#: ``--help``'s examples, by command path (``""`` is ``cmcvae`` itself); short enough for 80 columns.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("cmcvae run --out demo --cells 2000 --genes 100",
         "cmcvae fit data.h5mu --out run --grn-prior collectri.csv",
         "cmcvae predict run --knockdown STAT1 --top 10"),
    "report": ("cmcvae report run",
               "cmcvae report ensemble --out ensemble.html --force"),
    "benchmark": ("cmcvae benchmark --quick --out bench",
                  "cmcvae benchmark --datasets beeline,sachs --seeds 0,1,2"),
    "simulate": ("cmcvae simulate --out sim",
                 "cmcvae simulate --out sim --cells 2000 --genes 100 --regime mixed"),
    "prepare": ("cmcvae prepare a.h5mu b.h5mu --out atlas.h5mu",
                "cmcvae prepare pbmc.h5 --out atlas.h5mu --grn-prior collectri.csv"),
    "fit": ("cmcvae fit data.h5mu --out run --grn-prior collectri.csv",
            "cmcvae fit data.h5mu --out ensemble --seeds 0-4 --protein-map map.csv",
            "cmcvae fit --resume run"),
    "validate": ("cmcvae validate run --perturb screen.h5mu",
                 "cmcvae validate run --perturb sim/perturb.h5mu --readout both",
                 "cmcvae validate run --perturb rna.h5ad --perturb-protein prot.h5ad"),
    "predict": ("cmcvae predict run --knockdown STAT1 --top 10",
                "cmcvae predict run --readout CD4 --sort z",
                "cmcvae predict run --knockdown STAT1,IRF1 --out effects.csv"),
    "analyze": ("cmcvae analyze run",
                "cmcvae analyze run --truth sim/truth",
                "cmcvae analyze run --grn collectri_full.csv"),
    "run": ("cmcvae run",
            "cmcvae run --out demo --cells 2000 --genes 100 --max-epochs 5"),
    "priors": ("cmcvae priors collectri --out collectri.csv --genes data.h5mu",
               "cmcvae priors omnipath --out ppi.csv --protein-map map.csv"),
    "priors collectri": ("cmcvae priors collectri --out collectri.csv",
                         "cmcvae priors collectri --out grn.csv --genes data.h5mu"),
    "priors omnipath": ("cmcvae priors omnipath --out ppi.csv",
                        "cmcvae priors omnipath --out ppi.csv --protein-map map.csv"),
    "data": ("cmcvae data list",
             "cmcvae data fetch pbmc10k_protein_v3"),
    "data list": ("cmcvae data list",),
    "data info": ("cmcvae data info pbmc10k_protein_v3",),
    "data fetch": ("cmcvae data fetch pbmc10k_protein_v3",
                   "cmcvae data fetch pbmc10k_protein_v3 --dest data/pbmc10k"),
}


def command_path(ctx: typer.Context) -> str:
    """The names of the subcommands ``ctx`` runs, below the program: ``"priors collectri"``."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def examples_epilog(path: str) -> str | None:
    """The ``Examples`` section of ``path``'s ``--help`` (rich markup), or ``None``."""
    examples = EXAMPLES.get(path)
    if not examples:
        return None
    return "[bold]Examples[/]\n" + "\n".join(f"  {escape(line)}" for line in examples)


def _fold(text: str | None) -> str | None:
    """``text`` with each paragraph on one line (click's ``\\b`` paragraphs kept as written)."""
    if not text:
        return text
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(p if p.startswith("\b") else " ".join(p.split("\n")) for p in paragraphs)


def _conform(param: Any) -> None:
    """A flag shows no type; an argument is named in capitals."""
    if isinstance(param, TyperOption) and (param.is_flag or param.count) and param.metavar is None:
        param.metavar = ""
    elif isinstance(param, TyperArgument) and param.metavar is None and param.name:
        param.metavar = param.name.upper()


_BRACED = re.compile(r"^\{(.+)\}((?:\.\.\.)?)$")


class _Conventions:
    """The conventions, mixed into a typer command or group class."""

    epilog: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = _fold(self.help)  # type: ignore[has-type]

    def get_params(self, ctx: typer.Context) -> list:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _conform(param)
        return params

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        # typer writes a required argument {RUN}; click (and every man page) writes RUN
        return [_BRACED.sub(r"\1\2", piece)
                for piece in super().collect_usage_pieces(ctx)]  # type: ignore[misc]

    def format_help(self, ctx: typer.Context, formatter: Any) -> None:
        if self.epilog is None:
            self.epilog = examples_epilog(command_path(ctx))
        super().format_help(ctx, formatter)  # type: ignore[misc]


class CMCVAECommand(_Conventions, TyperCommand):
    """A command following the conventions of :mod:`cmcvae.cli._help`."""


class CMCVAEGroup(_Conventions, TyperGroup):
    """A group of commands following the conventions of :mod:`cmcvae.cli._help`."""


class CMCVAETyper(typer.Typer):
    """A :class:`typer.Typer` whose groups and commands follow the conventions: no shell
    completion, no pretty tracebacks (:func:`cmcvae.cli.main` explains every error), help when
    run without arguments, defaults shown."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", CMCVAEGroup)
        kwargs.setdefault("add_completion", False)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("context_settings", {"show_default": True})
        super().__init__(**kwargs)

    def command(self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
                **kwargs: Any) -> Any:
        return super().command(name, cls=cls or CMCVAECommand, **kwargs)
