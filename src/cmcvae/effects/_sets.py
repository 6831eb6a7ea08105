"""Adjustment sets: which features each knockdown's effect is adjusted for.

A set must block the back-door paths from the knocked-down gene ``G`` to a readout and must not
hold a mediator (a descendant of ``G``), or it removes part of the effect it is estimating.
The sets here come from knowledge, not from the fit: transcription factors are the common
causes of gene expression, so the regulators of a GRN prior (its sources, or a user's list)
are the candidates, and the prior's own edges say which of them lie downstream of ``G``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

__all__ = ["TF_RESOURCE", "known_regulators", "parent_sets", "prior_graph", "read_regulators",
           "regulator_sets", "resolve_regulators"]

#: the packaged human TF list (CollecTRI's regulators, complexes split into subunits)
TF_RESOURCE = "human_tfs.txt"
#: fewer packaged TFs than this among a run's genes: the list is not for this data (species, ids)
MIN_KNOWN_REGULATORS = 5


def prior_graph(prior: pd.DataFrame | None) -> nx.DiGraph:
    """The prior's ``source → target`` edges as a directed graph (empty without a prior)."""
    graph = nx.DiGraph()
    if prior is not None and len(prior):
        graph.add_edges_from(zip(prior["source"].astype(str), prior["target"].astype(str),
                                 strict=True))
    return graph


def known_regulators(genes: Sequence[str]) -> list[str]:
    """The run's genes that are human TFs of the packaged list, matched case-insensitively (so
    mouse symbols such as ``Stat1`` match); empty when fewer than :data:`MIN_KNOWN_REGULATORS`."""
    source = resources.files("cmcvae").joinpath("resources", TF_RESOURCE)
    with source.open("r", encoding="utf-8") as fh:
        tfs = {line.strip().upper() for line in fh if line.strip() and not line.startswith("#")}
    hits = [str(g) for g in genes if str(g).upper() in tfs]
    return hits if len(hits) >= MIN_KNOWN_REGULATORS else []


def resolve_regulators(genes: Sequence[str], prior: pd.DataFrame | None,
                       regulators: Sequence[str] | None) -> tuple[list[str] | None, str]:
    """The regulators an estimate adjusts for, and where they came from.

    Given names win (``"given"``); otherwise a GRN prior's sources are used by the estimators
    themselves (``None``, ``"grn prior"``); without either, the packaged human TF list when the
    genes are human symbols (``"packaged human TF list"``), else nothing (``None``, ``"none"``).
    """
    if regulators is not None:
        return [str(r) for r in regulators], "given"
    if prior is not None:
        return None, "grn prior"
    known = known_regulators(genes)
    return (known, "packaged human TF list") if known else (None, "none")


def read_regulators(path) -> list[str]:
    """A regulator (TF) list file: one name per line, or a CSV/TSV whose first column names them
    (a header ``tf``/``source``/``gene``/``regulator``/``symbol`` is skipped; ``#`` comments too).

    Raises
    ------
    CMCVAEInputError
        When the file cannot be read or names nothing.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise CMCVAEInputError(f"Cannot read the regulator list {path}: {err}. Give one gene "
                               "symbol per line.") from None
    names = []
    for line in lines:
        field = re.split(r"[,\t;]", line.split("#", 1)[0], maxsplit=1)[0].strip().strip('"')
        if field:
            names.append(field)
    if names and names[0].lower() in {"tf", "source", "gene", "regulator", "symbol", "name"}:
        names = names[1:]
    if not names:
        raise CMCVAEInputError(f"The regulator list {path} names no gene; give one gene symbol "
                               "per line.")
    return list(dict.fromkeys(names))


def regulator_sets(sources: Sequence[str], regulators: Iterable[str], features: pd.Index,
                   graph: nx.DiGraph, exclude_descendants: bool = True,
                   keep: dict[str, set[str]] | None = None) -> list[np.ndarray]:
    """Per source: the regulators among the features, minus itself and (optionally) minus its
    descendants in ``graph``; ``keep[source]`` (its known ancestors) are never dropped.

    Returns
    -------
    list of numpy.ndarray
        Feature positions, one array per source.
    """
    regs = [r for r in dict.fromkeys(str(r) for r in regulators) if r in features]
    reg_pos = features.get_indexer(regs)
    out = []
    for g in sources:
        drop = {str(g)}
        if exclude_descendants and str(g) in graph:
            drop |= nx.descendants(graph, str(g)) - (keep or {}).get(str(g), set())
        out.append(np.array([p for r, p in zip(regs, reg_pos, strict=True) if r not in drop],
                            dtype=int))
    return out


def parent_sets(sources: Sequence[str], graph: nx.DiGraph, features: pd.Index) -> list[np.ndarray]:
    """Per source: its parents in ``graph`` that are features (an empty set when none)."""
    out = []
    for g in sources:
        parents = [str(p) for p in graph.predecessors(str(g))] if str(g) in graph else []
        pos = features.get_indexer(parents)
        out.append(np.unique(pos[pos >= 0]).astype(int))
    return out


def check_regulators(regulators: Sequence[str], features: pd.Index, what: str) -> None:
    """Refuse a regulator list with no feature of the data (a wrong file or wrong identifiers)."""
    if regulators and not any(str(r) in features for r in regulators):
        raise CMCVAEInputError(
            f"None of the {len(regulators)} regulators of {what} is a gene of the run (e.g. "
            f"{list(regulators)[:3]}); use the same gene identifiers as the data."
        )
