"""Zero-shot perturbation validation (docs/design.md §3, ``cmcvae validate``).

A model (or baseline) supplies an *effect matrix*: a :class:`pandas.DataFrame` indexed by gene
symbols with protein names as columns, whose entry is the predicted change of the protein when
the gene is knocked **down** (the sign is the predicted direction). Perturbation data (a
:class:`mudata.MuData` with ``rna`` and ``prot`` raw counts, e.g. an ``.h5mu`` file or
scPerturb's pair ``*_RNA.h5ad`` + ``*_protein.h5ad`` read with
:func:`cmcvae.io._contract.read_input`, and an ``obs`` column naming the targeted gene) give the
observed effects:

1. :func:`observed_effects` — per (perturbation, protein): mean CLR difference to the control
   cells, a Welch t-test (or Mann-Whitney U), Benjamini-Hochberg over all pairs; perturbations
   whose target transcript did not drop are left out (knockdown filter). With a
   ``condition_key`` (e.g. Frangieh et al. 2021: Control / IFNγ / Co-culture) every perturbed
   cell is compared with the control cells of its own condition (see below).
2. :func:`score_predictions` — AUROC/AUPRC of ``|predicted|`` for the significant pairs and
   direction accuracy of the predicted signs.
3. :func:`validate` — both of the above for several methods at once, plus a table of
   predictions; :func:`write_validation` writes ``validation.json`` and ``predictions.csv``.

Definitions (also written to ``validation.json["definitions"]``)
------------------------------------------------------------------
observed effect
    Proteins are CLR-transformed per cell over the whole perturbation panel. Without
    conditions: mean CLR(perturbed) − mean CLR(control). With ``condition_key``:
    ``Σ_c (n_c / n) · (mean CLR(perturbed in c) − mean CLR(controls in c))`` over the
    conditions ``c`` where the perturbation has cells (``n_c`` perturbed cells in ``c``,
    ``n = Σ n_c``), i.e. the mean of the *condition-centred* values of the perturbed cells,
    where a cell's condition-centred value is its value minus the mean of the control cells of
    its condition. The p-value is the test (Welch or Mann-Whitney) of the condition-centred
    values of the perturbed cells against the condition-centred values of the control cells of
    the same conditions. Centring removes a condition shift (IFNγ raising MHC-I in every cell)
    that would otherwise masquerade as a knockout effect of a perturbation enriched in one
    condition; the Welch mean difference of the centred values is exactly the effect above.
    The test treats the per-condition control means as known (their uncertainty is ignored,
    which is negligible with the thousands of control cells per condition of a screen) and
    pools the centred controls of the conditions involved. The knockdown filter uses the same
    centring on the target transcript.
scored pairs
    ``predictions.csv`` has one row per observed pair for which the primary method (the model)
    has a finite prediction. Every method is scored on exactly these rows; a method's rows
    without a finite prediction (``predicted_<method>`` empty) are left out of all of its
    metrics (its ``n_pairs`` counts the rest, ``n_missing`` the left-out rows).
AUROC / AUPRC
    ``|predicted effect|`` as score for the label ``significant`` (BH q-value < ``fdr``),
    pooled over the scored pairs; per-perturbation AUROC the same within a perturbation that
    has both significant and non-significant pairs.
direction accuracy
    Per perturbation with ≥ 1 significant pair, the fraction of its significant pairs where
    ``sign(predicted) == sign(observed)`` — a predicted 0 counts as wrong — then the
    unweighted mean over those perturbations. ``pair_direction_accuracy`` pools all
    significant pairs instead. ``direction_accuracy_cis`` / ``_trans`` restrict the same
    definition to cis pairs (the knocked-down gene encodes the protein) / trans pairs;
    ``fraction_significant_cis`` is the fraction of significant pairs that are cis. The
    trivial ``always_down`` baseline scores well exactly when significant effects are mostly
    a target's own protein, which these numbers expose.

Proteins of the model and of the perturbation panel are matched by exact name first, then by
canonical antigen (:func:`cmcvae.pp._protein_map.canonical_antigen`: ``HLA_A`` = ``HLA-A``,
``PD-1`` = ``CD279``, ``CD3-1`` = ``CD3``); the matching is reported in
``attrs["summary"]["protein_matching"]`` (``validation.json["filtering"]["protein_matching"]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._metrics import auprc, auroc, bh_fdr, direction_accuracy
from cmcvae.pp._normalize import TARGET_SUM, clr, library_size
from cmcvae.pp._protein_map import canonical_antigen, default_protein_map

__all__ = [
    "DEFINITIONS",
    "OBSERVED_COLUMNS",
    "PREDICTION_COLUMNS",
    "check_perturbation_data",
    "match_proteins",
    "observed_effects",
    "score_predictions",
    "validate",
    "write_validation",
]


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

#: Leading columns of the predictions table (docs/design.md §3 contract).
PREDICTION_COLUMNS = ["perturbation", "protein", "predicted_effect", "observed_effect", "significant"]

_TESTS = ("welch", "mannwhitney")

#: One-line definitions written to ``validation.json["definitions"]``.
DEFINITIONS: dict[str, str] = {
    "observed_effect": (
        "Mean per-cell CLR (over the perturbation panel) of the perturbed cells minus that of the "
        "control cells; with a condition key, the perturbed-cell-weighted mean over conditions of "
        "condition-matched differences (perturbed in c minus controls in c)."
    ),
    "significant": (
        "Benjamini-Hochberg q-value (over all observed pairs) below fdr; the p-value is a two-sided "
        "Welch t-test (or Mann-Whitney U) of perturbed vs control cells, on condition-centred values "
        "(value minus the mean of the controls of the cell's condition) when a condition key is given."
    ),
    "scored_pairs": (
        "The rows of predictions.csv: observed pairs with a finite prediction of the primary method; "
        "every method is scored on these rows, leaving out the rows where its own prediction is missing."
    ),
    "auroc": (
        "AUROC of |predicted effect| as score for the label 'significant', pooled over the method's "
        "scored pairs (ties count one half)."
    ),
    "auprc": "Average precision of |predicted effect| for 'significant' over the method's scored pairs.",
    "per_perturbation_auroc": (
        "The AUROC within one perturbation, for perturbations with both significant and "
        "non-significant scored pairs; median_perturbation_auroc is their median."
    ),
    "direction_accuracy": (
        "Per perturbation with >= 1 significant pair: fraction of its significant pairs with "
        "sign(predicted) == sign(observed) (a predicted 0 counts as wrong); unweighted mean over "
        "those perturbations."
    ),
    "pair_direction_accuracy": (
        "Fraction of all significant pairs, pooled, with sign(predicted) == sign(observed) (a "
        "predicted 0 counts as wrong)."
    ),
    "direction_accuracy_cis": (
        "direction_accuracy restricted to cis pairs (the knocked-down gene encodes the protein)."
    ),
    "direction_accuracy_trans": "direction_accuracy restricted to trans (non-cis) pairs.",
    "fraction_significant_cis": (
        "Fraction of the significant scored pairs that are cis; when high, the trivial "
        "'every knockdown lowers every protein' baseline (always_down) scores well."
    ),
}

#: Keys :func:`validate` puts at the top level of its results; methods may not use them as names.
_RESERVED_KEYS = frozenset(
    {"method", "methods", "auroc", "auprc", "direction_accuracy", "n_perturbations", "n_pairs",
     "n_significant", "median_perturbation_auroc", "pair_direction_accuracy", "filtering",
     "definitions", "direction_accuracy_cis", "direction_accuracy_trans",
     "fraction_significant_cis", "seconds"}
)


# --------------------------------------------------------------------------- data access


def _counts(adata) -> np.ndarray | sp.spmatrix:
    """Raw counts of a modality: ``layers['counts']`` if present, else ``.X``."""
    matrix = adata.layers["counts"] if "counts" in adata.layers else adata.X
    if matrix is None:
        raise CMCVAEInputError("A modality of the perturbation data has no data matrix (.X).")
    return matrix


def _modalities(perturb) -> tuple[Any, Any]:
    mods = getattr(perturb, "mod", None)
    if mods is None:
        raise CMCVAEInputError(
            f"Perturbation data must be a MuData with modalities 'rna' and 'prot'; got "
            f"{type(perturb).__name__}. Read it with `cmcvae.io._contract.read_input` (an .h5mu, or "
            "an RNA + protein .h5ad pair as published by scPerturb)."
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


def _obs_columns(perturb, rna, prot) -> list[str]:
    seen: dict[str, None] = {}
    for frame in (perturb.obs, rna.obs, prot.obs):
        for col in map(str, frame.columns):
            if not col.startswith((f"{RNA_MOD}:", f"{PROT_MOD}:")):
                seen.setdefault(col, None)
    return list(seen)


def _obs_column(perturb, rna, prot, key: str, role: str) -> pd.Series:
    """Per-cell string values of the ``obs`` column ``key`` (``None`` where missing).

    Looked up in ``mdata.obs``, then the RNA ``obs``, then the protein ``obs``. ``role`` is
    ``"perturbation"`` or ``"condition"`` and only changes the error message.
    """
    for frame in (perturb.obs, rna.obs, prot.obs):
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


def _control_list(control_label: str | Sequence[str]) -> list[str]:
    if isinstance(control_label, str):
        return [control_label]
    labels = [str(c) for c in control_label]
    if not labels:
        raise CMCVAEInputError("control_label is empty; give the label(s) of the control cells.")
    return labels


def _control_mask(labels: pd.Series, controls: list[str], key: str) -> np.ndarray:
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
) -> None:
    """Fail early on perturbation data that :func:`observed_effects` would reject.

    Checks the modalities, the perturbation and condition columns and the control cells, so a
    caller can stop before computing anything expensive.

    Parameters
    ----------
    perturb
        Perturbation :class:`mudata.MuData` (see :func:`observed_effects`).
    control_label
        Label (or labels) of the control cells.
    perturbation_key
        ``obs`` column naming the targeted gene of each cell.
    condition_key
        Optional ``obs`` column with the condition of each cell.

    Raises
    ------
    CMCVAEInputError
        A missing modality or column, or fewer than 2 control cells.
    """
    rna, prot = _modalities(perturb)
    labels = _obs_column(perturb, rna, prot, perturbation_key, "perturbation")
    if condition_key is not None:
        _obs_column(perturb, rna, prot, condition_key, "condition")
    _control_mask(labels, _control_list(control_label), perturbation_key)


def _column_reader(counts, idx: np.ndarray):
    """Return ``f(j)`` giving ``log1p`` CP10k of column ``idx[j]`` (same values as ``log_normalize``).

    Only the requested columns are kept (sparse stays sparse, one dense column at a time).
    """
    lib = library_size(counts)
    scale = np.divide(TARGET_SUM, lib, out=np.zeros_like(lib, dtype=np.float64), where=lib > 0)
    sub = counts[:, idx]
    if sp.issparse(sub):
        sub = sp.csc_matrix(sub)

    def column(j: int) -> np.ndarray:
        col = sub[:, [j]].toarray().ravel() if sp.issparse(sub) else np.asarray(sub[:, j]).ravel()
        return np.log1p(col.astype(np.float64) * scale)

    return column


def match_proteins(
    model_proteins: Sequence[str] | None, panel: Sequence[str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Match the model's protein names to the perturbation panel's antibody names.

    Exact names first; each model protein left over is then matched to a panel antibody left
    over with the same canonical antigen (:func:`cmcvae.pp._protein_map.canonical_antigen`:
    ``HLA_A`` = ``HLA-A``, ``PD-1`` = ``CD279``, ``CD3-1`` = ``CD3``). When several panel
    antibodies share the canonical antigen (two clones), the first in panel order is used and
    the choice is reported under ``ambiguous``. Each panel antibody is used at most once.

    Parameters
    ----------
    model_proteins
        The model's protein names; ``None`` means the whole panel (matched to itself).
    panel
        Antibody names of the perturbation data (``prot.var_names``).

    Returns
    -------
    mapping : dict
        ``{model protein: panel antibody}`` in panel order.
    report : dict
        JSON-serialisable: ``n_model, n_panel, n_matched, exact`` (names matched as they are),
        ``canonical`` (``{model: panel}`` matched after canonicalisation), ``ambiguous``
        (``{model: [panel candidates]}``, first one used), ``model_not_in_panel`` and
        ``panel_not_in_model``.
    """
    panel_names = [str(p) for p in panel]
    model = panel_names if model_proteins is None else [str(p) for p in model_proteins]
    panel_set = set(panel_names)
    mapping: dict[str, str] = {m: m for m in model if m in panel_set}
    exact = list(mapping)
    used = set(mapping.values())

    def canon(name: str) -> str | None:
        try:
            return canonical_antigen(name)
        except CMCVAEInputError:
            return None

    by_canon: dict[str, list[str]] = {}
    for p in panel_names:
        if p not in used:
            key = canon(p)
            if key is not None:
                by_canon.setdefault(key, []).append(p)
    canonical: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for m in model:
        if m in mapping:
            continue
        key = canon(m)
        cands = [p for p in by_canon.get(key, []) if p not in used] if key is not None else []
        if cands:
            mapping[m] = canonical[m] = cands[0]
            used.add(cands[0])
            if len(cands) > 1:
                ambiguous[m] = cands
    order = {p: i for i, p in enumerate(panel_names)}
    mapping = dict(sorted(mapping.items(), key=lambda kv: order[kv[1]]))
    report = {
        "n_model": len(model),
        "n_panel": len(panel_names),
        "n_matched": len(mapping),
        "exact": exact,
        "canonical": canonical,
        "ambiguous": ambiguous,
        "model_not_in_panel": [m for m in model if m not in mapping],
        "panel_not_in_model": [p for p in panel_names if p not in used],
    }
    return mapping, report


def _cis_pairs(
    perts: Sequence[str],
    proteins: Sequence[str],
    protein_map: pd.DataFrame | None,
    panel_names: Mapping[str, str] | None = None,
) -> set[tuple[str, str]]:
    """(gene, protein) pairs where the gene encodes the protein.

    ``proteins`` are the model's names; ``panel_names`` maps them to the panel's names. A pair
    is cis when ``protein_map`` lists it under the model's or the panel's antibody name or
    under the same canonical antigen. Without a map, the packaged antigen → gene map decides,
    or a case-insensitive equality of gene and protein names.
    """
    panel_names = panel_names or {}

    def canon(name: str) -> str:
        try:
            return canonical_antigen(name)
        except CMCVAEInputError:
            return name

    if protein_map is None:
        ref = default_protein_map()
        genes_of: dict[str, set[str]] = {}
        for antigen, gene in zip(ref["antigen"], ref["gene"], strict=True):
            if gene:
                genes_of.setdefault(str(antigen), set()).add(str(gene).upper())
    else:
        if not isinstance(protein_map, pd.DataFrame) or not {"protein", "gene"} <= set(
            protein_map.columns
        ):
            raise CMCVAEInputError(
                "protein_map must be a DataFrame with columns 'protein' and 'gene' (one row per "
                "antibody and encoded gene, docs/design.md §2)."
            )
        genes_of = {}
        for p, g in zip(protein_map["protein"], protein_map["gene"], strict=True):
            if pd.isna(p) or pd.isna(g) or not str(g).strip():
                continue
            for key in {str(p), canon(str(p))}:
                genes_of.setdefault(key, set()).add(str(g).upper())
    out: set[tuple[str, str]] = set()
    for p in proteins:
        names = {p, panel_names.get(p, p)}
        keys = names | {canon(n) for n in names}
        encoded = set().union(*(genes_of.get(k, set()) for k in keys))
        for g in perts:
            gu = g.upper()
            if gu in encoded or (protein_map is None and any(gu == n.upper() for n in names)):
                out.add((g, p))
    return out


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


# --------------------------------------------------------------------------- observed effects


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
    perturbation has cells (see the module docstring). Conditions with fewer than
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
    if test not in _TESTS:
        raise CMCVAEInputError(f"Unknown test {test!r}; use one of {list(_TESTS)}.")
    if not 0 < fdr < 1 or not 0 < knockdown_pvalue <= 1:
        raise CMCVAEInputError(
            f"fdr ({fdr}) must be in (0, 1) and knockdown_pvalue ({knockdown_pvalue}) in (0, 1]."
        )
    min_cells = max(int(min_cells), 2)
    rna, prot = _modalities(perturb)
    labels = _obs_column(perturb, rna, prot, perturbation_key, "perturbation")
    controls = _control_list(control_label)
    cond_values = (
        None if condition_key is None
        else _obs_column(perturb, rna, prot, condition_key, "condition")
    )
    is_control = _control_mask(labels, controls, perturbation_key)
    found = labels.dropna().value_counts()

    # Conditions: index per cell (-1 = none), used when they have enough control cells.
    if cond_values is None:
        codes = np.zeros(rna.n_obs, dtype=np.int64)
        cond_names = ["all"]
        usable = np.array([True])
    else:
        codes, uniques = pd.factorize(cond_values, use_na_sentinel=True)
        codes = np.asarray(codes, dtype=np.int64)
        cond_names = [str(u) for u in uniques]
        n_ctrl_cond = np.bincount(codes[is_control & (codes >= 0)], minlength=len(cond_names))
        usable = n_ctrl_cond >= min_cells
        if not usable.any():
            per = dict(zip(cond_names, n_ctrl_cond.tolist(), strict=True))
            raise CMCVAEInputError(
                f"No condition in {condition_key!r} has at least {min_cells} control cells "
                f"(control cells per condition: {per}); lower min_cells or check the condition "
                "key and control label."
            )
    in_used = (codes >= 0) & usable[np.maximum(codes, 0)]
    control = is_control & in_used

    rna_genes = pd.Index(rna.var_names.astype(str))
    model_genes = set(rna_genes) if genes is None else {str(g) for g in genes}
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

    panel = pd.Index(prot.var_names.astype(str))
    mapping, matching = match_proteins(proteins, panel)
    if not mapping:
        wanted = list(panel) if proteins is None else [str(p) for p in proteins]
        raise CMCVAEInputError(
            f"No protein of the model (e.g. {wanted[:8]}) is in the perturbation panel "
            f"(e.g. {list(panel[:8])}); proteins are matched by name and by canonical antigen "
            "(cmcvae.pp._protein_map.canonical_antigen). Rename the antibodies so both "
            "datasets name the same antigens."
        )
    model_names = list(mapping)
    prot_idx = panel.get_indexer(list(mapping.values()))

    # Per-cell CLR over the full perturbation panel, then the scored proteins, centred on the
    # control mean of each cell's condition.
    prot_clr = clr(_counts(prot)).astype(np.float64)[:, prot_idx]
    prot_c = _centre(prot_clr, codes, control, len(cond_names))

    label_arr = labels.to_numpy()
    dropped: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    for lab in pert_labels:
        if lab not in model_genes:
            dropped.append(_record(lab, "target not among the model's genes", int(found[lab])))
    masks: dict[str, np.ndarray] = {}
    candidates: list[str] = []
    for lab in in_model:
        mask = (label_arr == lab) & in_used
        n_matched = int(mask.sum())
        if n_matched == 0:
            dropped.append(_record(lab, "no condition-matched control cells", int(found[lab])))
        elif n_matched < min_cells:
            dropped.append(_record(lab, "too few cells", n_matched))
        else:
            masks[lab] = mask
            candidates.append(lab)

    def matched_controls(mask: np.ndarray) -> np.ndarray:
        if cond_values is None:
            return control
        return control & np.isin(codes, np.unique(codes[mask]))

    # Knockdown strength of each candidate's target transcript (condition-centred).
    rna_set = set(rna_genes)
    measured = [lab for lab in candidates if lab in rna_set]
    column = (
        _column_reader(_counts(rna), rna_genes.get_indexer(measured)) if measured else None
    )
    measured_pos = {lab: j for j, lab in enumerate(measured)}
    kept: list[str] = []
    for lab in candidates:
        mask = masks[lab]
        ctrl = matched_controls(mask)
        if column is not None and lab in measured_pos:
            expr = _centre(column(measured_pos[lab])[:, None], codes, control, len(cond_names))
            expr = expr[:, 0]
            lfc = float(expr[mask].mean() - expr[ctrl].mean())
            pval = float(_test(expr[mask], expr[ctrl], test, alternative="less")[0])
        else:
            lfc, pval = float("nan"), float("nan")
        rec = _record(lab, "", int(mask.sum()), lfc, pval)
        if cond_values is not None:
            per = np.bincount(codes[mask], minlength=len(cond_names))
            rec["n_cells_by_condition"] = {
                cond_names[c]: int(per[c]) for c in range(len(cond_names)) if per[c]
            }
        knocked = lfc < 0 and pval < knockdown_pvalue  # False for NaN
        if knockdown_filter and lab in measured_pos and not knocked:
            rec["reason"] = "no knockdown"
            dropped.append(rec)
            continue
        rec.pop("reason")
        checked.append(rec)
        kept.append(lab)

    if not kept:
        reasons = pd.Series([d["reason"] for d in dropped]).value_counts().to_dict()
        raise CMCVAEInputError(
            f"No perturbation is left to score ({reasons}). Lower min_cells (now {min_cells}), "
            "or turn the knockdown filter off (knockdown_filter=False / --no-knockdown-filter) "
            "if the target transcripts are not expected to drop."
        )

    rows = []
    for lab in kept:
        mask = masks[lab]
        ctrl = matched_controls(mask)
        pert = prot_c[mask]
        ctrl_vals = prot_c[ctrl]
        # The centred controls of each condition average to 0, so this is the perturbed-cell-
        # weighted mean of condition-matched differences, and the Welch mean difference.
        effect = pert.mean(axis=0) - ctrl_vals.mean(axis=0)
        pvals = _test(pert, ctrl_vals, test)
        rows.append(
            pd.DataFrame(
                {
                    "perturbation": lab,
                    "protein": model_names,
                    "observed_effect": effect,
                    "pvalue": pvals,
                    "n_cells": int(mask.sum()),
                    "n_control": int(ctrl.sum()),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["qvalue"] = bh_fdr(out["pvalue"].to_numpy())
    out["significant"] = (out["qvalue"] < fdr).to_numpy()
    cis = _cis_pairs(kept, model_names, protein_map, mapping)
    out["cis"] = [(g, p) in cis for g, p in zip(out["perturbation"], out["protein"], strict=True)]
    out["panel_protein"] = out["protein"].map(mapping)
    out = out[[*OBSERVED_COLUMNS, "cis", "panel_protein"]]

    by_reason = pd.Series([d["reason"] for d in dropped], dtype=object).value_counts().to_dict()
    summary: dict[str, Any] = {
        "control_label": controls[0] if len(controls) == 1 else controls,
        "n_control": int(control.sum()),
        "n_perturbation_labels": len(pert_labels),
        "n_kept": len(kept),
        "n_dropped": len(dropped),
        "dropped_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        "n_proteins": len(model_names),
        "test": test,
        "fdr": float(fdr),
        "condition_key": condition_key,
        "protein_matching": matching,
    }
    if cond_values is not None:
        kept_mask = np.isin(label_arr, kept) & in_used
        summary["conditions"] = {
            name: {
                "n_control": int((is_control & (codes == c)).sum()),
                "n_perturbed": int((kept_mask & (codes == c)).sum()),
                "used": bool(usable[c]),
            }
            for c, name in enumerate(cond_names)
        }
        summary["n_cells_without_condition"] = int((codes < 0).sum())
    out.attrs["dropped"] = dropped
    out.attrs["knockdown"] = checked
    out.attrs["summary"] = summary
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


# --------------------------------------------------------------------------- scoring


def _check_effects(effects: pd.DataFrame, name: str = "effects") -> pd.DataFrame:
    if not isinstance(effects, pd.DataFrame):
        raise CMCVAEInputError(
            f"The {name} must be a DataFrame (genes × proteins); got {type(effects).__name__}."
        )
    eff = effects.copy()
    eff.index = eff.index.astype(str)
    eff.columns = eff.columns.astype(str)
    if not eff.index.is_unique or not eff.columns.is_unique:
        raise CMCVAEInputError(
            f"The {name} matrix has duplicate gene or protein names; make them unique."
        )
    try:
        return eff.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise CMCVAEInputError(f"The {name} matrix must be numeric: {err}.") from err


def _check_observed(observed: pd.DataFrame) -> None:
    need = {"perturbation", "protein", "observed_effect", "significant"}
    if not isinstance(observed, pd.DataFrame) or not need <= set(observed.columns):
        raise CMCVAEInputError(
            f"observed must be the DataFrame from observed_effects with columns {sorted(need)}."
        )


def _predicted_column(effects: pd.DataFrame, observed: pd.DataFrame) -> np.ndarray:
    """Predicted effect for each observed pair (NaN where the matrix lacks the pair)."""
    rows = effects.index.get_indexer(observed["perturbation"].astype(str))
    cols = effects.columns.get_indexer(observed["protein"].astype(str))
    values = effects.to_numpy()
    ok = (rows >= 0) & (cols >= 0)
    pred = np.full(len(observed), np.nan)
    pred[ok] = values[rows[ok], cols[ok]]
    return pred


def score_predictions(effects: pd.DataFrame, observed: pd.DataFrame) -> dict[str, Any]:
    """Score predicted knockdown effects against observed ones.

    Scored pairs are the rows of ``observed`` for which ``effects`` has a finite prediction
    (row = perturbed gene, column = protein); the other rows are left out of every metric
    (counted in ``n_missing``). The definitions are those of the module docstring.

    Parameters
    ----------
    effects
        Genes × proteins effect matrix; entry = predicted change of the protein when the gene
        is knocked down (sign = direction).
    observed
        Output of :func:`observed_effects` (at least ``perturbation, protein,
        observed_effect, significant``; ``cis`` enables the cis/trans numbers).

    Returns
    -------
    dict
        - ``auroc``, ``auprc``: pooled over all scored pairs, ``|predicted|`` as score and
          ``significant`` as label (``nan`` if only one class).
        - ``per_perturbation_auroc``: ``{perturbation: AUROC}`` for perturbations with both
          significant and non-significant pairs; ``median_perturbation_auroc`` its median.
        - ``direction_accuracy`` (gene level): for each perturbation with ≥ 1 significant
          protein, the fraction of its significant proteins where sign(predicted) ==
          sign(observed); then the unweighted mean over those perturbations. A predicted 0
          counts as the wrong direction. ``nan`` if nothing is significant.
        - ``pair_direction_accuracy``: the same fraction pooled over all significant pairs.
        - ``direction_accuracy_cis``, ``direction_accuracy_trans``: ``direction_accuracy``
          over the significant cis (the target's own protein) / trans pairs only;
          ``n_significant_cis``, ``n_significant_trans`` and ``fraction_significant_cis``
          (``nan`` without a ``cis`` column).
        - ``spearman``: Spearman correlation of predicted and observed effects over all pairs.
        - ``n_perturbations``, ``n_pairs``, ``n_significant``: scored perturbations, pairs and
          significant pairs; ``n_perturbations_significant``: perturbations with ≥ 1
          significant pair; ``n_missing``: rows of ``observed`` without a finite prediction.

    Raises
    ------
    CMCVAEInputError
        ``effects`` is not a numeric genes × proteins matrix, or shares no pair with
        ``observed``.
    """
    eff = _check_effects(effects)
    _check_observed(observed)
    pred = _predicted_column(eff, observed)
    keep = np.isfinite(pred)
    if not keep.any():
        raise CMCVAEInputError(
            "The effect matrix shares no (gene, protein) pair with the observed effects: its rows "
            f"(e.g. {list(eff.index[:5])}) must be the perturbed genes "
            f"(e.g. {list(pd.unique(observed['perturbation'])[:5])}) and its columns the proteins "
            f"(e.g. {list(pd.unique(observed['protein'])[:5])})."
        )
    obs = observed.loc[keep]
    pred = pred[keep]
    sig = obs["significant"].to_numpy(dtype=bool)
    obs_eff = obs["observed_effect"].to_numpy(dtype=np.float64)
    pert = obs["perturbation"].astype(str).to_numpy()

    per_pert: dict[str, float] = {}
    for lab in pd.unique(pert):
        m = pert == lab
        value = auroc(np.abs(pred[m]), sig[m])
        if math.isfinite(value):
            per_pert[str(lab)] = value
    with np.errstate(invalid="ignore"):
        rho = (
            float(stats.spearmanr(pred, obs_eff).statistic)
            if len(pred) > 2 and np.ptp(pred) > 0 and np.ptp(obs_eff) > 0
            else float("nan")
        )
    n_sig = int(sig.sum())
    split: dict[str, Any] = {
        "direction_accuracy_cis": float("nan"),
        "direction_accuracy_trans": float("nan"),
        "n_significant_cis": None,
        "n_significant_trans": None,
        "fraction_significant_cis": float("nan"),
    }
    if "cis" in obs.columns:
        cis = obs["cis"].to_numpy(dtype=bool)
        for name, part in (("cis", sig & cis), ("trans", sig & ~cis)):
            split[f"direction_accuracy_{name}"] = direction_accuracy(
                pred[part], obs_eff[part], groups=pert[part]
            )
            split[f"n_significant_{name}"] = int(part.sum())
        split["fraction_significant_cis"] = (
            float((sig & cis).sum() / n_sig) if n_sig else float("nan")
        )
    return {
        "auroc": auroc(np.abs(pred), sig),
        "auprc": auprc(np.abs(pred), sig),
        "per_perturbation_auroc": per_pert,
        "median_perturbation_auroc": float(np.median(list(per_pert.values())))
        if per_pert
        else float("nan"),
        "direction_accuracy": direction_accuracy(pred[sig], obs_eff[sig], groups=pert[sig]),
        "pair_direction_accuracy": direction_accuracy(pred[sig], obs_eff[sig]),
        **split,
        "spearman": rho,
        "n_perturbations": int(len(pd.unique(pert))),
        "n_perturbations_significant": int(len(pd.unique(pert[sig]))),
        "n_pairs": int(len(pred)),
        "n_significant": n_sig,
        "n_missing": int((~keep).sum()),
    }


# --------------------------------------------------------------------------- validate


def validate(
    effects_by_method: Mapping[str, pd.DataFrame], perturb, **observed_kwargs: Any
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Compute observed effects once and score every method's effect matrix against them.

    Every method is scored on the same pairs: the observed pairs for which the primary method
    has a finite prediction, which are exactly the rows of the returned predictions table (a
    method's rows without a finite prediction of its own are left out of its metrics). So
    every number of ``results`` can be recomputed from the table (see the module docstring).

    Parameters
    ----------
    effects_by_method
        Ordered ``{method name: effect matrix}``; the FIRST entry is the primary method (the
        model). Names must not clash with the top-level result keys (``auroc``, ``filtering``,
        …).
    perturb
        Perturbation :class:`mudata.MuData` (see :func:`observed_effects`).
    **observed_kwargs
        Passed to :func:`observed_effects` (e.g. ``control_label``, ``condition_key``).
        ``genes`` and ``proteins`` default to the primary method's rows and columns.

    Returns
    -------
    results : dict
        ``{method: score_predictions(...)}`` for every method, plus for the primary method the
        top-level keys ``method`` (its name), ``auroc``, ``auprc``, ``direction_accuracy``,
        ``pair_direction_accuracy``, ``direction_accuracy_cis``, ``direction_accuracy_trans``,
        ``fraction_significant_cis``, ``median_perturbation_auroc``, ``n_perturbations``,
        ``n_pairs``, ``n_significant``, ``methods`` (list of names in order), ``definitions``
        (one line per metric) and ``filtering`` (the observed-effects report:
        ``attrs["summary"]``, with ``protein_matching`` and per-condition counts, plus
        ``dropped``, ``knockdown`` and ``n_pairs_without_prediction``).
    predictions : pandas.DataFrame
        One row per scored pair, columns
        ``perturbation, protein, predicted_effect, observed_effect, significant`` followed by
        ``pvalue, qvalue, n_cells, n_control, cis, panel_protein`` and ``predicted_<method>``
        for every other method (NaN where that method has no prediction).

    Raises
    ------
    CMCVAEInputError
        No methods, a reserved or duplicate method name, or any error of
        :func:`observed_effects` / :func:`score_predictions`.
    """
    if not effects_by_method:
        raise CMCVAEInputError("No effect matrices to validate: pass {method name: DataFrame}.")
    names = [str(k) for k in effects_by_method]
    clash = [n for n in names if n in _RESERVED_KEYS]
    if clash or len(set(names)) != len(names):
        raise CMCVAEInputError(
            f"Method names must be unique and not one of {sorted(_RESERVED_KEYS)}; got {names}."
        )
    matrices = {
        str(k): _check_effects(v, f"{k!r} effects") for k, v in effects_by_method.items()
    }
    primary = names[0]
    observed_kwargs.setdefault("genes", list(matrices[primary].index))
    observed_kwargs.setdefault("proteins", list(matrices[primary].columns))
    observed = observed_effects(perturb, **observed_kwargs)

    # The scored pairs: rows where the primary method predicts something (= predictions.csv).
    pred = _predicted_column(matrices[primary], observed)
    keep = np.isfinite(pred)
    scored = observed.loc[keep].reset_index(drop=True).copy()
    scored.attrs = {}
    results: dict[str, Any] = {}
    for name, eff in matrices.items():
        results[name] = score_predictions(eff, scored if keep.any() else observed)
    top = results[primary]
    summary = dict(observed.attrs.get("summary", {}))
    summary["n_pairs_without_prediction"] = int((~keep).sum())
    summary["dropped"] = list(observed.attrs.get("dropped", []))
    summary["knockdown"] = list(observed.attrs.get("knockdown", []))
    definitions = dict(DEFINITIONS)
    if observed_kwargs.get("condition_key") is None:
        definitions["observed_effect"] = (
            "Mean per-cell CLR (over the perturbation panel) of the perturbed cells minus that of "
            "all control cells (no condition key given)."
        )
    header = {
        "method": primary,
        "methods": names,
        **{
            k: top[k]
            for k in (
                "auroc",
                "auprc",
                "direction_accuracy",
                "pair_direction_accuracy",
                "direction_accuracy_cis",
                "direction_accuracy_trans",
                "fraction_significant_cis",
                "median_perturbation_auroc",
                "n_perturbations",
                "n_pairs",
                "n_significant",
            )
        },
        "definitions": definitions,
        "filtering": summary,
    }
    results = {**header, **results}

    table = scored.copy()
    table.insert(2, "predicted_effect", pred[keep])
    extra = ["pvalue", "qvalue", "n_cells", "n_control", "cis", "panel_protein"]
    table = table[[*PREDICTION_COLUMNS, *[c for c in extra if c in table.columns]]].copy()
    others = {f"predicted_{name}": _predicted_column(matrices[name], table) for name in names[1:]}
    if others:
        table = pd.concat([table, pd.DataFrame(others, index=table.index)], axis=1)
    return results, table


def _jsonable(obj: Any) -> Any:
    """Recursively convert numpy/pandas scalars to Python and NaN/inf to ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, np.ndarray, pd.Series, pd.Index)):
        return [_jsonable(v) for v in (obj.tolist() if hasattr(obj, "tolist") else obj)]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if obj is None or isinstance(obj, str):
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def write_validation(
    results: Mapping[str, Any], predictions: pd.DataFrame, run_dir: str | Path
) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``predictions.csv`` into ``run_dir`` (docs/design.md §3).

    Parameters
    ----------
    results, predictions
        The two outputs of :func:`validate`.
    run_dir
        Run directory; created if missing.

    Returns
    -------
    tuple of pathlib.Path
        Paths of ``validation.json`` (NaN written as ``null``) and ``predictions.csv``.
    """
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    json_path = run / "validation.json"
    csv_path = run / "predictions.csv"
    json_path.write_text(json.dumps(_jsonable(results), indent=2, allow_nan=False) + "\n")
    predictions.to_csv(csv_path, index=False)
    return json_path, csv_path
