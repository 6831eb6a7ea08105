"""Tree-ensemble baselines: GENIE3 (random forests) and GRNBoost2 (stochastic gradient boosting).

Both fit one regression per target gene on all other genes and read the regulator → target
score off the ensemble's feature importances. The scores are non-negative and directed in
form, though with observational data the direction is not identified.

References
----------
Huynh-Thu et al. (2010), *Inferring regulatory networks from expression data using tree-based
methods*, PLoS ONE 5:e12776. Moerman et al. (2019), *GRNBoost2 and Arboreto*, Bioinformatics
35:2159.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._trivial import check_expression, dense_edges, standardize, subsample_cells

__all__ = ["genie3", "grnboost2"]


def _auto_cells(n_features: int, power: float, budget: float) -> int:
    """Cells for ``max_cells="auto"``: ``budget / n_features**power``, at least 200."""
    return max(200, int(budget / max(n_features, 1) ** power))


def _prepare(
    X: np.ndarray,
    features: Sequence[str],
    max_cells: int | str | None,
    seed: int,
    power: float,
    budget: float,
) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
    """Check, subsample (seeded) and standardise; return data, varying mask and the generator."""
    Xa = check_expression(X, features, min_cells=3)
    if isinstance(max_cells, str):
        if max_cells != "auto":
            raise CMCVAEInputError(f"max_cells must be an integer, None or 'auto', got {max_cells!r}.")
        max_cells = _auto_cells(Xa.shape[1], power, budget)
    elif max_cells is not None and int(max_cells) < 3:
        raise CMCVAEInputError(f"max_cells must be at least 3, got {max_cells}.")
    rng = np.random.default_rng(seed)
    Z, varying = standardize(subsample_cells(Xa, max_cells, rng))
    return Z, varying, rng


def _genie3_importances(model) -> np.ndarray:
    """GENIE3 importances: un-normalised impurity decrease averaged over the trees."""
    per_tree = [est.tree_.compute_feature_importances(normalize=False) for est in model.estimators_]
    return np.mean(per_tree, axis=0)


def genie3(
    X: np.ndarray,
    features: Sequence[str],
    *,
    seed: int = 0,
    n_estimators: int = 100,
    max_features: str | int | float | None = "sqrt",
    tree_method: str = "rf",
    min_samples_leaf: int = 1,
    max_cells: int | str | None = "auto",
) -> pd.DataFrame:
    """GENIE3: per target, a random forest on all other genes; importances are the scores.

    As in the GENIE3 paper and its reference implementation, every column is scaled to unit
    variance (so the un-normalised importances of one target, the variance explained per
    regressor, sum to at most about 1 and are comparable across targets) and the importance of
    regressor ``i`` for target ``j`` is its impurity (variance) decrease averaged over the
    trees, *not* scikit-learn's per-target normalised ``feature_importances_``.

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.
    features
        One name per column of ``X``.
    seed
        Seeds the cell subsample and the forests; equal seeds give equal scores.
    n_estimators
        Trees per target (GENIE3 paper: 1000; default 100 to bound cost).
    max_features
        Regressors tried per split; ``"sqrt"`` as in GENIE3.
    tree_method
        ``"rf"`` (random forest, bootstrap) or ``"et"`` (extra-trees, no bootstrap), the two
        GENIE3 variants.
    min_samples_leaf
        Smallest leaf (1 = fully grown trees as in GENIE3).
    max_cells
        Cells used at most, drawn without replacement with ``seed`` (``None``: all).
        ``"auto"`` uses ``max(200, 50000 // n_features)`` cells: all cells of a small panel,
        500 for 100 features (about 30 s on one core with the defaults).

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs; weight ≥ 0 is the importance of
        ``source`` for predicting ``target``. Constant features score 0 both ways.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X``, a mismatched ``features`` or an unknown ``tree_method``.
    """
    if tree_method not in ("rf", "et"):
        raise CMCVAEInputError(f"tree_method must be 'rf' or 'et', got {tree_method!r}.")
    Z, varying, rng = _prepare(X, features, max_cells, seed, power=1.0, budget=5e4)
    d = Z.shape[1]
    seeds = rng.integers(0, 2**31 - 1, size=d)
    Model = RandomForestRegressor if tree_method == "rf" else ExtraTreesRegressor
    W = np.zeros((d, d))
    for j in np.flatnonzero(varying):
        inputs = np.flatnonzero(varying & (np.arange(d) != j))
        if inputs.size == 0:
            continue
        model = Model(
            n_estimators=int(n_estimators),
            max_features=max_features,
            min_samples_leaf=min_samples_leaf,
            random_state=int(seeds[j]),
            n_jobs=1,
        ).fit(Z[:, inputs], Z[:, j])
        W[inputs, j] = _genie3_importances(model)
    return dense_edges(W, features)


def _default_max_features(p: int) -> int:
    """arboreto's 10 % of the regressors, but at least ``min(p, 5)`` so tiny panels still
    compare several candidates per split."""
    return int(max(math.ceil(0.1 * p), min(p, 5)))


def grnboost2(
    X: np.ndarray,
    features: Sequence[str],
    *,
    seed: int = 0,
    n_estimators: int = 500,
    learning_rate: float = 0.01,
    subsample: float = 0.9,
    max_features: int | float | None = None,
    max_depth: int = 3,
    n_iter_no_change: int | None = 25,
    validation_fraction: float = 0.1,
    tol: float = 1e-4,
    max_cells: int | str | None = "auto",
) -> pd.DataFrame:
    """GRNBoost2-style: per target, stochastic gradient boosting with early stopping.

    Uses arboreto's ``GRNBoost2`` settings (``learning_rate=0.01``, ``subsample=0.9``,
    ``max_features=0.1``, depth-3 trees) and, like arboreto, scores a regulator by
    scikit-learn's normalised ``feature_importances_`` times the number of boosting rounds
    actually fitted, so targets that keep improving longer weigh more.

    Early stopping differs from arboreto's: arboreto stops when the mean of
    ``oob_improvement_`` over the last 25 rounds is negative, but since scikit-learn 1.3 that
    attribute compares the losses of *different* out-of-bag samples and is so noisy that the
    rule stops after about 25 rounds. Here scikit-learn's own early stopping is used instead:
    ``validation_fraction`` of the cells is held out and boosting stops when the held-out loss
    has not improved by ``tol`` for ``n_iter_no_change`` rounds. arboreto allows 5000 rounds;
    the default cap of 500 bounds cost (at learning rate 0.01 many targets reach it).

    Parameters
    ----------
    X
        Float ``cells × features`` matrix.
    features
        One name per column of ``X``.
    seed
        Seeds the cell subsample and the boosting; equal seeds give equal scores.
    n_estimators
        Most boosting rounds per target.
    learning_rate
        Shrinkage per round.
    subsample
        Fraction of cells per round.
    max_features
        Regressors tried per split; ``None`` is ``max(ceil(0.1 p), min(p, 5))`` for ``p``
        regressors (arboreto's 10 %, adapted so small panels are not reduced to one random
        candidate per split).
    max_depth
        Depth of each tree.
    n_iter_no_change
        Rounds without improvement of the held-out loss before stopping; ``None`` disables
        early stopping (all ``n_estimators`` rounds, no cells held out).
    validation_fraction
        Fraction of cells held out for early stopping.
    tol
        Smallest held-out loss improvement that counts (the loss is half the mean squared
        error of the standardised target).
    max_cells
        Cells used at most, drawn without replacement with ``seed`` (``None``: all).
        ``"auto"`` uses ``max(200, 3e6 // n_features²)`` cells (the cost grows with the
        features squared): all cells of a small panel, 300 for 100 features (about 35 s on one
        core with the defaults).

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs; weight ≥ 0 is the importance of
        ``source`` for predicting ``target``. Constant features score 0 both ways.

    Raises
    ------
    CMCVAEInputError
        On NaN/inf in ``X``, a mismatched ``features`` or ``subsample`` outside ``(0, 1]``.
    """
    if not 0 < subsample <= 1:
        raise CMCVAEInputError(f"subsample must be in (0, 1], got {subsample}.")
    Z, varying, rng = _prepare(X, features, max_cells, seed, power=2.0, budget=3e6)
    d = Z.shape[1]
    seeds = rng.integers(0, 2**31 - 1, size=d)
    W = np.zeros((d, d))
    for j in np.flatnonzero(varying):
        inputs = np.flatnonzero(varying & (np.arange(d) != j))
        if inputs.size == 0:
            continue
        mf = _default_max_features(inputs.size) if max_features is None else max_features
        model = GradientBoostingRegressor(
            n_estimators=int(n_estimators),
            learning_rate=learning_rate,
            subsample=subsample,
            max_features=mf,
            max_depth=max_depth,
            n_iter_no_change=n_iter_no_change,
            validation_fraction=validation_fraction,
            tol=tol,
            random_state=int(seeds[j]),
        ).fit(Z[:, inputs], Z[:, j])
        W[inputs, j] = model.feature_importances_ * model.n_estimators_
    return dense_edges(W, features)
