"""Minibatches built from sparse matrices.

The RNA matrix stays CSR (log-normalised); each minibatch slices its rows and densifies
only those, then scales them with the training split's statistics.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import gammaln
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from .preprocess import log_normalize


class CellBatches(Dataset):
    """Indexable by a list of cell indices; returns one minibatch as a dict of tensors.

    Parameters
    ----------
    rna
        Cells × genes RNA (CSR): log-normalised values, or raw counts with
        ``normalize_rna=True`` (normalised per minibatch, so the atlas path holds one matrix).
    prot
        Cells × proteins CLR protein values (dense).
    donor
        Integer donor code per cell.
    rna_mean, rna_std, prot_mean, prot_std
        Scaling statistics (training split).
    counts, library
        Raw RNA counts (CSR) and library sizes; only needed by the negative-binomial likelihood.
    normalize_rna
        ``rna`` holds raw counts: each minibatch is log-normalised (counts per 1e4, ``log1p``;
        the same float32 values as :func:`cmcvae.data.preprocess.log_normalize`).
    """

    def __init__(self, rna: sp.csr_matrix, prot: np.ndarray, donor: np.ndarray,
                 rna_mean: np.ndarray, rna_std: np.ndarray, prot_mean: np.ndarray,
                 prot_std: np.ndarray, counts: sp.csr_matrix | None = None,
                 library: np.ndarray | None = None, normalize_rna: bool = False):
        self.rna = sp.csr_matrix(rna)
        self.normalize_rna = normalize_rna
        self.prot = np.asarray(prot, dtype=np.float32)
        self.donor = np.asarray(donor, dtype=np.int64)
        self.rna_mean, self.rna_std = rna_mean.astype(np.float32), rna_std.astype(np.float32)
        self.prot_mean, self.prot_std = prot_mean.astype(np.float32), prot_std.astype(np.float32)
        # the same matrix object when counts is rna (no copy)
        self.counts = None if counts is None else (
            self.rna if counts is rna else sp.csr_matrix(counts))
        self.library = None if library is None else np.asarray(library, dtype=np.float32)
        self.lgamma_counts = None
        if self.counts is not None:  # Σ_g lgamma(count + 1) per cell: a constant of the NB likelihood
            lg = sp.csr_matrix((gammaln(self.counts.data.astype(np.float64) + 1.0),
                                self.counts.indices, self.counts.indptr), shape=self.counts.shape)
            self.lgamma_counts = np.asarray(lg.sum(axis=1), dtype=np.float64).ravel().astype(np.float32)

    def __len__(self) -> int:
        return self.rna.shape[0]

    def __getitem__(self, idx) -> dict[str, torch.Tensor]:
        idx = np.sort(np.asarray(idx, dtype=np.int64))
        raw = self.rna[idx]  # sliced once: also the counts when they are the same matrix
        rows = log_normalize(raw) if self.normalize_rna else raw
        x = (rows.toarray() - self.rna_mean) / self.rna_std
        y = (self.prot[idx] - self.prot_mean) / self.prot_std
        batch = {
            "x": torch.from_numpy(x.astype(np.float32, copy=False)),
            "y": torch.from_numpy(y.astype(np.float32, copy=False)),
            "donor": torch.from_numpy(self.donor[idx]),
        }
        if self.counts is not None:  # non-zeros only: the NB likelihood needs nothing else
            sub = (raw if self.counts is self.rna else self.counts[idx]).tocoo()
            batch["counts_index"] = torch.from_numpy(
                np.vstack([sub.row, sub.col]).astype(np.int64))
            batch["counts_value"] = torch.from_numpy(sub.data.astype(np.float32))
            batch["library"] = torch.from_numpy(self.library[idx])
            batch["counts_lgamma"] = torch.from_numpy(self.lgamma_counts[idx])
        return batch


def make_loader(dataset: CellBatches, indices: np.ndarray, batch_size: int, shuffle: bool,
                seed: int = 0) -> DataLoader:
    """A DataLoader yielding whole minibatches over ``indices`` of ``dataset``.

    With ``shuffle`` the batches come from :class:`EpochBatchSampler`: the order of each epoch is
    a function of ``(seed, epoch)`` only (Lightning sets the epoch), so a run resumed from a
    checkpoint sees the same batches as an uninterrupted one, and under distributed training
    each process takes its own shard. Without ``shuffle`` the batches are sequential and not
    sharded (every process sees all of ``indices``).
    """
    subset = _Subset(dataset, indices)
    if shuffle:
        sampler = EpochBatchSampler(len(subset), batch_size, seed)
    else:
        sampler = BatchSampler(SequentialSampler(subset), batch_size, drop_last=False)
    return DataLoader(subset, sampler=sampler, batch_size=None, num_workers=0)


class EpochBatchSampler(Sampler[np.ndarray]):
    """Shuffled minibatches of ``range(n)``, seeded per epoch and sharded across processes.

    Epoch ``e`` permutes ``range(n)`` with ``numpy.random.default_rng([seed, e])`` and yields
    index arrays. With ``W``
    processes (``torch.distributed`` initialised, or ``world_size`` given) the permutation is
    padded to a multiple of ``W`` by repeating its start, process ``r`` takes every ``W``-th
    position from ``r`` and cuts it into batches of ``ceil(batch_size / W)``: one optimiser step
    sees about ``batch_size`` cells over all processes, every process has the same number of
    batches, and the shards of one epoch are disjoint (up to the padding). With one process
    this is a plain shuffled ``BatchSampler(..., drop_last=False)``.

    Parameters
    ----------
    n
        Number of items.
    batch_size
        Minibatch size summed over processes.
    seed
        Base seed.
    rank, world_size
        This process and the number of processes (default: from ``torch.distributed`` when it
        is initialised, else ``0`` and ``1``).
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int | None = None,
                 world_size: int | None = None):
        self.n, self.batch_size, self.seed = int(n), max(int(batch_size), 1), int(seed)
        self.rank, self.world_size = rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order :meth:`__iter__` yields (called by Lightning)."""
        self.epoch = int(epoch)

    def _dist(self) -> tuple[int, int]:
        rank, world = self.rank, self.world_size
        if rank is None or world is None:
            import torch.distributed as dist

            on = dist.is_available() and dist.is_initialized()
            rank = (dist.get_rank() if on else 0) if rank is None else rank
            world = (dist.get_world_size() if on else 1) if world is None else world
        return int(rank), max(int(world), 1)

    def _per_rank(self, world: int) -> tuple[int, int]:
        per_rank = -(-self.n // world)  # ceil
        return per_rank, -(-self.batch_size // world)

    def __iter__(self) -> Iterator[np.ndarray]:
        rank, world = self._dist()
        order = np.random.default_rng([self.seed & 0xFFFFFFFF, self.epoch]).permutation(self.n)
        per_rank, size = self._per_rank(world)
        if self.n and per_rank * world > self.n:
            order = np.resize(order, per_rank * world)  # repeats the start
        shard = order[rank::world]
        for start in range(0, len(shard), size):
            yield shard[start:start + size]

    def __len__(self) -> int:
        per_rank, size = self._per_rank(self._dist()[1])
        return -(-per_rank // size)


class _Subset(Dataset):
    def __init__(self, dataset: CellBatches, indices: np.ndarray):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx):
        return self.dataset[self.indices[np.asarray(idx)]]


def split_cells(n_cells: int, fractions: list[float], seed: int) -> np.ndarray:
    """Seeded random 80/10/10-style split; returns an array of ``train``/``val``/``test``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n_cells)
    n_train = int(round(fractions[0] * n_cells))
    n_val = int(round(fractions[1] * n_cells))
    labels = np.empty(n_cells, dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    return labels
