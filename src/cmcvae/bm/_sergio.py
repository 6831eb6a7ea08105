"""SERGIO simulated single-cell data sets (Dibaeinia & Sinha 2020, Cell Systems).

Files from PayamDiba/SERGIO ``data_sets/``. Only the differentiation set DS4 ships expression
here (replicate 0 of the clean spliced ``S``, unspliced ``U`` and total ``T`` matrices); the
steady-state sets DS1-DS3 have their networks but no expression.
"""

from __future__ import annotations

import re
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

SERGIO_NAMES = ("DS1", "DS2", "DS3", "DS4")
SERGIO_WHICH = ("S", "U", "T")
_STEADY_STATE = ("DS1", "DS2", "DS3")
_FOLDERS = {
    "DS1": "De-noised_100G_9T_300cPerT_4_DS1",
    "DS2": "De-noised_400G_9T_300cPerT_5_DS2",
    "DS3": "De-noised_1200G_9T_300cPerT_6_DS3",
    "DS4": "De-noised_100G_3T_300cPerT_dynamics_9_DS4",
}
_HINT = (
    "Get the folders from github.com/PayamDiba/SERGIO, data_sets/ (e.g. "
    "data_sets/De-noised_100G_3T_300cPerT_dynamics_9_DS4/), and pass the folder that holds "
    "them as root."
)
_WHICH_TEXT = {"S": "spliced", "U": "unspliced", "T": "total (spliced + unspliced)"}


def _find_folder(root: Path, name: str) -> Path:
    folder = root / _FOLDERS[name]
    if folder.is_dir():
        return folder
    hits = sorted(p for p in root.glob(f"*_{name}") if p.is_dir())
    if hits:
        return hits[0]
    raise CMCVAEInputError(
        f"SERGIO data not found at {root}: expected the folder {_FOLDERS[name]}/. {_HINT}"
    )


def _read_gt(path: Path) -> pd.DataFrame:
    """``gt_GRN.csv``: ``regulator,target`` pairs of 0-based gene ids, no header row."""
    raw = read_file(path, pd.read_csv, header=None, dtype=str, skipinitialspace=True)
    if raw.shape[1] < 2:
        raise CMCVAEInputError(f"{path}: expected two columns (regulator_index,target_index).")
    raw = raw.iloc[:, :2].apply(lambda s: s.str.strip())
    if len(raw) and not raw.iloc[0].str.fullmatch(r"\d+(\.0*)?").all():
        raw = raw.iloc[1:]  # a header row, if a copy has one
    try:
        ids = raw.astype(float).astype(np.int64)
    except ValueError as err:
        raise CMCVAEInputError(f"{path}: gene ids must be integers ({err}).") from None
    return pd.DataFrame(
        {"regulator": ids.iloc[:, 0].to_numpy(), "target": ids.iloc[:, 1].to_numpy()}
    )


def _read_signs(path: Path) -> dict[tuple[int, int], int]:
    """Signs from a SERGIO ``Interaction_cID_*.txt`` (target, n, regulators, K, hill coefs).

    Raises ValueError when a row does not have the documented ``2 + 3 n`` fields.
    """
    signs: dict[tuple[int, int], int] = {}
    with open(path) as fh:
        for line in fh:
            fields = [f for f in line.strip().split(",") if f.strip()]
            if not fields:
                continue
            values = [float(f) for f in fields]
            target, n = int(values[0]), int(values[1])
            if len(values) != 2 + 3 * n:
                raise ValueError(
                    f"row for target {target} has {len(values)} fields, not {2 + 3 * n}"
                )
            regs = [int(v) for v in values[2 : 2 + n]]
            ks = values[2 + n : 2 + 2 * n]
            for r, k in zip(regs, ks, strict=True):
                signs[(r, target)] = int(np.sign(k))
    return signs


def load_sergio(
    root: str | Path, name: str = "DS4", which: str = "T", replicate: int = 0
) -> GraphDataset:
    """Load a SERGIO data set with its ground-truth regulatory network.

    Parameters
    ----------
    root : str or Path
        Folder holding the SERGIO ``De-noised_*`` folders (``data_sets/`` upstream).
    name : str, default "DS4"
        ``"DS4"`` (differentiation, 100 genes, 3 cell types × 300 cells) has expression here.
        ``"DS1"``, ``"DS2"``, ``"DS3"`` (steady state, 100/400/1,200 genes) have only their
        networks; loading them raises unless a regenerated genes × cells file
        ``simulated_noNoise_<replicate>.csv`` has been put in their folder.
    which : {"T", "S", "U"}, default "T"
        DS4 matrix: total, spliced or unspliced clean expression
        (``simulated_noNoise_<which>_<replicate>.csv``). Ignored for DS1-DS3.
    replicate : int, default 0
        Simulation replicate (only 0 is shipped here; upstream has 15 for DS4).

    Returns
    -------
    GraphDataset
        ``X`` is cells × genes (the files are genes × cells, first column = gene id).
        Features are ``"G0"``, ``"G1"``, ... named by SERGIO's 0-based gene id. ``truth`` is
        ``gt_GRN.csv`` (``regulator,target``) with the sign of ``K`` from
        ``Interaction_cID_*.txt`` (negative = repression); signs are 0 if that file is absent
        or does not list exactly the edges of ``gt_GRN.csv``. ``meta["cell_type"]`` gives each
        cell's simulated cell type (SERGIO writes cells grouped by type).

    Raises
    ------
    CMCVAEInputError
        Unknown ``name``/``which``, missing or malformed files, or DS1-DS3 without expression.
    """
    if name not in SERGIO_NAMES:
        raise CMCVAEInputError(
            f"Unknown SERGIO data set {name!r}; valid names: {', '.join(SERGIO_NAMES)}."
        )
    if which not in SERGIO_WHICH:
        raise CMCVAEInputError(f"which={which!r} must be one of {', '.join(SERGIO_WHICH)}.")
    root = as_root(root, "SERGIO data", _HINT)
    folder = _find_folder(root, name)
    expr_name = _expression_name(folder, name, which, replicate)
    expr_path = first_existing(folder, [expr_name], f"SERGIO {name} expression", _HINT)
    gt_path = first_existing(folder, ["gt_GRN.csv"], f"SERGIO {name} ground truth", _HINT)

    header, expr, features = _read_expression(expr_path)
    n_cells = expr.shape[1]

    edges, sign_note = _signed_edges(folder, _read_gt(gt_path))
    truth, info = clean_edges(edges, features)

    meta: dict = {
        "description": (
            f"SERGIO {name}: {'differentiation' if name == 'DS4' else 'steady-state'} simulation, "
            f"clean {_WHICH_TEXT[which] if name == 'DS4' else 'total'} expression, "
            f"replicate {int(replicate)}"
        ),
        "source": "PayamDiba/SERGIO data_sets/ (Dibaeinia & Sinha 2020, Cell Systems 11:252)",
        "path": str(expr_path),
        "which": which if name == "DS4" else "T",
        "n_cells": n_cells,
        "n_genes": len(features),
        "n_edges": len(truth),
        "sign_source": sign_note,
        **info,
    }
    meta.update(_layout_meta(folder, name, header, n_cells))
    return GraphDataset(
        name=f"sergio/{name}",
        family="sergio",
        X=expr.to_numpy(dtype=np.float64).T,
        features=features,
        truth=truth,
        modality="rna",
        counts=False,
        meta=meta,
    )


def _expression_name(folder: Path, name: str, which: str, replicate: int) -> str:
    """File name of the clean expression; DS1-DS3 must have had theirs regenerated."""
    if name in _STEADY_STATE:
        expr_name = f"simulated_noNoise_{int(replicate)}.csv"
        if not (folder / expr_name).is_file():
            raise CMCVAEInputError(
                f"SERGIO {name} has no expression matrix at {folder}: expected {expr_name}. "
                f"Only its network (gt_GRN.csv, Interaction/Regs files) is available; the "
                f"clean expression (over 4 MiB) must be regenerated from these input files with "
                f"the PyPI package sergio-scsim (not a cmcvae dependency), or downloaded from "
                f"github.com/PayamDiba/SERGIO data_sets/{folder.name}/, and saved there as a "
                f"genes × cells CSV (first column = gene id). Use name='DS4' for a data set with "
                f"expression."
            )
    else:
        expr_name = f"simulated_noNoise_{which}_{int(replicate)}.csv"
    return expr_name


def _read_expression(expr_path: Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The header row, the genes × cells matrix and the feature names ``G<id>``."""
    # the header row holds cell labels that may repeat (the T file has the cell type 0/1/2)
    header = read_file(expr_path, pd.read_csv, header=None, nrows=1, dtype=str)
    expr = read_file(expr_path, pd.read_csv, header=None, skiprows=1, index_col=0)
    expr = numeric_frame(expr, expr_path)
    try:
        gene_ids = [int(float(g)) for g in expr.index]
    except ValueError:
        raise CMCVAEInputError(
            f"{expr_path}: the first column must hold SERGIO's integer gene ids."
        ) from None
    if len(set(gene_ids)) != len(gene_ids):
        raise CMCVAEInputError(f"{expr_path}: duplicated gene ids in the first column.")
    features = [f"G{g}" for g in gene_ids]
    return header, expr, features


def _signed_edges(folder: Path, gt: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """``source,target,weight`` of ``gt_GRN.csv`` with the signs of ``K``, and where they came from.

    The signs come from the first ``Interaction_cID_*.txt`` when it lists exactly the edges of
    ``gt_GRN.csv``; otherwise every sign is 0 and the note says why.
    """
    signs: dict[tuple[int, int], int] = {}
    sign_note = "no Interaction_cID_*.txt file: signs unknown (0)"
    inter = sorted(folder.glob("Interaction_cID_*.txt"))
    if inter:
        try:
            signs = _read_signs(inter[0])
            pairs = set(zip(gt["regulator"], gt["target"], strict=True))
            if set(signs) == pairs:
                sign_note = f"signs from K in {inter[0].name} (negative = repression)"
            else:
                signs = {}
                sign_note = (
                    f"{inter[0].name} does not list exactly the edges of gt_GRN.csv: "
                    "signs unknown (0)"
                )
        except (OSError, ValueError) as err:
            signs = {}
            sign_note = f"{inter[0].name} unreadable ({err}): signs unknown (0)"
    edges = pd.DataFrame(
        {
            "source": [f"G{r}" for r in gt["regulator"]],
            "target": [f"G{t}" for t in gt["target"]],
            "weight": [
                signs.get((r, t), 0) for r, t in zip(gt["regulator"], gt["target"], strict=True)
            ],
        }
    )
    return edges, sign_note


def _layout_meta(folder: Path, name: str, header: pd.DataFrame, n_cells: int) -> dict[str, Any]:
    """Cell types (from the folder name), cell labels (header row) and DS4's differentiation graph."""
    meta: dict[str, Any] = {}
    m = re.search(r"(\d+)G_(\d+)T_(\d+)cPerT", folder.name)
    if m and int(m.group(2)) * int(m.group(3)) == n_cells:
        meta["cell_type"] = np.repeat(np.arange(int(m.group(2))), int(m.group(3)))
    labels = [str(v) for v in header.iloc[0, 1:].tolist()]
    if len(labels) == n_cells and len(set(labels)) == n_cells:
        meta["obs_names"] = labels
    elif len(labels) == n_cells:  # the DS4 total file's header repeats the cell type
        meta["header_labels"] = np.asarray(labels)
    bmat = folder / "bMat_cID9.tab" if name == "DS4" else None
    if bmat is not None and bmat.is_file():
        try:
            meta["differentiation_graph"] = np.loadtxt(bmat)
        except ValueError:
            pass
    return meta
