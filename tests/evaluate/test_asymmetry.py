"""Central-dogma asymmetry statistics on hand-made cases with a known answer."""

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import asymmetry_test, central_dogma
from cmcvae.evaluate._asymmetry import _rank_biserial


def test_rank_biserial_known_values():
    assert _rank_biserial(np.array([1.0, 2.0, 3.0])) == 1.0
    assert _rank_biserial(np.array([-1.0, -2.0])) == -1.0
    # ranks of |d| = 1, 2: positive gets rank 2, negative rank 1 → (2 - 1) / 3
    assert _rank_biserial(np.array([-1.0, 2.0])) == pytest.approx(1 / 3)


def test_clear_forward_asymmetry_is_called():
    rng = np.random.default_rng(0)
    fwd = rng.uniform(1.0, 2.0, 40)
    rev = rng.uniform(0.0, 0.5, 40)
    null_f, null_r = rng.uniform(0, 1, 2000), rng.uniform(0, 1, 2000)  # random pairs: no asymmetry
    out = asymmetry_test(fwd, rev, null_f, null_r, n_boot=300, n_null=300)
    assert out["fraction_forward"] == 1.0
    assert out["wilcoxon_p"] < 1e-6 and out["rank_biserial"] == 1.0
    assert out["null_fraction_forward"] == pytest.approx(0.5, abs=0.05)
    assert out["p_vs_null"] < 0.01
    assert out["call"] == "rna_to_protein"


def test_no_call_when_random_pairs_are_just_as_forward():
    """A block-ordered model: every pair, matched or not, looks forward → no central-dogma claim."""
    rng = np.random.default_rng(1)
    fwd, rev = rng.uniform(0.5, 1.0, 40), np.zeros(40)
    null_f, null_r = rng.uniform(0.5, 1.0, 3000), np.zeros(3000)
    out = asymmetry_test(fwd, rev, null_f, null_r, n_boot=200, n_null=300)
    assert out["fraction_forward"] == 1.0 and out["wilcoxon_p"] < 1e-6
    assert out["call"] == "none"


def test_symmetric_pairs_not_called_and_calibrated():
    """Under no asymmetry the call rate stays near alpha."""
    calls = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        a, b = rng.exponential(size=(2, 30))
        out = asymmetry_test(a, b, rng.exponential(size=500), rng.exponential(size=500),
                             n_boot=50, n_null=200, seed=seed)
        calls += out["call"] != "none"
    assert calls / 60 <= 0.1


def test_central_dogma_with_networks_and_truth():
    genes, prots = [f"G{i}" for i in range(30)], [f"P{i}" for i in range(10)]
    rng = np.random.default_rng(3)
    rp = pd.DataFrame(rng.uniform(0, 0.1, (30, 10)), index=genes, columns=prots)
    pr = pd.DataFrame(rng.uniform(0, 0.1, (10, 30)), index=prots, columns=genes)
    for i in range(10):  # genes 0-4 drive their protein, proteins 5-9 drive their gene
        if i < 5:
            rp.iloc[i, i] = 1.0
        else:
            pr.iloc[i, i] = 1.0
    pairs = pd.DataFrame({"protein": prots, "gene": genes[:10],
                          "rna_to_protein": [rp.iloc[i, i] for i in range(10)],
                          "protein_to_rna": [pr.iloc[i, i] for i in range(10)]})
    truth = pd.DataFrame({"protein": prots, "gene": genes[:10], "direction": ["forward"] * 5 + ["reversed"] * 5})
    out = central_dogma(pairs, {"rna_protein": rp, "protein_rna": pr}, truth=truth, n_boot=100, n_null=200)
    assert out["direction_accuracy_vs_truth"] == 1.0
    assert out["fraction_forward"] == 0.5 and out["call"] == "none"
    with pytest.raises(CMCVAEInputError, match="total"):
        central_dogma(pairs, kind="total")


def test_too_few_pairs():
    with pytest.raises(CMCVAEInputError, match="at least 3"):
        asymmetry_test(np.ones(2), np.zeros(2))
