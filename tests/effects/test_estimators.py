"""Each estimator on a linear-Gaussian SEM with a known answer."""

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import ESTIMATORS, estimate_effects, feature_stats, stats_from_matrix

N = 20_000


@pytest.fixture(scope="module")
def sem():
    """TF1 confounds G and Y; TF2 mediates TF2←TF3→Y; G→Y with effect 0.5.

    Graph: TF1 → G (0.8), TF1 → Y (0.8), G → Y (0.5), TF3 → TF2 (0.9), TF2 → Y2 (0.7),
    TF3 → Y2 (0.0 direct). Unit-variance noises.
    """
    rng = np.random.default_rng(0)
    e = rng.normal(size=(N, 6))
    tf1 = e[:, 0]
    g = 0.8 * tf1 + e[:, 1]
    y = 0.8 * tf1 + 0.5 * g + e[:, 2]
    tf3 = e[:, 3]
    tf2 = 0.9 * tf3 + e[:, 4]
    y2 = 0.7 * tf2 + e[:, 5]
    x = np.column_stack([tf1, g, y, tf3, tf2, y2])
    names = ["TF1", "G", "Y", "TF3", "TF2", "Y2"]
    prior = pd.DataFrame({"source": ["TF1", "TF1", "TF3", "TF2"], "target": ["G", "Y", "TF2", "Y2"]})
    return stats_from_matrix(x, names), x, prior


def _true_std_effect(x, src, dst, raw):
    """The structural total effect in standard deviations: raw · sd(src) / sd(dst)."""
    return raw * x[:, src].std() / x[:, dst].std()


def test_adjusting_for_the_confounding_tf_recovers_the_effect(sem):
    stats, x, prior = sem
    truth = -_true_std_effect(x, 1, 2, 0.5)  # a knockdown lowers G, so Y drops
    adj = estimate_effects(stats, "adjust", sources=["G"], readouts=["Y"], prior=prior)
    cor = estimate_effects(stats, "correlation", sources=["G"], readouts=["Y"])
    assert adj.effect.loc["G", "Y"] == pytest.approx(truth, abs=4 * adj.se.loc["G", "Y"])
    assert abs(cor.effect.loc["G", "Y"] - truth) > 0.1  # confounded


def test_descendants_are_not_adjusted_for(sem):
    """TF3's effect on Y2 runs through TF2: 'adjust' keeps it (TF2 is a descendant in the prior),
    'adjust_all' blocks it."""
    stats, x, prior = sem
    truth = -_true_std_effect(x, 3, 5, 0.9 * 0.7)
    adj = estimate_effects(stats, "adjust", sources=["TF3"], readouts=["Y2"], prior=prior,
                           regulators=["TF1", "TF2", "TF3"])
    blocked = estimate_effects(stats, "adjust_all", sources=["TF3"], readouts=["Y2"],
                               prior=prior, regulators=["TF1", "TF2", "TF3"])
    assert adj.effect.loc["TF3", "Y2"] == pytest.approx(truth, abs=0.03)
    assert abs(blocked.effect.loc["TF3", "Y2"]) < 0.03


def test_ida_keeps_the_smallest_effect_over_ambiguous_parents(sem):
    stats, x, prior = sem
    # fitted graph with one ambiguous edge TF1 - G (TF1 is not declared a regulator here)
    graph = pd.DataFrame({"source": ["TF1"], "target": ["G"], "weight": [0.8]})
    ida = estimate_effects(stats, "ida", sources=["G"], readouts=["Y"], graph=graph,
                           regulators=["TF3"])
    adj = estimate_effects(stats, "adjust_parents", sources=["G"], readouts=["Y"], prior=prior)
    cor = estimate_effects(stats, "correlation", sources=["G"], readouts=["Y"])
    smallest = min(abs(adj.effect.loc["G", "Y"]), abs(cor.effect.loc["G", "Y"]))
    assert abs(ida.effect.loc["G", "Y"]) == pytest.approx(smallest)
    assert ida.info["median_parent_sets"] == 2


def test_ridge_with_no_penalty_is_least_squares_on_the_other_genes(sem):
    stats, x, _ = sem
    z = (x - x.mean(0)) / x.std(0)
    coef, *_ = np.linalg.lstsq(z[:, [0, 1, 3, 4, 5]], z[:, 2], rcond=None)
    est = estimate_effects(stats, "ridge", sources=["G"], readouts=["Y"], ridge_penalty=1e-12)
    assert est.effect.loc["G", "Y"] == pytest.approx(-coef[1], abs=1e-6)
    chosen = estimate_effects(stats, "ridge", sources=["G"], readouts=["Y"])
    assert chosen.info["penalty"] > 0


def test_long_table_and_errors(sem):
    stats, _, prior = sem
    est = estimate_effects(stats, "adjust", prior=prior)
    table = est.to_frame()
    assert list(table.columns) == ["perturbation", "readout", "modality", "predicted_effect", "se", "z",
                                   "pvalue"]
    assert len(table) == 6 * 5  # every source × every other feature
    assert table["pvalue"].between(0, 1).all() and (table["se"] > 0).all()
    with pytest.raises(CMCVAEInputError, match="Unknown effect estimator"):
        estimate_effects(stats, "nope")
    with pytest.raises(CMCVAEInputError, match="fitted graph"):
        estimate_effects(stats, "ida")
    with pytest.raises(CMCVAEInputError, match="is a gene of the run"):
        estimate_effects(stats, "adjust", regulators=["XX"], prior=prior)
    assert set(ESTIMATORS) >= {"adjust", "ida", "propagate", "correlation", "ridge"}


def test_a_gene_and_a_protein_may_share_a_name():
    rng = np.random.default_rng(3)
    gene = rng.poisson(5.0, size=(500, 1)).astype(float)
    other = rng.poisson(5.0, size=(500, 2)).astype(float)
    prot = np.hstack([rng.poisson(20 + 10 * gene), rng.poisson(30.0, size=(500, 1))]).astype(float)
    stats = feature_stats(np.hstack([gene, other]), prot, ["CD274", "A", "B"], ["CD274", "CD58"])
    est = estimate_effects(stats, "correlation", sources=["CD274"], readouts=["CD274", "CD58"],
                           readout_modality="protein")
    assert est.modality == ["protein", "protein"]
    assert est.effect.loc["CD274", "CD274"] < -0.2  # its own protein, not NaN
    with pytest.raises(CMCVAEInputError, match="both a gene and a protein"):
        estimate_effects(stats, "correlation", sources=["CD274"], readouts=["CD274"])
    table = estimate_effects(stats, "correlation", readout_modality="rna").to_frame()
    assert set(table["modality"]) == {"rna"} and len(table) == 3 * 2
