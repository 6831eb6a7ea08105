"""What every reader checks when it builds the MuData (cmcvae.io._assemble): names, values, options."""

from __future__ import annotations

import anndata as ad
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    read_dataset,
)
from tests.io._helpers import (
    assert_contract,
    combined,
    write_10x_h5,
    write_10x_mtx,
)


def test_duplicate_gene_names(toy, tmp_path):
    genes = list(toy["genes"])
    genes[3] = genes[4] = "TBCE"
    counts, names, types = combined(toy, gene_names=genes)
    path = write_10x_h5(tmp_path / "dup.h5", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="gene names occur more than once.*'TBCE'.*make_unique=True"):
        read_dataset(path)
    m = read_dataset(path, make_unique=True)
    assert_contract(m)
    assert {"TBCE", "TBCE-1"} <= set(m["rna"].var_names)
    assert any("unique" in n for n in m.uns["cmcvae_read"]["notes"])
    folder = write_10x_mtx(tmp_path / "dup_mtx", counts, names, types, toy["cells"])
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
