"""Adjusted coefficients from a correlation matrix equal least squares on the cells."""

import numpy as np
import pytest

from cmcvae.effects import adjusted_effects, stats_from_matrix


def _ols(z: np.ndarray, y: int, cols: list[int]) -> tuple[float, float]:
    """Coefficient of cols[0] and its OLS standard error (standardised data, population σ²)."""
    x = z[:, cols]
    coef, *_ = np.linalg.lstsq(x, z[:, y], rcond=None)
    sigma2 = ((z[:, y] - x @ coef) ** 2).mean()
    return coef[0], np.sqrt(sigma2 * np.linalg.inv(x.T @ x)[0, 0])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 10)) @ rng.normal(size=(10, 10))
    z = (x - x.mean(0)) / x.std(0)
    return z, stats_from_matrix(x, [f"f{i}" for i in range(10)])


@pytest.mark.parametrize(("source", "zset"), [(0, [3, 4, 5]), (2, []), (7, [1, 8, 7]), (5, [5])])
def test_coefficients_and_ses_match_least_squares(data, source, zset):
    z, stats = data
    beta, se = adjusted_effects(stats.corr, np.array([source]), np.arange(10),
                                [np.array(zset)], stats.n_cells)
    for y in range(10):
        if y == source:
            assert np.isnan(beta[0, y]) and np.isnan(se[0, y])
            continue
        cols = [source, *[c for c in zset if c not in (source, y)]]
        b, s = _ols(z, y, cols)
        assert beta[0, y] == pytest.approx(b, abs=1e-6)
        assert se[0, y] == pytest.approx(s, rel=1e-4)


def test_sources_sharing_a_set_match_one_at_a_time(data):
    _, stats = data
    sources = np.array([0, 1, 2])
    sets = [np.array([6, 7])] * 3
    together, _ = adjusted_effects(stats.corr, sources, np.arange(10), sets, stats.n_cells)
    for row, g in enumerate(sources):
        alone, _ = adjusted_effects(stats.corr, np.array([g]), np.arange(10), [sets[0]],
                                    stats.n_cells)
        np.testing.assert_allclose(together[row], alone[0], equal_nan=True)


def test_collinear_source_has_no_estimate():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(500, 1))
    x = np.hstack([a, 2 * a, rng.normal(size=(500, 1))])
    stats = stats_from_matrix(x, ["a", "b", "c"])
    beta, _ = adjusted_effects(stats.corr, np.array([0]), np.array([2]), [np.array([1])], 500)
    assert np.isnan(beta).all()
