"""Agreement across repeated fits (seeds ensembles): edge stability and numeric summaries."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

EDGE_KEY = ["source", "target", "source_modality", "target_modality"]
STABILITY_COLUMNS = [*EDGE_KEY, "frequency", "mean_weight", "sd_weight", "sign_consistency",
                     "n_runs"]
PAIR_KEY = ["protein", "gene"]


def _sd(values: np.ndarray) -> float:
    """Sample standard deviation (``ddof=1``); ``0.0`` for a single value."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _check_columns(df: pd.DataFrame, need: Sequence[str], what: str) -> None:
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise CMCVAEInputError(f"{what} lacks column(s) {missing}; found {list(df.columns)}.")


def edge_stability(edge_tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """How consistently each feature-level edge is kept across runs.

    Parameters
    ----------
    edge_tables
        One ``edges.csv`` table per run (columns ``source,target,source_modality,
        target_modality,weight``). An edge is identified by source, target and both modalities,
        so a gene and a protein with the same name stay distinct.

    Returns
    -------
    pandas.DataFrame
        One row per edge kept in at least one run, with ``source, target, source_modality,
        target_modality``, ``frequency`` (fraction of runs whose table contains the edge),
        ``mean_weight`` and ``sd_weight`` (mean and sample standard deviation of the weight over
        the runs that keep it; ``sd_weight`` is 0 when only one run keeps it),
        ``sign_consistency`` (fraction of keeping runs whose weight sign equals the majority
        sign) and ``n_runs`` (number of runs). Sorted by decreasing ``frequency``, then
        decreasing ``|mean_weight|``.
    """
    if len(edge_tables) == 0:
        raise CMCVAEInputError("edge_stability needs at least one edge table.")
    n_runs = len(edge_tables)
    frames = []
    for i, df in enumerate(edge_tables):
        _check_columns(df, [*EDGE_KEY, "weight"], f"Edge table {i}")
        part = df[[*EDGE_KEY, "weight"]].copy()
        for col in EDGE_KEY:
            part[col] = part[col].astype(str)
        part["weight"] = pd.to_numeric(part["weight"], errors="coerce").astype(float)
        frames.append(part.drop_duplicates(EDGE_KEY).assign(_run=i))
    allr = pd.concat(frames, ignore_index=True)
    if allr.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in EDGE_KEY else float)
                             for c in STABILITY_COLUMNS}).astype({"n_runs": int})
    rows = []
    for key, grp in allr.groupby(EDGE_KEY, sort=False):
        w = grp["weight"].to_numpy()
        signs = np.sign(w)
        _, counts = np.unique(signs, return_counts=True)
        rows.append((*key, len(w) / n_runs, float(np.mean(w)), _sd(w),
                     float(counts.max() / len(w)), n_runs))
    out = pd.DataFrame(rows, columns=STABILITY_COLUMNS)
    order = np.lexsort((-out["mean_weight"].abs().to_numpy(), -out["frequency"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def matched_pair_stability(pair_tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Mean and spread of matched-pair effects across runs.

    Parameters
    ----------
    pair_tables
        One ``matched_pairs.csv`` table per run (``protein, gene`` and numeric effect columns
        such as ``rna_to_protein, protein_to_rna, rna_to_protein_total, protein_to_rna_total``).

    Returns
    -------
    pandas.DataFrame
        Per pair: ``<column>_mean`` and ``<column>_sd`` (sample sd, 0 for one run) of every
        effect column shared by all tables, ``fraction_rna_to_protein_stronger`` (share of the
        runs holding the pair where ``|rna_to_protein| > |protein_to_rna|``), the same over total
        effects (``fraction_rna_to_protein_stronger_total``) when those columns exist, and
        ``n_runs`` (number of runs holding the pair).
    """
    if len(pair_tables) == 0:
        raise CMCVAEInputError("matched_pair_stability needs at least one matched-pairs table.")
    for i, df in enumerate(pair_tables):
        _check_columns(df, PAIR_KEY, f"Matched-pairs table {i}")
    effect_cols = [c for c in pair_tables[0].columns if c not in PAIR_KEY
                   and all(c in df.columns for df in pair_tables)
                   and all(pd.api.types.is_numeric_dtype(df[c]) for df in pair_tables)]
    allr = pd.concat([df[[*PAIR_KEY, *effect_cols]].astype({k: str for k in PAIR_KEY})
                      for df in pair_tables], ignore_index=True)
    comparisons = {}
    if {"rna_to_protein", "protein_to_rna"} <= set(effect_cols):
        comparisons["fraction_rna_to_protein_stronger"] = ("rna_to_protein", "protein_to_rna")
    if {"rna_to_protein_total", "protein_to_rna_total"} <= set(effect_cols):
        comparisons["fraction_rna_to_protein_stronger_total"] = ("rna_to_protein_total",
                                                                 "protein_to_rna_total")
    columns = [*PAIR_KEY, *[f"{c}_{s}" for c in effect_cols for s in ("mean", "sd")],
               *comparisons, "n_runs"]
    rows = []
    for key, grp in allr.groupby(PAIR_KEY, sort=False):
        row: list[Any] = list(key)
        for c in effect_cols:
            v = grp[c].to_numpy(dtype=float)
            row += [float(np.mean(v)), _sd(v)]
        for fwd, rev in comparisons.values():
            stronger = np.abs(grp[fwd].to_numpy(float)) > np.abs(grp[rev].to_numpy(float))
            row.append(float(stronger.mean()))
        row.append(len(grp))
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _is_number(x: Any) -> bool:
    return isinstance(x, Real) and not isinstance(x, bool)


def aggregate_numbers(dicts: Sequence[dict]) -> dict:
    """Summarise the same nested result (e.g. ``analysis.json``) from several runs.

    Parameters
    ----------
    dicts
        One nested dictionary per run.

    Returns
    -------
    dict
        The keys present in every dictionary, recursively. A numeric leaf (``None``/NaN counts
        as missing) becomes ``{"mean", "sd", "min", "max", "values"}`` over the finite values
        (``sd`` is the sample standard deviation, 0 for one value; ``values`` lists every run's
        value in order); ``None`` when no run has a finite value. Any other leaf (string, bool,
        list, ``None``) becomes the value itself when identical in all runs, else the list of the
        runs' values. Keys missing from some dictionaries are left out.
    """
    if len(dicts) == 0:
        raise CMCVAEInputError("aggregate_numbers needs at least one dictionary.")
    if not all(isinstance(d, dict) for d in dicts):
        raise CMCVAEInputError("aggregate_numbers takes a list of dictionaries.")
    out: dict = {}
    for key in dicts[0]:
        if not all(key in d for d in dicts):
            continue
        out[key] = _aggregate_leaf([d[key] for d in dicts])
    return out


def _aggregate_leaf(values: list[Any]) -> Any:
    if all(isinstance(v, dict) for v in values):
        return aggregate_numbers(values)
    is_missing = [v is None or (_is_number(v) and not math.isfinite(float(v))) for v in values]
    if any(_is_number(v) for v in values) and all(
            _is_number(v) or m for v, m in zip(values, is_missing, strict=True)):
        finite = np.array([float(v) for v, m in zip(values, is_missing, strict=True) if not m])
        raw = [None if m else (v.item() if isinstance(v, np.generic) else v)
               for v, m in zip(values, is_missing, strict=True)]
        if finite.size == 0:
            return None
        return {"mean": float(finite.mean()), "sd": _sd(finite), "min": float(finite.min()),
                "max": float(finite.max()), "values": raw}
    if all(_equal(v, values[0]) for v in values[1:]):
        return values[0]
    return list(values)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):
        return False


def aggregate_rows(aggregate: dict, keys: Sequence[str], *, skip_none: bool = True,
                   skip: Sequence[str] = ("definitions", "filtering")) -> list[tuple[str, str, str]]:
    """Flatten an :func:`aggregate_numbers` result into ``(path, statistic, text)`` rows.

    Parameters
    ----------
    aggregate
        Output of :func:`aggregate_numbers` (e.g. an ensemble's ``analysis.json["aggregate"]``).
    keys
        Statistics to list (leaf names); other leaves are left out.
    skip_none
        Leave out statistics that are ``None`` in every run.
    skip
        Sub-trees not to descend into (definitions, filtering reports).

    Returns
    -------
    list of tuple
        ``("central_dogma / direct", "fraction_forward", "0.950 ± 0.050 [0.900–1.000]")``; a
        label leaf (e.g. a call) is shown as its common value or the list of the runs' values.
    """
    rows: list[tuple[str, str, str]] = []

    def walk(node: dict, path: tuple[str, ...]) -> None:
        for key, val in node.items():
            if key in skip:
                continue
            if isinstance(val, dict) and not {"mean", "values"} <= set(val):
                walk(val, (*path, key))
            elif key in keys and not (skip_none and val is None):
                text = (f"{val['mean']:.3f} ± {val['sd']:.3f} [{val['min']:.3f}–{val['max']:.3f}]"
                        if isinstance(val, dict) else str(val))
                rows.append((" / ".join(path), key, text))

    walk(aggregate, ())
    return rows
