"""Observed protein changes of each knockdown in a perturbation screen (:func:`observed_effects`).

The steps, each a function below: check the options; read the screen (modalities, columns,
control cells, :mod:`cmcvae.evaluate._screen`); set up the comparison (:class:`_Design`:
conditions, usable control cells, centring); keep the perturbations that target a model gene;
match the model's proteins to the panel (:func:`~cmcvae.evaluate._matching.match_proteins`);
count the cells of each perturbation; test that each target transcript dropped (knockdown
filter); then one row per (perturbation, protein) with the mean CLR difference, its p-value,
the Benjamini-Hochberg q-value and the cis flag, and the filtering report in ``.attrs``. The
definitions are those of :mod:`cmcvae.evaluate._perturbation`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._matching import cis_pairs, match_proteins
from cmcvae.evaluate._metrics import bh_fdr
from cmcvae.evaluate._screen import (
    control_labels,
    control_mask,
    log_normalized_columns,
    modalities,
    obs_column,
    raw_counts,
)
from cmcvae.pp import clr

__all__ = ["OBSERVED_COLUMNS", "observed_effects"]

#: Columns of :func:`observed_effects` (in this order; ``cis`` and ``panel_protein`` follow).
OBSERVED_COLUMNS = [
    "perturbation",
    "protein",
    "observed_effect",
    "pvalue",
    "qvalue",
    "significant",
    "n_cells",
    "n_control",
]

_TESTS = ("welch", "mannwhitney")


def observed_effects(
    perturb,
    *,
    control_label: str | Sequence[str] = "control",
    perturbation_key: str = "perturbation",
    condition_key: str | None = None,
    genes: Sequence[str] | None = None,
    proteins: Sequence[str] | None = None,
    protein_map: pd.DataFrame | None = None,
    knockdown_filter: bool = True,
    knockdown_pvalue: float = 0.05,
    min_cells: int = 10,
    fdr: float = 0.05,
    test: str = "welch",
) -> pd.DataFrame:
    """Observed protein changes of each knockdown against the control cells.

    Proteins are CLR-transformed per cell over the perturbation data's full panel. For each
    perturbation (label in ``obs[perturbation_key]`` = targeted gene symbol) and protein,
    ``observed_effect`` = mean CLR(perturbed) − mean CLR(control); the p-value is a two-sided
    Welch t-test (``test="welch"``) or Mann-Whitney U test (``test="mannwhitney"``) and the
    q-value is Benjamini-Hochberg over all reported pairs. Pairs whose test is undefined
    (constant values) get NaN p/q-values and are not significant.

    With ``condition_key`` each perturbed cell is compared with the control cells of its own
    condition: every value is centred on the mean of its condition's control cells, the
    effect is the mean centred value of the perturbed cells (= the perturbed-cell-weighted
    mean over conditions of condition-matched mean differences) and the test compares the
    centred perturbed values with the centred control values of the conditions where the
    perturbation has cells (see :mod:`cmcvae.evaluate._perturbation`). Conditions with fewer than
    ``min_cells`` control cells are not used; their perturbed cells are left out.

    Perturbations are kept when (in this order) the target is one of ``genes``, the label has
    at least ``min_cells`` (condition-matched) cells and, with ``knockdown_filter``, the target
    transcript dropped: its mean log-normalised expression (CP10k, ``log1p``; condition-centred
    like the proteins) is lower than in the controls with a one-sided p-value (same test)
    below ``knockdown_pvalue``. A target not measured in the perturbation RNA cannot be
    checked and is kept.

    Parameters
    ----------
    perturb
        :class:`mudata.MuData` with modalities ``rna`` and ``prot`` (raw counts in
        ``layers['counts']`` or ``.X``, same cells) and the perturbation column in ``obs``.
    control_label
        Label (or labels, e.g. ``["NT", "non-targeting"]``) of the control cells.
    perturbation_key
        ``obs`` column naming the targeted gene of each cell (``mdata.obs`` or a modality's).
    condition_key
        Optional ``obs`` column with each cell's condition (e.g. Control / IFNγ / Co-culture in
        Frangieh et al. 2021); cells without a condition are left out.
    genes
        The model's genes; perturbations targeting other genes are dropped. Default: all genes
        of the perturbation RNA.
    proteins
        The model's proteins; scored proteins are these ∩ the perturbation panel, matched by
        exact name, then by canonical antigen (:func:`match_proteins`). The ``protein``
        column holds the model's names, ``panel_protein`` the panel's. Default: the whole
        perturbation panel.
    protein_map
        Optional ``protein,gene`` table (docs/design.md §2) used to flag pairs where the knocked-down
        gene encodes the protein (column ``cis``), matched by the model's or the panel's name
        or the canonical antigen. Without it the packaged antigen → gene map and a
        case-insensitive equality of gene and protein names are used.
    knockdown_filter
        Drop perturbations whose target transcript did not drop (see above).
    knockdown_pvalue
        One-sided p-value threshold of the knockdown filter.
    min_cells
        Minimum number of cells of a perturbation (and of control cells per condition when
        ``condition_key`` is given).
    fdr
        Benjamini-Hochberg level for ``significant``.
    test
        ``"welch"`` or ``"mannwhitney"``.

    Returns
    -------
    pandas.DataFrame
        One row per (perturbation, protein) with columns ``perturbation, protein,
        observed_effect, pvalue, qvalue, significant, n_cells, n_control, cis,
        panel_protein``. Its ``.attrs`` hold the filtering report (JSON-serialisable):

        - ``attrs["dropped"]``: list of dicts ``{perturbation, reason, n_cells, target_log_fc,
          knockdown_pvalue}`` for every perturbation label left out; ``reason`` is one of
          ``"target not among the model's genes"``, ``"no condition-matched control cells"``,
          ``"too few cells"``, ``"no knockdown"``.
        - ``attrs["knockdown"]``: same dict for every perturbation that was checked and kept
          (with a condition key also ``n_cells_by_condition``).
        - ``attrs["summary"]``: ``{control_label, n_control, n_perturbation_labels, n_kept,
          n_dropped, dropped_by_reason, n_proteins, test, fdr, condition_key,
          protein_matching}`` plus, with a condition key, ``conditions`` (per condition:
          ``n_control``, ``n_perturbed`` cells of kept perturbations, ``used``) and
          ``n_cells_without_condition``.

    Raises
    ------
    CMCVAEInputError
        Missing modality, perturbation or condition column, no control cells, no
        perturbation targeting a model gene, no overlapping proteins, bad options, or nothing
        left after filtering.
    """
    _check_options(test, fdr, knockdown_pvalue)
    min_cells = max(int(min_cells), 2)
    rna, prot = modalities(perturb)
    screen = screen_plan(perturb, rna, prot, _var_names, genes, control_label, perturbation_key,
                         condition_key, min_cells)
    mapping, matching = _match_panel(proteins, prot)
    model_names = list(mapping)

    # Per-cell CLR over the full perturbation panel, then the scored proteins, centred on the
    # control mean of each cell's condition.
    panel = pd.Index(prot.var_names.astype(str))
    prot_idx = panel.get_indexer(list(mapping.values()))
    prot_c = screen.design.centre(clr(raw_counts(prot)).astype(np.float64)[:, prot_idx])

    kept, checked, dropped, masks = select_perturbations(
        screen, rna, min_cells, test, knockdown_filter, knockdown_pvalue)
    out = _effect_rows(kept, masks, prot_c, screen.design, model_names, test)
    out = _finish(out, fdr, cis_pairs(kept, model_names, protein_map, mapping), mapping)
    return attach_report(out, screen, kept, checked, dropped, test, fdr, condition_key,
                         ("n_proteins", len(model_names)), {"protein_matching": matching})


@dataclass(frozen=True)
class ScreenPlan:
    """A screen's perturbation labels, control labels and comparison design (both read-outs)."""

    labels: pd.Series
    controls: list[str]
    design: _Design
    found: pd.Series
    pert_labels: list[str]
    in_model: list[str]
    model_genes: set[str]
    rna_genes: pd.Index


def _var_names(rna) -> pd.Index:
    return pd.Index(rna.var_names.astype(str))


def screen_plan(perturb, rna, prot, gene_names: Callable[[Any], pd.Index],
                genes: Sequence[str] | None,
                control_label: str | Sequence[str], perturbation_key: str,
                condition_key: str | None, min_cells: int) -> ScreenPlan:
    """Read the labels (and conditions) of a screen and set up its comparison design;
    ``gene_names(rna)`` gives the screen's genes (and may refuse them)."""
    labels = obs_column(perturb, rna, prot, perturbation_key, "perturbation")
    controls = control_labels(control_label)
    cond_values = (
        None if condition_key is None
        else obs_column(perturb, rna, prot, condition_key, "condition")
    )
    design = _design(
        control_mask(labels, controls, perturbation_key), cond_values, condition_key, min_cells
    )
    found = labels.dropna().value_counts()
    rna_genes = gene_names(rna)
    model_genes = set(rna_genes) if genes is None else {str(g) for g in genes}
    pert_labels, in_model = _targets(found, controls, model_genes, perturbation_key)
    return ScreenPlan(labels, controls, design, found, pert_labels, in_model, model_genes,
                      rna_genes)


def select_perturbations(screen: ScreenPlan, rna, min_cells: int, test: str,
                         knockdown_filter: bool, knockdown_pvalue: float) -> tuple:
    """The perturbations to score: targets among the model's genes, enough cells, and (with the
    filter) a target transcript that dropped. Returns ``(kept, checked, dropped, masks)``."""
    dropped = [
        _record(lab, "target not among the model's genes", int(screen.found[lab]))
        for lab in screen.pert_labels
        if lab not in screen.model_genes
    ]
    masks = _cell_masks(screen.in_model, screen.labels.to_numpy(), screen.found, screen.design,
                        min_cells, dropped)
    kept, checked = _knockdown_filter(
        masks, rna, screen.rna_genes, screen.design, test, knockdown_filter, knockdown_pvalue,
        dropped
    )
    if not kept:
        _nothing_left(dropped, min_cells)
    return kept, checked, dropped, masks


def attach_report(out: pd.DataFrame, screen: ScreenPlan, kept: list[str],
                  checked: list[dict[str, Any]], dropped: list[dict[str, Any]], test: str,
                  fdr: float, condition_key: str | None, count: tuple[str, int],
                  extra: dict[str, Any]) -> pd.DataFrame:
    """Put the filtering report (``dropped``, ``knockdown``, ``summary``) in ``out.attrs``."""
    controls, design = screen.controls, screen.design
    summary: dict[str, Any] = {
        "control_label": controls[0] if len(controls) == 1 else controls,
        "n_control": int(design.control.sum()),
        "n_perturbation_labels": len(screen.pert_labels),
        "n_kept": len(kept),
        "n_dropped": len(dropped),
        "dropped_by_reason": _count_reasons(dropped),
        count[0]: count[1],
        "test": test,
        "fdr": float(fdr),
        "condition_key": condition_key,
        **extra,
    }
    if design.by_condition:
        summary.update(design.report(np.isin(screen.labels.to_numpy(), kept) & design.in_used))
    out.attrs["dropped"] = dropped
    out.attrs["knockdown"] = checked
    out.attrs["summary"] = summary
    return out


def _check_options(test: str, fdr: float, knockdown_pvalue: float) -> None:
    if test not in _TESTS:
        raise CMCVAEInputError(f"Unknown test {test!r}; use one of {list(_TESTS)}.")
    if not 0 < fdr < 1 or not 0 < knockdown_pvalue <= 1:
        raise CMCVAEInputError(
            f"fdr ({fdr}) must be in (0, 1) and knockdown_pvalue ({knockdown_pvalue}) in (0, 1]."
        )


@dataclass(frozen=True)
class _Design:
    """Which cells are compared with which.

    Attributes
    ----------
    codes
        Condition index of each cell (``-1``: no condition); all ``0`` without a condition key.
    names
        Condition names (``["all"]`` without a condition key).
    usable
        Per condition: it has enough control cells to be used.
    in_used
        Per cell: its condition is used.
    control
        Per cell: a control cell of a used condition.
    is_control
        Per cell: labelled a control (any condition).
    by_condition
        A condition key was given.
    """

    codes: np.ndarray
    names: list[str]
    usable: np.ndarray
    in_used: np.ndarray
    control: np.ndarray
    is_control: np.ndarray
    by_condition: bool

    def centre(self, values: np.ndarray) -> np.ndarray:
        """``values`` (cells × features) minus the control mean of each cell's condition."""
        return _centre(values, self.codes, self.control, len(self.names))

    def matched_controls(self, mask: np.ndarray) -> np.ndarray:
        """The control cells of the conditions where the cells of ``mask`` are."""
        if not self.by_condition:
            return self.control
        return self.control & np.isin(self.codes, np.unique(self.codes[mask]))

    def cells_by_condition(self, mask: np.ndarray) -> dict[str, int]:
        """``{condition: number of cells of mask}`` for the conditions that have any."""
        per = np.bincount(self.codes[mask], minlength=len(self.names))
        return {self.names[c]: int(per[c]) for c in range(len(self.names)) if per[c]}

    def report(self, kept_mask: np.ndarray) -> dict[str, Any]:
        """The per-condition part of the summary (``kept_mask``: cells of kept perturbations)."""
        return {
            "conditions": {
                name: {
                    "n_control": int((self.is_control & (self.codes == c)).sum()),
                    "n_perturbed": int((kept_mask & (self.codes == c)).sum()),
                    "used": bool(self.usable[c]),
                }
                for c, name in enumerate(self.names)
            },
            "n_cells_without_condition": int((self.codes < 0).sum()),
        }


def _design(
    is_control: np.ndarray,
    cond_values: pd.Series | None,
    condition_key: str | None,
    min_cells: int,
) -> _Design:
    """Conditions: an index per cell (-1 = none), used when they have enough control cells."""
    if cond_values is None:
        codes = np.zeros(len(is_control), dtype=np.int64)
        names = ["all"]
        usable = np.array([True])
    else:
        raw_codes, uniques = pd.factorize(cond_values, use_na_sentinel=True)
        codes = np.asarray(raw_codes, dtype=np.int64)
        names = [str(u) for u in uniques]
        n_ctrl_cond = np.bincount(codes[is_control & (codes >= 0)], minlength=len(names))
        usable = n_ctrl_cond >= min_cells
        if not usable.any():
            per = dict(zip(names, n_ctrl_cond.tolist(), strict=True))
            raise CMCVAEInputError(
                f"No condition in {condition_key!r} has at least {min_cells} control cells "
                f"(control cells per condition: {per}); lower min_cells or check the condition "
                "key and control label."
            )
    in_used = (codes >= 0) & usable[np.maximum(codes, 0)]
    return _Design(
        codes=codes,
        names=names,
        usable=usable,
        in_used=in_used,
        control=is_control & in_used,
        is_control=is_control,
        by_condition=cond_values is not None,
    )


def _targets(
    found: pd.Series, controls: list[str], model_genes: set[str], perturbation_key: str
) -> tuple[list[str], list[str]]:
    """The perturbation labels (most cells first) and those that target a model gene."""
    pert_labels = [lab for lab in found.index if lab not in controls]
    if not pert_labels:
        raise CMCVAEInputError(
            f"All labelled cells are controls ({controls}); the perturbation data has no "
            f"knockdowns in {perturbation_key!r}."
        )
    in_model = [lab for lab in pert_labels if lab in model_genes]
    if not in_model:
        raise CMCVAEInputError(
            f"None of the {len(pert_labels)} perturbation targets (e.g. {pert_labels[:8]}) is "
            f"among the model's {len(model_genes)} genes (e.g. {sorted(model_genes)[:8]}). "
            f"{perturbation_key!r} must hold the targeted gene symbol, named as in the training "
            "data (same symbol convention); fit the model with these genes (HVG selection may "
            "have removed them) or check the perturbation column."
        )
    return pert_labels, in_model


def _match_panel(
    proteins: Sequence[str] | None, prot
) -> tuple[dict[str, str], dict[str, Any]]:
    """:func:`match_proteins` of the model's proteins to the screen's panel; none is an error."""
    panel = pd.Index(prot.var_names.astype(str))
    mapping, matching = match_proteins(proteins, panel)
    if not mapping:
        wanted = list(panel) if proteins is None else [str(p) for p in proteins]
        raise CMCVAEInputError(
            f"No protein of the model (e.g. {wanted[:8]}) is in the perturbation panel "
            f"(e.g. {list(panel[:8])}); proteins are matched by name and by canonical antigen "
            "(cmcvae.pp.canonical_antigen). Rename the antibodies so both "
            "datasets name the same antigens."
        )
    return mapping, matching


def _cell_masks(
    in_model: list[str],
    label_arr: np.ndarray,
    found: pd.Series,
    design: _Design,
    min_cells: int,
    dropped: list[dict[str, Any]],
) -> dict[str, np.ndarray]:
    """``{label: its cells in used conditions}`` for labels with enough cells (rest → dropped)."""
    masks: dict[str, np.ndarray] = {}
    for lab in in_model:
        mask = (label_arr == lab) & design.in_used
        n_matched = int(mask.sum())
        if n_matched == 0:
            dropped.append(_record(lab, "no condition-matched control cells", int(found[lab])))
        elif n_matched < min_cells:
            dropped.append(_record(lab, "too few cells", n_matched))
        else:
            masks[lab] = mask
    return masks


def _knockdown_filter(
    masks: dict[str, np.ndarray],
    rna,
    rna_genes: pd.Index,
    design: _Design,
    test: str,
    knockdown_filter: bool,
    knockdown_pvalue: float,
    dropped: list[dict[str, Any]],
) -> tuple[list[str], list[dict[str, Any]]]:
    """Knockdown strength of each candidate's target transcript (condition-centred).

    Returns the kept labels and their records; a label whose measured target did not drop is
    appended to ``dropped`` (when ``knockdown_filter``). An unmeasured target is kept.
    """
    rna_set = set(rna_genes)
    measured = [lab for lab in masks if lab in rna_set]
    column = (
        log_normalized_columns(raw_counts(rna), rna_genes.get_indexer(measured))
        if measured
        else None
    )
    measured_pos = {lab: j for j, lab in enumerate(measured)}
    kept: list[str] = []
    checked: list[dict[str, Any]] = []
    for lab, mask in masks.items():
        ctrl = design.matched_controls(mask)
        if column is not None and lab in measured_pos:
            expr = design.centre(column(measured_pos[lab])[:, None])[:, 0]
            lfc = float(expr[mask].mean() - expr[ctrl].mean())
            pval = float(_test(expr[mask], expr[ctrl], test, alternative="less")[0])
        else:
            lfc, pval = float("nan"), float("nan")
        rec = _record(lab, "", int(mask.sum()), lfc, pval)
        if design.by_condition:
            rec["n_cells_by_condition"] = design.cells_by_condition(mask)
        knocked = lfc < 0 and pval < knockdown_pvalue  # False for NaN
        if knockdown_filter and lab in measured_pos and not knocked:
            rec["reason"] = "no knockdown"
            dropped.append(rec)
            continue
        rec.pop("reason")
        checked.append(rec)
        kept.append(lab)
    return kept, checked


def _effect_rows(
    kept: list[str],
    masks: dict[str, np.ndarray],
    prot_c: np.ndarray,
    design: _Design,
    model_names: list[str],
    test: str,
) -> pd.DataFrame:
    """One row per (kept perturbation, protein): effect, p-value and cell counts."""
    rows = []
    for lab in kept:
        effect, pvals, n_cells, n_control = _effect_stats(masks[lab], prot_c, design, test)
        rows.append(
            pd.DataFrame(
                {
                    "perturbation": lab,
                    "protein": model_names,
                    "observed_effect": effect,
                    "pvalue": pvals,
                    "n_cells": n_cells,
                    "n_control": n_control,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _effect_stats(
    mask: np.ndarray, values: np.ndarray, design: _Design, test: str
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per feature (column of the centred ``values``): effect and p-value of the cells of ``mask``.

    Shared by the protein and the gene read-outs (``_observed_rna.py``), so both use the same
    comparison. Returns ``(effect, pvalue, n_cells, n_control)``.
    """
    ctrl = design.matched_controls(mask)
    pert = values[mask]
    ctrl_vals = values[ctrl]
    # The centred controls of each condition average to 0, so this is the perturbed-cell-
    # weighted mean of condition-matched differences, and the Welch mean difference.
    effect = pert.mean(axis=0) - ctrl_vals.mean(axis=0)
    return effect, _test(pert, ctrl_vals, test), int(mask.sum()), int(ctrl.sum())


def _nothing_left(dropped: list[dict[str, Any]], min_cells: int) -> None:
    reasons = pd.Series([d["reason"] for d in dropped]).value_counts().to_dict()
    raise CMCVAEInputError(
        f"No perturbation is left to score ({reasons}). Lower min_cells (now {min_cells}), "
        "or turn the knockdown filter off (knockdown_filter=False / --no-knockdown-filter) "
        "if the target transcripts are not expected to drop."
    )


def _finish(
    out: pd.DataFrame, fdr: float, cis: set[tuple[str, str]], mapping: dict[str, str]
) -> pd.DataFrame:
    """Add q-values (BH over all pairs), ``significant``, ``cis`` and ``panel_protein``."""
    out["qvalue"] = bh_fdr(out["pvalue"].to_numpy())
    out["significant"] = (out["qvalue"] < fdr).to_numpy()
    out["cis"] = [(g, p) in cis for g, p in zip(out["perturbation"], out["protein"], strict=True)]
    out["panel_protein"] = out["protein"].map(mapping)
    return out[[*OBSERVED_COLUMNS, "cis", "panel_protein"]]


def _count_reasons(dropped: list[dict[str, Any]]) -> dict[str, int]:
    by_reason = pd.Series([d["reason"] for d in dropped], dtype=object).value_counts().to_dict()
    return {str(k): int(v) for k, v in by_reason.items()}


# --------------------------------------------------------------------------- statistics


def _test(a: np.ndarray, b: np.ndarray, test: str, alternative: str = "two-sided") -> np.ndarray:
    """Column-wise p-values of ``a`` vs ``b``; NaN where undefined (e.g. constant values)."""
    with np.errstate(all="ignore"):
        if test == "welch":
            res = stats.ttest_ind(a, b, axis=0, equal_var=False, alternative=alternative)
        else:
            res = stats.mannwhitneyu(a, b, axis=0, alternative=alternative)
    return np.atleast_1d(np.asarray(res.pvalue, dtype=np.float64))


def _centre(values: np.ndarray, codes: np.ndarray, control: np.ndarray, n_cond: int) -> np.ndarray:
    """Subtract from every cell the mean of the control cells of its condition.

    ``codes`` holds each cell's condition index (``-1``: no condition; such rows are left
    as they are and must not be used). ``values`` is cells × features.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    for c in range(n_cond):
        ctrl = control & (codes == c)
        if ctrl.any():
            rows = codes == c
            out[rows] -= values[ctrl].mean(axis=0)
    return out


def _record(
    lab: str, reason: str, n_cells: int, lfc: float = float("nan"), pval: float = float("nan")
) -> dict[str, Any]:
    return {
        "perturbation": lab,
        "reason": reason,
        "n_cells": n_cells,
        "target_log_fc": lfc,
        "knockdown_pvalue": pval,
    }
