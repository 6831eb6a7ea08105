"""Single-modality mode: the same model on RNA-only or protein-only input."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pytest

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError


def _chain(n: int = 1500, seed: int = 0) -> ad.AnnData:
    """a → b → c plus three independent features (continuous values)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.8 * a + 0.5 * rng.normal(size=n)
    c = -0.7 * b + 0.5 * rng.normal(size=n)
    X = np.column_stack([a, b, c, rng.normal(size=(n, 3))]).astype(np.float32)
    adata = ad.AnnData(X)
    adata.var_names = list("abcdef")
    adata.obs["donor"] = np.where(np.arange(n) % 2 == 0, "d1", "d2")
    return adata


def test_rna_only_values_latent_round_trip(tmp_path):
    adata = _chain()
    CMCVAE.setup_anndata(adata, modality="rna", counts=False, batch_key="donor")
    model = CMCVAE(adata, max_epochs=3)
    assert model.config.likelihood == "gaussian"  # values, not counts
    assert (model.config.n_latent_rna, model.config.n_latent_protein) == (6, 0)  # capped
    model.train(progress_bar=False)
    nets = model.get_feature_networks()
    assert nets["rna_rna"].shape == (6, 6) and nets["protein_protein"].shape == (0, 0)
    assert nets["rna_protein"].shape == (6, 0)
    assert model.metrics["is_dag"] and model.metrics["finite"]
    assert model.get_matched_pairs().empty
    with pytest.raises(CMCVAEInputError, match="single-modality"):
        model.predict_knockdown()
    model.save(tmp_path / "m")
    loaded = CMCVAE.load(tmp_path / "m")
    assert loaded.modalities == ("rna",)
    np.testing.assert_allclose(loaded.get_adjacency(), model.get_adjacency())


def test_protein_only_sem_recovers_chain_skeleton():
    adata = _chain(n=3000)
    CMCVAE.setup_anndata(adata, modality="protein", counts=False)
    model = CMCVAE(adata, arch="sem")
    model.train(progress_bar=False)
    W = model.get_feature_networks()["protein_protein"].abs()
    linked = W + W.T
    # The two true links are the strongest pairs; the independent features stay unlinked.
    assert linked.loc["a", "b"] > 0.1 and linked.loc["b", "c"] > 0.1
    assert linked.loc[["d", "e", "f"]].to_numpy().max() < 0.05
    assert model.metrics["is_dag"]


def test_one_modality_mudata_and_counts():
    rng = np.random.default_rng(1)
    counts = rng.poisson(3.0, size=(300, 8)).astype(np.float32)
    rna = ad.AnnData(counts)
    rna.var_names = [f"g{i}" for i in range(8)]
    mdata = md.MuData({"rna": rna})
    CMCVAE.setup_mudata(mdata, prot_mod=None)
    model = CMCVAE(mdata, max_epochs=1, n_latent_rna=4)
    assert model.modalities == ("rna",) and model.config.likelihood == "nb"
    model.train(progress_bar=False)
    assert model.get_feature_networks()["rna_rna"].shape == (8, 8)


def test_single_modality_bad_input():
    adata = _chain(n=50)
    adata.X[0, 0] = np.nan
    with pytest.raises(CMCVAEInputError, match="NaN"):
        CMCVAE.setup_anndata(adata, counts=False)
    adata = _chain(n=50)
    with pytest.raises(CMCVAEInputError, match="counts=False"):
        CMCVAE.setup_anndata(adata)  # values declared as counts
    with pytest.raises(CMCVAEInputError, match="Unknown modality"):
        CMCVAE.setup_anndata(adata, modality="atac", counts=False)
    with pytest.raises(CMCVAEInputError, match="Unknown batch key"):
        CMCVAE.setup_anndata(adata, counts=False, batch_key="patient")
    with pytest.raises(CMCVAEInputError, match="missing"):
        CMCVAE.setup_mudata(md.MuData({"rna": adata}), rna_mod=None, prot_mod="prot", counts=False)
    with pytest.raises(CMCVAEInputError, match="not set up"):
        CMCVAE(_chain(n=50))
