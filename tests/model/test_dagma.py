import numpy as np
import pytest
import torch

from cmcvae.graph.threshold import is_dag, threshold_to_dag
from cmcvae.model._dagma import h_and_grad, h_dagma, in_domain, spectral_radius


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
    value, closed_form = h_and_grad(A.detach())
    assert float(value) == float(h.detach())
    M = torch.eye(5, dtype=A.dtype) - A.detach() ** 2
    assert torch.allclose(closed_form, 2.0 * torch.linalg.inv(M).T * A.detach(), atol=1e-12)
    assert torch.allclose(g, closed_form, atol=1e-10)
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
    assert float(h_and_grad(A)[0]) == float("inf")
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


def test_guard_bound_is_rigorous_and_the_m_matrix_test_is_exact():
    from cmcvae.model._dagma import (
        in_domain_tensor,
        is_m_matrix,
        perron_upper_bound,
        spectral_radius,
    )

    rng = np.random.default_rng(0)
    for _ in range(300):
        K = int(rng.integers(2, 25))
        A = torch.tensor(rng.normal(0, rng.uniform(0.05, 1.2), (K, K))
                         * (rng.random((K, K)) < rng.uniform(0.1, 1)))
        if rng.random() < 0.5:  # near-DAGs, where the bound matters most
            A = torch.triu(A, 1) + torch.tril(A, -1) * rng.uniform(0, 0.3)
        rho = spectral_radius(A)
        B = A**2
        assert float(perron_upper_bound(B)) >= rho - 1e-9
        if abs(rho - 0.99) > 1e-6:
            expected = rho < 0.99
            assert bool(is_m_matrix(0.99 * torch.eye(K, dtype=torch.float64) - B)) == expected
            assert in_domain(A, 1.0, 0.99) == expected
            assert bool(in_domain_tensor(A, 1.0, 0.99)) == expected
    nan = torch.full((3, 3), float("nan"))
    assert not in_domain(nan) and not bool(in_domain_tensor(nan))


def test_a_step_with_non_finite_gradients_is_skipped_on_the_device():
    import lightning.pytorch as pl

    from cmcvae.model import CMCVAEConfig
    from cmcvae.model.latent._module import CMCVAEModule
    from cmcvae.model.latent._plan import TrainingPlan

    class Poisoned(TrainingPlan):
        def training_step(self, batch, batch_idx):
            loss = super().training_step(batch, batch_idx)
            return loss * float("nan") if batch_idx == 1 else loss

    module = CMCVAEModule(6, 2, 1, CMCVAEConfig(n_latent_rna=2, n_latent_protein=1, likelihood="gaussian"))
    g = torch.Generator().manual_seed(0)
    batches = [{"x": torch.randn(8, 6, generator=g), "y": torch.randn(8, 2, generator=g),
                "donor": torch.zeros(8, dtype=torch.long)} for _ in range(3)]
    plan = Poisoned(module)
    seen = []

    class Watch(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen.append({k: v.detach().clone() for k, v in module.state_dict().items()})

    pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
               enable_model_summary=False, callbacks=[Watch()]).fit(
        plan, torch.utils.data.DataLoader(batches, batch_size=None))
    assert plan.skipped_steps == 1
    for key in seen[0]:  # the poisoned step changed nothing; the others moved the weights
        assert torch.equal(seen[0][key], seen[1][key])
        assert torch.isfinite(seen[2][key]).all()
    assert any(not torch.equal(seen[1][k], seen[2][k]) for k in seen[0])
