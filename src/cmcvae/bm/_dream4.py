"""DREAM4 in-silico size-100 multifactorial networks (Marbach et al. 2010; GeneNetWeaver).

Five 100-gene networks, each with 100 multifactorial steady-state samples (every sample is a
small random perturbation of all genes' basal rates) and the official directed gold standard.
"""

from __future__ import annotations

from pathlib import Path

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

DREAM4_NETWORKS = (1, 2, 3, 4, 5)
#: Positive (true) directed edges of the official size-100 gold standards.
DREAM4_EDGE_COUNTS = {1: 176, 2: 249, 3: 195, 4: 211, 5: 193}

_HINT = (
    "The multifactorial data are the DREAM4 size-100 challenge files "
    "(e.g. data/D4_multi_<i>.RData of Luisiglm/KBoost, or Synapse syn3049712) and the gold "
    "standards are in github.com/dreamtools/dreamtools, dreamtools/dream4/D4C2/goldstandard/. "
    "Pass the folder that holds multifactorial_kboost/ and goldstandards_dreamtools/ as root."
)


def load_dream4(root: str | Path, network: int) -> GraphDataset:
    """Load one DREAM4 size-100 multifactorial network.

    Parameters
    ----------
    root : str or Path
        DREAM4 folder. The data file ``insilico_size100_<i>_multifactorial.tsv`` is looked for
        in ``multifactorial_kboost/`` and then in ``root`` itself; the gold standard
        ``DREAM4_GoldStandard_InSilico_Size100_multifactorial_<i>.tsv`` in
        ``goldstandards_dreamtools/100_multifactorial/`` and then ``root``, falling back to the
        edge list ``cdt_goldstandards/goldstandard_insilico100_multifactorial_<i>.csv``.
    network : int
        1 to 5 (:data:`DREAM4_NETWORKS`).

    Returns
    -------
    GraphDataset
        ``X`` is 100 samples × 100 genes (``G1`` ... ``G100``, the file's column order);
        ``truth`` holds the gold-standard pairs marked 1 (regulator → target), sign 0
        (the gold standard is unsigned). Expected edge counts: :data:`DREAM4_EDGE_COUNTS`.

    Raises
    ------
    CMCVAEInputError
        Unknown ``network``, missing or malformed files.
    """
    if isinstance(network, bool) or network not in DREAM4_NETWORKS:
        raise CMCVAEInputError(
            f"DREAM4 network must be one of {DREAM4_NETWORKS} (size-100 multifactorial); "
            f"got {network!r}."
        )
    i = int(network)
    root = as_root(root, "DREAM4 data", _HINT)
    data_name = f"insilico_size100_{i}_multifactorial.tsv"
    data_path = first_existing(
        root, [f"multifactorial_kboost/{data_name}", data_name], "DREAM4 multifactorial data", _HINT
    )
    gs_name = f"DREAM4_GoldStandard_InSilico_Size100_multifactorial_{i}.tsv"
    cdt_name = f"cdt_goldstandards/goldstandard_insilico100_multifactorial_{i}.csv"
    gs_path = first_existing(
        root,
        [f"goldstandards_dreamtools/100_multifactorial/{gs_name}", gs_name, cdt_name],
        "DREAM4 gold standard",
        _HINT,
    )

    data = read_file(data_path, pd.read_csv, sep="\t")
    data.columns = [str(c).strip().strip('"') for c in data.columns]
    data = numeric_frame(data, data_path)
    features = list(data.columns)

    pos, gs_format = _read_gold_standard(gs_path)
    edges = pos.assign(weight=0)
    truth, info = clean_edges(edges, features)

    meta: dict = {
        "description": f"DREAM4 in-silico size-100 network {i}, multifactorial steady states",
        "source": (
            "DREAM4 challenge (Marbach et al. 2010 PNAS; GeneNetWeaver); data via Luisiglm/KBoost, "
            "gold standard via dreamtools"
        ),
        "path": str(data_path),
        "gold_standard": str(gs_path),
        "gold_standard_format": gs_format,
        "n_samples": data.shape[0],
        "n_genes": data.shape[1],
        "n_edges": len(truth),
        "expected_n_edges": DREAM4_EDGE_COUNTS[i],
        **info,
    }
    return GraphDataset(
        name=f"dream4/{i}",
        family="dream4",
        X=data.to_numpy(dtype=np.float64),
        features=features,
        truth=truth,
        modality="rna",
        counts=False,
        meta=meta,
    )


def _read_gold_standard(gs_path: Path) -> tuple[pd.DataFrame, str]:
    """The true edges ``source,target`` of a gold standard file, and a name of its format.

    Two formats: the cdt edge list (``.csv``, columns ``Source,Target``) and the official
    DREAM4 file (``regulator<TAB>target<TAB>1/0`` over all ordered pairs, 1 = edge).
    """
    if gs_path.suffix == ".csv":  # cdt edge list: Source,Target
        gs = read_file(gs_path, pd.read_csv, dtype=str)
        if not {"Source", "Target"} <= set(gs.columns):
            raise CMCVAEInputError(f"{gs_path}: expected columns Source,Target.")
        pos = gs.rename(columns={"Source": "source", "Target": "target"})
        gs_format = "cdt edge list (Source,Target)"
    else:  # official: G_i <TAB> G_j <TAB> {1,0}, all ordered pairs
        gs = read_file(gs_path, pd.read_csv, sep="\t", header=None, dtype=str)
        if gs.shape[1] != 3:
            raise CMCVAEInputError(
                f"{gs_path}: expected 3 tab-separated columns (regulator, target, 1/0), "
                f"got {gs.shape[1]}."
            )
        flag = gs[2].str.strip()
        if not flag.isin(["0", "1"]).all():
            raise CMCVAEInputError(f"{gs_path}: the third column must be 0 or 1.")
        pos = gs.loc[flag == "1", [0, 1]].set_axis(["source", "target"], axis=1)
        gs_format = "official DREAM4 gold standard (all ordered pairs, 1 = edge)"
    return pos, gs_format
