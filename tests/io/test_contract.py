import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    check_input,
    check_layout,
    check_mudata,
    check_values,
    input_modalities,
    read_input,
)
from cmcvae.io._contract import MAX_COUNT


def test_h5ad_with_protein_expression(tiny_mdata, tmp_path):
    rna = tiny_mdata.mod["rna"].copy()
    prot = tiny_mdata.mod["prot"]
    rna.obsm["protein_expression"] = pd.DataFrame(prot.X, index=rna.obs_names, columns=prot.var_names)
    rna.write_h5ad(tmp_path / "d.h5ad")
    m = read_input(tmp_path / "d.h5ad")
    assert set(m.mod) == {"rna", "prot"}
    assert list(m.mod["prot"].var_names) == list(prot.var_names)
    np.testing.assert_array_equal(m.mod["prot"].X, prot.X)
    del rna.obsm["protein_expression"]
    rna.write_h5ad(tmp_path / "rna_only.h5ad")
    with pytest.raises(CMCVAEInputError, match="protein_expression"):
        read_input(tmp_path / "rna_only.h5ad")


def test_check_layout_resolves_donors_once_for_every_kind_of_input(tiny_mdata):
    donors = check_layout(tiny_mdata, "donor")
    assert list(donors.index) == list(tiny_mdata["rna"].obs_names)
    assert list(donors) == list(tiny_mdata.obs["donor"].astype(str))
    assert check_mudata(tiny_mdata, "donor").equals(donors)
    assert set(check_layout(tiny_mdata, None)) == {"all"}
    # the batch key found on a modality's obs, and the MuData's obs reindexed for one modality
    rna = tiny_mdata["rna"].copy()
    rna.obs["patient"] = [f"p{i % 4}" for i in range(rna.n_obs)]
    assert list(check_layout(rna, "patient", modality="rna")) == list(rna.obs["patient"])
    one = md.MuData({"rna": tiny_mdata["rna"].copy()})
    one.obs["donor"] = tiny_mdata.obs["donor"].to_numpy()
    assert list(check_layout(one, "donor", "rna", None)) == list(tiny_mdata.obs["donor"])
    with pytest.raises(CMCVAEInputError, match="Unknown batch key 'patient'.*'donor'"):
        check_layout(tiny_mdata, "patient")
    tiny_mdata.obs.loc[tiny_mdata.obs_names[:3], "donor"] = np.nan
    with pytest.raises(CMCVAEInputError, match="3 missing values"):
        check_layout(tiny_mdata, "donor")


def test_check_layout_and_input_errors(tiny_mdata):
    with pytest.raises(CMCVAEInputError, match="Expected a MuData or AnnData"):
        check_layout(pd.DataFrame(), None)
    with pytest.raises(CMCVAEInputError, match="at least one modality"):
        check_layout(tiny_mdata, None, None, None)
    with pytest.raises(CMCVAEInputError, match="modality 'atac' is missing"):
        check_layout(tiny_mdata, None, "atac", None)
    with pytest.raises(CMCVAEInputError, match="Unknown modality"):
        check_layout(tiny_mdata["rna"], None, modality="atac")
    shuffled = md.MuData({"rna": tiny_mdata["rna"], "prot": tiny_mdata["prot"][::-1].copy()})
    with pytest.raises(CMCVAEInputError, match="same cells in the same order"):
        check_layout(shuffled, None)
    logged = tiny_mdata["prot"].copy()
    logged.X = np.log1p(np.asarray(logged.X, dtype=np.float64)) + 0.5
    with pytest.raises(CMCVAEInputError, match="not integers.*counts=False"):
        check_input(logged, batch_key=None, rna_mod=None, prot_mod=None, modality="protein")
    check_input(logged, batch_key=None, rna_mod=None, prot_mod=None, modality="protein", counts=False)
    rna, prot = input_modalities(tiny_mdata, "rna", None)
    assert rna is tiny_mdata["rna"] and prot is None


# ------------------------------------------------------------------------------ implausible data
def test_check_values_refuses_implausible_counts_before_anything_is_sized():
    x = sp.csr_matrix(np.array([[1, 0, 3], [0, 2, 0]], dtype=np.float32))
    check_values(x, "RNA")
    x.data[1] = 2.0 ** 31  # overflows int32
    with pytest.raises(CMCVAEInputError, match=r"RNA counts contain an implausible value .*1e\+07"):
        check_values(x, "RNA")
    x.data[1] = MAX_COUNT  # the ceiling itself is accepted
    check_values(x, "RNA")
    with pytest.raises(CMCVAEInputError, match="implausible"):
        check_values(np.array([[1.0, MAX_COUNT + 1.0]]), "protein")
    check_values(np.array([[1.0, 1e9]]), "protein", counts=False)  # continuous values: no ceiling


def test_check_input_refuses_an_all_zero_modality_but_not_cells_without_counts(tiny_mdata):
    m = tiny_mdata
    prot = np.array(m["prot"].X)
    prot[:10] = 0  # cells with zero protein counts are fine
    m["prot"].X = prot
    check_input(m, batch_key="donor", rna_mod="rna", prot_mod="prot")
    m["prot"].X = np.zeros_like(prot)
    with pytest.raises(CMCVAEInputError, match="The protein matrix is all zeros"):
        check_input(m, batch_key="donor", rna_mod="rna", prot_mod="prot")
    with pytest.raises(CMCVAEInputError, match="The RNA matrix is all zeros"):
        check_values(sp.csr_matrix((5, 4), dtype=np.float32), "RNA")
    with pytest.raises(CMCVAEInputError, match="all zeros"):
        check_values(np.zeros((5, 4)), "RNA", counts=False)
