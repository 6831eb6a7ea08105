"""The sparse negative-binomial likelihood equals the dense one."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from cmcvae.data.batches import CellBatches
from cmcvae.model.module import nb_log_likelihood, nb_log_likelihood_sparse


def test_sparse_nb_matches_dense_including_zero_rows_and_gradients():
    rng = np.random.default_rng(0)
    counts = sp.random(40, 30, density=0.2, format="csr", random_state=1,
                       data_rvs=lambda k: rng.poisson(3, k) + 1).astype(np.float32)
    counts[5] = 0  # a cell without counts
    counts.eliminate_zeros()
    log_mu = torch.tensor(rng.normal(0, 2, (40, 30)), dtype=torch.float64, requires_grad=True)
    log_theta = torch.tensor(rng.normal(1, 0.5, 30), dtype=torch.float64, requires_grad=True)
    dense = nb_log_likelihood(torch.from_numpy(counts.toarray()).double(), torch.exp(log_mu),
                              torch.exp(log_theta)).sum(1)
    coo = counts.tocoo()
    rows, cols = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
    sparse = nb_log_likelihood_sparse(log_mu, torch.exp(log_theta), rows, cols,
                                      torch.from_numpy(coo.data).double())
    torch.testing.assert_close(sparse, dense, rtol=1e-10, atol=1e-9)
    g_dense = torch.autograd.grad(dense.sum(), (log_mu, log_theta))
    g_sparse = torch.autograd.grad(sparse.sum(), (log_mu, log_theta))
    for a, b in zip(g_sparse, g_dense, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)


def test_cell_batches_give_nonzeros_and_the_lgamma_constant():
    rng = np.random.default_rng(2)
    counts = sp.random(20, 12, density=0.3, format="csr", random_state=3,
                       data_rvs=lambda k: rng.poisson(4, k) + 1).astype(np.float32)
    z = np.zeros(12, dtype=np.float32)
    ds = CellBatches(counts, np.zeros((20, 2), np.float32), np.zeros(20, int), z, z + 1,
                     np.zeros(2, np.float32), np.ones(2, np.float32), counts=counts,
                     library=np.asarray(counts.sum(1)).ravel())
    idx = np.array([7, 2, 11])
    b = ds[idx]
    rows, cols = b["counts_index"].numpy()
    rebuilt = np.zeros((3, 12), np.float32)
    rebuilt[rows, cols] = b["counts_value"].numpy()
    np.testing.assert_array_equal(rebuilt, counts[np.sort(idx)].toarray())
    expected = torch.lgamma(torch.from_numpy(counts[np.sort(idx)].toarray()).double() + 1).sum(1)
    torch.testing.assert_close(b["counts_lgamma"].double(), expected, rtol=1e-6, atol=1e-4)


def test_many_donors_use_an_embedding_and_round_trip(tmp_path):
    from cmcvae import CMCVAE
    from cmcvae.data.simulate import simulate

    sim = simulate(n_cells=800, n_genes=30, n_proteins=4, n_donors=40, n_perturbations=5, seed=0)
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, max_epochs=1, n_latent_rna=4, n_latent_protein=2,
                   donor_onehot_max=32, donor_embedding_dim=5)
    emb = model.module.donor_embedding
    assert emb is not None and emb.weight.shape == (len(model.donors), 5)
    assert model.module.encoder[0].in_features == 30 + 4 + 5
    model.train(progress_bar=False)
    model.save(tmp_path / "m")
    loaded = CMCVAE.load(tmp_path / "m")
    assert loaded.module.donor_embedding is not None
    np.testing.assert_allclose(loaded.get_adjacency(), model.get_adjacency())
    few = CMCVAE(sim.mdata, max_epochs=1, n_latent_rna=4, n_latent_protein=2, donor_onehot_max=64)
    assert few.module.donor_embedding is None


def test_bad_donor_embedding_settings():
    import pytest

    from cmcvae._errors import CMCVAEInputError
    from cmcvae.model.config import CMCVAEConfig

    with pytest.raises(CMCVAEInputError, match="donor_embedding_dim"):
        CMCVAEConfig(donor_embedding_dim=0)


def test_per_batch_normalisation_equals_the_precomputed_matrix():
    from cmcvae.data.preprocess import (
        library_size,
        log_normalize,
        log_normalized_mean_std,
        mean_std,
    )

    rng = np.random.default_rng(4)
    counts = sp.random(300, 25, density=0.3, format="csr", random_state=5,
                       data_rvs=lambda k: rng.poisson(5, k) + 1).astype(np.float32)
    rows = rng.choice(300, 200, replace=False)
    m_new, s_new = log_normalized_mean_std(counts, rows, chunk_size=64)
    m_old, s_old = mean_std(log_normalize(counts)[rows])
    np.testing.assert_allclose(m_new, m_old, rtol=1e-6)
    np.testing.assert_allclose(s_new, s_old, rtol=1e-5)
    prot = rng.normal(size=(300, 3)).astype(np.float32)
    args = (prot, np.zeros(300, int), m_old, s_old, np.zeros(3, np.float32), np.ones(3, np.float32))
    old = CellBatches(log_normalize(counts), *args)
    new = CellBatches(counts, *args, counts=counts, library=library_size(counts), normalize_rna=True)
    assert new.counts is new.rna  # one RNA matrix, not two
    idx = np.array([3, 250, 17, 99])
    np.testing.assert_array_equal(new[idx]["x"].numpy(), old[idx]["x"].numpy())
