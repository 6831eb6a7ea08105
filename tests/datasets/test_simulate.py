"""Tests of the ground-truth CITE-seq simulator (cmcvae.datasets._simulate)."""

from __future__ import annotations

import importlib
import json

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets._simulate import (
    OUTPUT_FILES,
    REGIMES,
    SimulatedData,
    read_simulation,
    simulate,
    simulate_atlas,
)
from cmcvae.pp import clr, log_normalize

# The subpackage: the name cmcvae.datasets._simulate is the function (cmcvae.datasets re-exports it).
simmod = importlib.import_module("cmcvae.datasets._simulate")

SMALL = {
    "n_cells": 2000,
    "n_genes": 100,
    "n_proteins": 12,
    "n_donors": 3,
    "n_perturbations": 8,
    "cells_per_perturbation": 100,
    "n_control_cells": 400,
}
KINDS = {"tf_target", "translation", "reverse_translation", "protein_protein",
         "protein_rna_feedback"}


@pytest.fixture(scope="module")
def sims() -> dict[str, SimulatedData]:
    return {regime: simulate(regime=regime, seed=1, **SMALL) for regime in REGIMES}


def _edge_set(truth: pd.DataFrame, kind: str | None = None) -> set[tuple[str, str]]:
    t = truth if kind is None else truth[truth["kind"] == kind]
    return set(zip(t["source"], t["target"], strict=True))


def _is_integer_counts(x: np.ndarray | sp.spmatrix) -> bool:
    values = x.data if sp.issparse(x) else np.asarray(x)
    return bool(np.all(values >= 0) and np.all(values == np.round(values)))


def test_layout_names_and_obs(sims: dict[str, SimulatedData]) -> None:
    sim = sims["forward"]
    m, p = sim.mdata, sim.perturb
    for mdata in (m, p):
        assert set(mdata.mod) == {"rna", "prot"}
        assert mdata["rna"].n_vars == 100 and mdata["prot"].n_vars == 12
        for obs in (mdata.obs, mdata["rna"].obs, mdata["prot"].obs):
            for col in ("donor", "cell_state"):
                assert isinstance(obs[col].dtype, pd.CategoricalDtype)
    assert m.n_obs == 2000 and m["rna"].n_obs == 2000 and m["prot"].n_obs == 2000
    genes = list(m["rna"].var_names)
    assert len(set(genes)) == len(genes)
    assert sum(g.startswith("TF") for g in genes) == 10
    assert all(g.startswith(("TF", "G")) for g in genes)
    proteins = list(m["prot"].var_names)
    assert proteins == list(sim.protein_map["protein"])
    assert proteins == [f"ADT_{g}" for g in sim.protein_map["gene"]]
    assert set(sim.protein_map["gene"]) <= set(genes)
    assert sim.protein_map["gene"].is_unique
    assert not set(proteins) & set(genes)
    assert list(p["rna"].var_names) == genes and list(p["prot"].var_names) == proteins
    # donors: training D00.., screen P00.. (unseen)
    assert set(m.obs["donor"].astype(str)) == {"D00", "D01", "D02"}
    assert set(p.obs["donor"].astype(str)) == {"P00", "P01"}
    # screen: cells per perturbation, control label, targets are genes
    counts = p.obs["perturbation"].astype(str).value_counts()
    assert counts["control"] == 400
    targets = [t for t in counts.index if t != "control"]
    assert len(targets) == 8 and set(targets) <= set(genes)
    assert (counts[targets] == 100).all()
    assert (p["prot"].obs["perturbation"].astype(str) == p.obs["perturbation"].astype(str)).all()
    # about half of the targets encode panel proteins
    assert sum(t in set(sim.protein_map["gene"]) for t in targets) == 4


def test_counts_are_raw_integers(sims: dict[str, SimulatedData]) -> None:
    for sim in (sims["forward"], sims["confounded"]):
        for mdata in (sim.mdata, sim.perturb):
            rna, prot = mdata["rna"].X, mdata["prot"].X
            assert sp.isspmatrix_csr(rna) or isinstance(rna, sp.csr_array)
            assert _is_integer_counts(rna) and _is_integer_counts(prot)
    rna = sims["forward"].mdata["rna"].X
    lib = np.asarray(rna.sum(axis=1)).ravel()
    assert 1500 < np.median(lib) < 4000
    prot = np.asarray(sims["forward"].mdata["prot"].X)
    assert 10 < np.median(prot) < 1000


@pytest.mark.parametrize("regime", REGIMES)
def test_truth_is_a_dag(sims: dict[str, SimulatedData], regime: str) -> None:
    sim = sims[regime]
    truth = sim.truth
    assert list(truth.columns) == ["source", "target", "source_modality", "target_modality",
                                   "weight", "kind"]
    assert set(truth["kind"]) <= KINDS
    g = nx.DiGraph()
    g.add_edges_from(zip(truth["source"], truth["target"], strict=True))
    assert nx.is_directed_acyclic_graph(g)
    genes = set(sim.mdata["rna"].var_names)
    proteins = set(sim.mdata["prot"].var_names)
    for col, mod in (("source", "source_modality"), ("target", "target_modality")):
        expected = np.where(truth[col].isin(genes), "rna", "protein")
        assert (truth[mod].to_numpy() == expected).all()
        assert truth[col].isin(genes | proteins).all()
    assert (truth["weight"] != 0).all()
    assert not truth.duplicated(["source", "target"]).any()
    # feedback edges go from a protein to a gene other than its own
    own = dict(zip(sim.protein_map["protein"], sim.protein_map["gene"], strict=True))
    fb = truth[truth["kind"] == "protein_rna_feedback"]
    assert len(fb) == 12 // 5
    assert all(own[s] != t for s, t in zip(fb["source"], fb["target"], strict=True))


def test_regime_semantics(sims: dict[str, SimulatedData]) -> None:
    for regime in REGIMES:
        sim = sims[regime]
        pairs = sim.matched_pairs
        assert list(pairs.columns) == ["protein", "gene", "direction"]
        edges = _edge_set(sim.truth)
        fwd = _edge_set(sim.truth, "translation")
        rev = _edge_set(sim.truth, "reverse_translation")
        for prot, gene, direction in pairs.itertuples(index=False):
            if direction == "forward":
                assert (gene, prot) in fwd and (prot, gene) not in edges
            elif direction == "reversed":
                assert (prot, gene) in rev and (gene, prot) not in edges
            else:
                assert direction == "confounded"
                assert (gene, prot) not in edges and (prot, gene) not in edges
        if regime == "mixed":
            assert set(pairs["direction"]) == {"forward", "reversed"}
        else:
            expected = {"forward": "forward", "reversed": "reversed",
                        "confounded": "confounded"}[regime]
            assert set(pairs["direction"]) == {expected}
    # a hidden factor makes matched pairs correlated without any edge
    sim = sims["confounded"]
    rna = log_normalize(sim.mdata["rna"].X).toarray()
    prot = clr(sim.mdata["prot"].X)
    genes = list(sim.mdata["rna"].var_names)
    cors = [np.corrcoef(rna[:, genes.index(g)], prot[:, j])[0, 1]
            for j, g in enumerate(sim.protein_map["gene"])]
    assert np.mean(cors) > 0.1


def test_latent_variances_are_close_to_one() -> None:
    spec = simmod._make_spec(100, 12, "mixed", 4, 0.1, 0.7, None, 1.0, 0.7, 1.0, 2500.0,
                             None, 0.25, 0.1)
    ss = simmod._seed_sequences(5)
    model = simmod._build_model(spec, np.random.default_rng(ss[0]), np.random.default_rng(ss[1]))
    e = np.random.default_rng(0).standard_normal((model.n_nodes, 20_000))
    v = simmod._propagate(model, e * model.exog_sd[:, None])
    assert np.allclose(v.var(axis=1), 1.0, atol=0.06)


def test_same_seed_is_identical_and_seeds_differ() -> None:
    kw = {**SMALL, "n_cells": 500, "n_control_cells": 100, "cells_per_perturbation": 20}
    a = simulate(seed=7, regime="mixed", **kw)
    b = simulate(seed=7, regime="mixed", **kw)
    c = simulate(seed=8, regime="mixed", **kw)
    for x, y in ((a.mdata, b.mdata), (a.perturb, b.perturb)):
        assert (x["rna"].X != y["rna"].X).nnz == 0
        assert np.array_equal(x["prot"].X, y["prot"].X)
        pd.testing.assert_frame_equal(x.obs, y.obs)
    for name in ("truth", "matched_pairs", "knockdown_effects", "grn_prior", "ppi_prior"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.params == b.params
    assert _edge_set(a.truth) != _edge_set(c.truth)
    assert not np.array_equal(a.mdata["prot"].X, c.mdata["prot"].X)


def _observed_clr_changes(sim: SimulatedData) -> pd.DataFrame:
    prot = clr(sim.perturb["prot"].X)
    labels = sim.perturb.obs["perturbation"].astype(str).to_numpy()
    control = prot[labels == "control"].mean(axis=0)
    rows = []
    for target in sim.params["perturbation_targets"]:
        diff = prot[labels == target].mean(axis=0) - control
        rows += [(target, p, float(d)) for p, d in
                 zip(sim.perturb["prot"].var_names, diff, strict=True)]
    return pd.DataFrame(rows, columns=["perturbation", "protein", "observed"])


def test_knockdown_effects(sims: dict[str, SimulatedData]) -> None:
    sim = sims["forward"]
    ke = sim.knockdown_effects
    assert list(ke.columns) == ["perturbation", "protein", "true_effect"]
    assert len(ke) == 8 * 12
    merged = ke.merge(_observed_clr_changes(sim), on=["perturbation", "protein"])
    own = dict(zip(sim.protein_map["gene"], sim.protein_map["protein"], strict=True))
    panel_targets = [t for t in sim.params["perturbation_targets"] if t in own]
    assert panel_targets
    for target in panel_targets:
        row = merged[(merged["perturbation"] == target) & (merged["protein"] == own[target])]
        assert row["true_effect"].item() < -1.0
        assert row["observed"].item() < -0.3
    large = merged[merged["true_effect"].abs() > 0.5]
    assert len(large) >= len(panel_targets)
    agree = np.sign(large["true_effect"]) == np.sign(large["observed"])
    assert agree.mean() >= 0.9
    # knocking down a gene whose protein is upstream of it leaves that protein untouched
    rev = sims["reversed"]
    rke = rev.knockdown_effects.set_index(["perturbation", "protein"])["true_effect"]
    rown = dict(zip(rev.protein_map["gene"], rev.protein_map["protein"], strict=True))
    rtargets = [t for t in rev.params["perturbation_targets"] if t in rown]
    assert rtargets
    assert all(rke[(t, rown[t])] == 0.0 for t in rtargets)


def test_priors_hold_the_requested_fraction(sims: dict[str, SimulatedData]) -> None:
    sim = sims["forward"]
    for prior, kind in ((sim.grn_prior, "tf_target"), (sim.ppi_prior, "protein_protein")):
        assert list(prior.columns) == ["source", "target", "weight"]
        true = sim.truth[sim.truth["kind"] == kind]
        signs = {(s, t): np.sign(w) for s, t, w in
                 zip(true["source"], true["target"], true["weight"], strict=True)}
        is_true = [(s, t) in signs for s, t in zip(prior["source"], prior["target"], strict=True)]
        n_true = int(np.sum(is_true))
        assert n_true == round(0.5 * len(true))
        assert len(prior) - n_true == round(0.2 * n_true)
        assert set(prior["weight"]) <= {-1.0, 1.0}
        kept = prior[is_true]
        assert all(signs[(s, t)] == w for s, t, w in
                   zip(kept["source"], kept["target"], kept["weight"], strict=True))
        assert not prior.duplicated(["source", "target"]).any()
    assert sim.grn_prior["source"].str.startswith("TF").all()
    assert sim.ppi_prior["source"].isin(sim.protein_map["protein"]).all()


def test_write_layout_force_and_read_back(sims: dict[str, SimulatedData], tmp_path) -> None:
    sim = sims["mixed"]
    out = tmp_path / "sim"
    assert sim.write(out) == out
    for name in OUTPUT_FILES:
        assert (out / name).is_file(), name
    edges = pd.read_csv(out / "truth" / "edges.csv")
    assert list(edges.columns) == ["source", "target", "source_modality", "target_modality",
                                   "weight", "kind"]
    assert set(edges["source_modality"]) <= {"rna", "protein"}
    params = json.loads((out / "params.json").read_text())
    assert params["seed"] == 1 and params["regime"] == "mixed"
    with pytest.raises(CMCVAEInputError, match="--force"):
        sim.write(out)
    (out / "notes.txt").write_text("keep me")
    sim.write(out, force=True)
    assert (out / "notes.txt").read_text() == "keep me"
    back = read_simulation(out)
    assert (back.mdata["rna"].X != sim.mdata["rna"].X).nnz == 0
    assert np.array_equal(back.perturb["prot"].X, sim.perturb["prot"].X)
    assert list(back.perturb.obs["perturbation"].astype(str)) == list(
        sim.perturb.obs["perturbation"].astype(str))
    assert list(back.mdata.obs["donor"].astype(str)) == list(sim.mdata.obs["donor"].astype(str))
    pd.testing.assert_frame_equal(back.truth, sim.truth, check_dtype=False)
    pd.testing.assert_frame_equal(back.knockdown_effects, sim.knockdown_effects,
                                  check_dtype=False)
    pd.testing.assert_frame_equal(back.grn_prior, sim.grn_prior, check_dtype=False)
    assert back.params == sim.params
    with pytest.raises(CMCVAEInputError, match="missing"):
        read_simulation(tmp_path)


def test_atlas_is_chunked_csr_and_seeded() -> None:
    kw = {"n_cells": 2500, "n_genes": 100, "n_proteins": 12, "n_donors": 5, "chunk_size": 1000}
    a = simulate_atlas(seed=3, **kw)
    rna = a["rna"].X
    assert sp.isspmatrix_csr(rna) or isinstance(rna, sp.csr_array)
    assert rna.shape == (2500, 100) and a["prot"].X.shape == (2500, 12)
    assert _is_integer_counts(rna) and _is_integer_counts(a["prot"].X)
    rna.check_format(full_check=True)
    assert a.obs["donor"].nunique() == 5
    truth = a.uns["truth_edges"]
    assert nx.is_directed_acyclic_graph(
        nx.DiGraph(list(zip(truth["source"], truth["target"], strict=True))))
    assert json.loads(a.uns["simulation_params"])["chunk_size"] == 1000
    b = simulate_atlas(seed=3, **kw)
    assert (rna != b["rna"].X).nnz == 0 and np.array_equal(a["prot"].X, b["prot"].X)
    # same seed, sizes and chunking → the training cells of simulate()
    sim = simulate(seed=3, n_cells=2500, n_genes=100, n_proteins=12, n_donors=5,
                   chunk_size=1000, n_perturbations=2, cells_per_perturbation=5,
                   n_control_cells=5)
    assert (sim.mdata["rna"].X != rna).nnz == 0
    pd.testing.assert_frame_equal(sim.truth, truth)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"regime": "sideways"}, "regime"),
        ({"n_proteins": 99}, "n_proteins"),
        ({"translation_strength": 1.0}, "translation_strength"),
        ({"n_cells": 0}, "n_cells"),
        ({"n_perturbations": 101}, "n_perturbations"),
        ({"prior_fraction": 1.5}, "prior_fraction"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs: dict, match: str) -> None:
    base = {**SMALL, "n_cells": 10}
    with pytest.raises(CMCVAEInputError, match=match):
        simulate(**{**base, **kwargs})
