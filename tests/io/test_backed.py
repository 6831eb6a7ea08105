"""Out-of-core training: the RNA matrix stays on disk and minibatches read their cells."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets import simulate
from cmcvae.io import BackedRows, read_backed, row_blocks
from cmcvae.model.latent._batches import CellBatches
from cmcvae.model.latent._sampling import EpochBatchSampler
from cmcvae.pp import column_totals, library_size, log_normalized_mean_std


@pytest.fixture(scope="module")
def atlas_file(tmp_path_factory):
    sim = simulate(n_cells=900, n_genes=40, n_proteins=6, n_donors=3, n_perturbations=4, seed=1)
    m = sim.mdata
    for key in list(m.uns):
        m.uns.pop(key)
    m.obs["donor"] = m.obs["donor"].astype(str)
    path = tmp_path_factory.mktemp("backed") / "atlas.h5mu"
    m.write(path)
    return path


def test_backed_rows_read_like_the_matrix(atlas_file):
    import mudata as md

    memory = sp.csr_matrix(md.read_h5mu(atlas_file).mod["rna"].X)
    rows = BackedRows(read_backed(atlas_file).mod["rna"].X)
    idx = np.array([0, 1, 2, 5, 6, 100, 101, 899])  # runs and single cells
    lens, cols, values = rows.read(idx)
    rebuilt = sp.csr_matrix((values, cols, np.r_[0, np.cumsum(lens)]), shape=(len(idx), memory.shape[1]))
    np.testing.assert_array_equal(rebuilt.toarray(), memory[idx].toarray())
    shuffled = np.array([7, 3, 500, 4])
    np.testing.assert_array_equal(rows[shuffled].toarray(), memory[shuffled].toarray())
    blocks = list(row_blocks(rows, np.arange(10, 700), chunk_size=128))
    np.testing.assert_array_equal(sp.vstack(blocks).toarray(), memory[10:700].toarray())
    np.testing.assert_allclose(library_size(rows), library_size(memory))
    train = np.sort(np.random.default_rng(0).choice(900, 600, replace=False))
    np.testing.assert_allclose(column_totals(rows, train), column_totals(memory, train))
    for a, b in zip(log_normalized_mean_std(rows, train, chunk_size=100),
                    log_normalized_mean_std(memory, train), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_training_from_disk_matches_the_in_memory_setup(atlas_file):
    import mudata as md

    kw = dict(n_latent_rna=4, n_latent_protein=2, max_epochs=2, batch_size=128)
    on_disk = read_backed(atlas_file)
    CMCVAE.setup_mudata(on_disk, batch_key="donor")
    backed = CMCVAE(on_disk, **kw)
    assert backed._data.backed is not None and backed._data.sampling_block == 64
    in_memory = md.read_h5mu(atlas_file)
    CMCVAE.setup_mudata(in_memory, batch_key="donor")
    memory = CMCVAE(in_memory, **kw)
    for key in backed.stats:  # the same scaling, computed block by block from disk
        np.testing.assert_allclose(backed.stats[key], memory.stats[key], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(backed.module.c_r, memory.module.c_r)
    idx = np.arange(50, 80)
    a, b = backed._data[idx], memory._data[idx]
    for key in a:
        torch.testing.assert_close(a[key], b[key])
    backed.train(progress_bar=False)
    assert len(backed.history) == 2 and np.isfinite(backed.history[-1]["val_elbo"])
    assert backed.get_adjacency().shape == (6, 6)
    with pytest.raises(CMCVAEInputError, match="preload|GPU"):
        backed._data.to("meta")


def test_block_sampler_moves_runs_of_cells_and_covers_every_cell():
    s = EpochBatchSampler(1000, 128, seed=3, block=64)
    s.set_epoch(2)
    batches = list(s)
    cells = np.concatenate(batches)
    assert sorted(cells.tolist()) == list(range(1000))
    runs = np.flatnonzero(np.diff(cells) != 1)
    assert len(runs) < 1000 // 64 + 1  # only between runs
    assert not np.array_equal(cells, np.arange(1000))
    again = EpochBatchSampler(1000, 128, seed=3, block=64)
    again.set_epoch(2)
    assert all(np.array_equal(x, y) for x, y in zip(batches, again, strict=True))
    shards = [np.concatenate(list(EpochBatchSampler(1000, 128, seed=3, rank=r, world_size=2, block=64)))
              for r in (0, 1)]
    assert set(shards[0]) | set(shards[1]) == set(range(1000))
    plain = EpochBatchSampler(1000, 128, seed=3)
    plain.set_epoch(2)  # block=1 is the plain permutation
    np.testing.assert_array_equal(np.concatenate(list(plain)),
                                  np.random.default_rng([3, 2]).permutation(1000))


def test_device_batch_builder_equals_the_host_one():
    rng = np.random.default_rng(5)
    counts = sp.random(60, 15, density=0.3, format="csr", random_state=6,
                       data_rvs=lambda k: rng.poisson(3, k) + 1).astype(np.float32)
    ds = CellBatches(counts, rng.normal(size=(60, 3)).astype(np.float32), np.arange(60) % 4,
                     np.zeros(3, np.float32), np.ones(3, np.float32), normalize=True, nb=True)
    idx = np.array([40, 3, 17, 18, 59])
    host = ds._cpu_batch(np.sort(idx))
    device = ds._device_batch(np.sort(idx))  # the GPU path, run on the CPU tensors
    for key in device:
        torch.testing.assert_close(device[key], host[key])


def test_read_backed_errors(tmp_path, atlas_file):
    with pytest.raises(CMCVAEInputError, match="does not exist"):
        read_backed(tmp_path / "none.h5mu")
    bad = tmp_path / "bad.h5mu"
    bad.write_text("not hdf5")
    with pytest.raises(CMCVAEInputError, match="cmcvae prepare"):
        read_backed(bad)


def test_cli_fit_backed_and_bf16_mixed_precision(atlas_file, tmp_path):
    import json

    from typer.testing import CliRunner

    from cmcvae.cli import app

    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["fit", str(atlas_file), "--out", str(out), "--batch-key", "donor",
                                   "--max-epochs", "2", "--backed", "--precision", "bf16-mixed"])
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["is_dag"]
    assert (out / "model" / "model.pt").is_file()
    res = CliRunner().invoke(app, ["fit", str(atlas_file), "--out", str(tmp_path / "r2"),
                                   "--preload", "--max-epochs", "1"])
    assert res.exit_code != 0 and "GPU" in str(res.exception)
    assert not (tmp_path / "r2").exists()  # refused before anything was written
