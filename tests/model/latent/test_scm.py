import numpy as np
import torch

from cmcvae.graph.networks import feature_networks, latent_total_effects
from cmcvae.model.latent._scm import pair_scores, scm_solve


def test_scm_solve_matches_direct_inverse():
    rng = np.random.default_rng(0)
    K = 7
    A = torch.tensor(np.triu(rng.normal(0, 0.4, (K, K)), 1))
    E = torch.tensor(rng.normal(size=(20, K)))
    Z = scm_solve(E, A)
    np.testing.assert_allclose(Z.numpy(), (E @ torch.linalg.inv(torch.eye(K, dtype=A.dtype) - A)).numpy(), atol=1e-10)
    # it satisfies z = Aᵀ z + ε row-wise
    np.testing.assert_allclose(Z.numpy(), (Z @ A + E).numpy(), atol=1e-10)


def test_total_effects_sum_paths():
    A = torch.zeros(3, 3, dtype=torch.float64)
    A[0, 1], A[1, 2], A[0, 2] = 2.0, 3.0, 0.5
    T = latent_total_effects(A.numpy())  # (I − A)^{-1} − I, as the networks read it out
    assert float(T[0, 2]) == 2.0 * 3.0 + 0.5
    assert float(T[2, 0]) == 0.0


def test_projection_matches_hand_computation():
    W_src = torch.tensor([[1.0, 0.0], [0.5, 2.0]])
    B = torch.tensor([[0.0, 1.0], [0.0, 0.0]])
    W_dst = torch.tensor([[3.0, 1.0]])
    G = W_src @ B @ W_dst.T  # G[u, v] = sum_ac W_src[u,a] B[a,c] W_dst[v,c]
    assert G.shape == (2, 1)
    assert float(G[0, 0]) == 1.0 * 1.0 * 1.0
    assert float(G[1, 0]) == 0.5 * 1.0 * 1.0
    s = pair_scores(W_src, B, W_src, torch.tensor([0, 1]), torch.tensor([1, 0]))
    full = W_src @ B @ W_src.T
    np.testing.assert_allclose(s.numpy(), [full[0, 1], full[1, 0]])


def test_feature_networks_blocks():
    rng = np.random.default_rng(1)
    Kr, Kp = 3, 2
    A = np.triu(rng.normal(0, 0.5, (Kr + Kp, Kr + Kp)), 1)
    W_r, W_p = rng.normal(size=(4, Kr)), rng.normal(size=(2, Kp))
    nets = feature_networks(A, W_r, W_p, list("abcd"), ["p1", "p2"], kind="direct")
    np.testing.assert_allclose(nets["rna_protein"].to_numpy(), W_r @ A[:Kr, Kr:] @ W_p.T)
    assert nets["protein_rna"].shape == (2, 4)
    tot = feature_networks(A, W_r, W_p, list("abcd"), ["p1", "p2"], kind="total")
    T = np.linalg.inv(np.eye(Kr + Kp) - A) - np.eye(Kr + Kp)
    np.testing.assert_allclose(tot["rna_protein"].to_numpy(), W_r @ T[:Kr, Kr:] @ W_p.T)
