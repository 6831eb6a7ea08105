"""Stacking the observational estimators on a screen's trained knockdowns."""

from __future__ import annotations

import numpy as np
import pytest

from cmcvae.effects._stack import MIN_TARGET_Z, combine, stack_weights, trained_examples


def test_weights_recover_the_mixture_and_ignore_a_useless_estimator():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(20, 50)) for _ in range(3))
    observed = 0.7 * a + 0.3 * b + rng.normal(scale=0.05, size=a.shape)
    exclude = np.zeros(a.shape, dtype=bool)
    exclude[:, 0] = True
    observed[:, 0] = 100.0  # excluded entries (the target itself) do not pull the fit
    w = stack_weights({"a": a, "b": b, "c": c}, observed, exclude)
    assert w["a"] == pytest.approx(0.7, abs=0.02) and w["b"] == pytest.approx(0.3, abs=0.02)
    assert w["c"] < 0.02
    # an estimator that predicts the opposite gets weight zero, never a negative one
    assert stack_weights({"a": a, "neg": -a}, a, np.zeros(a.shape, bool))["neg"] == 0.0


def test_nan_entries_are_left_out():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    observed = a + b
    b[0, 1] = np.nan
    w = stack_weights({"a": a, "b": b}, observed, np.zeros(a.shape, bool))
    assert w == pytest.approx({"a": 1.0, "b": 1.0})
    combined = combine(w, {"a": a, "b": b}.__getitem__)
    assert np.isnan(combined[0, 1]) and combined[1, 1] == pytest.approx(observed[1, 1])


def test_trained_examples_keep_knockdowns_that_lowered_their_target():
    genes = {"G1": 0, "G2": 1, "G3": 2}
    shift = np.array([[-2.0, -1.0, 0.5],    # G1 down by 2 SD: G2 −1 → +0.5 per SD
                      [0.1, -0.2, 0.0],     # G2 barely moved: not an example
                      [-1.0, 0.0, 0.0]])    # a target outside the features
    z = np.array([[-10.0, -5.0, 2.0], [-MIN_TARGET_Z + 0.5, -1.0, 0.0], [-8.0, 0.0, 0.0]])
    sources, rows, effect = trained_examples(shift, z, ["G1", "G2", "OUT"], genes)
    assert sources == ["G1"] and rows.tolist() == [0]
    np.testing.assert_allclose(effect, [[1.0, 0.5, -0.25]])
