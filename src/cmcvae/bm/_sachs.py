"""Sachs et al. 2005 (Science 308:523) phospho-flow cytometry with the consensus network.

Eleven phosphoproteins and phospholipids measured in single human CD4+ T cells under nine
stimulation/perturbation conditions. The files are the nine condition CSVs and the 17-edge
consensus adjacency of benchpress (felixleopoldo/benchpress,
``resources/data/mydatasets/2005_sachs/`` and ``resources/adjmat/myadjmats/sachs.csv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._dataset import (
    GraphDataset,
    as_root,
    clean_edges,
    first_existing,
    numeric_frame,
    read_file,
)

SACHS_CONDITIONS = ("1", "2", "3", "4", "5", "6", "7", "8", "9")
_ALIASES = {"observational": ("1", "2"), "all": SACHS_CONDITIONS}
_DATA_DIR = "benchpress_9_conditions"
_ADJ = "sachs_consensus_adjmat_benchpress.csv"
_HINT = (
    "Get the nine CSVs from github.com/felixleopoldo/benchpress, "
    "resources/data/mydatasets/2005_sachs/ (files 1_cd3cd28_n854.csv ... 9_b2camp_n708.csv; "
    f"put them in {_DATA_DIR}/) and the consensus graph from "
    f"resources/adjmat/myadjmats/sachs.csv (save it as {_ADJ}); pass their parent folder as root."
)


def _condition_ids(conditions: str | int | Sequence[str | int]) -> tuple[str, ...]:
    if isinstance(conditions, (str, int)) and not isinstance(conditions, bool):
        key = str(conditions).strip().lower()
        ids = _ALIASES.get(key, (key,))
    else:
        ids = tuple(str(c).strip() for c in conditions)
    bad = [c for c in ids if c not in SACHS_CONDITIONS]
    if bad or not ids:
        raise CMCVAEInputError(
            f"Sachs conditions {conditions!r} not understood: give 'observational' (1 and 2), "
            f"'all', or condition numbers from {', '.join(SACHS_CONDITIONS)}."
        )
    return tuple(dict.fromkeys(ids))  # unique, order kept


def load_sachs(
    root: str | Path,
    conditions: str | int | Sequence[str | int] = ("1",),
    log: bool = False,
) -> GraphDataset:
    """Load the Sachs et al. (2005) flow-cytometry data and the 17-edge consensus network.

    Parameters
    ----------
    root : str or Path
        Folder holding ``benchpress_9_conditions/`` and ``sachs_consensus_adjmat_benchpress.csv``
        (``conditions_interventions.tsv`` is read too when present).
    conditions : str, int or sequence, default ("1",)
        Which of the nine conditions to pool, in this order. The default, condition 1
        (anti-CD3/CD28, 853 cells), is the observational set the DAG-learning literature
        scores against the 17-edge consensus. ``"observational"`` = conditions 1 and 2
        (anti-CD3/CD28 ± ICAM-2, both general stimulations; 1,755 cells); ``"all"`` = all nine
        (7,466 cells; 3-9 carry a specific inhibitor or activator).
    log : bool, default False
        False keeps the raw intensities as distributed (all values ≥ 1, heavily right-skewed).
        True applies ``log1p``, which makes the marginals roughly symmetric. Either way the
        columns are not standardised: methods that need unit variance must standardise
        themselves (``meta["recommended_transform"]``).

    Returns
    -------
    GraphDataset
        ``X`` is cells × 11 proteins (``Akt, Erk, Jnk, Mek, P38, PIP2, PIP3, PKA, PKC, Plcg,
        Raf``); ``truth`` is the consensus DAG (row = parent), sign 0; ``modality="protein"``.
        ``meta["condition"]`` labels each cell with its condition number (``"1"`` ... ``"9"``),
        and ``meta["interventions"]`` maps condition → reagent and intervened node when
        ``conditions_interventions.tsv`` is present.

    Raises
    ------
    CMCVAEInputError
        Unknown conditions, missing files, or proteins that differ between files.
    """
    ids = _condition_ids(conditions)
    root = as_root(root, "Sachs data", _HINT)
    data_dir = root / _DATA_DIR
    if not data_dir.is_dir():
        raise CMCVAEInputError(
            f"Sachs data not found at {root}: expected the folder {_DATA_DIR}/. {_HINT}"
        )
    adj_path = first_existing(root, [_ADJ], "Sachs consensus graph", _HINT)

    blocks, labels, files, features = _read_conditions(root, data_dir, ids)
    data = pd.concat(blocks, ignore_index=True)
    truth, info = clean_edges(_read_consensus(adj_path, features), features)

    X = data.to_numpy(dtype=np.float64)
    if log:
        if (X < 0).any():
            raise CMCVAEInputError("Sachs data have negative values; log=True needs values ≥ 0.")
        X = np.log1p(X)
    meta: dict = {
        "description": (
            "Sachs et al. 2005 phospho-flow cytometry, human CD4+ T cells, conditions "
            + ", ".join(ids)
        ),
        "source": (
            "Sachs et al. 2005, Science 308:523; files from felixleopoldo/benchpress "
            "(2005_sachs, consensus adjmat sachs.csv)"
        ),
        "conditions": list(ids),
        "condition": np.concatenate(labels),
        "condition_files": files,
        "n_cells": X.shape[0],
        "n_cells_per_condition": {c: int(len(b)) for c, b in zip(ids, blocks, strict=True)},
        "n_proteins": len(features),
        "n_edges": len(truth),
        "transform": "log1p" if log else "none (raw intensities)",
        "recommended_transform": (
            "log1p then standardise each protein (raw intensities span 1 to ~9,000 with heavy "
            "right tails); scale-sensitive methods such as NOTEARS should at least standardise"
        ),
        **info,
    }
    meta.update(_read_interventions(root, files))
    return GraphDataset(
        name="sachs",
        family="sachs",
        X=X,
        features=features,
        truth=truth,
        modality="protein",
        counts=False,
        meta=meta,
    )


def _read_conditions(root: Path, data_dir: Path, ids: tuple[str, ...]) -> tuple[
        list[pd.DataFrame], list[np.ndarray], dict[str, str], list[str]]:
    """Read the CSV of each condition (same proteins in every file, in the first file's order).

    Returns
    -------
    One table per condition, each cell's condition label, the file of each condition and the
    protein names.
    """
    blocks: list[pd.DataFrame] = []
    labels: list[np.ndarray] = []
    files: dict[str, str] = {}
    features: list[str] | None = None
    for c in ids:
        hits = sorted(data_dir.glob(f"{c}_*.csv"))
        if len(hits) != 1:
            what = "no file" if not hits else f"{len(hits)} files"
            raise CMCVAEInputError(
                f"Sachs condition {c}: {what} matching {_DATA_DIR}/{c}_*.csv in {root}. {_HINT}"
            )
        df = read_file(hits[0], pd.read_csv)
        df.columns = [str(col).strip() for col in df.columns]
        df = numeric_frame(df, hits[0])
        if features is None:
            features = list(df.columns)
        elif set(df.columns) != set(features):
            raise CMCVAEInputError(
                f"{hits[0]}: columns {list(df.columns)} differ from {features} "
                f"of condition {ids[0]}."
            )
        blocks.append(df[features])
        labels.append(np.full(len(df), c))
        files[c] = hits[0].name
    assert features is not None
    return blocks, labels, files, features


def _read_consensus(adj_path: Path, features: list[str]) -> pd.DataFrame:
    """The consensus adjacency (0/1, header row of node names) as ``source,target,weight=0``."""
    adj = read_file(adj_path, pd.read_csv)
    adj.columns = [str(col).strip() for col in adj.columns]
    if adj.shape != (len(adj.columns), len(adj.columns)):
        raise CMCVAEInputError(
            f"{adj_path}: expected a square adjacency with a header row of node names, "
            f"got shape {adj.shape}."
        )
    adj = numeric_frame(adj, adj_path)
    adj.index = adj.columns
    if not set(np.unique(adj.to_numpy())) <= {0.0, 1.0}:
        raise CMCVAEInputError(f"{adj_path}: adjacency entries must be 0 or 1.")
    unknown = sorted(set(adj.columns) - set(features))
    if unknown:
        raise CMCVAEInputError(
            f"{adj_path}: nodes {unknown} are not columns of the data {features}."
        )
    r, k = np.nonzero(adj.to_numpy())
    edges = pd.DataFrame({"source": adj.index[r], "target": adj.columns[k], "weight": 0})
    return edges


def _read_interventions(root: Path, files: dict[str, str]) -> dict[str, Any]:
    """``{"interventions": …}`` from ``conditions_interventions.tsv`` when it is present.

    An unreadable file gives ``{"interventions_note": …}`` instead; no file gives ``{}``.
    """
    meta: dict[str, Any] = {}
    tsv = root / "conditions_interventions.tsv"
    if tsv.is_file():
        try:
            iv = pd.read_csv(tsv, sep="\t", dtype=str).fillna("")
            by_file = {row["file"]: row for _, row in iv.iterrows()}
            meta["interventions"] = {
                c: {
                    "reagent": by_file[f].get("reagent", ""),
                    "type": by_file[f].get("intervention_type", ""),
                    "target_node": by_file[f].get("target_node", ""),
                }
                for c, f in files.items()
                if f in by_file
            }
        except (OSError, KeyError, ValueError, pd.errors.ParserError) as err:
            meta["interventions_note"] = f"{tsv.name} unreadable: {err}"
    return meta
