"""Synthetic CITE-seq inputs in every format the readers take, and the contract they must meet."""

from __future__ import annotations

import gzip
from pathlib import Path

import h5py
import mudata as md
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from cmcvae.io import check_mudata
from tests._helpers import SHARED_DATA

SCVI = SHARED_DATA / "citeseq_10x_pbmc_scvi_testsubsets"
TOTALVI = SHARED_DATA / "citeseq_10x_pbmc10k_totalvi_repro"
ECCITE = SHARED_DATA / "citeseq_eccite_mimitou2019_citefuse"
STOECKIUS = SHARED_DATA / "citeseq_stoeckius2017_gse100866"

N_CELLS, N_GENES, N_PROT = 30, 12, 4


def poisson_counts(n_rows: int, n_cols: int, seed: int, lam: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(lam, size=(n_rows, n_cols)).astype(np.float32)


def dims(mdata: md.MuData) -> tuple[int, int, int]:
    return mdata.n_obs, mdata["rna"].n_vars, mdata["prot"].n_vars


def assert_contract(mdata: md.MuData) -> None:
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


def write_10x_h5(path: Path, counts: np.ndarray, names: list[str], types: list[str],
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


def write_10x_mtx(folder: Path, counts: np.ndarray, names: list[str], types: list[str],
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


def combined(toy, gene_names=None, prot_type="Antibody Capture"):
    counts = np.hstack([toy["rna"], toy["prot"]])
    names = (gene_names or toy["genes"]) + toy["prots"]
    types = ["Gene Expression"] * N_GENES + [prot_type] * N_PROT
    return counts, names, types


def write_table(path: Path, counts: np.ndarray, rows: list[str], cols: list[str],
                 sep: str = ",") -> Path:
    pd.DataFrame(counts, index=rows, columns=cols).to_csv(path, sep=sep)
    return path
