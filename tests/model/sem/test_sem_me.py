"""The measurement-error SEM score (sem_score="me"), edge masks and prior orientation."""

import json

import numpy as np
import pytest
import torch

from cmcvae import CMCVAE
from cmcvae.datasets import simulate
from cmcvae.graph.threshold import is_dag
from cmcvae.model.sem._fit import MIN_VARIANCE, fit_sem, me_score, prior_orientation_mask

from .test_sem import SIM, _chain_with_colliders


def _me_covariance(W, omega, psi):
    inv = np.linalg.inv(np.eye(len(W)) - W)
    return inv.T @ np.diag(omega) @ inv + np.diag(psi)


def _logs(omega, psi):
    return (torch.log(torch.as_tensor(omega, dtype=torch.float64) - MIN_VARIANCE),
            torch.log(torch.as_tensor(psi, dtype=torch.float64) - MIN_VARIANCE))


def test_me_score_gradients_match_autograd():
    rng = np.random.default_rng(0)
    d = 7
    W = torch.tensor(rng.normal(0, 0.2, (d, d)) * (1 - np.eye(d)), requires_grad=True)
    log_omega = torch.tensor(rng.normal(0, 0.3, d), requires_grad=True)
    log_psi = torch.tensor(rng.normal(-1, 0.3, d), requires_grad=True)
    rho = torch.corrcoef(torch.tensor(rng.normal(size=(300, d))).T)
    value, gW, g_omega, g_psi = me_score(rho, W.detach(), log_omega.detach(), log_psi.detach())
    inv = torch.linalg.inv(torch.eye(d, dtype=torch.float64) - W)
    sigma = (inv.T * (torch.exp(log_omega) + MIN_VARIANCE)) @ inv + torch.diag(
        torch.exp(log_psi) + MIN_VARIANCE)
    ref = 0.5 * torch.logdet(sigma) + 0.5 * torch.trace(torch.linalg.solve(sigma, rho))
    ref.backward()
    assert float(value) == pytest.approx(float(ref.detach()), abs=1e-12)
    for mine, auto in ((gW, W.grad), (g_omega, log_omega.grad), (g_psi, log_psi.grad)):
        np.testing.assert_allclose(mine.numpy(), auto.numpy(), atol=1e-12)


def test_me_score_is_stationary_at_the_generating_model():
    """With R equal to the model's own covariance every gradient vanishes and the value is
    the Gaussian minimum ½ log det R + d/2."""
    W = np.zeros((4, 4))
    W[0, 1], W[0, 2], W[1, 3], W[2, 3] = 0.7, -0.5, 0.6, 0.4
    omega, psi = np.array([1.0, 0.5, 0.8, 0.3]), np.array([0.6, 0.1, 0.2, 0.05])
    cov = _me_covariance(W, omega, psi)
    value, gW, g_omega, g_psi = me_score(torch.from_numpy(cov), torch.from_numpy(W),
                                         *_logs(omega, psi))
    assert float(value) == pytest.approx(0.5 * np.linalg.slogdet(cov)[1] + 2.0, abs=1e-10)
    for g in (gW, g_omega, g_psi):
        assert float(g.abs().max()) < 1e-10


def test_me_score_refuses_a_covariance_that_is_not_positive_definite():
    W = torch.zeros(2, 2, dtype=torch.float64)
    bad = torch.full((2,), -60.0, dtype=torch.float64)  # variances → MIN_VARIANCE only
    rho = torch.tensor([[1.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    value = me_score(rho, W, bad, bad)[0]  # tiny but positive variances still work
    assert torch.isfinite(value)
    with pytest.raises(torch.linalg.LinAlgError):
        me_score(rho, torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=torch.float64), bad, bad)


def test_fit_sem_me_recovers_the_compelled_graph_exactly():
    """The collider graph of test_sem: the "me" fit finds every edge, right way round, and
    no other |w| > 0.1 at l1 = 0.1 (the "nv" fit needs l1 = 0.2 for that)."""
    W_true, rho = _chain_with_colliders()
    W, history = fit_sem(rho, score="me", l1=0.1)
    np.testing.assert_array_equal(np.abs(W) > 0.1, W_true != 0)
    assert np.all(np.sign(W[W_true != 0]) == np.sign(W_true[W_true != 0]))
    psi = np.asarray(history[-1]["measurement_variance"])
    omega = np.asarray(history[-1]["exogenous_variance"])
    assert psi.shape == omega.shape == (6,) and (psi > 0).all() and (omega > 0).all()
    # noise-free data: the non-leaf nodes get (almost) no measurement noise
    assert psi[:5].max() < 0.05
    assert "measurement_variance" not in history[0] and history[-1]["h"] < 1e-3


def test_allowed_mask_keeps_forbidden_edges_at_zero():
    W_true, rho = _chain_with_colliders()
    allowed = np.ones((6, 6), dtype=bool)
    allowed[0, 2] = allowed[2, 0] = False  # forbid the true edge in both directions
    for score in ("nv", "me"):
        W, _ = fit_sem(rho, score=score, allowed=allowed)
        assert W[0, 2] == 0.0 and W[2, 0] == 0.0
        assert abs(W[4, 5]) + abs(W[5, 4]) > 0.1  # the rest of the graph is still fitted


def test_prior_orientation_mask():
    # prior: 0→1, 2→3 and the mutual pair 4⇄5
    src, dst = np.array([0, 2, 4, 5]), np.array([1, 3, 5, 4])
    allowed = prior_orientation_mask(6, src, dst)
    assert allowed[0, 1] and not allowed[1, 0]
    assert allowed[2, 3] and not allowed[3, 2]
    assert allowed[4, 5] and allowed[5, 4]  # both directions are prior edges: both stay
    assert not allowed.diagonal().any()
    assert allowed.sum() == 6 * 5 - 2  # nothing else is forbidden


@pytest.fixture(scope="module")
def me_model():
    sim = simulate(**SIM)  # the arch="sem" tests' simulation
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, grn_prior=sim.grn_prior, ppi_prior=sim.ppi_prior,
                   protein_map=sim.protein_map, arch="sem", sem_score="me", sem_floor=0.1,
                   sem_prior_orient=True, sem_stages=[[1.0, 1.0, 100], [0.1, 0.9, 100],
                                                      [0.01, 0.8, 100]])
    model.train()
    return sim, model


def test_me_model_trains_to_a_dag_that_respects_the_prior(me_model):
    _, model = me_model
    m = model.metrics
    assert m["is_dag"] and m["finite"] and m["epochs"] == 300
    info = m["thinning"]
    assert 0 < info["measurement_noise_rna"] < 1 and 0 < info["measurement_noise_protein"] < 1
    assert info["prior_oriented_pairs"] > 0
    json.dumps(m)
    assert model.stats["measurement_variance"].shape == (68,)
    W = model.module.W.numpy()
    pos = {g: i for i, g in enumerate(model.genes)}
    train = model.priors["grn"]["train"]
    src, dst = train.source.map(pos).to_numpy(), train.target.map(pos).to_numpy()
    mutual = {(s, t) for s, t in zip(src, dst, strict=True)}
    reverse = [(t, s) for s, t in zip(src, dst, strict=True) if (t, s) not in mutual]
    assert all(W[t, s] == 0.0 for t, s in reverse)  # no fitted edge against a prior edge
    assert is_dag(model.get_adjacency(thresholded=False))


def test_me_model_save_load_roundtrip(me_model, tmp_path):
    _, model = me_model
    model.save(tmp_path / "m")
    loaded = CMCVAE.load(tmp_path / "m")
    assert loaded.config.sem_score == "me" and loaded.config.sem_prior_orient
    np.testing.assert_array_equal(loaded.stats["measurement_variance"],
                                  model.stats["measurement_variance"])
    np.testing.assert_array_equal(loaded.predict_knockdown().to_numpy(),
                                  model.predict_knockdown().to_numpy())
