"""Zero-shot perturbation validation (docs/design.md §3, ``cmcvae validate``).

A model (or baseline) supplies an *effect matrix*: a :class:`pandas.DataFrame` indexed by gene
symbols with protein names as columns, whose entry is the predicted change of the protein when
the gene is knocked **down** (the sign is the predicted direction). Perturbation data (a
:class:`mudata.MuData` with ``rna`` and ``prot`` raw counts, e.g. an ``.h5mu`` file or
scPerturb's pair ``*_RNA.h5ad`` + ``*_protein.h5ad`` read with
:func:`cmcvae.io.read_input`, and an ``obs`` column naming the targeted gene) give the
observed effects:

1. :func:`~cmcvae.evaluate.observed_effects` (``_observed.py``) — per (perturbation, protein):
   mean CLR difference to the control cells, a Welch t-test (or Mann-Whitney U),
   Benjamini-Hochberg over all pairs; perturbations whose target transcript did not drop are
   left out (knockdown filter). With a ``condition_key`` (e.g. Frangieh et al. 2021: Control /
   IFNγ / Co-culture) every perturbed cell is compared with the control cells of its own
   condition (see below). The screen is read and checked in ``_screen.py``, proteins matched
   in ``_matching.py``.
2. :func:`~cmcvae.evaluate.score_predictions` (``_scoring.py``) — AUROC/AUPRC of
   ``|predicted|`` for the significant pairs and direction accuracy of the predicted signs.
3. :func:`validate` (this module) — both of the above for several methods at once, plus a table of
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
canonical antigen (:func:`cmcvae.pp.canonical_antigen`: ``HLA_A`` = ``HLA-A``,
``PD-1`` = ``CD279``, ``CD3-1`` = ``CD3``); the matching is reported in
``attrs["summary"]["protein_matching"]`` (``validation.json["filtering"]["protein_matching"]``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._observed import observed_effects
from cmcvae.evaluate._observed_rna import observed_rna_effects
from cmcvae.evaluate._scoring import check_effects, predicted_column, score_predictions
from cmcvae.evaluate._screen import check_perturbation_data

# check_perturbation_data, observed_effects and score_predictions are listed for the importers of
# this module's old path (cmcvae.tl); new code imports them from cmcvae.evaluate.
__all__ = [
    "DEFINITIONS",
    "PREDICTION_COLUMNS",
    "PREDICTION_COLUMNS_RNA",
    "READOUTS",
    "VALIDATION_FILES",
    "check_perturbation_data",
    "observed_effects",
    "score_predictions",
    "validate",
    "write_validation",
]


#: Leading columns of the predictions table (docs/design.md §3 contract).
PREDICTION_COLUMNS = ["perturbation", "protein", "predicted_effect", "observed_effect", "significant"]
#: Leading columns of the gene read-out's table, ``predictions_rna.csv`` (docs/design.md §7).
PREDICTION_COLUMNS_RNA = ["perturbation", "gene", "predicted_effect", "observed_effect", "significant"]
#: The read-outs :func:`validate` scores: proteins (CITE-seq panel) or genes (transcripts).
READOUTS = ("protein", "rna")
#: ``(results JSON, predictions CSV)`` written per read-out by :func:`write_validation`.
VALIDATION_FILES: dict[str, tuple[str, str]] = {
    "protein": ("validation.json", "predictions.csv"),
    "rna": ("validation_rna.json", "predictions_rna.csv"),
}

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
     "fraction_significant_cis", "seconds", "knockdown_efficiency", "estimator", "effects"}
)

#: What the gene read-out changes in :data:`DEFINITIONS` (``validation_rna.json``).
_RNA_DEFINITIONS: dict[str, str] = {
    "observed_effect": (
        "Mean log-normalised expression (CP10k, log1p; library size over the whole screen RNA) of "
        "the perturbed cells minus that of the control cells; with a condition key, the "
        "perturbed-cell-weighted mean over conditions of condition-matched differences."
    ),
    "scored_pairs": (
        "The rows of predictions_rna.csv: observed (perturbation, gene) pairs, the target's own "
        "transcript excluded, with a finite prediction of the primary method; every method is "
        "scored on these rows, leaving out the rows where its own prediction is missing."
    ),
    "knockdown_efficiency": (
        "Per perturbation whose target transcript is measured: target_log_fc = mean "
        "log-normalised target expression of the perturbed cells minus the controls "
        "(condition-centred, natural log units) and the one-sided p-value of the knockdown "
        "filter; the target's own transcript is not a scored pair. median_target_log_fc is the "
        "median over the scored perturbations."
    ),
}


def validate(
    effects_by_method: Mapping[str, pd.DataFrame],
    perturb,
    readout: str = "protein",
    **observed_kwargs: Any,
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
        Perturbation :class:`mudata.MuData` (see :func:`observed_effects`); for the gene
        read-out an RNA-only MuData or AnnData is enough.
    readout
        ``"protein"`` (effect matrices genes × proteins, :func:`observed_effects`) or ``"rna"``
        (genes × genes, :func:`~cmcvae.evaluate.observed_rna_effects`: the table's second
        column is ``gene``, the target's own transcript is not scored, and the results hold
        ``knockdown_efficiency``).
    **observed_kwargs
        Passed to :func:`observed_effects` / :func:`~cmcvae.evaluate.observed_rna_effects`
        (e.g. ``control_label``, ``condition_key``). ``genes`` (and for proteins ``proteins``)
        default to the primary method's rows (and columns).

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
        No methods, a reserved or duplicate method name, an unknown read-out, or any error of
        :func:`observed_effects` / :func:`score_predictions`.
    """
    if readout not in READOUTS:
        raise CMCVAEInputError(f"Unknown readout {readout!r}; use one of {list(READOUTS)}.")
    matrices = _check_methods(effects_by_method)
    names = list(matrices)
    primary = names[0]
    observed_kwargs.setdefault("genes", list(matrices[primary].index))
    if readout == "rna":
        observed = observed_rna_effects(perturb, **observed_kwargs)
    else:
        observed_kwargs.setdefault("proteins", list(matrices[primary].columns))
        observed = observed_effects(perturb, **observed_kwargs)

    # The scored pairs: rows where the primary method predicts something (= predictions.csv).
    pred = predicted_column(matrices[primary], observed)
    keep = np.isfinite(pred)
    scored = observed.loc[keep].reset_index(drop=True).copy()
    scored.attrs = {}
    results: dict[str, Any] = {}
    for name, eff in matrices.items():
        results[name] = score_predictions(eff, scored if keep.any() else observed)
    header = {
        "method": primary,
        "methods": names,
        **{k: results[primary][k] for k in _HEADLINE},
        "definitions": _definitions(observed_kwargs.get("condition_key"), readout),
        "filtering": _filtering(observed, keep),
    }
    if readout == "rna":
        header["knockdown_efficiency"] = observed.attrs["knockdown_efficiency"]
    return {**header, **results}, _predictions_table(scored, pred[keep], matrices, readout)


#: The primary method's numbers repeated at the top level of the results (in this order).
_HEADLINE = (
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


def _check_methods(effects_by_method: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``{name: checked float matrix}``; names unique and not a top-level result key."""
    if not effects_by_method:
        raise CMCVAEInputError("No effect matrices to validate: pass {method name: DataFrame}.")
    names = [str(k) for k in effects_by_method]
    clash = [n for n in names if n in _RESERVED_KEYS]
    if clash or len(set(names)) != len(names):
        raise CMCVAEInputError(
            f"Method names must be unique and not one of {sorted(_RESERVED_KEYS)}; got {names}."
        )
    return {str(k): check_effects(v, f"{k!r} effects") for k, v in effects_by_method.items()}


def _definitions(condition_key: str | None, readout: str = "protein") -> dict[str, str]:
    """:data:`DEFINITIONS`, with the observed effect's wording for the run's comparison."""
    definitions = dict(DEFINITIONS)
    if readout == "rna":
        definitions.update(_RNA_DEFINITIONS)
        if condition_key is None:
            definitions["observed_effect"] = (
                "Mean log-normalised expression (CP10k, log1p) of the perturbed cells minus that "
                "of all control cells (no condition key given)."
            )
        return definitions
    if condition_key is None:
        definitions["observed_effect"] = (
            "Mean per-cell CLR (over the perturbation panel) of the perturbed cells minus that of "
            "all control cells (no condition key given)."
        )
    return definitions


def _filtering(observed: pd.DataFrame, keep: np.ndarray) -> dict[str, Any]:
    """The observed-effects report plus the rows without a primary prediction."""
    summary = dict(observed.attrs.get("summary", {}))
    summary["n_pairs_without_prediction"] = int((~keep).sum())
    summary["dropped"] = list(observed.attrs.get("dropped", []))
    summary["knockdown"] = list(observed.attrs.get("knockdown", []))
    return summary


def _predictions_table(
    scored: pd.DataFrame,
    predicted: np.ndarray,
    matrices: Mapping[str, pd.DataFrame],
    readout: str = "protein",
) -> pd.DataFrame:
    """``predictions.csv``: the scored pairs, the primary prediction, then the other methods'."""
    table = scored.copy()
    table.insert(2, "predicted_effect", predicted)
    extra = ["pvalue", "qvalue", "n_cells", "n_control", "cis", "panel_protein"]
    leading = PREDICTION_COLUMNS_RNA if readout == "rna" else PREDICTION_COLUMNS
    table = table[[*leading, *[c for c in extra if c in table.columns]]].copy()
    others = {
        f"predicted_{name}": predicted_column(eff, table)
        for name, eff in list(matrices.items())[1:]
    }
    if others:
        table = pd.concat([table, pd.DataFrame(others, index=table.index)], axis=1)
    return table


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
    results: Mapping[str, Any],
    predictions: pd.DataFrame,
    run_dir: str | Path,
    readout: str = "protein",
) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``predictions.csv`` into ``run_dir`` (docs/design.md §3).

    Parameters
    ----------
    results, predictions
        The two outputs of :func:`validate`.
    run_dir
        Run directory; created if missing.
    readout
        The read-out validated: ``"rna"`` writes ``validation_rna.json`` and
        ``predictions_rna.csv`` instead (:data:`VALIDATION_FILES`).

    Returns
    -------
    tuple of pathlib.Path
        Paths of ``validation.json`` (NaN written as ``null``) and ``predictions.csv``.
    """
    if readout not in VALIDATION_FILES:
        raise CMCVAEInputError(f"Unknown readout {readout!r}; use one of {list(READOUTS)}.")
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    json_name, csv_name = VALIDATION_FILES[readout]
    json_path = run / json_name
    csv_path = run / csv_name
    json_path.write_text(json.dumps(_jsonable(results), indent=2, allow_nan=False) + "\n")
    predictions.to_csv(csv_path, index=False)
    return json_path, csv_path
