"""scverse inputs (cmcvae.io._h5): .h5ad with proteins in .obsm or among the features, AnnData objects, .h5mu."""

from __future__ import annotations

import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    from_anndata,
    is_hdf5,
    read_dataset,
    read_h5ad,
    read_h5mu,
    read_input,
    sniff_format,
)
from tests.io._helpers import (
    N_CELLS,
    N_GENES,
    N_PROT,
    assert_contract,
    combined,
    dims,
    poisson_counts,
)


def test_h5ad_protein_expression(toy, tmp_path):
    obs = pd.DataFrame({"donor": ["d1", "d2"] * (N_CELLS // 2)}, index=toy["cells"])
    adata = ad.AnnData(sp.csc_matrix(toy["rna"]), obs=obs, var=pd.DataFrame(index=toy["genes"]))
    adata.obsm["protein_expression"] = pd.DataFrame(toy["prot"], index=toy["cells"],
                                                    columns=toy["prots"])
    adata.layers["counts"] = adata.X.copy()
    adata.write_h5ad(tmp_path / "d.h5ad")
    m = read_dataset(tmp_path / "d.h5ad")
    assert_contract(m)
    assert list(m.obs["donor"]) == list(obs["donor"])
    assert m["rna"].layers["counts"].format == "csr"
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    assert "protein_expression" not in m["rna"].obsm
    # old scvi layout: numpy array + uns['protein_names']
    adata.obsm["protein_expression"] = toy["prot"].astype(np.int64)
    adata.uns["protein_names"] = np.array(toy["prots"])
    m = from_anndata(adata)
    assert list(m["prot"].var_names) == toy["prots"]
    # another usual obsm key is found and reported
    adata.obsm["adt"] = adata.obsm.pop("protein_expression")
    adata.write_h5ad(tmp_path / "adt.h5ad")
    m = read_input(tmp_path / "adt.h5ad")
    assert any("obsm['adt']" in n for n in m.uns["cmcvae_read"]["notes"])


def test_from_anndata_leaves_input_untouched(toy):
    cells = list(toy["cells"])
    cells[1] = cells[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # anndata: duplicated obs names
        adata = ad.AnnData(toy["rna"].astype(np.float64), obs=pd.DataFrame(index=cells),
                           var=pd.DataFrame(index=[f"GRCh38_{g}" for g in toy["genes"]]))
    adata.obsm["protein_expression"] = pd.DataFrame(toy["prot"], index=cells, columns=toy["prots"])
    with pytest.raises(CMCVAEInputError, match="barcodes occur more than once.*make_unique=True"):
        from_anndata(adata)
    m = from_anndata(adata, make_unique=True)
    assert_contract(m)
    assert m["rna"].var_names[0] == "GENE0" and m.obs_names.is_unique
    assert m["rna"].X.dtype == np.float32
    assert list(adata.obs_names) == cells and adata.var_names[0] == "GRCh38_GENE0"
    assert isinstance(adata.X, np.ndarray) and adata.X.dtype == np.float64
    assert list(adata.obsm["protein_expression"].index) == cells


def test_h5ad_dense_rna_becomes_csr_and_feature_types_split(toy, tmp_path):
    counts, names, types = combined(toy)
    adata = ad.AnnData(counts, obs=pd.DataFrame({"sample": "s1"}, index=toy["cells"]),
                       var=pd.DataFrame({"feature_types": types}, index=names))
    adata.write_h5ad(tmp_path / "10x_like.h5ad")
    m = read_h5ad(tmp_path / "10x_like.h5ad")
    assert_contract(m)
    assert dims(m) == (N_CELLS, N_GENES, N_PROT)
    assert list(m.obs["sample"].unique()) == ["s1"]
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    # an AnnData saved under a 10x-like .h5 name is recognised by its content
    adata.write_h5ad(tmp_path / "named_like_10x.h5")
    assert sniff_format(tmp_path / "named_like_10x.h5") == "h5ad"
    assert dims(read_dataset(tmp_path / "named_like_10x.h5")) == (N_CELLS, N_GENES, N_PROT)


def test_h5ad_without_proteins(toy, tmp_path):
    ad.AnnData(toy["rna"]).write_h5ad(tmp_path / "rna_only.h5ad")
    with pytest.raises(CMCVAEInputError, match="protein_expression.*feature_types.*protein_path"):
        read_dataset(tmp_path / "rna_only.h5ad")


def test_h5mu_aliases_other_modalities_and_cells(toy, tmp_path):
    obs = pd.DataFrame({"donor": ["a", "b", "c"] * (N_CELLS // 3)}, index=toy["cells"])
    gex = ad.AnnData(sp.csr_matrix(toy["rna"]), obs=obs.copy(), var=pd.DataFrame(index=toy["genes"]))
    adt = ad.AnnData(toy["prot"][5:], obs=pd.DataFrame(index=toy["cells"][5:]),
                     var=pd.DataFrame(index=toy["prots"]))
    hto = ad.AnnData(poisson_counts(N_CELLS, 2, 3), obs=pd.DataFrame(index=toy["cells"]))
    mdata = md.MuData({"gex": gex, "ADT": adt, "hto": hto})
    mdata.obs["donor"] = obs.reindex(mdata.obs_names)["donor"].to_numpy()
    mdata.write(tmp_path / "x.h5mu")
    assert is_hdf5(tmp_path / "x.h5mu")  # HDF5 signature after MuData's 512-byte user block
    with pytest.warns(UserWarning, match="dropped 5 RNA-only"):
        m = read_dataset(tmp_path / "x.h5mu")
    assert_contract(m)
    assert dims(m) == (N_CELLS - 5, N_GENES, N_PROT)
    assert list(m.obs_names) == toy["cells"][5:]
    np.testing.assert_array_equal(m["prot"].X, toy["prot"][5:])
    assert list(m.obs["donor"]) == list(obs["donor"][5:])
    notes = " ".join(m.uns["cmcvae_read"]["notes"])
    assert "'gex' to 'rna'" in notes and "'ADT' to 'prot'" in notes and "hto" in notes
    # round trip of a reader's own output
    m.write(tmp_path / "back.h5mu")
    back = read_h5mu(tmp_path / "back.h5mu")
    assert dims(back) == dims(m) and back.uns["cmcvae_read"]["notes"] == []


def test_h5mu_missing_protein_modality(toy, tmp_path):
    md.MuData({"rna": ad.AnnData(toy["rna"])}).write(tmp_path / "rna.h5mu")
    with pytest.raises(CMCVAEInputError, match="protein modality 'prot' is missing.*prot_mod"):
        read_dataset(tmp_path / "rna.h5mu")
