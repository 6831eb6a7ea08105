"""TF→target asymmetry and network recovery on hand-made cases with a known answer."""

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    association_networks,
    recovery_scores,
    tf_target_asymmetry,
    tf_target_edges,
)

GENES = [f"G{i:02d}" for i in range(30)]
TFS = GENES[:5]


def _grn(forward: bool, rng, sign_follows_mode: bool = True):
    """Gene×gene matrix where each prior edge TF→target is strong forward (or reverse)."""
    mat = pd.DataFrame(rng.uniform(0, 0.1, (30, 30)), index=GENES, columns=GENES)
    rows = []
    for k, tf in enumerate(TFS):
        for t in GENES[5 + 4 * k: 9 + 4 * k]:
            mode = 1 if (len(rows) % 3) else -1
            rows.append((tf, t, mode))
            value = rng.uniform(1, 2) * (mode if sign_follows_mode else 1)
            if forward:
                mat.loc[tf, t] = value
            else:
                mat.loc[t, tf] = value
    np.fill_diagonal(mat.values, 0)
    return mat, pd.DataFrame(rows, columns=["source", "target", "weight"])


def test_tf_target_edges_reads_forward_reverse_and_mode():
    rng = np.random.default_rng(0)
    mat, prior = _grn(True, rng)
    extra = pd.DataFrame({"source": ["G00", "NOTAGENE"], "target": ["G00", "G01"], "weight": [1, 1]})
    table = tf_target_edges(pd.concat([prior, extra]), mat, mat * 2, split="holdout")
    assert len(table) == len(prior)  # self-loop and unknown gene dropped
    assert table.attrs["n_input"] == len(prior) + 2
    row = table.iloc[0]
    assert row["forward"] == pytest.approx(abs(mat.loc[row.source, row.target]))
    assert row["reverse"] == pytest.approx(abs(mat.loc[row.target, row.source]))
    assert row["forward_total"] == pytest.approx(2 * row["forward"])
    assert set(table["mode"]) == {-1, 1} and set(table["split"]) == {"holdout"}


def test_forward_grn_is_called_tf_to_target_with_sign_agreement():
    rng = np.random.default_rng(1)
    mat, prior = _grn(True, rng)
    table = tf_target_edges(prior, mat, mat)
    out = tf_target_asymmetry(table, {"rna_rna": mat}, n_random=3000, n_perm=500, n_boot=200)
    assert out["fraction_forward"] == 1.0 and out["call"] == "tf_to_target"
    assert out["p_vs_null"] < 0.01 and out["n_edges"] == 20
    assert out["sign_agreement"] == 1.0 and out["sign_p"] < 0.01
    assert out["null_sign_agreement"] == pytest.approx(0.55, abs=0.1)


def test_reversed_grn_is_called_target_to_tf():
    rng = np.random.default_rng(2)
    mat, prior = _grn(False, rng)
    out = tf_target_asymmetry(tf_target_edges(prior, mat, mat), {"rna_rna": mat},
                              n_random=3000, n_perm=200, n_boot=200)
    assert out["fraction_forward"] == 0.0 and out["call"] == "target_to_tf"


def test_all_positive_effects_do_not_count_as_sign_agreement():
    """Signs that ignore the mode agree as often as the activating share: permutation p ≈ 1."""
    rng = np.random.default_rng(3)
    mat, prior = _grn(True, rng, sign_follows_mode=False)
    out = tf_target_asymmetry(tf_target_edges(prior, mat, mat), {"rna_rna": mat},
                              n_random=1000, n_perm=500, n_boot=100)
    share_activating = float(np.mean(prior["weight"] > 0))
    assert out["sign_agreement"] == pytest.approx(share_activating)
    assert out["sign_p"] > 0.5


def test_tf_upstream_of_everything_is_not_called():
    """TF rows dominate every pair (matched or not): the random TF–gene null removes the call."""
    rng = np.random.default_rng(4)
    mat = pd.DataFrame(rng.uniform(0, 0.1, (30, 30)), index=GENES, columns=GENES)
    mat.loc[TFS, :] = rng.uniform(1, 2, (5, 30))
    np.fill_diagonal(mat.values, 0)
    prior = pd.DataFrame({"source": np.repeat(TFS, 4), "target": GENES[5:25], "weight": 1})
    out = tf_target_asymmetry(tf_target_edges(prior, mat, mat), {"rna_rna": mat},
                              n_random=3000, n_perm=100, n_boot=100)
    assert out["fraction_forward"] == 1.0 and out["wilcoxon_p"] < 1e-4
    assert out["call"] == "none"


def test_too_few_edges_reports_instead_of_failing():
    mat = pd.DataFrame(np.eye(30), index=GENES, columns=GENES)
    table = tf_target_edges(pd.DataFrame({"source": ["G00"], "target": ["G01"]}), mat, mat)
    out = tf_target_asymmetry(table, {"rna_rna": mat})
    assert out["call"] == "none" and out["n_edges"] == 1 and "need" in out["message"]


def test_tf_target_edges_needs_columns():
    mat = pd.DataFrame(np.eye(3), index=GENES[:3], columns=GENES[:3])
    with pytest.raises(CMCVAEInputError, match="source"):
        tf_target_edges(pd.DataFrame({"tf": ["G00"]}), mat)


# --------------------------------------------------------------------------- recovery

def _networks(values: dict[str, np.ndarray]):
    genes, prots = ["a", "b", "c"], ["P", "Q"]
    names = {"rna": genes, "protein": prots}
    keys = {"rna_rna": ("rna", "rna"), "rna_protein": ("rna", "protein"),
            "protein_rna": ("protein", "rna"), "protein_protein": ("protein", "protein")}
    return {k: pd.DataFrame(values[k], index=names[s], columns=names[d]) for k, (s, d) in keys.items()}


def test_recovery_perfect_ranking_and_direction():
    rr = np.array([[0, 0.9, 0.1], [0.2, 0, 0.8], [0.1, 0.1, 0]])  # true: a→b, b→c
    nets = _networks({"rna_rna": rr, "rna_protein": np.array([[1.0, 0], [0, 0], [0, 0.5]]),
                      "protein_rna": np.zeros((2, 3)), "protein_protein": np.array([[0, 1.0], [0, 0]])})
    truth = pd.DataFrame({
        "source": ["a", "b", "a", "c", "P"], "target": ["b", "c", "P", "Q", "Q"],
        "source_modality": ["rna", "rna", "rna", "rna", "protein"],
        "target_modality": ["rna", "rna", "protein", "protein", "protein"]})
    res = recovery_scores(nets, truth)
    assert res["rna_rna"]["auroc"] == 1.0 and res["rna_rna"]["n_true"] == 2
    assert res["rna_rna"]["n_candidates"] == 6  # 3×3 minus the diagonal
    assert res["rna_rna"]["direction_accuracy"] == 1.0
    assert res["rna_protein"]["auroc"] == 1.0 and res["rna_protein"]["direction_accuracy"] == 1.0
    assert res["rna_protein"]["auprc_random"] == pytest.approx(2 / 6)
    # protein→protein: single true edge P→Q, direction vs reverse Q→P (0): correct
    assert res["protein_protein"]["direction_accuracy"] == 1.0
    # protein→RNA has no true edge: metrics undefined, not an error
    assert np.isnan(res["protein_rna"]["auroc"]) and res["protein_rna"]["n_true"] == 0


def test_recovery_excludes_training_prior_and_scores_ties_half():
    rr = np.array([[0, 0.9, 0.0], [0.9, 0, 0.0], [0.5, 0.0, 0]])  # a↔b tie; c→a strong
    zeros = {"rna_protein": np.zeros((3, 2)), "protein_rna": np.zeros((2, 3)),
             "protein_protein": np.zeros((2, 2))}
    nets = _networks({"rna_rna": rr, **zeros})
    truth = pd.DataFrame({"source": ["a", "a"], "target": ["b", "c"],
                          "source_modality": "rna", "target_modality": "rna"})
    full = recovery_scores(nets, truth)
    assert full["rna_rna"]["direction_accuracy"] == pytest.approx((0.5 + 0.0) / 2)
    excl = recovery_scores(nets, truth, exclude=pd.DataFrame({"source": ["b"], "target": ["a"]}))
    r = excl["rna_rna"]
    assert r["n_candidates"] == 4 and r["n_true"] == 1 and r["n_excluded_true"] == 1
    assert r["direction_accuracy"] == 0.0 and r["n_direction_edges"] == 1
    # a→c is the only positive; it scores 0, below c→a (0.5) and b→c/c→b (0): AUROC 1/3
    assert r["auroc"] == pytest.approx(1 / 3)


def test_association_networks_find_a_correlated_pair():
    rng = np.random.default_rng(0)
    n, genes, prots = 3000, list("abcdefgh"), list("PQRSTU")
    base = rng.gamma(2.0, 2.0, n)
    rna = rng.poisson(np.c_[base * 3, np.full((n, 7), 20.0)])
    prot = rng.poisson(np.c_[base * 20 + 5, np.full((n, 5), 30.0)])
    for method in ("correlation", "partial_correlation"):
        nets = association_networks(rna, prot, genes, prots, method=method)
        rp = nets["rna_protein"]
        assert rp.shape == (8, 6) and rp.loc["a", "P"] == rp.to_numpy().max()
        assert np.allclose(nets["rna_protein"].to_numpy(), nets["protein_rna"].to_numpy().T)
        assert np.all(np.diag(nets["rna_rna"].to_numpy()) == 0)
    with pytest.raises(CMCVAEInputError, match="method"):
        association_networks(rna, prot, genes, prots, method="mi")
