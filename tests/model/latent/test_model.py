import numpy as np
import pandas as pd
import pytest
import torch

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.graph.threshold import is_dag
from cmcvae.model import in_domain

SMALL = dict(arch="latent", n_latent_rna=6, n_latent_protein=3, n_hidden=32, epochs_per_stage=1, max_epochs=5,
             batch_size=128, kl_warmup_epochs=2)


def _fit(mdata, tiny_map, **kw):
    CMCVAE.setup_mudata(mdata, batch_key="donor")
    grn = pd.DataFrame({"source": ["G0", "G1", "G2", "G9"], "target": ["G7", "G8", "G9", "G10"], "weight": [1, -1, 1, 1]})
    model = CMCVAE(mdata, grn_prior=grn, protein_map=tiny_map, **{**SMALL, **kw})
    model.train(progress_bar=False)
    return model


def test_train_shapes_graph_and_split(tiny_mdata, tiny_map):
    model = _fit(tiny_mdata, tiny_map)
    m = model.metrics
    assert m["finite"] and m["is_dag"]
    A = model.get_adjacency()
    assert A.shape == (9, 9) and is_dag(A)
    assert np.all(np.diag(A) == 0)
    nets = model.get_feature_networks()
    assert nets["rna_rna"].shape == (40, 40)
    assert nets["rna_protein"].shape == (40, 6)
    assert nets["protein_rna"].shape == (6, 40)
    assert nets["protein_protein"].shape == (6, 6)
    pairs = model.get_matched_pairs()
    assert list(pairs.columns[:4]) == ["protein", "gene", "rna_to_protein", "protein_to_rna"]
    assert len(pairs) == 6 and (pairs[["rna_to_protein", "protein_to_rna"]] >= 0).all().all()
    # 80/10/10 split, seeded
    counts = pd.Series(model.split).value_counts()
    assert counts["train"] == 480 and counts["val"] == 60 and counts["test"] == 60
    # held-out prior edges are not used in training
    assert len(model.priors["grn"]["holdout"]) == 1 and len(model.priors["grn"]["train"]) == 3
    ko = model.predict_knockdown()
    assert ko.shape == (40, 6)
    np.testing.assert_allclose(ko.to_numpy(), -model.get_feature_networks("total")["rna_protein"].to_numpy())
    assert len(m["history"]) == 5 and np.isfinite(m["history"][-1]["train_loss"])


def test_save_load_roundtrip_identical(tiny_mdata, tiny_map, tmp_path):
    model = _fit(tiny_mdata, tiny_map)
    model.save(tmp_path / "m")
    loaded = CMCVAE.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.get_adjacency(), model.get_adjacency())
    pd.testing.assert_frame_equal(loaded.get_edges(), model.get_edges())
    pd.testing.assert_frame_equal(loaded.get_matched_pairs(), model.get_matched_pairs())
    # weights load with weights_only=True (no pickled code)
    state = torch.load(tmp_path / "m" / "model.pt", weights_only=True)
    assert "module" in state
    with pytest.raises(CMCVAEInputError, match="overwrite"):
        model.save(tmp_path / "m")


def test_same_seed_same_graph(tiny_mdata, tiny_map):
    a = _fit(tiny_mdata, tiny_map).get_adjacency(thresholded=False)
    b = _fit(tiny_mdata, tiny_map).get_adjacency(thresholded=False)
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_guard_keeps_training_finite_from_bad_start(tiny_mdata, tiny_map):
    CMCVAE.setup_mudata(tiny_mdata, batch_key="donor")
    # Gaussian likelihood: this test is about A leaving the M-matrix domain, not about count noise
    model = CMCVAE(tiny_mdata, protein_map=tiny_map,
                   **{**SMALL, "lr": 0.2, "max_epochs": 3, "likelihood": "gaussian"})
    with torch.no_grad():  # a dense cyclic start near the edge of the M-matrix domain
        K = model.config.n_latent
        model.module.A_raw.copy_(torch.full((K, K), 0.95 / K ** 0.5 / 1.0) * 0.33)
    assert in_domain(model.module.A, 1.0)
    model.train(progress_bar=False)
    m = model.metrics
    assert m["finite"] and m["is_dag"]
    assert in_domain(model.module.A, 1.0)
    assert all(np.isfinite(h["train_loss"]) for h in model.history)


def test_not_set_up_and_untrained_errors(tiny_mdata):
    with pytest.raises(CMCVAEInputError, match="setup_mudata"):
        CMCVAE(tiny_mdata)
    CMCVAE.setup_mudata(tiny_mdata, batch_key="donor")
    model = CMCVAE(tiny_mdata, **SMALL)
    with pytest.raises(CMCVAEInputError, match="not trained"):
        model.get_edges()


def test_nb_likelihood_trains(tiny_mdata, tiny_map):
    model = _fit(tiny_mdata, tiny_map, likelihood="nb", max_epochs=2)
    assert model.metrics["finite"]
    assert model.module.log_theta.shape == (40,)
