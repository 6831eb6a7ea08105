"""Scoring an effect matrix against observed knockdown effects (:func:`score_predictions`).

The metrics and the scored pairs are defined in :mod:`cmcvae.evaluate._perturbation` (and written
to ``validation.json["definitions"]``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate._metrics import auprc, auroc, direction_accuracy

__all__ = ["check_effects", "predicted_column", "readout_column", "score_predictions"]


def readout_column(observed: pd.DataFrame) -> str:
    """The column naming the read-out of each observed pair: ``protein``, else ``gene``.

    The protein read-out (:func:`~cmcvae.evaluate.observed_effects`) names it ``protein``, the
    gene read-out (:func:`~cmcvae.evaluate.observed_rna_effects`) ``gene``; the perturbed gene
    is always ``perturbation``.
    """
    return "gene" if "protein" not in observed.columns and "gene" in observed.columns else "protein"


def check_effects(effects: pd.DataFrame, name: str = "effects") -> pd.DataFrame:
    """A float copy of a genes × proteins effect matrix with string, unique labels."""
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
    readout = readout_column(observed) if isinstance(observed, pd.DataFrame) else "protein"
    need = {"perturbation", readout, "observed_effect", "significant"}
    if not isinstance(observed, pd.DataFrame) or not need <= set(observed.columns):
        raise CMCVAEInputError(
            f"observed must be the DataFrame from observed_effects with columns {sorted(need)}."
        )


def predicted_column(effects: pd.DataFrame, observed: pd.DataFrame) -> np.ndarray:
    """Predicted effect for each observed pair (NaN where the matrix lacks the pair).

    Rows of ``effects`` are perturbed genes, columns the read-outs (:func:`readout_column`).
    """
    rows = effects.index.get_indexer(observed["perturbation"].astype(str))
    cols = effects.columns.get_indexer(observed[readout_column(observed)].astype(str))
    values = effects.to_numpy()
    ok = (rows >= 0) & (cols >= 0)
    pred = np.full(len(observed), np.nan)
    pred[ok] = values[rows[ok], cols[ok]]
    return pred


def score_predictions(effects: pd.DataFrame, observed: pd.DataFrame) -> dict[str, Any]:
    """Score predicted knockdown effects against observed ones.

    Scored pairs are the rows of ``observed`` for which ``effects`` has a finite prediction
    (row = perturbed gene, column = protein); the other rows are left out of every metric
    (counted in ``n_missing``). The definitions are those of :mod:`cmcvae.evaluate._perturbation`.

    Parameters
    ----------
    effects
        Genes × proteins effect matrix; entry = predicted change of the protein when the gene
        is knocked down (sign = direction). For the gene read-out, genes × genes.
    observed
        Output of :func:`~cmcvae.evaluate.observed_effects` (at least ``perturbation, protein,
        observed_effect, significant``; ``cis`` enables the cis/trans numbers) or of
        :func:`~cmcvae.evaluate.observed_rna_effects` (``gene`` instead of ``protein``).

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
    eff = check_effects(effects)
    _check_observed(observed)
    pred = predicted_column(eff, observed)
    keep = np.isfinite(pred)
    if not keep.any():
        readout = readout_column(observed)
        raise CMCVAEInputError(
            f"The effect matrix shares no (gene, {readout}) pair with the observed effects: its "
            f"rows (e.g. {list(eff.index[:5])}) must be the perturbed genes "
            f"(e.g. {list(pd.unique(observed['perturbation'])[:5])}) and its columns the "
            f"{readout}s (e.g. {list(pd.unique(observed[readout])[:5])})."
        )
    obs = observed.loc[keep]
    pred = pred[keep]
    sig = obs["significant"].to_numpy(dtype=bool)
    obs_eff = obs["observed_effect"].to_numpy(dtype=np.float64)
    pert = obs["perturbation"].astype(str).to_numpy()
    per_pert = _per_perturbation_auroc(pred, sig, pert)
    n_sig = int(sig.sum())
    cis = obs["cis"].to_numpy(dtype=bool) if "cis" in obs.columns else None
    return {
        "auroc": auroc(np.abs(pred), sig),
        "auprc": auprc(np.abs(pred), sig),
        "per_perturbation_auroc": per_pert,
        "median_perturbation_auroc": float(np.median(list(per_pert.values())))
        if per_pert
        else float("nan"),
        "direction_accuracy": direction_accuracy(pred[sig], obs_eff[sig], groups=pert[sig]),
        "pair_direction_accuracy": direction_accuracy(pred[sig], obs_eff[sig]),
        **_cis_trans(pred, obs_eff, sig, pert, cis),
        "spearman": _spearman(pred, obs_eff),
        "n_perturbations": int(len(pd.unique(pert))),
        "n_perturbations_significant": int(len(pd.unique(pert[sig]))),
        "n_pairs": int(len(pred)),
        "n_significant": n_sig,
        "n_missing": int((~keep).sum()),
    }


def _per_perturbation_auroc(pred: np.ndarray, sig: np.ndarray, pert: np.ndarray) -> dict[str, float]:
    """``{perturbation: AUROC of |predicted|}`` where it is defined (both classes present)."""
    per_pert: dict[str, float] = {}
    for lab in pd.unique(pert):
        m = pert == lab
        value = auroc(np.abs(pred[m]), sig[m])
        if math.isfinite(value):
            per_pert[str(lab)] = value
    return per_pert


def _spearman(pred: np.ndarray, obs_eff: np.ndarray) -> float:
    """Spearman correlation of predicted and observed effects (NaN when either is constant)."""
    with np.errstate(invalid="ignore"):
        return (
            float(stats.spearmanr(pred, obs_eff).statistic)
            if len(pred) > 2 and np.ptp(pred) > 0 and np.ptp(obs_eff) > 0
            else float("nan")
        )


def _cis_trans(
    pred: np.ndarray,
    obs_eff: np.ndarray,
    sig: np.ndarray,
    pert: np.ndarray,
    cis: np.ndarray | None,
) -> dict[str, Any]:
    """Direction accuracy over the significant cis / trans pairs (NaN / None without ``cis``)."""
    split: dict[str, Any] = {
        "direction_accuracy_cis": float("nan"),
        "direction_accuracy_trans": float("nan"),
        "n_significant_cis": None,
        "n_significant_trans": None,
        "fraction_significant_cis": float("nan"),
    }
    if cis is None:
        return split
    n_sig = int(sig.sum())
    for name, part in (("cis", sig & cis), ("trans", sig & ~cis)):
        split[f"direction_accuracy_{name}"] = direction_accuracy(
            pred[part], obs_eff[part], groups=pert[part]
        )
        split[f"n_significant_{name}"] = int(part.sum())
    split["fraction_significant_cis"] = (
        float((sig & cis).sum() / n_sig) if n_sig else float("nan")
    )
    return split
