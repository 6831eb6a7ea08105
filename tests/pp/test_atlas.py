"""`cmcvae prepare`: harmonisation, QC, HVG with panel genes kept, and its bad-input errors."""

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import dsb_normalise, prepare

PANEL_GENES = ["CD3D", "CD3E", "CD3G", "CD4", "CD14", "CD19"]


def dataset(proteins, n=300, n_genes=120, seed=0, donor=True, genes=None):
    rng = np.random.default_rng(seed)
    genes = genes or PANEL_GENES + [f"GENE{i}" for i in range(n_genes - len(PANEL_GENES))] + ["MT-CO1"]
    rate = rng.gamma(0.5, 2.0, size=len(genes))
    X = rng.poisson(rate * rng.uniform(0.5, 2.0, size=(n, 1))).astype(np.float32)
    cells = [f"c{i}" for i in range(n)]
    obs = pd.DataFrame(index=cells)
    if donor:
        obs["donor"] = rng.choice(["a", "b"], n)
    rna = ad.AnnData(sp.csr_matrix(X), obs=obs.copy())
    rna.var_names = genes
    prot = ad.AnnData(rng.poisson(30, size=(n, len(proteins))).astype(np.float32), obs=obs.copy())
    prot.var_names = proteins
    m = md.MuData({"rna": rna, "prot": prot})
    if donor:
        m.obs["donor"] = obs["donor"].to_numpy()
    return m


def test_harmonises_panels_and_keeps_panel_genes():
    d1 = dataset(["CD3_TotalSeqB", "CD4-1", "CD14", "Mouse IgG1 isotype"], seed=1)
    d2 = dataset(["CD3", "CD4", "CD19"], seed=2)
    atlas, rep = prepare({"one": d1, "two": d2}, n_top_genes=10, min_genes=5, min_protein_counts=1)
    prot = atlas.mod["prot"]
    assert sorted(prot.var_names) == ["CD3", "CD4"]
    assert set(atlas.obs["dataset"]) == {"one", "two"}
    assert set(atlas.obs["donor"]) == {"one:a", "one:b", "two:a", "two:b"}
    assert "CD14" in rep["proteins"]["dropped"]["one"] and "CD19" in rep["proteins"]["dropped"]["two"]
    genes = set(atlas.mod["rna"].var_names)
    assert {"CD4", "CD3E"} <= genes  # encode panel proteins: always kept
    assert rep["hvg"]["selected"] == 10
    pairs = atlas.uns["protein_map"]
    assert ("CD4", "CD4") in set(zip(pairs.protein, pairs.gene, strict=True))
    assert sp.issparse(atlas.mod["rna"].X)
    np.testing.assert_allclose(prot.layers["clr"].sum(axis=1), 0, atol=1e-4)
    assert atlas.n_obs == 600


def test_qc_removes_cells():
    d = dataset(["CD3", "CD4"])
    d.mod["prot"].X[:10] = 0
    atlas, rep = prepare({"d": d}, n_top_genes=10, min_genes=5, min_protein_counts=1)
    assert rep["qc"]["low_protein"] == 10 and atlas.n_obs == 290


def test_missing_donor_column_in_one_dataset():
    with pytest.raises(CMCVAEInputError, match="no donor column 'donor'"):
        prepare({"a": dataset(["CD3"]), "b": dataset(["CD3"], donor=False)}, n_top_genes=10)


def test_no_panel_overlap():
    with pytest.raises(CMCVAEInputError, match="share no antigen"):
        prepare({"a": dataset(["CD14"]), "b": dataset(["CD19"])}, n_top_genes=10)


def test_duplicate_gene_names():
    genes = PANEL_GENES + ["X", "X"] + [f"G{i}" for i in range(20)]
    with pytest.raises(CMCVAEInputError, match="duplicate gene names"):
        prepare({"a": dataset(["CD3"], genes=genes)}, n_top_genes=10)


def test_non_integer_counts():
    d = dataset(["CD3", "CD4"])
    d.mod["prot"].X = d.mod["prot"].X + 0.5
    with pytest.raises(CMCVAEInputError, match="not integers"):
        prepare({"a": d}, n_top_genes=10)


def test_dsb_standardises_against_empty_droplets():
    rng = np.random.default_rng(0)
    empty = rng.poisson(5, size=(500, 3))
    cells = rng.poisson(5, size=(200, 3))
    cells[:, 0] += 100  # a truly expressed protein
    out = dsb_normalise(cells, empty)
    assert out[:, 0].mean() > 5 and abs(out[:, 1].mean()) < 0.5
