"""Scoring helpers shared by the evaluation code: ranking metrics, FDR and direction accuracy.

All functions take array-likes, ignore pairs whose score is not finite and return ``nan``
(never raise) when a metric is undefined, e.g. when only one class is present.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import false_discovery_control
from sklearn.metrics import average_precision_score, roc_auc_score

__all__ = ["auroc", "auprc", "bh_fdr", "direction_accuracy", "sign_agreement"]


def _scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    """Flatten, check lengths and drop pairs whose score is NaN/inf."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    if s.shape != y.shape:
        raise ValueError(f"scores ({s.size}) and labels ({y.size}) have different lengths.")
    keep = np.isfinite(s)
    return s[keep], y[keep]


def _one_class(y: np.ndarray) -> bool:
    """True when a ranking metric is undefined (no labels, or only one class)."""
    return y.size == 0 or bool(y.all()) or not y.any()


def auroc(scores, labels) -> float:
    """Area under the ROC curve of ``scores`` for the binary ``labels``.

    Parameters
    ----------
    scores
        Real-valued scores (higher = more likely positive). Non-finite scores are ignored.
    labels
        Binary labels (bool or 0/1) of the same length.

    Returns
    -------
    float
        The AUROC (ties count one half), or ``nan`` when fewer than two classes are present.
    """
    s, y = _scores_labels(scores, labels)
    return float("nan") if _one_class(y) else float(roc_auc_score(y, s))


def auprc(scores, labels) -> float:
    """Area under the precision-recall curve (average precision) of ``scores`` for ``labels``.

    Parameters
    ----------
    scores
        Real-valued scores (higher = more likely positive). Non-finite scores are ignored.
    labels
        Binary labels (bool or 0/1) of the same length.

    Returns
    -------
    float
        Average precision, or ``nan`` when fewer than two classes are present. A random
        ranking scores about the fraction of positives.
    """
    s, y = _scores_labels(scores, labels)
    return float("nan") if _one_class(y) else float(average_precision_score(y, s))


def bh_fdr(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), NaN-safe.

    Parameters
    ----------
    pvalues
        P-values of any shape. NaN entries (e.g. from a test on constant values) are left out
        of the adjustment and stay NaN in the output.

    Returns
    -------
    numpy.ndarray
        Float64 array of the input's shape.
    """
    p = np.asarray(pvalues, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    keep = np.isfinite(flat)
    if keep.any():
        adjusted = false_discovery_control(np.clip(flat[keep], 0.0, 1.0), method="bh")
        out_flat = out.ravel()
        out_flat[keep] = adjusted
        out = out_flat.reshape(p.shape)
    return out


def sign_agreement(predicted, observed) -> np.ndarray:
    """Per pair, whether ``sign(predicted) == sign(observed)`` (a predicted 0 is wrong).

    Parameters
    ----------
    predicted, observed
        Signed values of the same length.

    Returns
    -------
    numpy.ndarray
        Boolean array; pairs with a non-finite or zero prediction are ``False``.
    """
    pred = np.asarray(predicted, dtype=np.float64).ravel()
    obs = np.asarray(observed, dtype=np.float64).ravel()
    if pred.shape != obs.shape:
        raise ValueError(f"predicted ({pred.size}) and observed ({obs.size}) differ in length.")
    with np.errstate(invalid="ignore"):
        sp, so = np.sign(pred), np.sign(obs)
    return np.isfinite(pred) & (sp != 0) & (sp == so)


def direction_accuracy(predicted, observed, groups: Sequence | np.ndarray | None = None) -> float:
    """Fraction of pairs whose predicted sign matches the observed sign.

    Parameters
    ----------
    predicted, observed
        Signed predicted and observed effects of the same length (pass only the pairs that
        should be scored, e.g. the significant ones). A predicted 0 or NaN counts as wrong.
    groups
        Optional group label per pair (e.g. the perturbation). When given, the accuracy is
        computed within each group and the unweighted mean over groups is returned, so every
        group counts once however many pairs it has.

    Returns
    -------
    float
        Accuracy in [0, 1], or ``nan`` when there are no pairs.
    """
    correct = sign_agreement(predicted, observed)
    if correct.size == 0:
        return float("nan")
    if groups is None:
        return float(correct.mean())
    g = np.asarray(groups).ravel()
    if g.shape != correct.shape:
        raise ValueError(f"groups ({g.size}) and predicted ({correct.size}) differ in length.")
    _, inverse = np.unique(g, return_inverse=True)
    per_group = np.bincount(inverse, weights=correct) / np.bincount(inverse)
    return float(per_group.mean())
