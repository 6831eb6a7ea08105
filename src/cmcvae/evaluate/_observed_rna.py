"""Observed gene (transcript) changes of each knockdown in a screen (:func:`observed_rna_effects`).

The gene read-out of ``cmcvae validate --readout rna``. It follows the protein read-out of
:mod:`cmcvae.evaluate._observed` step by step and reuses its steps (options, conditions and
centring, target selection, cell counts, knockdown filter, the test): only the values differ.
Genes are log-normalised (CP10k, ``log1p``, library size over the whole screen RNA) instead of
CLR-transformed, and the scored genes are the model's genes measured in the screen.

The target's own transcript is not a scored pair: it is what the knockdown filter tests, so it
is significant by construction for every kept perturbation. Its change is reported separately
as the knockdown efficiency (:func:`knockdown_efficiency`).

The screen is read in blocks of genes (:func:`~cmcvae.evaluate._screen.log_normalized_blocks`),
so sparse RNA is never densified whole, and each block is tested for every perturbation at once
(vectorised over genes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._metrics import bh_fdr
from cmcvae.evaluate._observed import (
    _check_options,
    _Design,
    _effect_stats,
    attach_report,
    screen_plan,
    select_perturbations,
)
from cmcvae.evaluate._screen import (
    log_normalized_blocks,
    raw_counts,
    rna_modality,
)

__all__ = ["OBSERVED_RNA_COLUMNS", "knockdown_efficiency", "observed_rna_effects"]

#: Columns of :func:`observed_rna_effects` (in this order).
OBSERVED_RNA_COLUMNS = [
    "perturbation",
    "gene",
    "observed_effect",
    "pvalue",
    "qvalue",
    "significant",
    "n_cells",
    "n_control",
]


def observed_rna_effects(
    perturb,
    *,
    control_label: str | Sequence[str] = "control",
    perturbation_key: str = "perturbation",
    condition_key: str | None = None,
    genes: Sequence[str] | None = None,
    knockdown_filter: bool = True,
    knockdown_pvalue: float = 0.05,
    min_cells: int = 10,
    fdr: float = 0.05,
    test: str = "welch",
) -> pd.DataFrame:
    """Observed gene changes of each knockdown against the control cells.

    For each kept perturbation and each scored gene other than its target,
    ``observed_effect`` = mean log-normalised expression (CP10k, ``log1p``) of the perturbed
    cells − that of the control cells, with the condition centring, the test (two-sided Welch
    or Mann-Whitney U), the Benjamini-Hochberg q-value (over all reported gene pairs), the cell
    filters and the knockdown filter of :func:`~cmcvae.evaluate.observed_effects`.

    Parameters
    ----------
    perturb
        The screen: a :class:`mudata.MuData` with an ``rna`` modality (proteins are not
        needed) or an :class:`anndata.AnnData` of RNA; raw counts in ``layers['counts']`` or
        ``.X``, and the perturbation column in ``obs``.
    control_label
        Label (or labels) of the control cells.
    perturbation_key
        ``obs`` column naming the targeted gene of each cell.
    condition_key
        Optional ``obs`` column with each cell's condition (see
        :func:`~cmcvae.evaluate.observed_effects`).
    genes
        The model's genes: perturbations must target one of them, and the scored genes are
        those measured in the screen (in this order). Default: all genes of the screen.
    knockdown_filter, knockdown_pvalue, min_cells, fdr, test
        As for :func:`~cmcvae.evaluate.observed_effects`.

    Returns
    -------
    pandas.DataFrame
        One row per (kept perturbation, scored gene other than the target) with the columns
        :data:`OBSERVED_RNA_COLUMNS`. ``.attrs`` hold ``dropped``, ``knockdown`` and
        ``summary`` as for the protein read-out (``summary`` has ``n_genes`` instead of
        ``n_proteins`` and no protein matching) and ``knockdown_efficiency``
        (:func:`knockdown_efficiency`).

    Raises
    ------
    CMCVAEInputError
        No RNA, a missing column, no control cells, no perturbation targeting a model gene, no
        model gene measured in the screen, bad options, or nothing left after filtering.
    """
    _check_options(test, fdr, knockdown_pvalue)
    min_cells = max(int(min_cells), 2)
    rna = rna_modality(perturb)
    screen = screen_plan(perturb, rna, None, _screen_genes, genes, control_label, perturbation_key,
                         condition_key, min_cells)
    rna_genes = screen.rna_genes
    scored = _scored_genes(genes, rna_genes)
    kept, checked, dropped, masks = select_perturbations(
        screen, rna, min_cells, test, knockdown_filter, knockdown_pvalue)
    effect, pvals = _gene_stats(kept, masks, raw_counts(rna), rna_genes.get_indexer(scored),
                                screen.design, test)
    out = _rows(kept, masks, screen.design, scored, effect, pvals, fdr)
    attach_report(out, screen, kept, checked, dropped, test, fdr, condition_key,
                  ("n_genes", len(scored)), {})
    out.attrs["knockdown_efficiency"] = knockdown_efficiency(checked, dropped, knockdown_pvalue)
    return out


def knockdown_efficiency(
    checked: list[dict[str, Any]], dropped: list[dict[str, Any]], knockdown_pvalue: float
) -> dict[str, Any]:
    """How far each target transcript dropped (the pairs the gene read-out leaves out).

    Parameters
    ----------
    checked
        ``attrs["knockdown"]`` of the observed effects: the kept perturbations.
    dropped
        ``attrs["dropped"]``: the records with reason ``"no knockdown"`` are reported too.
    knockdown_pvalue
        The one-sided p-value threshold of the knockdown filter.

    Returns
    -------
    dict
        ``per_perturbation``: ``{perturbation, target_log_fc, pvalue, n_cells, scored}`` per
        perturbation whose target was tested (``target_log_fc`` = mean log-normalised target
        expression of the perturbed cells − controls, condition-centred, natural log units;
        ``pvalue`` one-sided, lower in the perturbed cells; ``scored`` = kept); then
        ``n_measured`` (perturbations with a measured target), ``n_knocked_down`` (log FC < 0
        and p-value < ``knockdown_pvalue``), ``median_target_log_fc`` and
        ``mean_target_log_fc`` over the scored perturbations and ``median_target_log_fc_all``
        over every tested one, and ``pvalue_threshold``.
    """
    failed = [d for d in dropped if d.get("reason") == "no knockdown"]
    per = [
        {
            "perturbation": rec["perturbation"],
            "target_log_fc": rec["target_log_fc"],
            "pvalue": rec["knockdown_pvalue"],
            "n_cells": rec["n_cells"],
            "scored": scored,
        }
        for recs, scored in ((checked, True), (failed, False))
        for rec in recs
    ]
    lfc = np.array([p["target_log_fc"] for p in per], dtype=np.float64)
    pval = np.array([p["pvalue"] for p in per], dtype=np.float64)
    scored_mask = np.array([p["scored"] for p in per], dtype=bool)
    measured = np.isfinite(lfc)
    kept_lfc = lfc[measured & scored_mask]
    return {
        "per_perturbation": per,
        "n_measured": int(measured.sum()),
        "n_knocked_down": int(((lfc < 0) & (pval < knockdown_pvalue)).sum()),
        "median_target_log_fc": _stat(np.median, kept_lfc),
        "mean_target_log_fc": _stat(np.mean, kept_lfc),
        "median_target_log_fc_all": _stat(np.median, lfc[measured]),
        "pvalue_threshold": float(knockdown_pvalue),
    }


def _stat(func, values: np.ndarray) -> float:
    return float(func(values)) if values.size else float("nan")


def _screen_genes(rna) -> pd.Index:
    """The screen's gene names (unique: a gene must name one column)."""
    names = pd.Index(rna.var_names.astype(str))
    if not names.is_unique:
        dups = names[names.duplicated()].unique()[:5].tolist()
        raise CMCVAEInputError(
            f"The screen's gene names are not unique (e.g. {dups}); make them unique "
            "(`adata.var_names_make_unique()`) before validating gene read-outs."
        )
    return names


def _scored_genes(genes: Sequence[str] | None, rna_genes: pd.Index) -> list[str]:
    """The model's genes measured in the screen, in the model's order (all without ``genes``)."""
    if genes is None:
        return list(rna_genes)
    measured = set(rna_genes)
    scored = [str(g) for g in genes if str(g) in measured]
    if not scored:
        raise CMCVAEInputError(
            f"None of the model's {len(genes)} genes (e.g. {[str(g) for g in genes][:8]}) is "
            f"measured in the screen's RNA (e.g. {list(rna_genes[:8])}); name genes the same way "
            "(same symbol convention) in the training data and the screen."
        )
    return scored


def _gene_stats(
    kept: list[str],
    masks: dict[str, np.ndarray],
    counts,
    idx: np.ndarray,
    design: _Design,
    test: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Effects and p-values (kept perturbations × scored genes), a block of genes at a time."""
    effect = np.empty((len(kept), len(idx)))
    pvals = np.empty((len(kept), len(idx)))
    for cols, block in log_normalized_blocks(counts, idx):
        values = design.centre(block)
        for i, lab in enumerate(kept):
            effect[i, cols], pvals[i, cols], _, _ = _effect_stats(masks[lab], values, design, test)
    return effect, pvals


def _rows(
    kept: list[str],
    masks: dict[str, np.ndarray],
    design: _Design,
    scored: list[str],
    effect: np.ndarray,
    pvals: np.ndarray,
    fdr: float,
) -> pd.DataFrame:
    """The table: one row per (perturbation, gene) without the target's own transcript."""
    n_genes = len(scored)
    pert = np.repeat(np.asarray(kept, dtype=object), n_genes)
    gene = np.tile(np.asarray(scored, dtype=object), len(kept))
    n_cells = [int(masks[lab].sum()) for lab in kept]
    n_control = [int(design.matched_controls(masks[lab]).sum()) for lab in kept]
    out = pd.DataFrame(
        {
            "perturbation": pert,
            "gene": gene,
            "observed_effect": effect.ravel(),
            "pvalue": pvals.ravel(),
            "n_cells": np.repeat(n_cells, n_genes),
            "n_control": np.repeat(n_control, n_genes),
        }
    )
    out = out.loc[out["perturbation"] != out["gene"]].reset_index(drop=True)
    out["qvalue"] = bh_fdr(out["pvalue"].to_numpy())
    out["significant"] = (out["qvalue"] < fdr).to_numpy()
    return out[OBSERVED_RNA_COLUMNS]
