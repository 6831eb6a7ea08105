"""A screen's perturbed cells in the SEM's likelihood (``cmcvae.model.sem._shifts``)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from cmcvae.model.sem import (
    InterventionData,
    InterventionShifts,
    fit_sem,
    intervention_shifts,
    sem_score,
    shift_misfit,
)
from cmcvae.model.sem._shifts import MIN_REGIME_CELLS, ShiftTerm


def _shifts(target: list[int], D: np.ndarray, se: float = 0.14, weight: float = 0.01) -> InterventionShifts:
    K = D.shape[0]
    return InterventionShifts([f"k{i}" for i in range(K)], np.array(target), D,
                              np.full(D.shape, se), np.full(K, 100.0), np.full(K, weight))


@pytest.mark.parametrize("score", ["nv", "ls"])
def test_score_gradient_with_shifts_matches_autograd(score):
    rng = np.random.default_rng(0)
    d = 6
    R = torch.tensor(np.corrcoef(rng.normal(size=(300, d)).T))
    W = torch.tensor(rng.normal(scale=0.3, size=(d, d))).fill_diagonal_(0.0)
    term = ShiftTerm.from_shifts(_shifts([0, -1, 3], rng.normal(size=(3, d)), se=0.1, weight=0.05),
                                 torch.float64, "cpu")
    value, grad = sem_score(R, W, score, term)
    Wg = W.clone().requires_grad_(True)
    A = torch.eye(d, dtype=torch.float64) - Wg
    r = (A * (R @ A)).sum(0) + shift_misfit(Wg, term)[0]
    expected = 0.5 * torch.log(r).sum() if score == "nv" else 0.5 * r.sum()
    expected.backward()
    assert float(value) == pytest.approx(float(expected.detach()), rel=1e-12)
    np.testing.assert_allclose(grad.numpy(), Wg.grad.numpy(), atol=1e-10)


def test_misfit_is_huber_and_free_on_the_known_target():
    D = np.array([[1.0, 0.5, 0.0], [0.2, 0.0, 0.0]])
    term = ShiftTerm.from_shifts(_shifts([0, -1], D, se=0.1, weight=1.0), torch.float64, "cpu")
    value, _ = shift_misfit(torch.zeros(3, 3, dtype=torch.float64), term)
    tau = 0.3  # FOOTPRINT_Z · se
    # feature 0: free in regime 0, quadratic in regime 1 (|0.2| < τ); feature 1: linear beyond τ
    assert value.tolist() == pytest.approx([0.2**2, 2 * tau * 0.5 - tau**2, 0.0])
    # an edge 0 → 1 of weight 0.5 carries regime 0's shift on: feature 1 is explained, but
    # regime 1 (0.2 on feature 0) now predicts −0.1 … +0.1 on feature 1
    W = torch.zeros(3, 3, dtype=torch.float64)
    W[0, 1] = 0.5
    assert shift_misfit(W, term)[0][1].item() == pytest.approx(0.1**2)


def _chain(order: list[int], w: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    B = np.zeros((3, 3))
    B[order[0], order[1]] = B[order[1], order[2]] = w
    T = np.linalg.inv(np.eye(3) - B)  # total effects, row = source
    cov = T.T @ T
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd), -2.0 * T[order[0]] / sd  # correlation, a knockdown's shift


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0]])
@pytest.mark.parametrize("in_model", [True, False])
def test_knocked_down_node_becomes_a_root(order, in_model):
    """Gaussian chains are Markov equivalent to their reverse: the observational fit puts an edge
    into the chain's source; a knockdown of the source (a modelled target, or an environment
    whose footprint is unknown) makes it a root."""
    R, shift = _chain(order)
    src = order[0]
    W_obs, _ = fit_sem(R, l1=0.02)
    W_int, _ = fit_sem(R, l1=0.02, shifts=_shifts([src if in_model else -1], shift[None, :]))
    assert np.abs(W_obs[:, src]).max() > 0.2
    assert np.abs(W_int[:, src]).max() < 0.05
    # the descendants stay connected to it
    assert np.abs(W_int[src]).max() > 0.3


def test_me_score_refuses_shifts():
    with pytest.raises(ValueError, match="'nv' or 'ls'"):
        fit_sem(np.eye(3), score="me", shifts=_shifts([0], np.ones((1, 3))))


def _counts(rng, n: int, mean: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix(rng.poisson(mean, size=(n, len(mean))).astype(np.float32))


def test_shifts_against_controls_of_the_same_donor():
    """Donor 1 has 3× the counts of donor 0 on gene 2; the perturbed cells are all on donor 1,
    so a comparison with all controls would see a shift that is only the donor's."""
    rng = np.random.default_rng(1)
    base = np.array([20.0, 20.0, 5.0, 20.0])
    donor1 = base * np.array([1.0, 1.0, 3.0, 1.0])
    rna_c = sp.vstack([_counts(rng, 4000, base), _counts(rng, 4000, donor1)]).tocsr()
    donor_c = np.repeat([0, 1], 4000)
    hit = donor1 * np.array([0.25, 1.0, 1.0, 1.0])  # gene 0 knocked down to a quarter
    rna_p = sp.vstack([_counts(rng, 400, hit), _counts(rng, MIN_REGIME_CELLS - 1, donor1)]).tocsr()
    labels = np.array(["G0"] * 400 + ["few"] * (MIN_REGIME_CELLS - 1), dtype=object)
    perturbed = InterventionData(rna_p, np.zeros((rna_p.shape[0], 0)), np.ones(rna_p.shape[0], int),
                                 labels)
    shifts = intervention_shifts((rna_c, np.zeros((8000, 0)), donor_c), perturbed,
                                 ["G0", "G1", "G2", "G3"], np.ones(4), 8000)
    assert shifts.labels == ["G0"]  # "few" has fewer than MIN_REGIME_CELLS cells
    assert shifts.target.tolist() == [0]
    assert shifts.shift[0, 0] < -0.8  # log CP10k of a quarter of the counts
    # the other genes move together (the library lost gene 0's counts): the donor's 3× on
    # gene 2 does not show, as it would against the controls of both donors
    assert np.ptp(shifts.shift[0, 1:]) < 0.05
    assert shifts.weight[0] == pytest.approx(400 / 8400)
    assert shifts.summary() == {"n_regimes": 1, "n_cells": 400, "n_targets_in_model": 1,
                                "n_targets_outside_model": 0}


def test_no_regime_without_matching_controls():
    rng = np.random.default_rng(2)
    rna_c = _counts(rng, 100, np.full(3, 10.0))
    perturbed = InterventionData(_counts(rng, 50, np.full(3, 10.0)), np.zeros((50, 0)),
                                 np.full(50, -1), np.array(["G0"] * 50, dtype=object))
    assert intervention_shifts((rna_c, np.zeros((100, 0)), np.zeros(100, int)), perturbed,
                               ["G0", "G1", "G2"], np.ones(3), 100) is None


def test_a_protein_named_like_its_gene_is_not_the_target():
    rng = np.random.default_rng(3)
    rna_c, prot_c = _counts(rng, 200, np.array([20.0, 20.0])), rng.poisson(30, (200, 1)).astype(float)
    hit = InterventionData(_counts(rng, 50, np.array([5.0, 20.0])), rng.poisson(30, (50, 1)).astype(float),
                           np.zeros(50, int), np.array(["CD274"] * 50, dtype=object))
    shifts = intervention_shifts((rna_c, prot_c, np.zeros(200, int)), hit, ["CD274", "G1", "CD274"],
                                 np.ones(3), 200)
    assert shifts.target.tolist() == [0]  # the gene (column 0), not the protein (column 2)
    assert shifts.shift[0, 0] < -0.8
