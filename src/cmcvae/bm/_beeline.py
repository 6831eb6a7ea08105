"""BEELINE BoolODE benchmarks (Pratapa et al. 2020, Nature Methods).

Simulated single-cell expression from Boolean models with known signed networks: four
literature-curated models and six synthetic topologies. Input files come from the ``inputs/``
folder of Murali-group/Beeline (removed from later commits; commit
900e18dac032d3a41f03cda4be5d1475d9738897 has it).
"""

from __future__ import annotations

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

BEELINE_CURATED = ("GSD", "HSC", "VSC", "mCAD")
BEELINE_SYNTHETIC = ("dyn-LI", "dyn-LL", "dyn-CY", "dyn-BF", "dyn-BFC", "dyn-TF")
BEELINE_NAMES = BEELINE_CURATED + BEELINE_SYNTHETIC

_DESCRIPTIONS = {
    "GSD": "gonadal sex determination (curated Boolean model)",
    "HSC": "hematopoietic stem cell differentiation (curated Boolean model)",
    "VSC": "ventral spinal cord development (curated Boolean model)",
    "mCAD": "mammalian cortical area development (curated Boolean model)",
    "dyn-LI": "linear trajectory (synthetic)",
    "dyn-LL": "long linear trajectory (synthetic)",
    "dyn-CY": "cycle (synthetic)",
    "dyn-BF": "bifurcating trajectory (synthetic)",
    "dyn-BFC": "bifurcating-converging trajectory (synthetic)",
    "dyn-TF": "trifurcating trajectory (synthetic)",
}

_HINT = (
    "Get them from github.com/Murali-group/Beeline, folder inputs/ at commit "
    "900e18dac032d3a41f03cda4be5d1475d9738897 (Curated/<name>/<name>_2000_0/ and "
    "Synthetic/<name>/<name>_2000_0/, each with ExpressionData.csv, refNetwork.csv and "
    "PseudoTime.csv), and pass the folder that holds Curated/ and Synthetic/ as root."
)
_SIGNS = {"+": 1, "-": -1}


def load_beeline(
    root: str | Path, name: str, n_cells: int = 2000, replicate: int = 0
) -> GraphDataset:
    """Load one BEELINE BoolODE dataset with its signed reference network.

    Parameters
    ----------
    root : str or Path
        Folder holding ``Curated/`` and ``Synthetic/``. Both the flat layout
        ``Curated/GSD_2000_0/`` and the upstream layout ``Curated/GSD/GSD_2000_0/`` are found.
    name : str
        One of :data:`BEELINE_NAMES`: curated ``GSD``, ``HSC``, ``VSC``, ``mCAD`` or synthetic
        ``dyn-LI``, ``dyn-LL``, ``dyn-CY``, ``dyn-BF``, ``dyn-BFC``, ``dyn-TF``.
    n_cells : int, default 2000
        Cell count of the simulation folder (upstream has 100, 200, 500, 2000 and 5000).
    replicate : int, default 0
        Replicate simulation (upstream has 0 to 9 per model and size).

    Returns
    -------
    GraphDataset
        ``X`` is cells × genes (``ExpressionData.csv`` is genes × cells and is transposed);
        ``truth`` is ``refNetwork.csv`` (``Type`` ``+`` → +1, ``-`` → -1) without self-loops
        and with duplicated rows removed (first sign kept). ``meta`` records what was dropped,
        the cell names and, when ``PseudoTime.csv`` is there, the pseudotime table (cells ×
        lineages, NaN where a cell is not on a lineage) in the row order of ``X``.

    Raises
    ------
    CMCVAEInputError
        If ``name`` is unknown, a file is missing or unreadable, or ``Type`` is not ``+``/``-``.
    """
    if name not in BEELINE_NAMES:
        raise CMCVAEInputError(
            f"Unknown BEELINE dataset {name!r}; valid names: {', '.join(BEELINE_NAMES)}."
        )
    group = "Curated" if name in BEELINE_CURATED else "Synthetic"
    folder = f"{name}_{int(n_cells)}_{int(replicate)}"
    root = as_root(root, "BEELINE inputs", _HINT)
    candidates = [f"{group}/{folder}", f"{group}/{name}/{folder}"]
    expr_path = first_existing(
        root, [f"{c}/ExpressionData.csv" for c in candidates], "BEELINE inputs", _HINT
    )
    ddir = expr_path.parent
    net_path = first_existing(ddir, ["refNetwork.csv"], "BEELINE reference network", _HINT)

    expr = read_file(expr_path, pd.read_csv, index_col=0)
    expr.index = expr.index.astype(str)
    expr = numeric_frame(expr, expr_path)
    if expr.shape[0] == 0 or expr.shape[1] == 0:
        raise CMCVAEInputError(f"{expr_path}: empty expression matrix (genes × cells expected).")
    features = list(expr.index)
    cells = [str(c) for c in expr.columns]

    truth, info = clean_edges(_read_network(net_path), features)

    meta: dict = {
        "description": f"BEELINE BoolODE {name}: {_DESCRIPTIONS[name]}",
        "source": "Murali-group/Beeline inputs/ (Pratapa et al. 2020, Nat Methods 17:147)",
        "group": group.lower(),
        "path": str(ddir),
        "n_cells": len(cells),
        "n_genes": len(features),
        "n_edges": len(truth),
        "obs_names": cells,
        **info,
    }
    meta.update(_read_pseudotime(ddir, cells))
    return GraphDataset(
        name=f"beeline/{name}",
        family="beeline",
        X=expr.to_numpy(dtype=np.float64).T,
        features=features,
        truth=truth,
        modality="rna",
        counts=False,
        meta=meta,
    )


def _read_network(net_path: Path) -> pd.DataFrame:
    """``refNetwork.csv`` (``Gene1,Gene2,Type`` with Type ``+``/``-``) as signed edges."""
    net = read_file(net_path, pd.read_csv, dtype=str)
    missing = {"Gene1", "Gene2", "Type"} - set(net.columns)
    if missing:
        raise CMCVAEInputError(
            f"{net_path}: expected columns Gene1,Gene2,Type; missing {sorted(missing)}."
        )
    types = net["Type"].astype(str).str.strip()
    bad = sorted(set(types) - set(_SIGNS))
    if bad:
        raise CMCVAEInputError(f"{net_path}: Type must be '+' or '-'; found {bad}.")
    edges = pd.DataFrame(
        {"source": net["Gene1"], "target": net["Gene2"], "weight": types.map(_SIGNS)}
    )
    return edges


def _read_pseudotime(ddir: Path, cells: list[str]) -> dict[str, Any]:
    """``{"pseudotime": …}`` for the cells when ``PseudoTime.csv`` is there and matches them.

    A file that does not match or cannot be read gives ``{"pseudotime_note": …}``; no file ``{}``.
    """
    meta: dict[str, Any] = {}
    pt_path = ddir / "PseudoTime.csv"
    if pt_path.is_file():
        try:
            pt = pd.read_csv(pt_path, index_col=0)
            pt.index = pt.index.astype(str)
            pt = pt.apply(pd.to_numeric, errors="coerce")
            if set(pt.index) >= set(cells):
                meta["pseudotime"] = pt.loc[cells]
            else:
                meta["pseudotime_note"] = f"{pt_path.name} cell names do not match the expression"
        except (OSError, ValueError, pd.errors.ParserError) as err:
            meta["pseudotime_note"] = f"{pt_path.name} unreadable: {err}"
    return meta
