import numpy as np
import pytest
import torch

from cmcvae.graph.threshold import is_dag, threshold_to_dag
from cmcvae.model.dagma import h_dagma, h_grad, in_domain, spectral_radius


def _dag(K=6, seed=0):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.uniform(0.2, 0.6, size=(K, K)) * rng.choice([-1, 1], size=(K, K)), k=1)
    perm = rng.permutation(K)
    return A[np.ix_(perm, perm)]


def test_h_is_zero_for_dag_and_positive_with_cycle():
    A = torch.tensor(_dag(), dtype=torch.float64)
    assert abs(float(h_dagma(A))) < 1e-10
    B = A.clone()
    i, j = np.argwhere(A.numpy() != 0)[0]
    B[j, i] = 0.5  # close a 2-cycle
    assert float(h_dagma(B)) > 1e-3
    assert float(h_dagma(B, s=0.9)) > 1e-3


def test_h_gradient_matches_closed_form_and_finite_differences():
    rng = np.random.default_rng(1)
    A = torch.tensor(rng.uniform(-0.3, 0.3, size=(5, 5)), dtype=torch.float64, requires_grad=True)
    h = h_dagma(A, s=1.0)
    (g,) = torch.autograd.grad(h, A)
    assert torch.allclose(g, h_grad(A.detach()), atol=1e-10)
    eps = 1e-6
    num = np.zeros((5, 5))
    for a in range(5):
        for c in range(5):
            Ap, Am = A.detach().clone(), A.detach().clone()
            Ap[a, c] += eps
            Am[a, c] -= eps
            num[a, c] = (float(h_dagma(Ap)) - float(h_dagma(Am))) / (2 * eps)
    np.testing.assert_allclose(g.numpy(), num, atol=1e-6)


def test_domain_guard_and_infinite_outside():
    A = torch.tensor([[0.0, 1.2], [1.2, 0.0]], dtype=torch.float64)  # rho(A∘A) = 1.44
    assert spectral_radius(A) == pytest.approx(1.44)
    assert not in_domain(A, s=1.0)
    assert float(h_dagma(A)) == float("inf")
    assert in_domain(A * 0.5, s=1.0)


def test_is_dag_and_threshold_bisection():
    A = _dag(8, seed=3)
    assert is_dag(A)
    C = A.copy()
    nz = np.argwhere(A != 0)
    for i, j in nz[:3]:
        C[j, i] = 0.05  # weak reverse edges create cycles
    assert not is_dag(C)
    T, tau = threshold_to_dag(C, 0.0)
    assert is_dag(T)
    assert tau >= 0.05
    # the strong forward edges survive
    assert np.count_nonzero(T) == np.count_nonzero(A)
