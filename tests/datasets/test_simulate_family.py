"""The simulator family: mechanism settings (issue 16, item 5) and default bit-identity."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets import HELDOUT_SETTINGS, SIM_SETTINGS, simulate_setting
from cmcvae.datasets._simulate import simulate, simulate_atlas
from cmcvae.datasets._simulate._api import _draw_model
from cmcvae.datasets._simulate._graph import _propagate, _total_effects
from cmcvae.datasets._simulate._screen import _simulated_effects
from cmcvae.datasets._simulate._spec import _make_spec, _seed_sequences

TINY = {"n_cells": 600, "n_genes": 60, "n_proteins": 8, "n_donors": 3, "n_perturbations": 6,
        "cells_per_perturbation": 40, "n_control_cells": 100}

# sha256[:16] of every array/table of simulate(...), recorded BEFORE the mechanism settings were
# added (the defaults must stay bit-identical).
EXPECTED = {   'atlas': {'prot': '92f1911a1dc06870', 'rna': 'e4ff200a2def4b0e'},
    'confounded-5': {   'grn_prior': '6a31ba87c7819995',
                        'knockdown_effects': '076b0f660133ed13',
                        'matched_pairs': '2344098d546bf19d',
                        'perturb.prot.X': '8b2362f5e9b93745',
                        'perturb.prot.obs': '5f5f93a19e06b2d8',
                        'perturb.rna.X': '5acbc9b05f9eb9e2',
                        'perturb.rna.obs': '4cfc4c9b8434b155',
                        'ppi_prior': '5f6ed813915ce21a',
                        'protein_map': '7d27e66078c53f73',
                        'train.prot.X': '8dab5fe26404d18c',
                        'train.prot.obs': 'fe92ad4e7366be8a',
                        'train.rna.X': '166848399bc3902a',
                        'train.rna.obs': 'aab28e0dac247f3a',
                        'truth': '70ef5fd643fd8cf0'},
    'forward-0': {   'grn_prior': 'f5d48235148fb7ad',
                     'knockdown_effects': '375bef7e2ce16230',
                     'matched_pairs': '830302b96cba5604',
                     'perturb.prot.X': '05daf7f239013741',
                     'perturb.prot.obs': 'dd9755b9cdda4148',
                     'perturb.rna.X': 'e094c43b674ac50d',
                     'perturb.rna.obs': '997e6b81c0d84db3',
                     'ppi_prior': 'aeb4da304ba8d9d1',
                     'protein_map': '886b126293a0a886',
                     'train.prot.X': 'f35f991e3ddb0410',
                     'train.prot.obs': 'bbe34a25ea0074cc',
                     'train.rna.X': '1d10199cb50c1d83',
                     'train.rna.obs': '7f6fbe9e16f7641c',
                     'truth': 'c778d8c6f0e579cc'},
    'mixed-3': {   'grn_prior': 'e4483079d6e417d8',
                   'knockdown_effects': '8ad6669b3b6ea0a1',
                   'matched_pairs': '89c41de8749f164b',
                   'perturb.prot.X': 'c613bacfe000bc1d',
                   'perturb.prot.obs': '930b424802239a0f',
                   'perturb.rna.X': '17a6a322a4903de7',
                   'perturb.rna.obs': 'b182688e4514129e',
                   'ppi_prior': '2dfa2e9763b160b0',
                   'protein_map': 'b3dfd13846cf28f2',
                   'train.prot.X': '692b5c998b8b51f6',
                   'train.prot.obs': '974d7946edf32379',
                   'train.rna.X': 'd1a5c856e24f4b62',
                   'train.rna.obs': 'cc239c1ff70599b5',
                   'truth': '8f5ae23616f9812d'},
    'reversed-7': {   'grn_prior': '161dcc7919d8f8b5',
                      'knockdown_effects': '1f9a48e7d94a0aed',
                      'matched_pairs': '6a83c85073106620',
                      'perturb.prot.X': 'adc1608ad2ba1ce2',
                      'perturb.prot.obs': '12f46a7dbcd616c7',
                      'perturb.rna.X': '5bc8986a2163aef7',
                      'perturb.rna.obs': '3018ce202a2ef106',
                      'ppi_prior': '85d1e5aeaa11ffbb',
                      'protein_map': 'f94fc7337d3b996d',
                      'train.prot.X': 'd2246dbe698568cc',
                      'train.prot.obs': 'd27b69a951f209ce',
                      'train.rna.X': '57c3d94dc2cc4cad',
                      'train.rna.obs': 'd522dff5f85ccc7d',
                      'truth': '3f063e979144d4d3'}}


def _h_arr(x: np.ndarray | sp.spmatrix) -> str:
    if sp.issparse(x):
        x = x.tocsr()
        raw = b"".join(np.ascontiguousarray(a).tobytes() for a in (x.data, x.indices, x.indptr))
    else:
        raw = np.ascontiguousarray(np.asarray(x)).tobytes()
    return hashlib.sha256(raw).hexdigest()[:16]


def _h_df(df: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(df, index=True).values.tobytes()).hexdigest()[:16]


def _digest(sim) -> dict[str, str]:
    out = {}
    for name, m in (("train", sim.mdata), ("perturb", sim.perturb)):
        for mod in ("rna", "prot"):
            out[f"{name}.{mod}.X"] = _h_arr(m[mod].X)
            out[f"{name}.{mod}.obs"] = _h_df(m[mod].obs)
    for k in ("grn_prior", "ppi_prior", "protein_map", "truth", "matched_pairs",
              "knockdown_effects"):
        out[k] = _h_df(getattr(sim, k))
    return out


@pytest.mark.parametrize("regime,seed", [("forward", 0), ("mixed", 3), ("confounded", 5),
                                         ("reversed", 7)])
def test_default_output_is_bit_identical(regime: str, seed: int) -> None:
    assert _digest(simulate(regime=regime, seed=seed, **TINY)) == EXPECTED[f"{regime}-{seed}"]


def test_default_atlas_is_bit_identical() -> None:
    a = simulate_atlas(n_cells=500, n_genes=60, n_proteins=8, n_donors=3, chunk_size=200, seed=2)
    assert {"rna": _h_arr(a["rna"].X), "prot": _h_arr(a["prot"].X)} == EXPECTED["atlas"]


def test_default_setting_equals_plain_simulate() -> None:
    a = simulate_setting("default", 4, **TINY)
    assert _digest(a) == _digest(simulate(seed=4, **TINY))
    assert a.params["setting"] == "default"


def _model(regulation: str, seed: int = 1, **kw):
    spec = _make_spec(100, 12, "forward", 4, 0.1, 0.7, None, 1.0, 0.7, 1.0, 2500.0, None, 0.25,
                      0.1, regulation=regulation, **kw)
    return _draw_model(spec, _seed_sequences(seed))


def _single_parent_edge(model) -> tuple[int, int, float]:
    """A root node → child edge where the child has that one parent (and a sizeable weight)."""
    B = model.B.tocsc()
    roots = np.flatnonzero(np.diff(B.indptr) == 0)
    for c in np.argsort(-np.abs(B.toarray()).max(axis=0)):
        parents = B.indices[B.indptr[c]:B.indptr[c + 1]]
        if len(parents) == 1 and parents[0] in roots:
            return int(parents[0]), int(c), float(B[parents[0], c])
    raise AssertionError("no single-parent edge")  # pragma: no cover


@pytest.mark.parametrize("regulation", ["linear", "saturating"])
def test_saturating_knockdown_effect_is_smaller_at_high_activation(regulation: str) -> None:
    model = _model(regulation, saturation_scale=0.5)
    a, c, w = _single_parent_edge(model)
    Et = np.zeros((model.n_nodes, 2))
    Et[a] = [3.0, 3.0 - 2.0]  # high activation, then knocked down by 2 SD
    Vt = _propagate(model, Et)
    effect = Vt[c, 1] - Vt[c, 0]
    linear = -2.0 * _total_effects(model, np.array([a]))[0, c]
    assert linear == pytest.approx(-2.0 * w)
    if regulation == "linear":
        assert effect == pytest.approx(linear, abs=1e-12)
    else:
        assert np.sign(effect) == np.sign(linear)
        assert abs(effect) < 0.5 * abs(linear)


def test_simulated_effects_equal_analytic_ones_for_linear_regulation() -> None:
    model = _model("linear")
    targets = np.arange(10)
    mc = _simulated_effects(model, targets, 2.0, np.random.default_rng(0), n_draws=200)
    G, P = model.n_genes, model.n_proteins
    analytic = -2.0 * _total_effects(model, targets)[:, :G + P]
    np.testing.assert_allclose(mc, analytic, atol=1e-10)


def test_saturating_true_effects_are_simulated_and_match_the_screen() -> None:
    kw = {**TINY, "n_genes": 100, "n_proteins": 12, "n_perturbations": 10,
          "cells_per_perturbation": 300, "n_control_cells": 1000}
    sim = simulate(seed=1, regulation="saturating", saturation_scale=0.5, **kw)
    lin = simulate(seed=1, **kw)
    assert sim.params["true_effect_method"].startswith("monte_carlo")
    assert lin.params["true_effect_method"] == "analytic"
    pd.testing.assert_frame_equal(sim.truth, lin.truth)  # same graph, different mechanism
    te, te_lin = sim.knockdown_effects["true_effect"], lin.knockdown_effects["true_effect"]
    assert not np.allclose(te, te_lin, atol=0.02)
    p = sim.perturb
    labels = p.obs["perturbation"].astype(str).to_numpy()
    X = np.asarray(p["prot"].X, dtype=float)
    X = np.log1p(X / X.sum(axis=1, keepdims=True) * 1e3)
    ctrl = X[labels == "control"].mean(axis=0)
    prots = list(p["prot"].var_names)
    strong = sim.knockdown_effects[sim.knockdown_effects["true_effect"].abs() > 0.1]
    agree = [np.sign(X[labels == r.perturbation, prots.index(r.protein)].mean()
                     - ctrl[prots.index(r.protein)]) == np.sign(r.true_effect)
             for r in strong.itertuples()]
    assert len(agree) >= 10
    assert np.mean(agree) >= 0.8


def test_translation_efficiency_scales_the_gene_protein_weight() -> None:
    base = simulate(seed=2, **TINY)
    eff = simulate(seed=2, translation_efficiency_sd=0.5, **TINY)
    tb, te = base.truth, eff.truth
    is_tl = (tb["kind"] == "translation").to_numpy()
    factors = eff.params["translation_efficiency"]
    expected = tb["weight"].to_numpy()[is_tl] * np.array([factors[t] for t in tb["target"][is_tl]])
    np.testing.assert_allclose(te["weight"].to_numpy()[is_tl], expected, rtol=1e-12)
    np.testing.assert_array_equal(te["weight"].to_numpy()[~is_tl], tb["weight"].to_numpy()[~is_tl])
    assert np.std(np.log(list(factors.values()))) > 0.1
    # the efficiency reaches the screen's true effects of a panel gene on its own protein
    assert not np.allclose(base.knockdown_effects["true_effect"],
                           eff.knockdown_effects["true_effect"])


def test_realistic_rna_sparsity_is_reachable() -> None:
    sim = simulate(seed=0, rna_library_median=1500.0, **TINY)
    totals = np.asarray(sim.mdata["rna"].X.sum(axis=1)).ravel()
    assert 1000 <= np.median(totals) <= 2500


@pytest.mark.parametrize("name", list(SIM_SETTINGS))
def test_every_named_setting_runs_small(name: str) -> None:
    sim = simulate_setting(name, 0, **TINY)
    assert sim.params["setting"] == name
    assert sim.knockdown_effects["true_effect"].notna().all()
    assert sim.mdata["prot"].X.sum() > 0


def test_heldout_settings_are_named_and_differ_in_mechanism() -> None:
    assert len(HELDOUT_SETTINGS) >= 2
    assert all(n.startswith("heldout_") for n in HELDOUT_SETTINGS)
    tuning = [SIM_SETTINGS[n] for n in SIM_SETTINGS if n not in HELDOUT_SETTINGS]
    for n in HELDOUT_SETTINGS:
        held = SIM_SETTINGS[n]
        assert held.get("translation_efficiency_sd", 0) > 0
        # every held-out setting changes several mechanisms at once against every tuning one
        for other in tuning:
            changed = {k for k in {*held, *other} if held.get(k) != other.get(k)}
            assert len(changed) >= 4, (n, changed)


@pytest.mark.parametrize("kw,fragment", [
    ({"regulation": "sigmoid"}, "regulation"),
    ({"saturation_scale": 0.0}, "saturation_scale"),
    ({"translation_efficiency_sd": -1.0}, "translation_efficiency_sd"),
])
def test_bad_mechanism_arguments_are_refused(kw: dict, fragment: str) -> None:
    with pytest.raises(CMCVAEInputError, match=fragment):
        simulate(seed=0, **TINY, **kw)


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(CMCVAEInputError, match="heldout_a"):
        simulate_setting("nope", 0, **TINY)
