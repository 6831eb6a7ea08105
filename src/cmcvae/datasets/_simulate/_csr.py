"""Memory-bounded row-wise CSR assembly of sampled count blocks."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class _CSRBuilder:
    """Row-wise CSR assembly from dense count blocks without a dense full matrix.

    The buffers are sized from the density of the first block (plus 10%), grown by 25% if
    needed and shrunk in place at the end, so peak memory stays close to the final matrix.
    """

    def __init__(self, n_rows: int, n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        big = n_rows * n_cols >= np.iinfo(np.int32).max
        self.idx_dtype = np.int64 if big else np.int32
        self.indptr = np.zeros(n_rows + 1, dtype=self.idx_dtype)
        self.data = np.empty(0, dtype=np.float32)
        self.indices = np.empty(0, dtype=self.idx_dtype)
        self.nnz = 0
        self.row = 0

    def _reserve(self, needed: int, rows: int) -> None:
        cap = len(self.data)
        if needed <= cap:
            return
        if cap == 0:
            per_row = needed / max(rows, 1)
            new_cap = int(per_row * self.n_rows * 1.1) + 1024
        else:
            new_cap = int(cap * 1.25) + 1024
        new_cap = min(max(new_cap, needed), self.n_rows * self.n_cols)
        self.data.resize(new_cap, refcheck=False)
        self.indices.resize(new_cap, refcheck=False)

    def add(self, counts: np.ndarray) -> None:
        """Append a dense block of rows (cells × ``n_cols``)."""
        rows = counts.shape[0]
        flat = np.flatnonzero(counts)
        k = len(flat)
        self._reserve(self.nnz + k, rows)
        self.data[self.nnz:self.nnz + k] = counts.ravel()[flat]
        self.indices[self.nnz:self.nnz + k] = flat % self.n_cols
        per_row = np.count_nonzero(counts, axis=1)
        self.indptr[self.row + 1:self.row + 1 + rows] = self.nnz + np.cumsum(per_row)
        self.nnz += k
        self.row += rows

    def finish(self) -> sp.csr_matrix:
        """The assembled CSR matrix (float32)."""
        if self.row != self.n_rows:  # pragma: no cover - internal bug
            raise AssertionError("CSR builder received the wrong number of rows")
        self.data.resize(self.nnz, refcheck=False)
        self.indices.resize(self.nnz, refcheck=False)
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_rows, self.n_cols), copy=False)
