"""Baseline network-inference adapters and scoring of the benchmark subpackage."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm import (
    dag_scores,
    dagma_linear,
    empty_graph,
    genie3,
    graphical_lasso,
    grn_scores,
    grnboost2,
    partial_correlation,
    pearson,
    prior_only,
    random_scores,
    spearman,
    top_k_dag,
    undirected_scores,
)
from cmcvae.graph.threshold import is_dag

# small, fast settings for the costly methods
FAST = {
    "pearson": (pearson, {}),
    "spearman": (spearman, {}),
    "partial_correlation": (partial_correlation, {}),
    "graphical_lasso": (graphical_lasso, {}),
    "genie3": (genie3, {"n_estimators": 20, "max_cells": 400}),
    "grnboost2": (grnboost2, {"n_estimators": 60, "max_cells": 400}),
    "random_scores": (random_scores, {}),
    "empty_graph": (empty_graph, {}),
}
SYMMETRIC = ["pearson", "spearman", "partial_correlation", "graphical_lasso"]
RECOVERING = ["pearson", "spearman", "partial_correlation", "graphical_lasso", "genie3", "grnboost2"]


def _sem(d=8, n=2000, seed=3):
    """Linear Gaussian SEM on a DAG (a chain plus random extra edges), equal noise variances."""
    rng = np.random.default_rng(seed)
    B = np.triu(rng.uniform(size=(d, d)) < 0.2, 1)
    B[np.arange(d - 1), np.arange(1, d)] = True
    W = B * rng.uniform(0.4, 0.8, (d, d)) * rng.choice([-1, 1], (d, d))
    perm = rng.permutation(d)
    W = W[np.ix_(perm, perm)]
    X = rng.normal(size=(n, d)) @ np.linalg.inv(np.eye(d) - W)
    features = [f"g{i}" for i in range(d)]
    r, c = np.nonzero(W)
    truth = pd.DataFrame({"source": [features[i] for i in r], "target": [features[j] for j in c]})
    return X, W, features, truth


@pytest.fixture(scope="module")
def sem():
    return _sem()


def _small(seed=0, n=200, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:, 1] += X[:, 0]
    return X, [f"f{i}" for i in range(d)]


# ---------------------------------------------------------------- method outputs


@pytest.mark.parametrize("name", list(FAST))
def test_output_covers_all_ordered_pairs(name):
    fn, kw = FAST[name]
    X, f = _small()
    out = fn(X, f, seed=0, **kw)
    assert list(out.columns) == ["source", "target", "weight"]
    assert len(out) == len(f) * (len(f) - 1)
    assert not (out["source"] == out["target"]).any()
    assert not out.duplicated(["source", "target"]).any()
    assert set(out["source"]) == set(f) and set(out["target"]) == set(f)
    assert np.isfinite(out["weight"]).all()
    if name in SYMMETRIC:
        w = out.set_index(["source", "target"])["weight"]
        rev = out.set_index(["target", "source"])["weight"].rename_axis(["source", "target"])
        np.testing.assert_allclose(w.sort_index(), rev.sort_index())
    if name in ("genie3", "grnboost2"):
        assert (out["weight"] >= 0).all()


@pytest.mark.parametrize("name", list(FAST))
def test_constant_column_scores_zero_without_nan(name):
    fn, kw = FAST[name]
    X, f = _small()
    X[:, 2] = 3.7
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no division by a zero variance
        out = fn(X, f, seed=0, **kw)
    assert np.isfinite(out["weight"]).all()
    if name != "random_scores":
        touching = (out["source"] == "f2") | (out["target"] == "f2")
        assert (out.loc[touching, "weight"] == 0).all()


@pytest.mark.parametrize("name", RECOVERING)
def test_methods_recover_the_skeleton_of_a_linear_sem(name, sem):
    X, _, f, truth = sem
    fn, kw = FAST[name]
    out = fn(X, f, seed=0, **kw)
    assert undirected_scores(out, truth, f)["auroc"] > 0.8
    assert grn_scores(out, truth, f)["auroc"] > 0.6


def test_correlation_signs_and_values():
    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    X = np.column_stack([a, -2 * a + 0.1 * rng.normal(size=500), rng.normal(size=500)])
    f = ["a", "b", "c"]
    w = pearson(X, f).set_index(["source", "target"])["weight"]
    assert w["a", "b"] == pytest.approx(np.corrcoef(X.T)[0, 1])
    assert w["a", "b"] < -0.99
    s = spearman(X ** 3, f).set_index(["source", "target"])["weight"]  # monotone transform
    assert s["a", "b"] < -0.98


def test_partial_correlation_removes_the_indirect_link():
    rng = np.random.default_rng(2)
    a = rng.normal(size=3000)
    b = a + rng.normal(size=3000)
    c = b + rng.normal(size=3000)  # a → b → c: a ⟂ c | b
    f = ["a", "b", "c"]
    for fn in (partial_correlation, graphical_lasso):
        w = fn(np.column_stack([a, b, c]), f).set_index(["source", "target"])["weight"]
        assert abs(w["a", "c"]) < 0.05
        assert w["a", "b"] > 0.4 and w["b", "c"] > 0.4


def test_graphical_lasso_falls_back_with_a_warning():
    X, f = _small()
    with pytest.warns(UserWarning, match="Ledoit"):
        out = graphical_lasso(X, f, max_iter=1, tol=1e-12)
    assert np.isnan(out.attrs["alpha"])
    assert np.isfinite(out["weight"]).all()


@pytest.mark.parametrize("fn", [genie3, grnboost2, random_scores])
def test_seeds_make_scores_reproducible(fn):
    X, f = _small()
    kw = FAST[fn.__name__][1]
    a = fn(X, f, seed=5, **kw)["weight"].to_numpy()
    b = fn(X, f, seed=5, **kw)["weight"].to_numpy()
    c = fn(X, f, seed=6, **kw)["weight"].to_numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_max_cells_auto_uses_all_cells_of_a_small_panel():
    X, f = _small(n=300)
    a = genie3(X, f, n_estimators=5)  # auto: 300 cells < 50000 / 5
    b = genie3(X, f, n_estimators=5, max_cells=None)
    np.testing.assert_array_equal(a["weight"], b["weight"])
    with pytest.raises(CMCVAEInputError, match="max_cells"):
        genie3(X, f, max_cells="all")


def test_prior_only_and_empty_graph(sem):
    X, W, f, truth = sem
    prior = pd.concat([truth, pd.DataFrame({"source": ["zzz"], "target": ["g0"]})])
    out = prior_only(X, f, prior=prior)
    assert out["weight"].sum() == len(truth)
    s = grn_scores(out, truth, f)
    assert s["auroc"] == 1.0 and s["auprc"] == 1.0
    with pytest.raises(CMCVAEInputError, match="source"):
        prior_only(X, f, prior=pd.DataFrame({"from": ["g0"], "to": ["g1"]}))
    empty = empty_graph(X, f)
    assert (empty["weight"] == 0).all()
    assert dag_scores(empty.attrs["dag"], W)["shd"] == len(truth)


def test_dagma_recovers_an_equal_variance_sem(sem):
    pytest.importorskip("dagma")
    X, W, f, truth = sem
    out = dagma_linear(X, f, standardize=False, T=4, warm_iter=5000, max_iter=10000)
    assert len(out) == len(f) * (len(f) - 1)
    dag = out.attrs["dag"]
    assert dag.shape == (len(f), len(f)) and is_dag(dag)
    res = dag_scores(dag, W)
    assert res["shd"] <= 2
    assert undirected_scores(out, truth, f)["auroc"] > 0.95
    # weights are the unthresholded coefficients W[source, target]
    w = out.set_index(["source", "target"])["weight"]
    i, j = np.argwhere(dag != 0)[0]
    assert w[f[i], f[j]] == pytest.approx(dag[i, j])
    Xc = X.copy()
    Xc[:, 0] = 1.0  # a constant feature gets no edges and no NaN
    out = dagma_linear(Xc, f, T=2, warm_iter=500, max_iter=1000)
    assert np.isfinite(out["weight"]).all()
    assert (out.loc[(out["source"] == "g0") | (out["target"] == "g0"), "weight"] == 0).all()
    assert not out.attrs["dag"][0].any() and not out.attrs["dag"][:, 0].any()


def test_dagma_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dagma.linear", None)  # makes the import fail
    X, f = _small()
    with pytest.raises(CMCVAEInputError, match="pip install dagma"):
        dagma_linear(X, f)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", [*FAST, "dagma_linear", "prior_only"])
def test_bad_input_is_named(name):
    fn, kw = FAST.get(name, (dagma_linear, {}))
    if name == "prior_only":
        fn, kw = prior_only, {"prior": pd.DataFrame({"source": ["f0"], "target": ["f1"]})}
    X, f = _small()
    X[3, 1] = np.nan
    with pytest.raises(CMCVAEInputError, match="NaN"):
        fn(X, f, **kw)
    X, f = _small()
    with pytest.raises(CMCVAEInputError, match="features has 4 names but X has 5 columns"):
        fn(X, f[:4], **kw)
    with pytest.raises(CMCVAEInputError, match="unique"):
        fn(X, ["a", "a", "b", "c", "d"], **kw)


# ---------------------------------------------------------------- scoring

F4 = ["a", "b", "c", "d"]
TRUTH = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]})  # a → b → c, d isolated


def _pred(pairs: dict[tuple[str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, t, w) for (s, t), w in pairs.items()], columns=["source", "target", "weight"]
    )


def test_perfect_ranking_scores():
    s = grn_scores(_pred({("a", "b"): 0.9, ("b", "c"): -0.8}), TRUTH, F4)
    assert s["n_true"] == 2 and s["n_candidates"] == 12
    assert s["auprc_random"] == pytest.approx(2 / 12)
    assert s["auroc"] == 1.0 and s["auprc"] == 1.0
    assert s["auprc_ratio"] == pytest.approx(6.0)
    assert s["epr"] == pytest.approx(1 / (2 / 12))


def test_reversed_prediction_is_bad_directed_but_perfect_undirected():
    pred = _pred({("b", "a"): 1.0, ("c", "b"): 1.0})
    assert grn_scores(pred, TRUTH, F4)["auroc"] < 0.5
    assert grn_scores(pred, TRUTH, F4)["epr"] == 0.0
    u = undirected_scores(pred, TRUTH, F4)
    assert u["n_candidates"] == 6 and u["n_true"] == 2
    assert u["auroc"] == 1.0 and u["epr"] == pytest.approx(3.0)


def test_epr_shares_a_tied_block_and_all_ties_are_random():
    # k = 2: a→b is above the cut; the second slot is shared by a tied block of 4 holding
    # one positive (b→c): expected precision (1 + 1/4) / 2
    pred = _pred({("a", "b"): 2.0, ("b", "c"): 1.0, ("a", "c"): 1.0, ("a", "d"): 1.0,
                  ("c", "d"): 1.0})
    s = grn_scores(pred, TRUTH, F4)
    assert s["epr"] == pytest.approx((1.25 / 2) / (2 / 12))
    # row order of the prediction does not matter
    assert grn_scores(pred.iloc[::-1], TRUTH, F4)["epr"] == pytest.approx(s["epr"])
    flat = grn_scores(_pred({}), TRUTH, F4)  # every pair missing → all 0
    assert flat["epr"] == pytest.approx(1.0) and flat["auroc"] == 0.5


def test_exclude_removes_candidates():
    pred = _pred({("a", "b"): 0.9, ("b", "c"): 0.8})
    s = grn_scores(pred, TRUTH, F4, exclude=TRUTH.iloc[:1])
    assert s["n_candidates"] == 11 and s["n_true"] == 1
    assert s["auroc"] == 1.0
    u = undirected_scores(pred, TRUTH, F4, exclude=pd.DataFrame({"source": ["b"], "target": ["a"]}))
    assert u["n_candidates"] == 5 and u["n_true"] == 1


def test_scoring_rejects_bad_tables():
    with pytest.raises(CMCVAEInputError, match="weight"):
        grn_scores(pd.DataFrame({"source": ["a"], "target": ["b"]}), TRUTH, F4)
    with pytest.raises(CMCVAEInputError, match="truth"):
        grn_scores(_pred({}), pd.DataFrame({"u": ["a"]}), F4)


def test_dag_scores_hand_built():
    T = np.zeros((4, 4))
    T[0, 1] = T[1, 2] = 1.0  # a → b → c
    assert dag_scores(T * 0.5, T) == {
        "shd": 0, "tpr": 1.0, "fdr": 0.0, "n_pred": 2, "n_true": 2, "n_reversed": 0, "is_dag": True
    }
    R = T.copy()
    R[0, 1], R[1, 0] = 0.0, 1.0  # reverse a → b
    r = dag_scores(R, T)
    assert r["shd"] == 1 and r["n_reversed"] == 1 and r["tpr"] == 0.5 and r["fdr"] == 0.5
    e = dag_scores(np.zeros((4, 4)), T)
    assert e["shd"] == 2 and e["tpr"] == 0.0 and e["fdr"] == 0.0 and e["n_pred"] == 0
    X = T.copy()
    X[2, 3] = -0.2  # one extra edge
    assert dag_scores(X, T)["shd"] == 1
    C = T.copy()
    C[2, 0] = 1.0  # closes a cycle: an extra edge, not a DAG
    c = dag_scores(C, T)
    assert c["shd"] == 1 and not c["is_dag"]
    with pytest.raises(CMCVAEInputError, match="same shape"):
        dag_scores(np.zeros((3, 3)), T)


def test_top_k_dag_skips_cycles_and_keeps_k():
    pred = _pred({("a", "b"): 0.9, ("b", "c"): 0.8, ("c", "a"): 0.7, ("c", "d"): -0.6,
                  ("d", "a"): 0.1})
    A = top_k_dag(pred, F4, k=3)
    assert is_dag(A)
    assert (A != 0).sum() == 3
    assert A[2, 0] == 0 and A[2, 3] == pytest.approx(-0.6)  # c → a skipped: closes a cycle
    assert (top_k_dag(pred, F4, k=10) != 0).sum() == 3  # c → a and d → a both close cycles
    assert (top_k_dag(_pred({}), F4, k=3) == 0).all()
    # symmetric scores: one direction per pair
    X, f = _small()
    A = top_k_dag(pearson(X, f), f, k=4)
    assert is_dag(A) and (A != 0).sum() == 4 and not ((A != 0) & (A.T != 0)).any()
