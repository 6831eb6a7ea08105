"""Out-of-core RNA: rows of a CSR matrix read from a backed ``.h5ad``/``.h5mu`` file on demand.

``anndata.read_h5ad(path, backed="r")`` and ``mudata.read_h5mu(path, backed=True)`` leave
``.X`` on disk as an :class:`anndata.abc.CSRDataset`. :class:`BackedRows` keeps only its
``indptr`` in memory and reads the non-zeros of a minibatch with one read per run of
consecutive cells (anndata's own fancy row indexing reads every row separately). Training
from backed data shuffles blocks of consecutive cells
(:class:`~cmcvae.model.latent._sampling.EpochBatchSampler` with ``block > 1``), so a minibatch of
1,024 cells is a few dozen reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError


def is_backed_sparse(matrix) -> bool:
    """Whether ``matrix`` is an on-disk (backed) sparse matrix of anndata."""
    return isinstance(matrix, (ad.abc.CSRDataset, ad.abc.CSCDataset, BackedRows))


class BackedRows:
    """Row access to an on-disk CSR matrix.

    Parameters
    ----------
    matrix
        An :class:`anndata.abc.CSRDataset` (``adata.X`` of a backed AnnData).
    """

    def __init__(self, matrix):
        if isinstance(matrix, ad.abc.CSCDataset):
            raise CMCVAEInputError(
                "The backed RNA matrix is stored as CSC (column-compressed); training reads cells "
                "(rows). Rewrite it as CSR once: adata.X = scipy.sparse.csr_matrix(adata.X) and "
                "write the file again.")
        self.matrix = matrix
        group = matrix.group
        self._data, self._indices = group["data"], group["indices"]
        self.indptr = np.asarray(group["indptr"][...], dtype=np.int64)
        self.shape = tuple(matrix.shape)
        self.dtype = np.dtype(self._data.dtype)

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Non-zeros of ``rows`` (sorted ascending): per-row counts, column indices and values."""
        rows = np.asarray(rows, dtype=np.int64)
        lens = self.indptr[rows + 1] - self.indptr[rows]
        if rows.size == 0:
            return lens, np.zeros(0, np.int32), np.zeros(0, self.dtype)
        # runs of consecutive rows: one read each
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        firsts = rows[np.r_[0, breaks]]
        lasts = rows[np.r_[breaks - 1, rows.size - 1]]
        cols, values = [], []
        for a, b in zip(self.indptr[firsts], self.indptr[lasts + 1], strict=True):
            cols.append(self._indices[a:b])
            values.append(self._data[a:b])
        return lens, np.concatenate(cols), np.concatenate(values)

    def __getitem__(self, rows) -> sp.csr_matrix:
        """Rows as an in-memory CSR matrix (a slice or an array of row indices)."""
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(self.shape[0]))
        rows = np.asarray(rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        lens, cols, values = self.read(rows[order])
        indptr = np.r_[0, np.cumsum(lens)]
        out = sp.csr_matrix((values, cols, indptr), shape=(len(rows), self.shape[1]))
        if np.any(order != np.arange(len(rows))):
            out = out[np.argsort(order)]
        return out

    def value_blocks(self, block: int = 1 << 24) -> Iterator[np.ndarray]:
        """The stored values, ``block`` at a time (for checks that need every value once)."""
        for start in range(0, self.nnz, block):
            yield np.asarray(self._data[start:start + block])


def as_rows(matrix) -> BackedRows:
    """``matrix`` as :class:`BackedRows` (itself if it already is one)."""
    return matrix if isinstance(matrix, BackedRows) else BackedRows(matrix)


def row_blocks(matrix, rows: np.ndarray | None = None, chunk_size: int = 16_384
               ) -> Iterator[sp.csr_matrix]:
    """``matrix[rows]`` of a sparse matrix as CSR blocks of up to ``chunk_size`` rows, in the
    order of ``rows``.

    Works for in-memory matrices and backed ones (:class:`BackedRows`, whose blocks are read
    from disk), so statistics over the training cells never hold a copy of them.
    """
    matrix = as_rows(matrix) if is_backed_sparse(matrix) else sp.csr_matrix(matrix)
    rows = np.arange(matrix.shape[0]) if rows is None else np.asarray(rows)
    for start in range(0, len(rows), chunk_size):
        yield matrix[rows[start:start + chunk_size]]


def stored_values(matrix, block: int = 1 << 24) -> Iterator[np.ndarray]:
    """The stored values of a matrix (the non-zeros of a sparse one, read from disk when
    backed), ``block`` at a time: checks over every value need no full-size temporaries."""
    if is_backed_sparse(matrix):
        yield from as_rows(matrix).value_blocks(block)
        return
    values = matrix.data if sp.issparse(matrix) else np.asarray(matrix).ravel()
    for start in range(0, values.size, block):
        yield values[start:start + block]


def read_backed(path) -> md.MuData:
    """Open a cmcvae ``.h5mu`` with its matrices left on disk (``mudata.read_h5mu(backed=True)``).

    The file must hold the modalities ``rna`` and ``prot`` of the same cells (the layout
    ``cmcvae prepare`` writes); the RNA matrix must be stored as CSR.
    """
    path = Path(path)
    if not path.is_file():
        raise CMCVAEInputError(f"{path} does not exist.")
    try:
        mdata = md.read_h5mu(path, backed=True)
    except Exception as err:  # h5py/mudata raise many types for a broken or non-MuData file
        raise CMCVAEInputError(
            f"Could not open {path} as a backed MuData (.h5mu): {err}. Out-of-core training reads "
            "a .h5mu with modalities 'rna' and 'prot'; convert other formats once with "
            "`cmcvae prepare`.") from err
    missing = [m for m in ("rna", "prot") if m not in mdata.mod]
    if missing:
        raise CMCVAEInputError(
            f"{path} has modalities {list(mdata.mod)}; out-of-core training (--backed) needs 'rna' "
            "and 'prot'. Write the file with `cmcvae prepare` (or rename the modalities) first.")
    return mdata
