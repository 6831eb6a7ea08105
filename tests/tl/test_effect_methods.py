"""``effect_matrices``: the methods ``validate`` scores, per read-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import Ridge

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import estimate_effects, feature_stats
from cmcvae.pp import log_normalize
from cmcvae.tl import effect_matrices

GENES = ["g0", "g1", "g2", "g3", "g4"]


class _RnaModel:
    """Stands for an RNA-only fitted model: genes, no proteins, a gene → gene total network."""

    genes = GENES
    proteins: list[str] = []


class _Effects:
    """Stands for :class:`cmcvae.tl._effects.RunEffects` of an RNA-only run with a GRN prior."""

    def __init__(self, counts):
        self.model = _RnaModel()
        self.stats = feature_stats(counts, None, GENES)
        self.prior = pd.DataFrame({"source": ["g0", "g0"], "target": ["g1", "g2"]})

    def default_method(self):
        return "adjust"

    def available(self):
        return ["adjust", "adjust_all", "adjust_parents", "correlation", "ridge"]

    def estimate(self, method, sources=None, readouts=None, readout_modality=None):
        return estimate_effects(self.stats, method, sources=sources, readouts=readouts,
                                prior=self.prior, readout_modality=readout_modality)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 2))
    rate = np.exp(2.0 + z @ rng.normal(0, 0.5, size=(2, len(GENES))))
    return sp.csr_matrix(rng.poisson(rate).astype(np.float32))


def test_rna_methods_primary_first_diagonal_left_out(counts):
    eff = effect_matrices(_Effects(counts), counts, None, readout="rna", truth_effects=None, seed=0)
    assert list(eff) == ["cmcvae", "adjust_all", "adjust_parents", "correlation", "ridge",
                         "random", "always_down"]
    assert eff["cmcvae"].attrs["estimator"] == "adjust"
    for name in ("cmcvae", "correlation", "ridge"):
        assert eff[name].shape == (5, 5) and np.isnan(np.diag(eff[name])).all()
    x = log_normalize(counts).toarray().astype(np.float64)
    corr = np.corrcoef(x, rowvar=False)
    off = ~np.eye(5, dtype=bool)
    assert np.allclose(eff["correlation"].to_numpy()[off], -corr[off])


def test_rna_ridge_is_each_gene_on_the_others(counts):
    eff = effect_matrices(_Effects(counts), counts, None, readout="rna", truth_effects=None,
                          seed=0)["ridge"]
    penalty = estimate_effects(_Effects(counts).stats, "ridge").info["penalty"]
    x = log_normalize(counts).toarray().astype(np.float64)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    for h in range(5):
        others = [g for g in range(5) if g != h]
        fit = Ridge(alpha=penalty * len(x)).fit(x[:, others], x[:, h])
        assert np.allclose(eff.iloc[others, h].to_numpy(), -fit.coef_, atol=1e-8)


def test_an_explicit_estimator_is_the_primary_method(counts):
    eff = effect_matrices(_Effects(counts), counts, None, readout="rna", truth_effects=None,
                          seed=0, estimator="adjust_all", sources=["g0", "g3"])
    assert eff["cmcvae"].attrs["estimator"] == "adjust_all" and "adjust" in eff
    assert list(eff["cmcvae"].index) == ["g0", "g3"]


def test_rna_oracle_from_the_file_beside_the_protein_truth(counts, tmp_path):
    protein_truth = tmp_path / "knockdown_effects.csv"
    pd.DataFrame({"perturbation": ["g0"], "protein": ["P"], "true_effect": [1.0]}).to_csv(
        protein_truth, index=False)
    kwargs = dict(readout="rna", truth_effects=protein_truth, seed=0)
    assert "oracle" not in effect_matrices(_Effects(counts), counts, None, **kwargs)
    pd.DataFrame({"perturbation": ["g0"], "gene": ["g2"], "true_effect": [-0.7]}).to_csv(
        tmp_path / "knockdown_effects_rna.csv", index=False)
    oracle = effect_matrices(_Effects(counts), counts, None, **kwargs)["oracle"]
    assert oracle.loc["g0", "g2"] == -0.7 and oracle.abs().to_numpy().sum() == 0.7
    with pytest.raises(CMCVAEInputError, match="readout"):
        effect_matrices(_Effects(counts), counts, None, readout="both", truth_effects=None, seed=0)
