"""benchmarks/sachs_interventions.py: the masked-loss SEM orients what interventions identify."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests._helpers import SHARED_DATA

DATA = SHARED_DATA / "sachs2005"
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sachs_interventions.py"
FAST = {"T": 3, "s": (1.0, 0.9, 0.8), "warm_iter": 600, "max_iter": 1200, "lr": 1e-2}


@functools.cache
def _script():
    spec = importlib.util.spec_from_file_location("bench_sachs_interventions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _two_node(cause: int, n: int = 1500, seed: int = 0):
    """cause → other, both of variance 1 in the observational cells; do(cause) and do(other).

    Observationally the two orientations fit equally well (equal variances); only the
    interventions separate them: the effect follows a shifted cause, the cause ignores a shifted
    effect.
    """
    rng = np.random.default_rng(seed)

    def sem(c):
        return c, 0.8 * c + rng.normal(0, 0.6, len(c))

    obs = np.column_stack(sem(rng.normal(0, 1, n)))
    do_cause = np.column_stack(sem(rng.normal(2, 1, n)))
    do_other = np.column_stack([rng.normal(0, 1, n), rng.normal(2, 1, n)])
    X = np.vstack([obs, do_cause, do_other])
    mask = np.ones(X.shape, dtype=bool)
    mask[n:2 * n, 0] = False          # the cause's equation is out where it was set
    mask[2 * n:, 1] = False           # the effect's equation is out where it was set
    if cause == 1:
        X, mask = X[:, ::-1].copy(), mask[:, ::-1].copy()
    return (X - X.mean(axis=0)) / X.std(axis=0), mask


@pytest.mark.parametrize("cause", [0, 1])
def test_masked_loss_orients_a_two_node_edge(cause):
    si = _script()
    X, mask = _two_node(cause)
    _, dag = si.masked_dagma(X, mask, **FAST)
    other = 1 - cause
    assert dag[cause, other] > 0.3 and dag[other, cause] == 0.0
    # the same cells with the intervention labels swapped give the other orientation: the
    # masks, not the marginal variances of the pooled cells, decide it
    observational = mask.all(axis=1, keepdims=True)
    _, swapped = si.masked_dagma(X, ~mask | observational, **FAST)
    assert swapped[other, cause] > 0.3 and swapped[cause, other] == 0.0


def test_masked_covariances_reduce_to_dagma_l2_without_masks():
    si = _script()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 3))
    W = rng.normal(0, 0.3, (3, 3))
    np.fill_diagonal(W, 0.0)
    C = si.masked_covariances(X, np.ones(X.shape, dtype=bool))
    loss, grad = si._loss_and_grad(W, C)
    Xc = X - X.mean(axis=0)
    cov = Xc.T @ Xc / len(X)
    D = np.eye(3) - W
    assert np.isclose(loss, 0.5 * np.trace(D.T @ cov @ D))
    assert np.allclose(grad, -cov @ D)


@pytest.mark.skipif(not (DATA / "benchpress_9_conditions").is_dir(),
                    reason="Sachs 2005 data not in ../shared/data/sachs2005")
def test_sachs_masks_only_each_conditions_target():
    si = _script()
    per, _, _ = si.sachs.read_conditions(DATA, "log1p")
    X, mask, names = si.stack(per, ["1", "6", "9"])
    n1, n6 = len(per["1"]), len(per["6"])
    assert mask[:n1].all()
    assert (~mask[n1:n1 + n6]).sum(axis=0)[names.index("Mek")] == n6
    assert (~mask[n1:n1 + n6]).sum() == n6
    assert (~mask[n1 + n6:, names.index("PKA")]).all() and (~mask).sum() == n6 + len(per["9"])
