import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io._contract import read_input
from cmcvae.pp._normalize import clr, log_normalize, mean_std


def test_h5ad_with_protein_expression(tiny_mdata, tmp_path):
    rna = tiny_mdata.mod["rna"].copy()
    prot = tiny_mdata.mod["prot"]
    rna.obsm["protein_expression"] = pd.DataFrame(prot.X, index=rna.obs_names, columns=prot.var_names)
    rna.write_h5ad(tmp_path / "d.h5ad")
    m = read_input(tmp_path / "d.h5ad")
    assert set(m.mod) == {"rna", "prot"}
    assert list(m.mod["prot"].var_names) == list(prot.var_names)
    np.testing.assert_array_equal(m.mod["prot"].X, prot.X)
    del rna.obsm["protein_expression"]
    rna.write_h5ad(tmp_path / "rna_only.h5ad")
    with pytest.raises(CMCVAEInputError, match="protein_expression"):
        read_input(tmp_path / "rna_only.h5ad")


def test_preprocessing_values():
    counts = np.array([[1.0, 3.0, 0.0], [2.0, 2.0, 4.0]])
    ln = log_normalize(counts)
    np.testing.assert_allclose(ln[0], np.log1p([2500.0, 7500.0, 0.0]), rtol=1e-6)
    c = clr(counts)
    np.testing.assert_allclose(c.sum(axis=1), 0.0, atol=1e-6)
    import scipy.sparse as sp

    m1, s1 = mean_std(sp.csr_matrix(ln))
    m2, s2 = mean_std(np.asarray(ln))
    np.testing.assert_allclose(m1, m2, rtol=1e-6)
    np.testing.assert_allclose(s1, s2, rtol=1e-6)
