"""Cell Ranger outputs (cmcvae.io._10x): the feature-barcode .h5 and the matrix.mtx folder."""

from __future__ import annotations

import numpy as np
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    is_hdf5,
    read_10x_h5,
    read_10x_mtx,
    read_dataset,
    sniff_format,
)
from tests.io._helpers import (
    N_CELLS,
    N_GENES,
    N_PROT,
    assert_contract,
    combined,
    dims,
    write_10x_h5,
    write_10x_mtx,
)


def test_10x_h5(toy, tmp_path):
    counts, names, types = combined(toy)
    path = write_10x_h5(tmp_path / "filtered_feature_bc_matrix.h5", counts, names, types, toy["cells"])
    assert is_hdf5(path) and sniff_format(path) == "10x_h5"
    m = read_dataset(path)
    assert_contract(m)
    assert dims(m) == (N_CELLS, N_GENES, N_PROT)
    assert list(m["prot"].var_names) == toy["prots"]
    np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
    np.testing.assert_array_equal(m["prot"].X, toy["prot"])
    assert read_10x_h5(path).n_obs == N_CELLS


def test_10x_h5_without_antibody_capture(toy, tmp_path):
    counts, names, _ = combined(toy)
    path = write_10x_h5(tmp_path / "gex.h5", counts, names, ["Gene Expression"] * len(names),
                         toy["cells"])
    with pytest.raises(CMCVAEInputError, match="no 'Antibody Capture'.*protein_path"):
        read_dataset(path)


def test_10x_custom_feature_type_hint(toy, tmp_path):
    counts, names, types = combined(toy, prot_type="Custom")
    folder = write_10x_mtx(tmp_path / "custom", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="protein_feature_type='Custom'"):
        read_dataset(folder)
    assert dims(read_dataset(folder, protein_feature_type="Custom")) == (N_CELLS, N_GENES, N_PROT)


@pytest.mark.parametrize("gz", [True, False])
def test_10x_mtx_folder(toy, tmp_path, gz):
    counts, names, types = combined(toy)
    types[-1] = "CRISPR Guide Capture"  # other feature types are dropped and reported
    outs = tmp_path / "outs"
    write_10x_mtx(outs / "filtered_feature_bc_matrix", counts, names, types, toy["cells"], gz=gz)
    for path in (outs / "filtered_feature_bc_matrix", outs):  # the folder or its parent
        m = read_dataset(path)
        assert_contract(m)
        assert dims(m) == (N_CELLS, N_GENES, N_PROT - 1)
        np.testing.assert_array_equal(m["rna"].X.toarray(), toy["rna"])
        assert any("CRISPR Guide Capture" in n for n in m.uns["cmcvae_read"]["notes"])
    assert read_10x_mtx(outs).n_obs == N_CELLS


def test_10x_mtx_raw_only_and_empty_folder(toy, tmp_path):
    counts, names, types = combined(toy)
    write_10x_mtx(tmp_path / "outs" / "raw_feature_bc_matrix", counts, names, types, toy["cells"])
    with pytest.raises(CMCVAEInputError, match="raw_feature_bc_matrix"):
        read_dataset(tmp_path / "outs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CMCVAEInputError, match="without matrix.mtx"):
        read_dataset(tmp_path / "empty")
