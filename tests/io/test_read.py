"""The one entry (read_input / read_dataset) end to end, on the real datasets in ../shared/data
when they are present."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    check_mudata,
    read_csv_pair,
    read_dataset,
    read_input,
    read_mtx_pair,
)
from tests.io._helpers import (
    ECCITE,
    SCVI,
    STOECKIUS,
    TOTALVI,
    assert_contract,
    combined,
    dims,
    write_10x_h5,
)

needs_scvi = pytest.mark.skipif(not SCVI.is_dir(), reason="shared data absent")
needs_totalvi = pytest.mark.skipif(not TOTALVI.is_dir(), reason="shared data absent")
needs_eccite = pytest.mark.skipif(not ECCITE.is_dir(), reason="shared data absent")
needs_stoeckius = pytest.mark.skipif(not STOECKIUS.is_dir(), reason="shared data absent")


def test_read_input_delegates(tiny_mdata, tmp_path):
    tiny_mdata.write(tmp_path / "t.h5mu")
    m = read_input(tmp_path / "t.h5mu")
    assert_contract(m)
    assert list(m.obs["donor"]) == list(tiny_mdata.obs["donor"])
    check_mudata(m, "donor")


@needs_scvi
def test_real_10x_mtx_subset_and_scvi_h5ad():
    folder = SCVI / "pbmc_10k_protein_v3_filtered_feature_bc_matrix_subset"
    m = read_dataset(folder)
    assert_contract(m)
    assert dims(m) == (1024, 100, 17)  # 14 ADT + 3 isotype controls
    assert dims(read_dataset(SCVI)) == (1024, 100, 17)  # the parent folder works too
    h10 = read_dataset(SCVI / "pbmc_10k_protein_v3_200cells.h5ad")
    h5 = read_dataset(SCVI / "pbmc_5k_protein_v3_200cells.h5ad")
    assert_contract(h10)
    assert dims(h10) == (200, 16727, 14) and dims(h5) == (200, 16581, 29)
    assert "CD3_TotalSeqB" in h10["prot"].var_names  # names from uns['protein_names']
    assert set(h10["prot"].var_names) <= set(h5["prot"].var_names)
    # the 10x folder and the h5ad are the same run: shared cells carry identical counts
    cells = m.obs_names.intersection(h10.obs_names)
    genes = m["rna"].var_names.intersection(h10["rna"].var_names)
    assert len(cells) > 10
    np.testing.assert_array_equal(m["rna"][cells, genes].X.toarray(),
                                  h10["rna"][cells, genes].X.toarray())
    prots = list(h10["prot"].var_names)
    np.testing.assert_array_equal(m["prot"][cells, prots].X, h10["prot"][cells, prots].X)


@needs_totalvi
def test_real_totalvi_h5ad_and_csv_pair():
    h = read_dataset(TOTALVI / "pbmc10k_4000hvg_14adt_paired.h5ad")
    assert_contract(h)
    assert dims(h) == (6855, 4000, 14)
    assert list(h.obs["batch"].unique()) == ["pbmc10k"]
    c = read_csv_pair(TOTALVI / "pbmc10k_harmo_rna.csv.gz", TOTALVI / "pbmc10k_harmo_pro.csv.gz")
    assert_contract(c)
    assert dims(c) == (6855, 4000, 14)
    assert np.array_equal(c.obs_names, h.obs_names)
    assert (c["rna"].X != h["rna"].X).nnz == 0
    np.testing.assert_array_equal(c["prot"].X, h["prot"][:, c["prot"].var_names].X)


@needs_eccite
def test_real_eccite_h5ad_and_mtx_pair():
    h = read_dataset(ECCITE / "eccite_pbmc_control_500cells.h5ad")
    assert_contract(h)
    assert dims(h) == (500, 19521, 49)
    assert "hto_max" in h.obs and "hto_counts" in h["rna"].obsm
    m = read_mtx_pair(ECCITE / "rna_counts_genes_x_cells.mtx.gz", ECCITE / "rna_genes.tsv",
                      ECCITE / "cell_barcodes.tsv", ECCITE / "adt_counts_features_x_cells.csv")
    assert_contract(m)
    assert dims(m) == (500, 19521, 49)
    assert list(m["rna"].var_names) == list(h["rna"].var_names)  # hg19_ stripped like the h5ad
    assert (m["rna"].X != h["rna"].X).nnz == 0
    np.testing.assert_array_equal(m["prot"].X, h["prot"][:, m["prot"].var_names].X)
    assert {"PD-1 (CD279)", "PD1 (CD279)"} <= set(m["prot"].var_names)  # two antibodies, kept


@needs_stoeckius
def test_real_stoeckius_csv_pair():
    rna = STOECKIUS / "GSE100866_CD8_merged-RNA_umi.csv.gz"
    m = read_dataset(rna, protein_path=STOECKIUS / "GSE100866_CD8_merged-ADT_umi.csv.gz")
    assert_contract(m)
    assert dims(m) == (1774, 11757, 5)
    # the authors' CLR-transformed ADT table is rejected (paired here with the small ADT UMI
    # table standing in for RNA, to keep the test fast)
    with pytest.raises(CMCVAEInputError, match="protein counts.*negative values.*clr"):
        read_csv_pair(STOECKIUS / "GSE100866_CD8_merged-ADT_umi.csv.gz",
                      STOECKIUS / "GSE100866_CD8_merged-ADT_clr-transformed.csv.gz")


def test_no_stray_warnings_on_clean_input(toy, tmp_path):
    counts, names, types = combined(toy)
    path = write_10x_h5(tmp_path / "ok.h5", counts, names, types, toy["cells"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        read_dataset(path)
