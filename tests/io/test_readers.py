"""Readers for CITE-seq formats (cmcvae.io._readers): synthetic files of every format, the
bad inputs users hit, and the real datasets in ../shared/data when they are present."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import anndata as ad
import h5py
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.io._contract import check_mudata, read_input
from cmcvae.io._readers import (
    from_anndata,
    is_hdf5,
    read_10x_h5,
    read_10x_mtx,
    read_csv_pair,
    read_dataset,
    read_h5ad,
    read_h5mu,
    read_mtx_pair,
    read_pair,
    sniff_format,
)
from tests._helpers import SHARED_DATA

DATA = SHARED_DATA
SCVI = DATA / "citeseq_10x_pbmc_scvi_testsubsets"
TOTALVI = DATA / "citeseq_10x_pbmc10k_totalvi_repro"
ECCITE = DATA / "citeseq_eccite_mimitou2019_citefuse"
STOECKIUS = DATA / "citeseq_stoeckius2017_gse100866"

N_CELLS, N_GENES, N_PROT = 30, 12, 4


# ---------------------------------------------------------------------------------------------
# synthetic data


def _counts(n_rows: int, n_cols: int, seed: int, lam: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(lam, size=(n_rows, n_cols)).astype(np.float32)


@pytest.fixture
def toy():
    """Cells, gene and protein names and counts (cells × features)."""
    cells = [f"AAAC{i:04d}-1" for i in range(N_CELLS)]
    genes = [f"GENE{i}" for i in range(N_GENES)]
    prots = [f"CD{i}_TotalSeqB" for i in range(N_PROT)]
    return {"cells": cells, "genes": genes, "prots": prots,
            "rna": _counts(N_CELLS, N_GENES, 0), "prot": _counts(N_CELLS, N_PROT, 1, lam=30.0)}


def _shape(mdata: md.MuData) -> tuple[int, int, int]:
    return mdata.n_obs, mdata["rna"].n_vars, mdata["prot"].n_vars


def _assert_contract(mdata: md.MuData) -> None:
    assert set(mdata.mod) == {"rna", "prot"}
    rna, prot = mdata["rna"], mdata["prot"]
    assert np.array_equal(rna.obs_names, prot.obs_names)
    assert np.array_equal(mdata.obs_names, rna.obs_names)
    assert rna.var_names.is_unique and prot.var_names.is_unique
    assert sp.issparse(rna.X) and rna.X.format == "csr"
    assert isinstance(prot.X, np.ndarray)
    assert rna.X.dtype != np.float64 and prot.X.dtype != np.float64
    check_mudata(mdata, None)  # what the model's setup checks
    assert "cmcvae_read" in mdata.uns


def _write_10x_h5(path: Path, counts: np.ndarray, names: list[str], types: list[str],
                  cells: list[str]) -> Path:
    """A Cell Ranger v3 feature-barcode .h5 (features × cells CSC) built with h5py."""
    csc = sp.csc_matrix(counts.T.astype(np.int32))  # features × cells, one column per cell
    with h5py.File(path, "w") as f:
        m = f.create_group("matrix")
        m.create_dataset("data", data=csc.data)
        m.create_dataset("indices", data=csc.indices.astype(np.int64))
        m.create_dataset("indptr", data=csc.indptr.astype(np.int64))
        m.create_dataset("shape", data=np.array(csc.shape, dtype=np.int32))
        m.create_dataset("barcodes", data=np.array(cells, dtype="S"))
        feat = m.create_group("features")
        feat.create_dataset("id", data=np.array([f"ID_{n}" for n in names], dtype="S"))
        feat.create_dataset("name", data=np.array(names, dtype="S"))
        feat.create_dataset("feature_type", data=np.array(types, dtype="S"))
        feat.create_dataset("genome", data=np.array(["GRCh38"] * len(names), dtype="S"))
        feat.create_dataset("_all_tag_keys", data=np.array([b"genome"]))
    return path


def _write_10x_mtx(folder: Path, counts: np.ndarray, names: list[str], types: list[str],
                   cells: list[str], gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sfx = ".gz" if gz else ""
    opener = gzip.open if gz else open
    with opener(folder / f"matrix.mtx{sfx}", "wb") as fh:
        scipy.io.mmwrite(fh, sp.coo_matrix(counts.T.astype(np.int64)), field="integer")
    with opener(folder / f"features.tsv{sfx}", "wt") as fh:
        fh.writelines(f"ID_{n}\t{n}\t{t}\n" for n, t in zip(names, types, strict=True))
    with opener(folder / f"barcodes.tsv{sfx}", "wt") as fh:
        fh.writelines(f"{c}\n" for c in cells)
    return folder


def _combined(toy, gene_names=None, prot_type="Antibody Capture"):
    counts = np.hstack([toy["rna"], toy["prot"]])
    names = (gene_names or toy["genes"]) + toy["prots"]
    types = ["Gene Expression"] * N_GENES + [prot_type] * N_PROT
    return counts, names, types


# ---------------------------------------------------------------------------------------------
# formats


def test_10x_h5(toy, tmp_path):
    counts, names, types = _combined(toy)
    path = _write_10x_h5(tmp_path / "filtered_feature_bc_matrix.h5", counts, names, types, toy["cells"])
    assert is_hdf5(path) and sniff_format(path) == "10x_h5"
    m = read_dataset(path)
    _assert_contract(m)
    assert _shape(m) == (N_CELLS, N_GENES, N_PROT)
    assert list(m["prot"].var_names) == toy["prots"]
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    assert read_10x_h5(path).n_obs == N_CELLS


def test_10x_h5_without_antibody_capture(toy, tmp_path):
    counts, names, _ = _combined(toy)
    path = _write_10x_h5(tmp_path / "gex.h5", counts, names, ["Gene Expression"] * len(names),
                         toy["cells"])
    with pytest.raises(CMCVAEInputError, match="no 'Antibody Capture'.*protein_path"):
        read_dataset(path)


def test_10x_custom_feature_type_hint(toy, tmp_path):
    counts, names, types = _combined(toy, prot_type="Custom")
    folder = _write_10x_mtx(tmp_path / "custom", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="protein_feature_type='Custom'"):
        read_dataset(folder)
    assert _shape(read_dataset(folder, protein_feature_type="Custom")) == (N_CELLS, N_GENES, N_PROT)


@pytest.mark.parametrize("gz", [True, False])
def test_10x_mtx_folder(toy, tmp_path, gz):
    counts, names, types = _combined(toy)
    types[-1] = "CRISPR Guide Capture"  # other feature types are dropped and reported
    outs = tmp_path / "outs"
    _write_10x_mtx(outs / "filtered_feature_bc_matrix", counts, names, types, toy["cells"], gz=gz)
    for path in (outs / "filtered_feature_bc_matrix", outs):  # the folder or its parent
        m = read_dataset(path)
        _assert_contract(m)
        assert _shape(m) == (N_CELLS, N_GENES, N_PROT - 1)
        np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
        assert any("CRISPR Guide Capture" in n for n in m.uns["cmcvae_read"]["notes"])
    assert read_10x_mtx(outs).n_obs == N_CELLS


def test_10x_mtx_raw_only_and_empty_folder(toy, tmp_path):
    counts, names, types = _combined(toy)
    _write_10x_mtx(tmp_path / "outs" / "raw_feature_bc_matrix", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="raw_feature_bc_matrix"):
        read_dataset(tmp_path / "outs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CMCVAEInputError, match="without matrix.mtx"):
        read_dataset(tmp_path / "empty")


def test_h5ad_protein_expression(toy, tmp_path):
    obs = pd.DataFrame({"donor": ["d1", "d2"] * (N_CELLS // 2)}, index=toy["cells"])
    adata = ad.AnnData(sp.csc_matrix(toy["rna"]), obs=obs, var=pd.DataFrame(index=toy["genes"]))
    adata.obsm["protein_expression"] = pd.DataFrame(toy["prot"], index=toy["cells"],
                                                    columns=toy["prots"])
    adata.layers["counts"] = adata.X.copy()
    adata.write_h5ad(tmp_path / "d.h5ad")
    m = read_dataset(tmp_path / "d.h5ad")
    _assert_contract(m)
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
    _assert_contract(m)
    assert m["rna"].var_names[0] == "GENE0" and m.obs_names.is_unique
    assert m["rna"].X.dtype == np.float32
    assert list(adata.obs_names) == cells and adata.var_names[0] == "GRCh38_GENE0"
    assert isinstance(adata.X, np.ndarray) and adata.X.dtype == np.float64
    assert list(adata.obsm["protein_expression"].index) == cells


def test_h5ad_dense_rna_becomes_csr_and_feature_types_split(toy, tmp_path):
    counts, names, types = _combined(toy)
    adata = ad.AnnData(counts, obs=pd.DataFrame({"sample": "s1"}, index=toy["cells"]),
                       var=pd.DataFrame({"feature_types": types}, index=names))
    adata.write_h5ad(tmp_path / "10x_like.h5ad")
    m = read_h5ad(tmp_path / "10x_like.h5ad")
    _assert_contract(m)
    assert _shape(m) == (N_CELLS, N_GENES, N_PROT)
    assert list(m.obs["sample"].unique()) == ["s1"]
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    # an AnnData saved under a 10x-like .h5 name is recognised by its content
    adata.write_h5ad(tmp_path / "named_like_10x.h5")
    assert sniff_format(tmp_path / "named_like_10x.h5") == "h5ad"
    assert _shape(read_dataset(tmp_path / "named_like_10x.h5")) == (N_CELLS, N_GENES, N_PROT)


def test_h5ad_without_proteins(toy, tmp_path):
    ad.AnnData(toy["rna"]).write_h5ad(tmp_path / "rna_only.h5ad")
    with pytest.raises(CMCVAEInputError, match="protein_expression.*feature_types.*protein_path"):
        read_dataset(tmp_path / "rna_only.h5ad")


def test_h5mu_aliases_other_modalities_and_cells(toy, tmp_path):
    obs = pd.DataFrame({"donor": ["a", "b", "c"] * (N_CELLS // 3)}, index=toy["cells"])
    gex = ad.AnnData(sp.csr_matrix(toy["rna"]), obs=obs.copy(), var=pd.DataFrame(index=toy["genes"]))
    adt = ad.AnnData(toy["prot"][5:], obs=pd.DataFrame(index=toy["cells"][5:]),
                     var=pd.DataFrame(index=toy["prots"]))
    hto = ad.AnnData(_counts(N_CELLS, 2, 3), obs=pd.DataFrame(index=toy["cells"]))
    mdata = md.MuData({"gex": gex, "ADT": adt, "hto": hto})
    mdata.obs["donor"] = obs.reindex(mdata.obs_names)["donor"].to_numpy()
    mdata.write(tmp_path / "x.h5mu")
    assert is_hdf5(tmp_path / "x.h5mu")  # HDF5 signature after MuData's 512-byte user block
    with pytest.warns(UserWarning, match="dropped 5 RNA-only"):
        m = read_dataset(tmp_path / "x.h5mu")
    _assert_contract(m)
    assert _shape(m) == (N_CELLS - 5, N_GENES, N_PROT)
    assert list(m.obs_names) == toy["cells"][5:]
    np.testing.assert_array_equal(m["prot"].X, toy["prot"][5:])
    assert list(m.obs["donor"]) == list(obs["donor"][5:])
    notes = " ".join(m.uns["cmcvae_read"]["notes"])
    assert "'gex' to 'rna'" in notes and "'ADT' to 'prot'" in notes and "hto" in notes
    # round trip of a reader's own output
    m.write(tmp_path / "back.h5mu")
    back = read_h5mu(tmp_path / "back.h5mu")
    assert _shape(back) == _shape(m) and back.uns["cmcvae_read"]["notes"] == []


def test_h5mu_missing_protein_modality(toy, tmp_path):
    md.MuData({"rna": ad.AnnData(toy["rna"])}).write(tmp_path / "rna.h5mu")
    with pytest.raises(CMCVAEInputError, match="protein modality 'prot' is missing.*prot_mod"):
        read_dataset(tmp_path / "rna.h5mu")


def test_pair_of_h5ad(toy, tmp_path):
    rna_obs = pd.DataFrame({"perturbation": ["control", "CD4"] * (N_CELLS // 2)}, index=toy["cells"])
    rna = ad.AnnData(sp.csr_matrix(toy["rna"]), obs=rna_obs, var=pd.DataFrame(index=toy["genes"]))
    # protein file: other order, 3 RNA cells missing, 2 extra cells
    order = np.random.default_rng(0).permutation(np.arange(3, N_CELLS))
    prot_cells = [toy["cells"][i] for i in order] + ["EXTRA1", "EXTRA2"]
    prot_x = np.vstack([toy["prot"][order], np.ones((2, N_PROT), np.float32)])
    prot = ad.AnnData(prot_x, obs=pd.DataFrame({"guide": "g"}, index=prot_cells),
                      var=pd.DataFrame(index=toy["prots"]))
    rna.write_h5ad(tmp_path / "rna.h5ad")
    prot.write_h5ad(tmp_path / "prot.h5ad")
    with pytest.warns(UserWarning, match="dropped 3 RNA-only and 2 protein-only"):
        m = read_dataset(tmp_path / "rna.h5ad", protein_path=tmp_path / "prot.h5ad")
    _assert_contract(m)
    assert list(m.obs_names) == toy["cells"][3:]  # RNA order
    np.testing.assert_array_equal(m["prot"].X, toy["prot"][3:])
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"][3:])
    assert list(m.obs["perturbation"]) == list(rna_obs["perturbation"][3:])
    assert "guide" in m["prot"].obs
    with pytest.warns(UserWarning, match="Kept the 27 cells"):
        pair = read_pair(tmp_path / "rna.h5ad", tmp_path / "prot.h5ad")
    assert _shape(pair) == (N_CELLS - 3, N_GENES, N_PROT)


def test_pair_without_shared_cells(toy, tmp_path):
    ad.AnnData(toy["rna"], obs=pd.DataFrame(index=toy["cells"])).write_h5ad(tmp_path / "rna.h5ad")
    other = [f"OTHER{i}" for i in range(N_CELLS)]
    ad.AnnData(toy["prot"], obs=pd.DataFrame(index=other)).write_h5ad(tmp_path / "prot.h5ad")
    with pytest.raises(CMCVAEInputError, match="share no cell barcode.*'-1' suffix"):
        read_pair(tmp_path / "rna.h5ad", tmp_path / "prot.h5ad")


def _write_table(path: Path, counts: np.ndarray, rows: list[str], cols: list[str],
                 sep: str = ",") -> Path:
    pd.DataFrame(counts, index=rows, columns=cols).to_csv(path, sep=sep)
    return path


@pytest.mark.parametrize("rna_cells_x_features,prot_cells_x_features",
                         [(False, False), (True, True), (False, True), (True, False)])
def test_csv_pair_orientation_detected(toy, tmp_path, rna_cells_x_features, prot_cells_x_features):
    c, g, p = toy["cells"], toy["genes"], toy["prots"]
    rna_path = (_write_table(tmp_path / "rna.csv.gz", toy["rna"], c, g) if rna_cells_x_features
                else _write_table(tmp_path / "rna.csv.gz", toy["rna"].T, g, c))
    prot_path = (_write_table(tmp_path / "adt.tsv", toy["prot"], c, p, sep="\t")
                 if prot_cells_x_features else
                 _write_table(tmp_path / "adt.tsv", toy["prot"].T, p, c, sep="\t"))
    m = read_csv_pair(rna_path, prot_path)
    _assert_contract(m)
    assert list(m.obs_names) == c and list(m["rna"].var_names) == g
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    rna_o = "cells_x_features" if rna_cells_x_features else "features_x_cells"
    prot_o = "cells_x_features" if prot_cells_x_features else "features_x_cells"
    explicit = read_dataset(rna_path, protein_path=prot_path, orientation=(rna_o, prot_o))
    np.testing.assert_array_equal(explicit["prot"].X, toy["prot"])


def test_csv_pair_orientation_errors(toy, tmp_path):
    c, g, p = toy["cells"], toy["genes"], toy["prots"]
    rna = _write_table(tmp_path / "rna.csv", toy["rna"].T, g, c)
    prot = _write_table(tmp_path / "adt.csv", toy["prot"].T, p, c)
    with pytest.raises(CMCVAEInputError, match="share no cell barcode"):
        read_csv_pair(rna, prot, orientation="cells_x_features")
    with pytest.raises(CMCVAEInputError, match="orientation="):
        read_csv_pair(rna, prot, orientation="genes_x_cells")
    # square tables whose both axes carry the same names: ambiguous → ask for the orientation
    names = [f"X{i}" for i in range(5)]
    sq1 = _write_table(tmp_path / "sq1.csv", _counts(5, 5, 7), names, names)
    sq2 = _write_table(tmp_path / "sq2.csv", _counts(5, 5, 8), names, names)
    with pytest.raises(CMCVAEInputError, match="Pass orientation="):
        read_csv_pair(sq1, sq2)
    bad = tmp_path / "bad.csv"
    bad.write_text(",c1,c2\ng1,1,oops\n")
    with pytest.raises(CMCVAEInputError, match="non-numeric"):
        read_csv_pair(bad, prot)


def test_mtx_pair(toy, tmp_path):
    scipy.io.mmwrite(tmp_path / "rna_counts.mtx", sp.coo_matrix(toy["rna"].T.astype(np.int64)))
    (tmp_path / "rna_genes.tsv").write_text("".join(f"hg19_{g}\n" for g in toy["genes"]))
    (tmp_path / "cell_barcodes.tsv").write_text("".join(f"{c}\n" for c in toy["cells"]))
    prot = _write_table(tmp_path / "adt_counts.csv", toy["prot"].T, toy["prots"], toy["cells"])
    m = read_mtx_pair(tmp_path / "rna_counts.mtx", tmp_path / "rna_genes.tsv",
                      tmp_path / "cell_barcodes.tsv", prot)
    _assert_contract(m)
    assert list(m["rna"].var_names) == toy["genes"]  # hg19_ stripped
    assert m["rna"].var["original_id"].iloc[0] == "hg19_GENE0"
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
    # the dispatcher finds the gene and barcode lists next to the matrix
    auto = read_dataset(tmp_path / "rna_counts.mtx", protein_path=prot)
    np.testing.assert_array_equal(auto["prot"].X, toy["prot"])
    kept = read_dataset(tmp_path / "rna_counts.mtx", protein_path=prot, strip_genome_prefix=False)
    assert kept["rna"].var_names[0] == "hg19_GENE0"
    with pytest.raises(CMCVAEInputError, match="header line"):
        (tmp_path / "short.tsv").write_text("".join(f"{c}\n" for c in toy["cells"][1:]))
        read_mtx_pair(tmp_path / "rna_counts.mtx", tmp_path / "rna_genes.tsv",
                      tmp_path / "short.tsv", prot)


# ---------------------------------------------------------------------------------------------
# bad input


def test_text_file_named_h5ad(tmp_path):
    fake = tmp_path / "data.h5ad"
    fake.write_text("gene,cell1\nA,1\n")
    with pytest.raises(CMCVAEInputError,
                       match=r"not an HDF5 file although its extension says \.h5ad; it is a text"):
        read_dataset(fake)
    with pytest.raises(CMCVAEInputError, match="not an HDF5 file"):
        read_input(fake)
    gz = tmp_path / "data2.h5mu"
    gz.write_bytes(gzip.compress(b"\x89HDF\r\n\x1a\n rest"))
    with pytest.raises(CMCVAEInputError, match="gzip-compressed"):
        read_dataset(gz)
    lfs = tmp_path / "data3.h5"
    lfs.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\n")
    with pytest.raises(CMCVAEInputError, match="git lfs pull"):
        read_dataset(lfs)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("weights", data=np.zeros(3))
    with pytest.raises(CMCVAEInputError, match="neither AnnData, MuData nor 10x"):
        read_dataset(other)


def test_unknown_and_single_table_formats(tmp_path):
    odd = tmp_path / "x.xyz"
    odd.write_text("hello")
    with pytest.raises(CMCVAEInputError, match=r"Unsupported input format '\.xyz'.*Supported: .*\.h5mu"):
        read_dataset(odd)
    rds = tmp_path / "x.rds"
    rds.write_bytes(b"X\n\x00\x00")
    with pytest.raises(CMCVAEInputError, match="zellkonverter"):
        read_dataset(rds)
    table = tmp_path / "x.csv"
    table.write_text(",c1\ng1,1\n")
    with pytest.raises(CMCVAEInputError, match="Unsupported input format.*one modality.*protein_path"):
        read_dataset(table)
    with pytest.raises(CMCVAEInputError, match="does not exist"):
        read_dataset(tmp_path / "missing.h5mu")


def test_duplicate_gene_names(toy, tmp_path):
    genes = list(toy["genes"])
    genes[3] = genes[4] = "TBCE"
    counts, names, types = _combined(toy, gene_names=genes)
    path = _write_10x_h5(tmp_path / "dup.h5", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="gene names occur more than once.*'TBCE'.*make_unique=True"):
        read_dataset(path)
    m = read_dataset(path, make_unique=True)
    _assert_contract(m)
    assert {"TBCE", "TBCE-1"} <= set(m["rna"].var_names)
    assert any("unique" in n for n in m.uns["cmcvae_read"]["notes"])
    folder = _write_10x_mtx(tmp_path / "dup_mtx", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="var_names_make_unique"):
        read_dataset(folder)  # scanpy would have made them unique silently


def test_negative_counts_and_wrong_options(toy, tmp_path):
    adata = ad.AnnData(sp.csr_matrix(toy["rna"]), obs=pd.DataFrame(index=toy["cells"]))
    prot = toy["prot"].copy()
    prot[2, 1] = -1.5
    adata.obsm["protein_expression"] = pd.DataFrame(prot, index=toy["cells"], columns=toy["prots"])
    adata.write_h5ad(tmp_path / "neg.h5ad")
    with pytest.raises(CMCVAEInputError, match="protein counts.*negative values.*raw"):
        read_dataset(tmp_path / "neg.h5ad")
    with pytest.raises(CMCVAEInputError, match="do not apply to an .h5ad"):
        read_dataset(tmp_path / "neg.h5ad", orientation="cells_x_features")


def test_read_input_delegates(tiny_mdata, tmp_path):
    tiny_mdata.write(tmp_path / "t.h5mu")
    m = read_input(tmp_path / "t.h5mu")
    _assert_contract(m)
    assert list(m.obs["donor"]) == list(tiny_mdata.obs["donor"])
    check_mudata(m, "donor")


# ---------------------------------------------------------------------------------------------
# real data (skipped when ../shared/data is absent)

needs_scvi = pytest.mark.skipif(not SCVI.is_dir(), reason="shared data absent")
needs_totalvi = pytest.mark.skipif(not TOTALVI.is_dir(), reason="shared data absent")
needs_eccite = pytest.mark.skipif(not ECCITE.is_dir(), reason="shared data absent")
needs_stoeckius = pytest.mark.skipif(not STOECKIUS.is_dir(), reason="shared data absent")


@needs_scvi
def test_real_10x_mtx_subset_and_scvi_h5ad():
    folder = SCVI / "pbmc_10k_protein_v3_filtered_feature_bc_matrix_subset"
    m = read_dataset(folder)
    _assert_contract(m)
    assert _shape(m) == (1024, 100, 17)  # 14 ADT + 3 isotype controls
    assert _shape(read_dataset(SCVI)) == (1024, 100, 17)  # the parent folder works too
    h10 = read_dataset(SCVI / "pbmc_10k_protein_v3_200cells.h5ad")
    h5 = read_dataset(SCVI / "pbmc_5k_protein_v3_200cells.h5ad")
    _assert_contract(h10)
    assert _shape(h10) == (200, 16727, 14) and _shape(h5) == (200, 16581, 29)
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
    _assert_contract(h)
    assert _shape(h) == (6855, 4000, 14)
    assert list(h.obs["batch"].unique()) == ["pbmc10k"]
    c = read_csv_pair(TOTALVI / "pbmc10k_harmo_rna.csv.gz", TOTALVI / "pbmc10k_harmo_pro.csv.gz")
    _assert_contract(c)
    assert _shape(c) == (6855, 4000, 14)
    assert np.array_equal(c.obs_names, h.obs_names)
    assert (c["rna"].X != h["rna"].X).nnz == 0
    np.testing.assert_array_equal(c["prot"].X, h["prot"][:, c["prot"].var_names].X)


@needs_eccite
def test_real_eccite_h5ad_and_mtx_pair():
    h = read_dataset(ECCITE / "eccite_pbmc_control_500cells.h5ad")
    _assert_contract(h)
    assert _shape(h) == (500, 19521, 49)
    assert "hto_max" in h.obs and "hto_counts" in h["rna"].obsm
    m = read_mtx_pair(ECCITE / "rna_counts_genes_x_cells.mtx.gz", ECCITE / "rna_genes.tsv",
                      ECCITE / "cell_barcodes.tsv", ECCITE / "adt_counts_features_x_cells.csv")
    _assert_contract(m)
    assert _shape(m) == (500, 19521, 49)
    assert list(m["rna"].var_names) == list(h["rna"].var_names)  # hg19_ stripped like the h5ad
    assert (m["rna"].X != h["rna"].X).nnz == 0
    np.testing.assert_array_equal(m["prot"].X, h["prot"][:, m["prot"].var_names].X)
    assert {"PD-1 (CD279)", "PD1 (CD279)"} <= set(m["prot"].var_names)  # two antibodies, kept


@needs_stoeckius
def test_real_stoeckius_csv_pair():
    rna = STOECKIUS / "GSE100866_CD8_merged-RNA_umi.csv.gz"
    m = read_dataset(rna, protein_path=STOECKIUS / "GSE100866_CD8_merged-ADT_umi.csv.gz")
    _assert_contract(m)
    assert _shape(m) == (1774, 11757, 5)
    # the authors' CLR-transformed ADT table is rejected (paired here with the small ADT UMI
    # table standing in for RNA, to keep the test fast)
    with pytest.raises(CMCVAEInputError, match="protein counts.*negative values.*clr"):
        read_csv_pair(STOECKIUS / "GSE100866_CD8_merged-ADT_umi.csv.gz",
                      STOECKIUS / "GSE100866_CD8_merged-ADT_clr-transformed.csv.gz")


def test_no_stray_warnings_on_clean_input(toy, tmp_path):
    counts, names, types = _combined(toy)
    path = _write_10x_h5(tmp_path / "ok.h5", counts, names, types, toy["cells"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        read_dataset(path)
