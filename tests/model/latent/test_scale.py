"""The sparse negative-binomial likelihood equals the dense one."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from cmcvae.model.latent._batches import CellBatches, count_histogram
from cmcvae.model.latent._likelihood import nb_batch_log_likelihood, nb_log_likelihood


@pytest.mark.parametrize("max_count", [None, 3, 32])
def test_sparse_nb_matches_dense_including_zero_rows_and_gradients(max_count):
    rng = np.random.default_rng(0)
    counts = sp.random(40, 30, density=0.2, format="csr", random_state=1,
                       data_rvs=lambda k: rng.poisson(3, k) + 1).astype(np.float32)
    counts[5] = 0  # a cell without counts
    counts.eliminate_zeros()
    counts.data[0] = 40.0  # a count far above the histogram
    log_mu = torch.tensor(rng.normal(0, 2, (40, 30)), dtype=torch.float64, requires_grad=True)
    log_theta = torch.tensor(rng.normal(1, 0.5, 30), dtype=torch.float64, requires_grad=True)
    x, mu, theta = torch.from_numpy(counts.toarray()).double(), torch.exp(log_mu), torch.exp(log_theta)
    log_t_mu = torch.log(theta + mu)  # the textbook NB, exact (no eps)
    dense = (theta * (log_theta - log_t_mu) + x * (log_mu - log_t_mu) + torch.lgamma(x + theta)
             - torch.lgamma(theta) - torch.lgamma(x + 1.0)).sum()
    torch.testing.assert_close(nb_log_likelihood(x, mu, theta).sum(), dense, rtol=1e-6, atol=0)
    coo = counts.tocoo()
    rows, cols = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
    values = torch.from_numpy(coo.data).double()
    extra = {}
    if max_count is not None:
        hist = count_histogram(coo.col.astype(np.int64), coo.data, 30, max_count)
        assert hist["counts_hist"].sum() + len(hist["counts_big_values"]) == counts.nnz
        extra = {"hist": hist["counts_hist"], "big_cols": hist["counts_big_cols"],
                 "big_values": hist["counts_big_values"].double()}
    sparse = nb_batch_log_likelihood(log_mu - log_theta, log_theta, rows, cols, values, **extra)
    torch.testing.assert_close(sparse, dense, rtol=1e-12, atol=1e-9)
    g_dense = torch.autograd.grad(dense, (log_mu, log_theta))
    g_sparse = torch.autograd.grad(sparse, (log_mu, log_theta))
    for a, b in zip(g_sparse, g_dense, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_nb_is_finite_for_extreme_means():
    log_theta = torch.zeros(3, requires_grad=True)
    log_ratio = torch.tensor([[200.0, -200.0, 0.0]], requires_grad=True)
    value = nb_batch_log_likelihood(log_ratio, log_theta, torch.tensor([0, 0]), torch.tensor([0, 1]),
                                    torch.tensor([2.0, 5.0]))
    assert torch.isfinite(value)
    value.backward()
    assert torch.isfinite(log_ratio.grad).all() and torch.isfinite(log_theta.grad).all()


def test_cell_batches_carry_the_nonzeros_and_their_histogram():
    rng = np.random.default_rng(2)
    counts = sp.random(20, 12, density=0.3, format="csr", random_state=3,
                       data_rvs=lambda k: rng.poisson(4, k) + 1).astype(np.float32)
    counts.data[1:4] = [0.0, 50.0, 7.0]  # a stored zero and a count above max_count...
    assert counts.indptr[1] == 1 and counts.indptr[2] >= 4  # ...in cell 1
    prot = rng.normal(size=(20, 2)).astype(np.float32)
    ds = CellBatches(counts, prot, np.arange(20) % 3, np.ones(2, np.float32),
                     np.full(2, 2.0, np.float32), normalize=True, nb=True, max_count=8)
    idx = np.array([7, 1, 11])
    b = ds[idx]
    order = np.sort(idx)
    rebuilt = np.zeros((3, 12), np.float32)
    rebuilt[b["rna_rows"].numpy(), b["rna_cols"].numpy()] = b["rna_values"].numpy()
    np.testing.assert_array_equal(rebuilt, counts[order].toarray())
    np.testing.assert_allclose(b["y"].numpy(), (prot[order] - 1.0) / 2.0)
    np.testing.assert_array_equal(b["donor"].numpy(), order % 3)
    np.testing.assert_allclose(b["library"].numpy(), np.asarray(counts[order].sum(1)).ravel())
    dense = counts[order].toarray().astype(int)
    hist = b["counts_hist"].numpy().reshape(12, 8)
    for g in range(12):
        for k in range(1, 9):
            assert hist[g, k - 1] == (dense[:, g] == k).sum()
    big = sorted(zip(b["counts_big_cols"].tolist(), b["counts_big_values"].tolist(), strict=True))
    _, genes = np.nonzero(dense > 8)
    assert len(big) >= 1
    assert big == sorted(zip(genes.tolist(), dense[dense > 8].astype(float).tolist(), strict=True))
    empty = CellBatches(sp.csr_matrix((5, 0), dtype=np.float32), prot[:5], np.zeros(5, int),
                        np.zeros(2, np.float32), np.ones(2, np.float32), normalize=False, nb=False)
    assert empty[np.arange(3)]["rna_values"].numel() == 0


def test_many_donors_use_an_embedding_and_round_trip(tmp_path):
    from cmcvae import CMCVAE
    from cmcvae.datasets import simulate

    sim = simulate(n_cells=800, n_genes=30, n_proteins=4, n_donors=40, n_perturbations=5, seed=0)
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, max_epochs=1, n_latent_rna=4, n_latent_protein=2,
                   donor_onehot_max=32, donor_embedding_dim=5)
    emb = model.module.donor_embedding
    assert emb is not None and emb.weight.shape == (len(model.donors), 5)
    assert model.module.encoder[0].in_features == 30 + 4
    assert model.module.donor_in.in_features == 5
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
    from cmcvae.model import CMCVAEConfig

    with pytest.raises(CMCVAEInputError, match="donor_embedding_dim"):
        CMCVAEConfig(donor_embedding_dim=0)


def test_per_batch_normalisation_equals_the_precomputed_matrix():
    from cmcvae.pp import (
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
    from cmcvae.model import CMCVAEConfig
    from cmcvae.model.latent._module import CMCVAEModule

    prot = rng.normal(size=(300, 3)).astype(np.float32)
    ds = CellBatches(counts, prot, np.zeros(300, int), np.zeros(3, np.float32),
                     np.ones(3, np.float32), normalize=True, nb=True)
    module = CMCVAEModule(25, 3, 1, CMCVAEConfig(n_latent_rna=4, n_latent_protein=2))
    module.set_input_scaling(m_old, s_old, normalize=True)
    idx = np.array([3, 250, 17, 99])
    xy = module.encoder_input(ds[idx]).numpy()
    expected = (log_normalize(counts)[np.sort(idx)].toarray() - m_old) / s_old
    np.testing.assert_allclose(xy[:, :25], expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(xy[:, 25:], prot[np.sort(idx)])


def test_fused_nb_decoder_equals_autograd():
    from cmcvae.model.latent._likelihood import nb_decoder_log_likelihood

    rng = np.random.default_rng(7)
    n, G, K, D = 37, 11, 3, 4
    counts = sp.random(n, G, density=0.4, format="csr", random_state=8,
                       data_rvs=lambda k: rng.poisson(3, k) + 1).astype(np.float32)
    counts[4] = 0
    counts.eliminate_zeros()
    coo = counts.tocoo()  # row-major: rows sorted
    rows, cols = torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))
    values = torch.from_numpy(coo.data).double()
    library = torch.from_numpy(np.asarray(counts.sum(1)).ravel() + 1.0).double()
    donor = torch.from_numpy(rng.integers(0, D, n))
    hist = count_histogram(coo.col.astype(np.int64), coo.data, G, 2)

    def params():
        torch.manual_seed(0)
        return [torch.randn(n, K, dtype=torch.float64, requires_grad=True),
                torch.randn(G, K, dtype=torch.float64, requires_grad=True),
                (torch.randn(D, G, dtype=torch.float64) - 3).requires_grad_(),
                torch.randn(G, dtype=torch.float64, requires_grad=True)]

    extra = dict(hist=hist["counts_hist"], big_cols=hist["counts_big_cols"],
                 big_values=hist["counts_big_values"].double())
    results = []
    for chunk in (None, 5, 64):
        p = params()
        value = nb_decoder_log_likelihood(*p, donor, library, rows, cols, values, chunk=chunk, **extra)
        (2.5 * value).backward()
        results.append((value.detach(), [q.grad for q in p]))
    for value, grads in results[1:]:
        torch.testing.assert_close(value, results[0][0], rtol=1e-12, atol=1e-9)
        for a, b in zip(grads, results[0][1], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


def test_models_saved_with_one_first_layer_still_load():
    from cmcvae.model import CMCVAEConfig
    from cmcvae.model.latent._module import CMCVAEModule

    config = CMCVAEConfig(n_latent_rna=3, n_latent_protein=2)
    new = CMCVAEModule(10, 4, 3, config)
    old = dict(new.state_dict())
    old["encoder.0.weight"] = torch.cat([old["encoder.0.weight"], old.pop("donor_in.weight")], dim=1)
    loaded = CMCVAEModule(10, 4, 3, config)
    loaded.load_state_dict(old)
    for key, value in new.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value)


def test_prefetch_loader_gives_the_same_batches_and_raises_errors():
    from cmcvae.model.latent._sampling import make_loader

    rng = np.random.default_rng(9)
    counts = sp.random(300, 20, density=0.3, format="csr", random_state=10,
                       data_rvs=lambda k: rng.poisson(3, k) + 1).astype(np.float32)
    ds = CellBatches(counts, rng.normal(size=(300, 2)).astype(np.float32), np.zeros(300, int),
                     np.zeros(2, np.float32), np.ones(2, np.float32), normalize=True, nb=True)
    idx = np.arange(10, 290)
    plain = make_loader(ds, idx, 64, shuffle=True, seed=4)
    ahead = make_loader(ds, idx, 64, shuffle=True, seed=4, prefetch=2)
    for loader in (plain, ahead):
        loader.sampler.set_epoch(3)
    got = list(ahead)
    assert len(got) == len(plain) == 5
    for a, b in zip(got, plain, strict=True):
        for key in a:
            torch.testing.assert_close(a[key], b[key])
    first = next(iter(ahead))  # stopping early leaves no thread behind
    assert first["donor"].shape[0] == 64

    class Broken(torch.utils.data.Dataset):
        def __len__(self):
            return 10

        def __getitem__(self, i):
            raise ValueError("bad cell")

    with pytest.raises(ValueError, match="bad cell"):
        list(make_loader(Broken(), np.arange(10), 4, shuffle=True, prefetch=2))
