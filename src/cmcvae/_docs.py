"""Parameter docs shared by several public functions, written once (decoupler's ``_docs.py``).

A docstring names a shared entry by a placeholder alone on its line, indented like a parameter
of its ``Parameters`` section, e.g. ``{batch_key}``; :func:`fill_docs` replaces it with the entry,
indented to the placeholder's column. An unknown placeholder fails at import time, so a typo
cannot reach the rendered docs.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: numpydoc entries (name line, then the description indented by four spaces)
PARAMS: dict[str, str] = {
    "batch_key": """\
batch_key
    Column of ``.obs`` with each cell's donor or batch (``None``: all cells are one batch).""",
    "grn_prior": """\
grn_prior
    TF→target prior network: a ``source,target[,weight]`` CSV/TSV or a data frame with
    those columns (``None``: no GRN prior).""",
    "ppi_prior": """\
ppi_prior
    Protein→protein prior network, in the same layout as ``grn_prior`` (``None``: none).""",
    "protein_map": """\
protein_map
    ``protein,gene`` CSV or data frame pairing each antibody with the gene that encodes it.""",
    "config": """\
config
    A :class:`~cmcvae.CMCVAEConfig`, or a YAML/JSON file of its fields (``None``: the
    defaults); keyword arguments named like a config field override it.""",
    "seed": """\
seed
    Random seed of the random baselines and null distributions (and of the simulation and the
    fit where the workflow runs them): the same seed gives the same numbers.""",
    "force": """\
force
    Replace the files cmcvae recorded writing in an existing, non-empty output (its
    ``.cmcvae-manifest.json``); other files are kept, a file cmcvae would write but did not
    record is refused, and so is an input the replacement would remove.""",
    "out": """\
out
    Run folder to write (``docs/design.md`` §3).""",
    "run": """\
run
    Run folder written by :func:`fit_run` (``cmcvae fit``), or a seeds-ensemble folder written
    by :func:`fit_seeds`: then every seed's run is processed, each gets its own output file,
    and the ensemble folder gets the same file holding the mean ± spread across seeds.""",
    "protein_feature_type": """\
protein_feature_type
    Feature type of the antibodies (``.var["feature_types"]`` of 10x data: ``Antibody Capture``).""",
    "make_unique": """\
make_unique
    Make duplicated names (features; cell barcodes) unique instead of raising.""",
    "strip_genome_prefix": """\
strip_genome_prefix
    Remove a genome prefix shared by all gene names (``hg19_``, ``GRCh38_``, …).""",
    "training_data": """\
data
    Training data of the run (path or MuData; ``None``: the file recorded in ``run.json``).""",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<key>\w+)\}[ \t]*$", re.MULTILINE)


def fill_docs(obj: F) -> F:
    """Replace every ``{name}`` placeholder line of ``obj.__doc__`` with ``PARAMS[name]``.

    Parameters
    ----------
    obj
        A function or class whose docstring holds placeholders, each alone on its line.

    Returns
    -------
    object
        The same object, its docstring filled in.

    Raises
    ------
    KeyError
        A placeholder names no entry of :data:`PARAMS`.
    """
    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(
            lambda m: textwrap.indent(PARAMS[m["key"]], m["indent"]), obj.__doc__)
    return obj
