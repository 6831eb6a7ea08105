"""Reading and checking perturbation data (a knockdown screen as a MuData).

The screen is a :class:`mudata.MuData` with ``rna`` and ``prot`` raw counts of the same cells and
an ``obs`` column naming the targeted gene of each cell (optionally one with each cell's
condition). Gene read-outs need the RNA only: an RNA-only MuData or an :class:`anndata.AnnData`
(:func:`rna_modality`). These helpers find the modalities, the columns and the control cells, and fail with
a message that names the fix; :func:`check_perturbation_data` runs them all up front.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import TARGET_SUM, library_size

__all__ = [
    "check_perturbation_data",
    "control_labels",
    "control_mask",
    "log_normalized_blocks",
    "log_normalized_columns",
    "modalities",
    "obs_column",
    "rna_modality",
    "raw_counts",
]


def raw_counts(adata) -> np.ndarray | sp.spmatrix:
    """Raw counts of a modality: ``layers['counts']`` if present, else ``.X``."""
    matrix = adata.layers["counts"] if "counts" in adata.layers else adata.X
    if matrix is None:
        raise CMCVAEInputError("A modality of the perturbation data has no data matrix (.X).")
    return matrix


def modalities(perturb) -> tuple[Any, Any]:
    """The ``rna`` and ``prot`` AnnData of a perturbation MuData (same cells, same order)."""
    mods = getattr(perturb, "mod", None)
    if mods is None:
        raise CMCVAEInputError(
            f"Perturbation data must be a MuData with modalities 'rna' and 'prot'; got "
            f"{type(perturb).__name__}. Read it with `cmcvae.io.read_input` (an .h5mu, or an "
            "RNA + protein .h5ad pair as published by scPerturb)."
        )
    for mod, what in ((RNA_MOD, "RNA"), (PROT_MOD, "protein")):
        if mod not in mods:
            raise CMCVAEInputError(
                f"The perturbation data has no {what} modality {mod!r} (it has {list(mods)}); "
                "store RNA as 'rna' and antibody counts as 'prot'."
            )
    rna, prot = mods[RNA_MOD], mods[PROT_MOD]
    if rna.n_obs != prot.n_obs or not np.array_equal(rna.obs_names, prot.obs_names):
        raise CMCVAEInputError(
            f"RNA ({rna.n_obs} cells) and protein ({prot.n_obs} cells) of the perturbation data "
            "do not hold the same cells in the same order; keep the shared cells in both "
            "(e.g. `mudata.pp.intersect_obs(mdata)`)."
        )
    return rna, prot


def rna_modality(perturb) -> Any:
    """The RNA AnnData of a screen: the ``rna`` modality of a MuData, or an AnnData itself.

    Gene read-outs need no proteins, so an RNA-only screen (an ``.h5ad`` read as AnnData, or a
    MuData without ``prot``) is accepted here, unlike :func:`modalities`.
    """
    mods = getattr(perturb, "mod", None)
    if mods is None:
        if hasattr(perturb, "var_names") and hasattr(perturb, "obs"):
            return perturb
        raise CMCVAEInputError(
            f"Perturbation data must be a MuData or an AnnData of RNA counts; got "
            f"{type(perturb).__name__}."
        )
    if RNA_MOD not in mods:
        raise CMCVAEInputError(
            f"The perturbation data has no RNA modality {RNA_MOD!r} (it has {list(mods)}); gene "
            "read-outs need the screen's RNA counts: store them as 'rna'."
        )
    return mods[RNA_MOD]


def _frames(perturb, rna, prot) -> list[pd.DataFrame]:
    """The ``obs`` tables to search, in order (the protein one only when there are proteins)."""
    return [perturb.obs, rna.obs] + ([] if prot is None else [prot.obs])


def _obs_columns(perturb, rna, prot) -> list[str]:
    """All ``obs`` column names (MuData, then RNA, then protein), for error messages."""
    seen: dict[str, None] = {}
    for frame in _frames(perturb, rna, prot):
        for col in map(str, frame.columns):
            if not col.startswith((f"{RNA_MOD}:", f"{PROT_MOD}:")):
                seen.setdefault(col, None)
    return list(seen)


def obs_column(perturb, rna, prot, key: str, role: str) -> pd.Series:
    """Per-cell string values of the ``obs`` column ``key`` (``None`` where missing).

    Looked up in ``mdata.obs``, then the RNA ``obs``, then the protein ``obs`` (``prot`` may be
    ``None`` for an RNA-only screen). ``role`` is ``"perturbation"`` or ``"condition"`` and only
    changes the error message.
    """
    for frame in _frames(perturb, rna, prot):
        if key in frame.columns and len(frame) == rna.n_obs:
            col = frame[key].reindex(rna.obs_names) if frame is perturb.obs else frame[key]
            values = col.astype(object).where(col.notna(), None)
            return pd.Series(
                [None if v is None else str(v) for v in values], index=rna.obs_names, dtype=object
            )
    cols = _obs_columns(perturb, rna, prot)
    shown = f"{cols[:40]}{' …' if len(cols) > 40 else ''}"
    if role == "condition":
        raise CMCVAEInputError(
            f"The perturbation data has no obs column {key!r} for the condition of each cell "
            f"(condition_key / --condition-key). Available obs columns: {shown}. Pass one of "
            "them (e.g. the column holding Control / IFNγ / Co-culture), or leave the option out "
            "to compare with all control cells."
        )
    raise CMCVAEInputError(
        f"The perturbation data has no obs column {key!r} naming the targeted gene of each cell "
        f"(obs columns: {shown}). Add it, or pass the right column name "
        "(perturbation_key / --perturbation-key)."
    )


def control_labels(control_label: str | Sequence[str]) -> list[str]:
    """The control label(s) as a non-empty list."""
    if isinstance(control_label, str):
        return [control_label]
    labels = [str(c) for c in control_label]
    if not labels:
        raise CMCVAEInputError("control_label is empty; give the label(s) of the control cells.")
    return labels


def control_mask(labels: pd.Series, controls: list[str], key: str) -> np.ndarray:
    """Boolean mask of control cells; a clear error when there are fewer than 2."""
    is_control = labels.isin(controls).to_numpy()
    n_control = int(is_control.sum())
    if n_control == 0:
        found = labels.dropna().value_counts()
        shown = found.index[:15].tolist()
        raise CMCVAEInputError(
            f"No control cells: no cell has {key!r} equal to {controls} "
            f"(labels found, most frequent first: {shown}{' …' if len(found) > 15 else ''}). "
            "Pass the control label of this dataset (control_label / --control-label, e.g. "
            "'NT' or 'non-targeting'; several as 'control,NT')."
        )
    if n_control < 2:
        raise CMCVAEInputError(
            f"Only {n_control} control cell labelled {controls}: at least 2 are needed to test "
            "for effects. Check the control label."
        )
    return is_control


def check_perturbation_data(
    perturb,
    *,
    control_label: str | Sequence[str] = "control",
    perturbation_key: str = "perturbation",
    condition_key: str | None = None,
    readout: str = "protein",
) -> None:
    """Fail early on perturbation data that :func:`~cmcvae.evaluate.observed_effects` would reject.

    Checks the modalities, the perturbation and condition columns and the control cells, so a
    caller can stop before computing anything expensive.

    Parameters
    ----------
    perturb
        Perturbation :class:`mudata.MuData` (see :func:`~cmcvae.evaluate.observed_effects`).
    control_label
        Label (or labels) of the control cells.
    perturbation_key
        ``obs`` column naming the targeted gene of each cell.
    condition_key
        Optional ``obs`` column with the condition of each cell.
    readout
        ``"protein"`` (the screen needs ``rna`` and ``prot``) or ``"rna"`` (the RNA alone,
        :func:`~cmcvae.evaluate.observed_rna_effects`).

    Raises
    ------
    CMCVAEInputError
        A missing modality or column, or fewer than 2 control cells.
    """
    if readout == "rna":
        rna, prot = rna_modality(perturb), None
    else:
        rna, prot = modalities(perturb)
    labels = obs_column(perturb, rna, prot, perturbation_key, "perturbation")
    if condition_key is not None:
        obs_column(perturb, rna, prot, condition_key, "condition")
    control_mask(labels, control_labels(control_label), perturbation_key)


def _cp10k_scale(counts) -> np.ndarray:
    """Per-cell factor to CP10k (0 for an empty cell), as :func:`cmcvae.pp.log_normalize`."""
    lib = library_size(counts)
    return np.divide(TARGET_SUM, lib, out=np.zeros_like(lib, dtype=np.float64), where=lib > 0)


def _column_subset(counts, idx: np.ndarray):
    """The columns ``idx`` of ``counts`` (sparse as CSC, for cheap column slices)."""
    sub = counts[:, idx]
    return sp.csc_matrix(sub) if sp.issparse(sub) else sub


def log_normalized_columns(counts, idx: np.ndarray):
    """Return ``f(j)`` giving ``log1p`` CP10k of column ``idx[j]`` (same values as ``log_normalize``).

    Only the requested columns are kept (sparse stays sparse, one dense column at a time).
    """
    scale = _cp10k_scale(counts)
    sub = _column_subset(counts, idx)

    def column(j: int) -> np.ndarray:
        col = sub[:, [j]].toarray().ravel() if sp.issparse(sub) else np.asarray(sub[:, j]).ravel()
        return np.log1p(col.astype(np.float64) * scale)

    return column


def log_normalized_blocks(
    counts, idx: np.ndarray, max_values: int = 2**23
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(columns, block)``: dense ``log1p`` CP10k of ``idx[columns]``, a few at a time.

    Each block holds at most ``max_values`` values (cells × columns, float64; at least one
    column), so a large sparse screen is never densified whole.
    """
    scale = _cp10k_scale(counts)
    sub = _column_subset(counts, idx)
    step = max(1, int(max_values) // max(counts.shape[0], 1))
    for start in range(0, len(idx), step):
        cols = slice(start, min(len(idx), start + step))
        block = sub[:, cols]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        yield cols, np.log1p(block.astype(np.float64) * scale[:, None])
