"""Tests of zero-shot perturbation validation, metrics and observational baselines."""

from __future__ import annotations

import json

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    PREDICTION_COLUMNS,
    always_down_effects,
    auprc,
    auroc,
    bh_fdr,
    correlation_effects,
    direction_accuracy,
    observed_effects,
    random_effects,
    ridge_effects,
    score_predictions,
    validate,
    write_validation,
)

GENES = ["A", "B", "C", "D", "G1", "G2", "G3", "G4", "G5", "G6"]
PROTEINS = ["X", "Y", "Z", "W"]


def _perturb_data(seed: int = 0, sparse: bool = True) -> md.MuData:
    """Knockdown data with a known answer.

    - A: transcript drops to 10 %; protein X halves, Y doubles (geometric mean unchanged, so
      the CLR of Z and W does not move).
    - B: transcript drops, no protein changes.
    - C: transcript goes UP (the knockdown failed) -> removed by the knockdown filter.
    - D: only 5 cells -> too few cells.
    - NOTAGENE: target not among the model's genes.
    """
    rng = np.random.default_rng(seed)
    groups = {"control": 300, "A": 200, "B": 200, "C": 150, "D": 5, "NOTAGENE": 40}
    labels = np.concatenate([[k] * n for k, n in groups.items()])
    n = labels.size
    rna_rate = np.full((n, len(GENES)), 8.0)
    prot_rate = np.full((n, len(PROTEINS)), 100.0)
    for gene, factor in (("A", 0.1), ("B", 0.1), ("C", 1.5), ("D", 0.1)):
        rna_rate[labels == gene, GENES.index(gene)] *= factor
    prot_rate[labels == "A", PROTEINS.index("X")] *= 0.5
    prot_rate[labels == "A", PROTEINS.index("Y")] *= 2.0
    rna_counts = rng.poisson(rna_rate).astype(np.float32)
    prot_counts = rng.poisson(prot_rate).astype(np.float32)
    obs = pd.DataFrame({"perturbation": labels}, index=[f"cell{i}" for i in range(n)])
    rna = ad.AnnData(
        X=sp.csr_matrix(rna_counts) if sparse else rna_counts,
        obs=obs.copy(),
        var=pd.DataFrame(index=GENES),
    )
    prot = ad.AnnData(X=prot_counts, obs=obs.copy(), var=pd.DataFrame(index=PROTEINS))
    return md.MuData({"rna": rna, "prot": prot})


def _oracle() -> pd.DataFrame:
    eff = pd.DataFrame(0.0, index=GENES, columns=PROTEINS)
    eff.loc["A", "X"] = -1.0  # knocking A down lowers X
    eff.loc["A", "Y"] = 1.0  # ... and raises Y
    return eff


@pytest.fixture(scope="module")
def perturb() -> md.MuData:
    return _perturb_data()


@pytest.fixture(scope="module")
def observed(perturb) -> pd.DataFrame:
    return observed_effects(perturb, genes=GENES, proteins=PROTEINS)


# --------------------------------------------------------------------------- metrics


def test_metrics_basic():
    assert auroc([0.1, 0.9, 0.8, 0.2], [0, 1, 1, 0]) == 1.0
    assert np.isnan(auroc([0.1, 0.2], [1, 1]))
    assert np.isnan(auprc([0.1, 0.2], [0, 0]))
    assert auprc([0.1, 0.9, np.nan], [0, 1, 1]) == 1.0  # NaN score ignored
    q = bh_fdr([0.01, np.nan, 0.04, 0.03])
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2, 3]], [0.03, 0.04, 0.04])
    # A predicted 0 counts as wrong; groups give an unweighted mean over groups.
    assert direction_accuracy([1, -1, 0], [1, -1, 1]) == pytest.approx(2 / 3)
    assert direction_accuracy([-1, -1, -1, -1], [-1, -1, -1, 1], groups=[1, 1, 1, 2]) == 0.5


# --------------------------------------------------------------------------- observed effects


def test_observed_effects_known_answer(observed):
    assert set(observed.columns) >= {
        "perturbation", "protein", "observed_effect", "pvalue", "qvalue", "significant",
        "n_cells", "n_control",
    }
    assert set(observed["perturbation"]) == {"A", "B"}
    sig = observed[observed["significant"]]
    assert set(zip(sig["perturbation"], sig["protein"], strict=True)) == {("A", "X"), ("A", "Y")}
    eff = observed.set_index(["perturbation", "protein"])["observed_effect"]
    assert eff[("A", "X")] == pytest.approx(-np.log(2), abs=0.1)
    assert eff[("A", "Y")] == pytest.approx(np.log(2), abs=0.1)
    assert (observed["n_control"] == 300).all()
    assert observed.loc[observed["perturbation"] == "A", "n_cells"].eq(200).all()
    dropped = {d["perturbation"]: d["reason"] for d in observed.attrs["dropped"]}
    assert dropped == {
        "C": "no knockdown",
        "D": "too few cells",
        "NOTAGENE": "target not among the model's genes",
    }
    summary = observed.attrs["summary"]
    assert summary["n_kept"] == 2 and summary["n_control"] == 300
    json.dumps(observed.attrs["dropped"])  # JSON-serialisable report


def test_knockdown_filter_off_keeps_failed_knockdown(perturb):
    obs = observed_effects(perturb, genes=GENES, knockdown_filter=False, test="mannwhitney")
    assert set(obs["perturbation"]) == {"A", "B", "C"}
    sig = obs[obs["significant"]]
    assert set(zip(sig["perturbation"], sig["protein"], strict=True)) == {("A", "X"), ("A", "Y")}


def test_observed_effects_dense_counts_and_mudata_obs_column():
    mdata = _perturb_data(sparse=False)
    mdata.obs["perturbation"] = mdata.mod["rna"].obs["perturbation"].to_numpy()
    for mod in ("rna", "prot"):
        del mdata.mod[mod].obs["perturbation"]
    obs = observed_effects(mdata, genes=GENES)
    sig = obs[obs["significant"]]
    assert set(zip(sig["perturbation"], sig["protein"], strict=True)) == {("A", "X"), ("A", "Y")}


def test_observed_effects_protein_subset_and_cis_map(perturb):
    pmap = pd.DataFrame({"protein": ["X"], "gene": ["A"]})
    obs = observed_effects(perturb, proteins=["X", "Q"], protein_map=pmap)
    assert set(obs["protein"]) == {"X"}
    assert obs.set_index("perturbation").loc["A", "cis"]
    assert not obs.set_index("perturbation").loc["B", "cis"]


def test_observed_effects_errors(perturb):
    with pytest.raises(CMCVAEInputError, match="no obs column 'guide'"):
        observed_effects(perturb, perturbation_key="guide")
    with pytest.raises(CMCVAEInputError, match="No control cells") as err:
        observed_effects(perturb, control_label="NT")
    assert "NT" in str(err.value) and "'control'" in str(err.value)
    with pytest.raises(CMCVAEInputError, match="among the model's"):
        observed_effects(perturb, genes=["G1", "G2"])
    with pytest.raises(CMCVAEInputError, match="perturbation panel"):
        observed_effects(perturb, proteins=["CD999"])
    with pytest.raises(CMCVAEInputError, match="Unknown test"):
        observed_effects(perturb, test="ks")
    with pytest.raises(CMCVAEInputError, match="No perturbation is left"):
        observed_effects(perturb, min_cells=10_000)


# --------------------------------------------------------------------------- scoring


def test_oracle_scores_perfect_and_flipped_oracle_zero(observed):
    scores = score_predictions(_oracle(), observed)
    assert scores["auroc"] == 1.0
    assert scores["auprc"] == 1.0
    assert scores["direction_accuracy"] == 1.0
    assert scores["pair_direction_accuracy"] == 1.0
    assert scores["per_perturbation_auroc"] == {"A": 1.0}
    assert scores["median_perturbation_auroc"] == 1.0
    assert scores["n_perturbations"] == 2
    assert scores["n_pairs"] == 8
    assert scores["n_significant"] == 2
    flipped = score_predictions(-_oracle(), observed)
    assert flipped["direction_accuracy"] == 0.0
    assert flipped["auroc"] == 1.0  # |predicted| ranks the same


def test_always_down_direction_equals_fraction_of_decreases(observed):
    scores = score_predictions(always_down_effects(GENES, PROTEINS), observed)
    sig = observed[observed["significant"]]
    assert scores["direction_accuracy"] == pytest.approx((sig["observed_effect"] < 0).mean())
    assert scores["auroc"] == 0.5


def test_direction_accuracy_is_gene_level():
    observed = pd.DataFrame(
        {
            "perturbation": ["P1", "P1", "P1", "P1", "P2", "P2"],
            "protein": ["a", "b", "c", "d", "a", "b"],
            "observed_effect": [-1.0, -0.5, -0.2, 0.01, 0.8, 0.0],
            "significant": [True, True, True, False, True, False],
        }
    )
    down = pd.DataFrame(-1.0, index=["P1", "P2"], columns=list("abcd"))
    scores = score_predictions(down, observed)
    assert scores["direction_accuracy"] == pytest.approx(0.5)  # mean of P1: 1, P2: 0
    assert scores["pair_direction_accuracy"] == pytest.approx(0.75)  # 3 of 4 pairs
    zero = down * 0.0
    assert score_predictions(zero, observed)["direction_accuracy"] == 0.0
    with pytest.raises(CMCVAEInputError, match="shares no"):
        score_predictions(pd.DataFrame(1.0, index=["Q"], columns=["a"]), observed)


# --------------------------------------------------------------------------- validate


def test_validate_and_write(perturb, tmp_path):
    methods = {
        "cmcvae": _oracle(),
        "always_down": always_down_effects(GENES, PROTEINS),
        "random": random_effects(GENES, PROTEINS, seed=1),
    }
    results, predictions = validate(methods, perturb)
    assert results["method"] == "cmcvae"
    assert results["auroc"] == 1.0 and results["direction_accuracy"] == 1.0
    assert results["n_perturbations"] == 2 and results["n_pairs"] == 8
    assert set(results) >= {"cmcvae", "always_down", "random", "filtering"}
    assert results["filtering"]["n_kept"] == 2
    assert list(predictions.columns[:5]) == PREDICTION_COLUMNS
    assert {"predicted_always_down", "predicted_random"} <= set(predictions.columns)
    assert len(predictions) == 8

    json_path, csv_path = write_validation(results, predictions, tmp_path / "run")
    loaded = json.loads(json_path.read_text())
    assert loaded["auroc"] == 1.0
    assert loaded["always_down"]["spearman"] is None  # NaN -> null
    assert list(pd.read_csv(csv_path).columns[:5]) == PREDICTION_COLUMNS

    with pytest.raises(CMCVAEInputError, match="Method names"):
        validate({"auroc": _oracle()}, perturb)


# --------------------------------------------------------------------------- baselines


def _planted_training(seed: int = 0, n: int = 3000):
    """Gene g3 drives protein P0 up; gene g7 drives protein P1 down; the rest is noise."""
    rng = np.random.default_rng(seed)
    genes = [f"g{i}" for i in range(15)]
    proteins = [f"P{i}" for i in range(5)]
    activity = rng.gamma(2.0, 1.0, size=(n, 2))
    rna_rate = np.full((n, len(genes)), 10.0)
    rna_rate[:, 3] = 10.0 * activity[:, 0]
    rna_rate[:, 7] = 10.0 * activity[:, 1]
    prot_rate = np.full((n, len(proteins)), 60.0)
    prot_rate[:, 0] = 30.0 * activity[:, 0]
    prot_rate[:, 1] = 120.0 / (1.0 + activity[:, 1])
    rna = rng.poisson(rna_rate).astype(np.float32)
    prot = rng.poisson(prot_rate).astype(np.float32)
    return rna, prot, genes, proteins


@pytest.mark.parametrize("method", ["correlation", "ridge"])
def test_baselines_recover_planted_relation(method):
    rna, prot, genes, proteins = _planted_training()
    if method == "correlation":
        eff = correlation_effects(sp.csr_matrix(rna), prot, genes, proteins)
        dense = correlation_effects(rna, prot, genes, proteins)
        np.testing.assert_allclose(eff.to_numpy(), dense.to_numpy(), atol=1e-5)
    else:
        eff = ridge_effects(sp.csr_matrix(rna), prot, genes, proteins, alphas=(1.0, 10.0, 100.0))
        assert eff.attrs["alpha"] in (1.0, 10.0, 100.0)
    assert eff.shape == (15, 5)
    assert list(eff.index) == genes and list(eff.columns) == proteins
    assert eff["P0"].abs().idxmax() == "g3" and eff.loc["g3", "P0"] < 0  # knockdown lowers P0
    assert eff["P1"].abs().idxmax() == "g7" and eff.loc["g7", "P1"] > 0  # knockdown raises P1


def test_simple_baselines_and_input_errors():
    rnd = random_effects(["a", "b"], ["x"], seed=3)
    assert rnd.equals(random_effects(["a", "b"], ["x"], seed=3))
    assert (always_down_effects(["a"], ["x", "y"]) == -1).all().all()
    rna = np.ones((5, 2))
    with pytest.raises(CMCVAEInputError, match="same cells"):
        correlation_effects(rna, np.ones((4, 1)), ["a", "b"], ["x"])
    with pytest.raises(CMCVAEInputError, match="gene names"):
        correlation_effects(rna, np.ones((5, 1)), ["a"], ["x"])
    with pytest.raises(CMCVAEInputError, match="not unique"):
        ridge_effects(rna, np.ones((5, 1)), ["a", "a"], ["x"])
    with pytest.raises(CMCVAEInputError, match="positive"):
        ridge_effects(rna, np.ones((5, 1)), ["a", "b"], ["x"], alphas=(0.0,))
