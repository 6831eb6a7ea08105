"""Normalisation of RNA and protein counts (cmcvae.pp)."""

import numpy as np

from cmcvae.pp import clr, log_normalize, mean_std


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
