"""Format sniffing (cmcvae.io._sniff): files whose name and content disagree, unknown formats."""

from __future__ import annotations

import gzip

import h5py
import numpy as np
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    read_dataset,
    read_input,
)


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
