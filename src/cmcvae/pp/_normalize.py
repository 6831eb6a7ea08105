"""Normalisation of RNA and protein counts (docs/design.md §2).

RNA: counts per 1e4 then ``log1p`` (kept sparse). Protein: centred log-ratio per cell.
Scaling statistics are computed on the training split only and applied per minibatch,
so the full RNA matrix is never densified.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from cmcvae.io import is_backed_sparse, row_blocks

TARGET_SUM = 1e4
CHUNK = 16_384  # rows per block when a statistic is computed without a full-size copy


def library_size(counts) -> np.ndarray:
    """Total counts per cell (row sums) as a float64 vector (read in blocks when backed)."""
    if is_backed_sparse(counts):
        return np.concatenate([_f64(b).sum(axis=1).A1 for b in row_blocks(counts)])
    return np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()


def _f64(block: sp.csr_matrix) -> sp.csr_matrix:
    """A CSR block with float64 values (sums of float32 values lose digits past 2**24)."""
    return sp.csr_matrix((block.data.astype(np.float64), block.indices, block.indptr),
                         shape=block.shape)


def column_totals(counts, rows: np.ndarray | None = None) -> np.ndarray:
    """Column sums of ``counts[rows]`` (float64), block by block: no copy of the rows and no
    float64 copy of the matrix (in memory or backed)."""
    total = np.zeros(counts.shape[1])
    for block in row_blocks(counts, rows):
        total += _f64(block).sum(axis=0).A1
    return total


def log_normalize(counts: np.ndarray | sp.spmatrix, target_sum: float = TARGET_SUM):
    """Counts per ``target_sum`` followed by ``log1p``.

    Parameters
    ----------
    counts
        Cells × genes raw counts, dense or sparse.
    target_sum
        Library size every cell is scaled to.

    Returns
    -------
    Same type as the input (CSR for sparse input), float32.
    """
    lib = library_size(counts)
    scale = np.divide(target_sum, lib, out=np.zeros_like(lib), where=lib > 0)
    if sp.issparse(counts):
        out = sp.csr_matrix(counts, dtype=np.float32, copy=True)
        out.data *= np.repeat(scale, np.diff(out.indptr)).astype(np.float32)
        np.log1p(out.data, out=out.data)
        return out
    out = np.asarray(counts, dtype=np.float32) * scale[:, None].astype(np.float32)
    return np.log1p(out)


def clr(counts: np.ndarray | sp.spmatrix) -> np.ndarray:
    """Centred log-ratio per cell: ``log1p(y) - mean(log1p(y))`` over the cell's proteins.

    This is the per-cell CLR used by Seurat/muon for antibody-derived tags
    (``log1p`` keeps zero counts finite).
    """
    out = np.empty(counts.shape, dtype=np.float32)
    for start in range(0, counts.shape[0], CHUNK):  # row blocks: no full-size float64 copy
        block = counts[start:start + CHUNK]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        logged = np.log1p(block.astype(np.float64))
        out[start:start + CHUNK] = logged - logged.mean(axis=1, keepdims=True)
    return out


def mean_std(matrix: np.ndarray | sp.spmatrix, min_std: float = 1e-3, rows: np.ndarray | None = None,
             chunk_size: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (of ``matrix[rows]``), without densifying sparse
    input or copying the selected rows: blocks of ``chunk_size`` rows are summed in float64.

    Standard deviations below ``min_std`` are raised to it so constant features scale to 0.
    """
    if sp.issparse(matrix) or is_backed_sparse(matrix):
        blocks = row_blocks(matrix, rows, chunk_size)
    else:
        m = np.asarray(matrix)
        idx = np.arange(m.shape[0]) if rows is None else np.asarray(rows)
        blocks = (m[idx[start:start + chunk_size]] for start in range(0, len(idx), chunk_size))
    return _scaled_moments(blocks, matrix.shape[1], min_std)


def log_normalized_mean_std(counts: sp.spmatrix, rows: np.ndarray | None = None,
                            chunk_size: int = CHUNK, min_std: float = 1e-3,
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations of :func:`log_normalize` ``(counts)[rows]``.

    Normalises ``chunk_size`` rows at a time, so neither the normalised matrix nor a copy of
    the selected rows is ever held in full (the atlas path keeps only the raw counts).
    Returns the same values as ``mean_std(log_normalize(counts)[rows])``.
    """
    blocks = (log_normalize(raw) for raw in row_blocks(counts, rows, chunk_size))
    return _scaled_moments(blocks, counts.shape[1], min_std)


def _scaled_moments(blocks, n_cols: int, min_std: float) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations over row blocks (sparse or dense), float64 sums."""
    total, total_sq, n = np.zeros(n_cols), np.zeros(n_cols), 0
    for block in blocks:
        n += block.shape[0]
        if sp.issparse(block):
            block = _f64(sp.csr_matrix(block))
            total += block.sum(axis=0).A1
            block.data **= 2
            total_sq += block.sum(axis=0).A1
        else:
            block = np.asarray(block, dtype=np.float64)
            total += block.sum(axis=0)
            total_sq += (block * block).sum(axis=0)
    n = max(n, 1)
    mean = total / n
    std = np.sqrt(np.clip(total_sq / n - mean**2, 0.0, None))
    return mean.astype(np.float32), np.maximum(std, min_std).astype(np.float32)
