"""Results written into the user's MuData (``cmcvae.tl.write_results``), read back from ``.h5mu``,
and the gene network handed to decoupler."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import cmcvae
from cmcvae import CMCVAE, CMCVAEInputError
from cmcvae.tl import read_results, write_results


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny simulation, a SEM fitted on it in memory and the same fit as a validated run folder."""
    root = tmp_path_factory.mktemp("results")
    sim = cmcvae.simulate(n_cells=600, n_genes=40, n_proteins=8, n_donors=2, n_perturbations=6,
                          cells_per_perturbation=40, n_control_cells=200, seed=0)
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, grn_prior=sim.grn_prior, protein_map=sim.protein_map, arch="sem")
    model.train()
    run = root / "run"
    cmcvae.tl.fit_run(sim.mdata, run, batch_key="donor", grn_prior=sim.grn_prior,
                      protein_map=sim.protein_map, arch="sem", progress_bar=False)
    cmcvae.tl.validate_run(run, sim.perturb, data=sim.mdata)
    return {"sim": sim, "model": model, "run": run, "root": root}


def _fresh(sim) -> md.MuData:
    """A copy of the training MuData without results."""
    return md.MuData({name: mod.copy() for name, mod in sim.mdata.mod.items()})


def test_write_results_layout(fitted):
    model, mdata = fitted["model"], _fresh(fitted["sim"])
    write_results(model, mdata)
    entry = mdata.uns["cmcvae"]
    assert {"edges", "network", "matched_pairs", "latent_graph", "config", "info"} <= set(entry)
    assert list(entry["edges"].columns) == ["source", "target", "source_modality",
                                            "target_modality", "weight"]
    net = entry["network"]
    assert list(net.columns) == ["source", "target", "weight"] and len(net)
    assert set(net["source"]) | set(net["target"]) <= set(model.genes)
    rna, prot = mdata.mod["rna"], mdata.mod["prot"]
    direct = model.get_feature_networks("direct")
    got = rna.varp["cmcvae_direct"]
    got = got.toarray() if sp.issparse(got) else got
    np.testing.assert_allclose(got, direct["rna_rna"].to_numpy())
    assert prot.varp["cmcvae_direct"].shape == (8, 8)
    cross = rna.varm["cmcvae_rna_to_protein"]
    assert isinstance(cross, pd.DataFrame) and list(cross.columns) == model.proteins
    pd.testing.assert_frame_equal(cross, direct["rna_protein"], check_names=False)
    assert prot.varm["cmcvae_protein_to_rna"].shape == (8, 40)
    knock = rna.varm["cmcvae_knockdown_protein"]
    assert knock.shape == (40, 8) and np.isfinite(knock.to_numpy()).all()
    assert rna.varm["cmcvae_knockdown_protein_se"].shape == (40, 8)
    results = read_results(mdata)
    assert results["config"]["arch"] == "sem"
    assert results["info"]["knockdown_estimator"] == "adjust"


def _assert_same_results(a: md.MuData, b: md.MuData, key: str = "cmcvae") -> None:
    ra, rb = read_results(a, key), read_results(b, key)
    assert set(ra) == set(rb)
    for name, value in ra.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, rb[name])
        else:
            assert value == rb[name], name
    for mod in ("rna", "prot"):
        for slot in ("varp", "varm"):
            left, right = getattr(a.mod[mod], slot), getattr(b.mod[mod], slot)
            keys = [k for k in left if k.startswith(f"{key}_")]
            assert keys and sorted(keys) == sorted(k for k in right if k.startswith(f"{key}_"))
            for k in keys:
                x, y = left[k], right[k]
                if isinstance(x, pd.DataFrame):
                    pd.testing.assert_frame_equal(x, y)
                else:
                    assert sp.issparse(x) == sp.issparse(y)
                    np.testing.assert_array_equal(sp.csr_matrix(x).toarray(),
                                                  sp.csr_matrix(y).toarray())


def test_results_survive_h5mu(fitted, tmp_path):
    mdata = _fresh(fitted["sim"])
    write_results(fitted["run"], mdata, key_added="cm")
    assert "validation" in mdata.uns["cm"] and "predictions" in mdata.uns["cm"]
    path = tmp_path / "with_results.h5mu"
    mdata.write(path)
    back = md.read_h5mu(path)
    _assert_same_results(mdata, back, "cm")
    results = read_results(back, "cm")
    assert results["validation"]["n_pairs"] == read_results(mdata, "cm")["validation"]["n_pairs"]
    assert "rna_to_protein" in results["matched_pairs"]


def test_run_folder_matches_its_files(fitted):
    mdata = _fresh(fitted["sim"])
    write_results(fitted["run"], mdata)
    run = fitted["run"]
    edges = pd.read_csv(run / "edges.csv")
    got = read_results(mdata)["edges"]
    pd.testing.assert_frame_equal(got[["source", "target"]], edges[["source", "target"]])
    # the knockdowns are cmcvae predict's
    pred = cmcvae.tl.predict_run(run, knockdown="TF001", data=fitted["sim"].mdata)
    prot = pred[pred["modality"] == "protein"].set_index("readout")["predicted_effect"]
    row = mdata.mod["rna"].varm["cmcvae_knockdown_protein"].loc["TF001"]
    np.testing.assert_allclose(row[prot.index].to_numpy(), prot.to_numpy())


def test_network_runs_in_decoupler(fitted):
    dc = pytest.importorskip("decoupler")
    mdata = _fresh(fitted["sim"])
    write_results(fitted["model"], mdata, knockdown=False)
    net = read_results(mdata)["network"]
    rna = mdata.mod["rna"]
    x = rna.X.toarray() if sp.issparse(rna.X) else np.asarray(rna.X)
    adata = ad.AnnData(np.log1p(x / x.sum(1, keepdims=True) * 1e4), obs=rna.obs[[]].copy(),
                       var=rna.var[[]].copy())
    dc.mt.ulm(data=adata, net=net, tmin=3)
    scores = adata.obsm["score_ulm"]
    assert scores.shape[0] == adata.n_obs and scores.shape[1] > 0
    assert set(scores.columns) <= set(net["source"])
    assert np.isfinite(scores.to_numpy()).all()


def test_single_modality_and_errors(fitted):
    sim = fitted["sim"]
    rna = sim.mdata.mod["rna"].copy()
    CMCVAE.setup_anndata(rna, modality="rna")
    model = CMCVAE(rna, arch="sem")
    model.train()
    write_results(model, rna)
    assert "cmcvae_direct" in rna.varp and not any(k.startswith("cmcvae_") for k in rna.varm)
    assert "matched_pairs" not in rna.uns["cmcvae"]
    with pytest.raises(CMCVAEInputError, match="not trained"):
        write_results(CMCVAE(sim.mdata, arch="sem"), _fresh(sim))
    with pytest.raises(CMCVAEInputError, match="lacks genes"):
        write_results(fitted["model"], md.MuData({"rna": rna[:, :10].copy(),
                                                  "prot": sim.mdata.mod["prot"].copy()}))
    with pytest.raises(CMCVAEInputError, match="write_results"):
        read_results(_fresh(sim))
