"""Pairs of files (cmcvae.io._tables): .h5ad pairs, CSV/TSV tables (orientation), MatrixMarket exports."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.io
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    read_csv_pair,
    read_dataset,
    read_mtx_pair,
    read_pair,
)
from tests.io._helpers import (
    N_CELLS,
    N_GENES,
    N_PROT,
    assert_contract,
    dims,
    poisson_counts,
    write_table,
)


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
    assert_contract(m)
    assert list(m.obs_names) == toy["cells"][3:]  # RNA order
    np.testing.assert_array_equal(m["prot"].X, toy["prot"][3:])
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"][3:])
    assert list(m.obs["perturbation"]) == list(rna_obs["perturbation"][3:])
    assert "guide" in m["prot"].obs
    with pytest.warns(UserWarning, match="Kept the 27 cells"):
        pair = read_pair(tmp_path / "rna.h5ad", tmp_path / "prot.h5ad")
    assert dims(pair) == (N_CELLS - 3, N_GENES, N_PROT)


def test_pair_without_shared_cells(toy, tmp_path):
    ad.AnnData(toy["rna"], obs=pd.DataFrame(index=toy["cells"])).write_h5ad(tmp_path / "rna.h5ad")
    other = [f"OTHER{i}" for i in range(N_CELLS)]
    ad.AnnData(toy["prot"], obs=pd.DataFrame(index=other)).write_h5ad(tmp_path / "prot.h5ad")
    with pytest.raises(CMCVAEInputError, match="share no cell barcode.*'-1' suffix"):
        read_pair(tmp_path / "rna.h5ad", tmp_path / "prot.h5ad")


@pytest.mark.parametrize("rna_cells_x_features,prot_cells_x_features",
                         [(False, False), (True, True), (False, True), (True, False)])
def test_csv_pair_orientation_detected(toy, tmp_path, rna_cells_x_features, prot_cells_x_features):
    c, g, p = toy["cells"], toy["genes"], toy["prots"]
    rna_path = (write_table(tmp_path / "rna.csv.gz", toy["rna"], c, g) if rna_cells_x_features
                else write_table(tmp_path / "rna.csv.gz", toy["rna"].T, g, c))
    prot_path = (write_table(tmp_path / "adt.tsv", toy["prot"], c, p, sep="\t")
                 if prot_cells_x_features else
                 write_table(tmp_path / "adt.tsv", toy["prot"].T, p, c, sep="\t"))
    m = read_csv_pair(rna_path, prot_path)
    assert_contract(m)
    assert list(m.obs_names) == c and list(m["rna"].var_names) == g
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    rna_o = "cells_x_features" if rna_cells_x_features else "features_x_cells"
    prot_o = "cells_x_features" if prot_cells_x_features else "features_x_cells"
    explicit = read_dataset(rna_path, protein_path=prot_path, orientation=(rna_o, prot_o))
    np.testing.assert_array_equal(explicit["prot"].X, toy["prot"])


def test_csv_pair_orientation_errors(toy, tmp_path):
    c, g, p = toy["cells"], toy["genes"], toy["prots"]
    rna = write_table(tmp_path / "rna.csv", toy["rna"].T, g, c)
    prot = write_table(tmp_path / "adt.csv", toy["prot"].T, p, c)
    with pytest.raises(CMCVAEInputError, match="share no cell barcode"):
        read_csv_pair(rna, prot, orientation="cells_x_features")
    with pytest.raises(CMCVAEInputError, match="orientation="):
        read_csv_pair(rna, prot, orientation="genes_x_cells")
    # square tables whose both axes carry the same names: ambiguous → ask for the orientation
    names = [f"X{i}" for i in range(5)]
    sq1 = write_table(tmp_path / "sq1.csv", poisson_counts(5, 5, 7), names, names)
    sq2 = write_table(tmp_path / "sq2.csv", poisson_counts(5, 5, 8), names, names)
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
    prot = write_table(tmp_path / "adt_counts.csv", toy["prot"].T, toy["prots"], toy["cells"])
    m = read_mtx_pair(tmp_path / "rna_counts.mtx", tmp_path / "rna_genes.tsv",
                      tmp_path / "cell_barcodes.tsv", prot)
    assert_contract(m)
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
