"""Training moments: dense and sparse input agree; the folds are the even and odd cells."""

import numpy as np
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import feature_stats, known_regulators, read_regulators, stats_from_matrix


def test_sparse_and_dense_counts_give_the_same_moments():
    rng = np.random.default_rng(0)
    rna = rng.poisson(2.0, size=(400, 12)).astype(float)
    prot = rng.poisson(30.0, size=(400, 3)).astype(float)
    genes, proteins = [f"g{i}" for i in range(12)], ["p0", "p1", "p2"]
    dense = feature_stats(rna, prot, genes, proteins)
    sparse = feature_stats(sp.csr_matrix(rna), prot, genes, proteins)
    np.testing.assert_allclose(dense.corr, sparse.corr, atol=1e-12)
    assert dense.genes == genes and dense.proteins == proteins
    assert dense.n_cells == 400


def test_moments_are_exact_for_large_means_and_folds_are_halves():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(45_001, 4)) + 1e4
    x[:, 1] += 0.5 * x[:, 0]
    stats = stats_from_matrix(x, list("abcd"))
    np.testing.assert_allclose(stats.corr, np.corrcoef(x, rowvar=False), atol=1e-10)
    np.testing.assert_allclose(stats.fold_corr[0], np.corrcoef(x[::2], rowvar=False), atol=1e-10)
    np.testing.assert_allclose(stats.fold_corr[1], np.corrcoef(x[1::2], rowvar=False), atol=1e-10)


def test_constant_feature_and_bad_names():
    x = np.random.default_rng(2).normal(size=(50, 3))
    x[:, 2] = 1.0
    stats = stats_from_matrix(x, ["a", "b", "c"])
    assert stats.corr[2, 2] == 1.0 and stats.corr[0, 2] == 0.0
    with pytest.raises(CMCVAEInputError, match="unique"):
        stats_from_matrix(x, ["a", "a", "c"])
    with pytest.raises(CMCVAEInputError, match="not features"):
        stats.index(["zz"])


def test_packaged_tf_list_matches_human_and_mouse_symbols_only():
    assert known_regulators(["STAT1", "Irf1", "GATA1", "SPI1", "MYC", "CD4"]) == [
        "STAT1", "Irf1", "GATA1", "SPI1", "MYC"]
    assert known_regulators(["TF001", "TF002", "G0001"]) == []  # simulated names: no match


def test_regulator_list_files(tmp_path):
    (tmp_path / "a.txt").write_text("TF001\nTF002\n\n# note\nGATA1\n")
    (tmp_path / "b.csv").write_text("source,target\nGATA1,X\nSPI1,Y\nGATA1,Z\n")
    (tmp_path / "c.txt").write_text("# nothing\n\n")
    assert read_regulators(tmp_path / "a.txt") == ["TF001", "TF002", "GATA1"]
    assert read_regulators(tmp_path / "b.csv") == ["GATA1", "SPI1"]
    with pytest.raises(CMCVAEInputError, match="names no gene"):
        read_regulators(tmp_path / "c.txt")
    with pytest.raises(CMCVAEInputError, match="Cannot read"):
        read_regulators(tmp_path / "missing.txt")
