"""Screen estimators on a linear SEM with a known answer: shifts, mean/linear baselines, adjust_iv."""

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import SCREEN_ESTIMATORS, estimate_effects, feature_stats, intervention_stats


def _counts(rng, n, knock=None):
    """Counts from A → B → C (A, B regulators), D and 60 bystanders independent (so CP10k
    normalisation does not turn a knockdown into a shift of every other gene); ``knock``
    lowers one gene."""
    a = rng.normal(size=n)
    if knock == "A":
        a = a - 2.0
    b = 0.9 * a + rng.normal(scale=0.5, size=n)
    if knock == "B":
        b = b - 2.0
    c = 0.9 * b + rng.normal(scale=0.5, size=n)
    d = rng.normal(size=(n, 61))
    latent = np.column_stack([a, b, c, d])
    return rng.poisson(np.exp(4.0 + 0.4 * latent)).astype(float)


GENES = ["A", "B", "C", "D", *[f"X{i}" for i in range(60)]]


@pytest.fixture(scope="module")
def screen():
    rng = np.random.default_rng(0)
    control = _counts(rng, 20_000)
    knocked_b = _counts(rng, 2_000, "B")
    stats = feature_stats(control, None, GENES)
    iv = intervention_stats(stats, ["B"] * 2_000, knocked_b, None, GENES, [])
    return stats, iv


def test_shift_of_a_knockdown_is_measured_in_control_sds(screen):
    stats, iv = screen
    assert iv.targets == ["B"] and iv.n_cells.tolist() == [2000]
    shift = dict(zip(GENES, iv.shift[0], strict=True))
    assert shift["B"] < -1.0 and shift["C"] < -0.5      # the knockdown and its descendant
    assert abs(shift["A"]) < 0.1 and abs(shift["D"]) < 0.1  # its ancestor and a bystander
    assert abs(iv.z[0, GENES.index("C")]) > 10


def test_mean_and_linear_baselines_predict_from_the_trained_shifts(screen):
    stats, iv = screen
    mean = estimate_effects(stats, "mean", sources=["A", "D"], readouts=GENES, interventions=iv)
    np.testing.assert_allclose(mean.effect.loc["A"].drop("A"), iv.shift[0][1:])
    assert mean.effect.loc["D", "C"] == mean.effect.loc["A", "C"]  # one row for every knockdown
    linear = estimate_effects(stats, "linear", sources=["A"], readouts=GENES, interventions=iv)
    assert np.isfinite(linear.effect.loc["A"].drop("A")).all()


def test_adjust_iv_does_not_adjust_for_what_the_screen_shows_is_downstream(screen):
    """A's effect on C runs through B. With both A and B as regulators and no prior edges,
    'adjust' adjusts A's effect for B and loses it; the screen (B moved C, not A; B is adjacent
    to A) says B is downstream of A, so 'adjust_iv' keeps the mediated effect."""
    stats, iv = screen
    kwargs = dict(sources=["A"], readouts=["C"], regulators=["A", "B"],
                  prior=pd.DataFrame({"source": ["A"], "target": ["D"]}), interventions=iv)
    blocked = estimate_effects(stats, "adjust", **kwargs).effect.loc["A", "C"]
    kept = estimate_effects(stats, "adjust_iv", **kwargs).effect.loc["A", "C"]
    marginal = estimate_effects(stats, "correlation", sources=["A"], readouts=["C"]).effect.loc["A", "C"]
    assert kept == pytest.approx(marginal, abs=1e-9) and kept < -0.3
    assert abs(blocked) < 0.3 * abs(kept)  # not 0: B's counts are a noisy measurement of B


def test_screen_estimators_need_a_screen(screen):
    stats, _ = screen
    for name in SCREEN_ESTIMATORS:
        with pytest.raises(CMCVAEInputError, match="--perturbation-key"):
            estimate_effects(stats, name, sources=["A"], regulators=["A", "B"])
