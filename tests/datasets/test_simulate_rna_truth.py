"""The simulator's true knockdown effects on gene readouts (``knockdown_effects_rna``)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from cmcvae.datasets._simulate import SimulatedData, read_simulation, simulate

KW = {"n_cells": 300, "n_genes": 60, "n_proteins": 8, "n_donors": 2, "n_perturbations": 20,
      "cells_per_perturbation": 5, "n_control_cells": 20}
STRENGTH = 2.0


@pytest.fixture(scope="module")
def linear() -> SimulatedData:
    return simulate(seed=1, knockdown_strength=STRENGTH, **KW)


@pytest.fixture(scope="module")
def saturating() -> SimulatedData:
    return simulate(seed=1, knockdown_strength=STRENGTH, regulation="saturating",
                    saturation_scale=0.5, **KW)


def _genes(sim: SimulatedData) -> list[str]:
    return list(sim.mdata["rna"].var_names)


def _effects(sim: SimulatedData) -> pd.Series:
    return sim.knockdown_effects_rna.set_index(["perturbation", "gene"])["true_effect"]


def _single_parent_edges(sim: SimulatedData) -> list[tuple[str, str, float]]:
    """Direct TF → gene edges from a knocked-down gene into a gene with that one parent."""
    truth = sim.truth
    n_parents = truth.groupby("target").size()
    targets = set(sim.params["perturbation_targets"])
    rows = truth[(truth["kind"] == "tf_target") & truth["source"].isin(targets)]
    return [(s, t, w) for s, t, w in zip(rows["source"], rows["target"], rows["weight"],
                                         strict=True) if n_parents[t] == 1]


def test_rows_cover_every_target_and_gene_but_the_target_itself(linear: SimulatedData) -> None:
    rna, genes = linear.knockdown_effects_rna, _genes(linear)
    targets = linear.params["perturbation_targets"]
    assert list(rna.columns) == ["perturbation", "gene", "true_effect"]
    assert len(rna) == len(targets) * (len(genes) - 1)
    assert not (rna["perturbation"] == rna["gene"]).any()
    for t in targets:
        assert set(rna.loc[rna["perturbation"] == t, "gene"]) == set(genes) - {t}
    assert np.isfinite(rna["true_effect"]).all()


def test_linear_truth_is_minus_strength_times_the_total_effect(linear: SimulatedData) -> None:
    truth, genes = linear.truth, _genes(linear)
    nodes = genes + list(linear.mdata["prot"].var_names)
    idx = {n: i for i, n in enumerate(nodes)}
    B = np.zeros((len(nodes), len(nodes)))
    B[truth["source"].map(idx), truth["target"].map(idx)] = truth["weight"]
    T = np.linalg.inv(np.eye(len(nodes)) - B)
    eff = _effects(linear)
    graph = nx.DiGraph(list(zip(truth["source"], truth["target"], strict=True)))
    n_zero = 0
    for t in linear.params["perturbation_targets"]:
        expected = -STRENGTH * T[idx[t], :len(genes)]
        got = eff.loc[t].reindex(genes).to_numpy()
        own = genes.index(t)
        np.testing.assert_allclose(np.delete(got, own), np.delete(expected, own), atol=1e-10)
        reachable = nx.descendants(graph, t) if t in graph else set()
        unreachable = set(genes) - reachable - {t}
        assert (eff.loc[t].reindex(sorted(unreachable)) == 0.0).all()
        n_zero += len(unreachable)
    assert n_zero > 0
    # a direct edge into a single-parent gene: exactly −strength · weight, opposite sign
    edges = _single_parent_edges(linear)
    assert edges
    for s, t, w in edges:
        assert eff[(s, t)] == pytest.approx(-STRENGTH * w, abs=1e-12)
        assert np.sign(eff[(s, t)]) == -np.sign(w)


def test_saturating_truth_is_finite_and_keeps_the_sign_of_strong_direct_edges(
        linear: SimulatedData, saturating: SimulatedData) -> None:
    sat, lin = _effects(saturating), _effects(linear)
    assert saturating.params["true_effect_method"].startswith("monte_carlo")
    assert sat.index.equals(lin.index)
    assert np.isfinite(sat).all()
    assert not np.allclose(sat, lin, atol=0.02)
    assert (sat[lin == 0.0] == 0.0).all()  # no path, no shift (common random numbers)
    strong = [(s, t) for s, t, w in _single_parent_edges(linear) if abs(w) > 0.3]
    assert strong
    for key in strong:
        assert np.sign(sat[key]) == np.sign(lin[key])
        assert abs(sat[key]) <= abs(lin[key]) + 1e-9


def test_write_and_read_back(linear: SimulatedData, tmp_path) -> None:
    out = linear.write(tmp_path / "sim")
    path = out / "truth" / "knockdown_effects_rna.csv"
    assert path.is_file()
    back = read_simulation(out)
    pd.testing.assert_frame_equal(back.knockdown_effects_rna, linear.knockdown_effects_rna)
    path.unlink()  # a folder written before the gene truth existed
    old = read_simulation(out)
    assert old.knockdown_effects_rna.empty
    assert list(old.knockdown_effects_rna.columns) == ["perturbation", "gene", "true_effect"]


def test_no_perturbations_give_an_empty_gene_truth() -> None:
    sim = simulate(seed=0, **{**KW, "n_perturbations": 0})
    assert sim.knockdown_effects_rna.empty
    assert list(sim.knockdown_effects_rna.columns) == ["perturbation", "gene", "true_effect"]
