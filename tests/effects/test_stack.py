"""Stacking the observational estimators on a screen's trained knockdowns."""

from __future__ import annotations

import numpy as np
import pytest

from cmcvae.effects._stack import MIN_TARGET_Z, can_stack, combine, stack_weights, trained_examples


def test_weights_favour_the_estimator_that_ranks_the_moved_pairs():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(20, 60)) * (rng.random((20, 60)) < 0.2)
    moved = truth != 0
    good = truth + rng.normal(scale=0.05, size=truth.shape)      # ranks the moved pairs first
    noisy = truth + rng.normal(scale=2.0, size=truth.shape)      # much worse
    useless = rng.normal(size=truth.shape)
    exclude = np.zeros(truth.shape, dtype=bool)
    w, scales, auroc = stack_weights({"useless": useless, "noisy": noisy, "good": good}, moved, exclude)
    assert w["good"] >= 0.7 and w["useless"] == 0.0 and sum(w.values()) == pytest.approx(1.0)
    assert auroc > 0.95 and scales["good"] == pytest.approx(np.std(good))


def test_excluded_and_nan_pairs_are_left_out():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(10, 30))
    moved = np.abs(a) > 1.0
    b = -a.copy()  # the same ranking of |β|, opposite signs
    b[0, 1] = np.nan
    exclude = np.zeros(a.shape, bool)
    exclude[:, 0] = True
    w, scales, auroc = stack_weights({"a": a, "b": b}, moved, exclude)
    assert auroc == pytest.approx(1.0)
    combined = combine({"a": 0.5, "b": 0.5}, scales, {"a": a, "b": b}.__getitem__)
    assert np.isnan(combined[0, 1])
    # magnitudes add; a pair whose estimators disagree in sign keeps a direction (not 0)
    assert np.all(np.abs(combined[1:, 1:]) > 0)


def test_one_class_gives_the_first_estimator():
    a, b = np.ones((3, 4)), np.arange(12.0).reshape(3, 4)
    w, _, auroc = stack_weights({"a": a, "b": b}, np.zeros((3, 4), bool), np.zeros((3, 4), bool))
    assert w == {"a": 1.0, "b": 0.0} and np.isnan(auroc)


def test_combined_sign_and_units():
    a = np.array([[2.0, -1.0]])
    out = combine({"a": 1.0}, {"a": 2.0}, {"a": a}.__getitem__)
    np.testing.assert_allclose(out, a)  # one estimator: its own effects back


def test_trained_examples_keep_knockdowns_that_lowered_their_target():
    genes = {"G1": 0, "G2": 1, "G3": 2}
    shift = np.array([[-2.0, -1.0, 0.5], [0.1, -0.2, 0.0], [-1.0, 0.0, 0.0]])
    z = np.array([[-10.0, -5.0, 2.0], [-MIN_TARGET_Z + 0.5, -1.0, 0.0], [-8.0, 0.0, 0.0]])
    sources, rows = trained_examples(shift, z, ["G1", "G2", "OUT"], genes)
    assert sources == ["G1"] and rows.tolist() == [0]
    assert not can_stack(shift, z, ["G1", "G2", "OUT"], genes)
    assert can_stack(np.vstack([shift[:1]] * 3), np.vstack([z[:1]] * 3), ["G1"] * 3, genes)
