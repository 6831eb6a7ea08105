"""Zero-shot perturbation validation (DESIGN §3, ``cmcvae validate``).

A model (or baseline) supplies an *effect matrix*: a :class:`pandas.DataFrame` indexed by gene
symbols with protein names as columns, whose entry is the predicted change of the protein when
the gene is knocked **down** (the sign is the predicted direction). Perturbation data
(``.h5mu`` with ``rna`` and ``prot`` raw counts and ``obs["perturbation"]`` naming the targeted
gene, DESIGN §2) give the observed effects:

1. :func:`observed_effects` — per (perturbation, protein): mean CLR difference to the control
   cells, a Welch t-test (or Mann-Whitney U), Benjamini-Hochberg over all pairs; perturbations
   whose target transcript did not drop are left out (knockdown filter).
2. :func:`score_predictions` — AUROC/AUPRC of ``|predicted|`` for the significant pairs and
   direction accuracy of the predicted signs.
3. :func:`validate` — both of the above for several methods at once, plus a table of
   predictions; :func:`write_validation` writes ``validation.json`` and ``predictions.csv``.
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

from .._errors import CMCVAEInputError
from ..data.preprocess import TARGET_SUM, clr, library_size
from ._metrics import auprc, auroc, bh_fdr, direction_accuracy

__all__ = [
    "OBSERVED_COLUMNS",
    "PREDICTION_COLUMNS",
    "observed_effects",
    "score_predictions",
    "validate",
    "write_validation",
]

RNA_MOD = "rna"
PROT_MOD = "prot"

#: Columns of :func:`observed_effects` (in this order; ``cis`` is appended last).
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

#: Leading columns of the predictions table (DESIGN §3 contract).
PREDICTION_COLUMNS = ["perturbation", "protein", "predicted_effect", "observed_effect", "significant"]

_TESTS = ("welch", "mannwhitney")

#: Keys :func:`validate` puts at the top level of its results; methods may not use them as names.
_RESERVED_KEYS = frozenset(
    {"method", "methods", "auroc", "auprc", "direction_accuracy", "n_perturbations", "n_pairs",
     "n_significant", "median_perturbation_auroc", "pair_direction_accuracy", "filtering"}
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
            f"{type(perturb).__name__}. Read it with `mudata.read_h5mu`."
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


def _labels(perturb, rna, prot, key: str) -> pd.Series:
    """Perturbation label per cell, from ``mdata.obs`` or a modality's ``obs``."""
    for frame in (perturb.obs, rna.obs, prot.obs):
        if key in frame.columns and len(frame) == rna.n_obs:
            col = frame[key].reindex(rna.obs_names) if frame is perturb.obs else frame[key]
            labels = col.astype(object).where(col.notna(), None)
            return pd.Series(
                [None if v is None else str(v) for v in labels], index=rna.obs_names, dtype=object
            )
    cols = sorted(set(map(str, perturb.obs.columns)) | set(map(str, rna.obs.columns)))
    raise CMCVAEInputError(
        f"The perturbation data has no obs column {key!r} naming the targeted gene of each cell "
        f"(obs columns: {cols[:20]}). Add it, or pass the right column name "
        "(perturbation_key / --perturbation-key)."
    )


def _lognorm_columns(counts, lib: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``log1p`` CP10k of the columns ``idx`` only (same values as ``log_normalize``)."""
    sub = counts[:, idx]
    sub = sub.toarray() if sp.issparse(sub) else np.asarray(sub)
    scale = np.divide(TARGET_SUM, lib, out=np.zeros_like(lib), where=lib > 0)
    return np.log1p(sub.astype(np.float64) * scale[:, None])


def _cis_pairs(
    perts: Sequence[str], proteins: Sequence[str], protein_map: pd.DataFrame | None
) -> set[tuple[str, str]]:
    """(gene, protein) pairs where the gene encodes the protein."""
    if protein_map is None:
        return {(g, p) for g in perts for p in proteins if g.upper() == p.upper()}
    if not isinstance(protein_map, pd.DataFrame) or not {"protein", "gene"} <= set(
        protein_map.columns
    ):
        raise CMCVAEInputError(
            "protein_map must be a DataFrame with columns 'protein' and 'gene' (one row per "
            "antibody and encoded gene, DESIGN §2)."
        )
    return {(str(g), str(p)) for p, g in zip(protein_map["protein"], protein_map["gene"], strict=True)}


def _test(a: np.ndarray, b: np.ndarray, test: str, alternative: str = "two-sided") -> np.ndarray:
    """Column-wise p-values of ``a`` vs ``b``; NaN where undefined (e.g. constant values)."""
    with np.errstate(all="ignore"):
        if test == "welch":
            res = stats.ttest_ind(a, b, axis=0, equal_var=False, alternative=alternative)
        else:
            res = stats.mannwhitneyu(a, b, axis=0, alternative=alternative)
    return np.atleast_1d(np.asarray(res.pvalue, dtype=np.float64))


# --------------------------------------------------------------------------- observed effects


def observed_effects(
    perturb,
    *,
    control_label: str | Sequence[str] = "control",
    perturbation_key: str = "perturbation",
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

    Perturbations are kept when (in this order) the target is one of ``genes``, the label has
    at least ``min_cells`` cells and, with ``knockdown_filter``, the target transcript dropped:
    its mean log-normalised expression (CP10k, ``log1p``) is lower than in the controls with a
    one-sided p-value (same test) below ``knockdown_pvalue``. A target not measured in the
    perturbation RNA cannot be checked and is kept.

    Parameters
    ----------
    perturb
        :class:`mudata.MuData` with modalities ``rna`` and ``prot`` (raw counts in
        ``layers['counts']`` or ``.X``, same cells) and the perturbation column in ``obs``.
    control_label
        Label (or labels, e.g. ``["NT", "non-targeting"]``) of the control cells.
    perturbation_key
        ``obs`` column naming the targeted gene of each cell (``mdata.obs`` or a modality's).
    genes
        The model's genes; perturbations targeting other genes are dropped. Default: all genes
        of the perturbation RNA.
    proteins
        The model's proteins; scored proteins are these ∩ the perturbation panel, matched by
        name. Default: the whole perturbation panel.
    protein_map
        Optional ``protein,gene`` table (DESIGN §2) used to flag pairs where the knocked-down
        gene encodes the protein (column ``cis``). Without it a case-insensitive equality of
        gene and protein names is used.
    knockdown_filter
        Drop perturbations whose target transcript did not drop (see above).
    knockdown_pvalue
        One-sided p-value threshold of the knockdown filter.
    min_cells
        Minimum number of cells of a perturbation.
    fdr
        Benjamini-Hochberg level for ``significant``.
    test
        ``"welch"`` or ``"mannwhitney"``.

    Returns
    -------
    pandas.DataFrame
        One row per (perturbation, protein) with columns ``perturbation, protein,
        observed_effect, pvalue, qvalue, significant, n_cells, n_control, cis``. Its ``.attrs``
        hold the filtering report (JSON-serialisable):

        - ``attrs["dropped"]``: list of dicts ``{perturbation, reason, n_cells, target_log_fc,
          knockdown_pvalue}`` for every perturbation label left out; ``reason`` is one of
          ``"target not among the model's genes"``, ``"too few cells"``, ``"no knockdown"``.
        - ``attrs["knockdown"]``: same dict for every perturbation that was checked and kept.
        - ``attrs["summary"]``: ``{control_label, n_control, n_perturbation_labels, n_kept,
          n_dropped, dropped_by_reason, n_proteins, test, fdr}``.

    Raises
    ------
    CMCVAEInputError
        Missing modality or perturbation column, no control cells, no perturbation targeting a
        model gene, no overlapping proteins, bad options, or nothing left after filtering.
    """
    if test not in _TESTS:
        raise CMCVAEInputError(f"Unknown test {test!r}; use one of {list(_TESTS)}.")
    if not 0 < fdr < 1 or not 0 < knockdown_pvalue <= 1:
        raise CMCVAEInputError(
            f"fdr ({fdr}) must be in (0, 1) and knockdown_pvalue ({knockdown_pvalue}) in (0, 1]."
        )
    min_cells = max(int(min_cells), 2)
    rna, prot = _modalities(perturb)
    labels = _labels(perturb, rna, prot, perturbation_key)
    controls = [control_label] if isinstance(control_label, str) else [str(c) for c in control_label]
    found = labels.dropna().value_counts()

    is_control = labels.isin(controls).to_numpy()
    n_control = int(is_control.sum())
    if n_control == 0:
        shown = found.index[:15].tolist()
        raise CMCVAEInputError(
            f"No control cells: no cell has {perturbation_key!r} equal to {controls} "
            f"(labels found, most frequent first: {shown}{' …' if len(found) > 15 else ''}). "
            "Pass the control label of this dataset (control_label / --control-label, e.g. "
            "'NT' or 'non-targeting')."
        )
    if n_control < 2:
        raise CMCVAEInputError(
            f"Only {n_control} control cell labelled {controls}: at least 2 are needed to test "
            "for effects. Check the control label."
        )

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
    wanted = panel if proteins is None else pd.Index([str(p) for p in proteins])
    shared_proteins = [p for p in panel if p in set(wanted)]
    if not shared_proteins:
        raise CMCVAEInputError(
            f"No protein of the model (e.g. {list(wanted[:8])}) is in the perturbation panel "
            f"(e.g. {list(panel[:8])}); proteins are matched by name. Rename the antibodies so "
            "both datasets use the same names."
        )
    prot_idx = panel.get_indexer(shared_proteins)

    # Per-cell CLR over the full perturbation panel, then the scored proteins only.
    prot_clr = clr(_counts(prot)).astype(np.float64)[:, prot_idx]
    clr_ctrl = prot_clr[is_control]

    dropped: list[dict[str, Any]] = []
    checked: list[dict[str, Any]] = []
    for lab in pert_labels:
        if lab not in model_genes:
            dropped.append(_record(lab, "target not among the model's genes", int(found[lab])))
    candidates = [lab for lab in in_model if found[lab] >= min_cells]
    for lab in in_model:
        if found[lab] < min_cells:
            dropped.append(_record(lab, "too few cells", int(found[lab])))

    # Knockdown strength of each candidate's target transcript.
    rna_counts = _counts(rna)
    measured = [lab for lab in candidates if lab in set(rna_genes)]
    target_expr = None
    if measured:
        lib = library_size(rna_counts)
        target_expr = pd.DataFrame(
            _lognorm_columns(rna_counts, lib, rna_genes.get_indexer(measured)), columns=measured
        )
    label_arr = labels.to_numpy()
    kept: list[str] = []
    for lab in candidates:
        mask = label_arr == lab
        if target_expr is not None and lab in target_expr.columns:
            expr = target_expr[lab].to_numpy()
            lfc = float(expr[mask].mean() - expr[is_control].mean())
            pval = float(_test(expr[mask], expr[is_control], test, alternative="less")[0])
        else:
            lfc, pval = float("nan"), float("nan")
        rec = _record(lab, "", int(mask.sum()), lfc, pval)
        knocked = lfc < 0 and pval < knockdown_pvalue  # False for NaN
        if knockdown_filter and target_expr is not None and lab in target_expr.columns and not knocked:
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
        mask = label_arr == lab
        pert = prot_clr[mask]
        effect = pert.mean(axis=0) - clr_ctrl.mean(axis=0)
        pvals = _test(pert, clr_ctrl, test)
        rows.append(
            pd.DataFrame(
                {
                    "perturbation": lab,
                    "protein": shared_proteins,
                    "observed_effect": effect,
                    "pvalue": pvals,
                    "n_cells": int(mask.sum()),
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["qvalue"] = bh_fdr(out["pvalue"].to_numpy())
    out["significant"] = (out["qvalue"] < fdr).to_numpy()
    out["n_control"] = n_control
    cis = _cis_pairs(kept, shared_proteins, protein_map)
    out["cis"] = [(g, p) in cis for g, p in zip(out["perturbation"], out["protein"], strict=True)]
    out = out[[*OBSERVED_COLUMNS, "cis"]]

    by_reason = pd.Series([d["reason"] for d in dropped], dtype=object).value_counts().to_dict()
    out.attrs["dropped"] = dropped
    out.attrs["knockdown"] = checked
    out.attrs["summary"] = {
        "control_label": controls[0] if len(controls) == 1 else controls,
        "n_control": n_control,
        "n_perturbation_labels": len(pert_labels),
        "n_kept": len(kept),
        "n_dropped": len(dropped),
        "dropped_by_reason": {str(k): int(v) for k, v in by_reason.items()},
        "n_proteins": len(shared_proteins),
        "test": test,
        "fdr": float(fdr),
    }
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
    (row = perturbed gene, column = protein).

    Parameters
    ----------
    effects
        Genes × proteins effect matrix; entry = predicted change of the protein when the gene
        is knocked down (sign = direction).
    observed
        Output of :func:`observed_effects` (at least ``perturbation, protein,
        observed_effect, significant``).

    Returns
    -------
    dict
        - ``auroc``, ``auprc``: pooled over all scored pairs, ``|predicted|`` as score and
          ``significant`` as label (``nan`` if only one class).
        - ``per_perturbation_auroc``: ``{perturbation: AUROC}`` for perturbations with both
          significant and non-significant pairs; ``median_perturbation_auroc`` its median.
        - ``direction_accuracy`` (gene level): for each perturbation with ≥ 1 significant
          protein, the fraction of its significant proteins where sign(predicted) ==
          sign(observed); then the unweighted mean over those perturbations. A predicted 0 (or
          missing) counts as the wrong direction. ``nan`` if nothing is significant.
        - ``pair_direction_accuracy``: the same fraction pooled over all significant pairs.
        - ``spearman``: Spearman correlation of predicted and observed effects over all pairs.
        - ``n_perturbations``, ``n_pairs``, ``n_significant``: scored perturbations, pairs and
          significant pairs; ``n_perturbations_significant``: perturbations with ≥ 1
          significant pair.

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
        if sig[m].any() and not sig[m].all():
            per_pert[str(lab)] = auroc(np.abs(pred[m]), sig[m])
    with np.errstate(invalid="ignore"):
        rho = (
            float(stats.spearmanr(pred, obs_eff).statistic)
            if len(pred) > 2 and np.ptp(pred) > 0 and np.ptp(obs_eff) > 0
            else float("nan")
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
        "spearman": rho,
        "n_perturbations": int(len(pd.unique(pert))),
        "n_perturbations_significant": int(len(pd.unique(pert[sig]))),
        "n_pairs": int(len(pred)),
        "n_significant": int(sig.sum()),
    }


# --------------------------------------------------------------------------- validate


def validate(
    effects_by_method: Mapping[str, pd.DataFrame], perturb, **observed_kwargs: Any
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Compute observed effects once and score every method's effect matrix against them.

    Parameters
    ----------
    effects_by_method
        Ordered ``{method name: effect matrix}``; the FIRST entry is the primary method (the
        model). Names must not clash with the top-level result keys (``auroc``, ``filtering``,
        …).
    perturb
        Perturbation :class:`mudata.MuData` (see :func:`observed_effects`).
    **observed_kwargs
        Passed to :func:`observed_effects`. ``genes`` and ``proteins`` default to the primary
        method's rows and columns.

    Returns
    -------
    results : dict
        ``{method: score_predictions(...)}`` for every method, plus for the primary method the
        top-level keys ``method`` (its name), ``auroc``, ``auprc``, ``direction_accuracy``,
        ``pair_direction_accuracy``, ``median_perturbation_auroc``, ``n_perturbations``,
        ``n_pairs``, ``n_significant``, ``methods`` (list of names in order) and ``filtering``
        (the observed-effects report: ``attrs["summary"]`` plus ``dropped``, ``knockdown``).
    predictions : pandas.DataFrame
        One row per pair scored for the primary method, columns
        ``perturbation, protein, predicted_effect, observed_effect, significant`` followed by
        ``pvalue, qvalue, n_cells, n_control, cis`` and ``predicted_<method>`` for every other
        method (NaN where that method has no prediction).

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

    results: dict[str, Any] = {}
    for name, eff in matrices.items():
        results[name] = score_predictions(eff, observed)
    top = results[primary]
    summary = dict(observed.attrs.get("summary", {}))
    summary["dropped"] = list(observed.attrs.get("dropped", []))
    summary["knockdown"] = list(observed.attrs.get("knockdown", []))
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
                "median_perturbation_auroc",
                "n_perturbations",
                "n_pairs",
                "n_significant",
            )
        },
        "filtering": summary,
    }
    results = {**header, **results}

    pred = _predicted_column(matrices[primary], observed)
    keep = np.isfinite(pred)
    table = observed.loc[keep].reset_index(drop=True).copy()
    table.attrs = {}
    table.insert(2, "predicted_effect", pred[keep])
    extra = ["pvalue", "qvalue", "n_cells", "n_control", "cis"]
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
    """Write ``validation.json`` and ``predictions.csv`` into ``run_dir`` (DESIGN §3).

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
