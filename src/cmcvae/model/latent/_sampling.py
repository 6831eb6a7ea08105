"""Minibatch order: seeded per epoch and sharded across processes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import numpy as np
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler


def make_loader(dataset: Dataset, indices: np.ndarray, batch_size: int, shuffle: bool,
                seed: int = 0, pin_memory: bool = False, prefetch: int = 0,
                block: int = 1) -> DataLoader:
    """A DataLoader yielding whole minibatches over ``indices`` of ``dataset``.

    With ``shuffle`` the batches come from :class:`EpochBatchSampler`: the order of each epoch is
    a function of ``(seed, epoch)`` only (Lightning sets the epoch), so a run resumed from a
    checkpoint sees the same batches as an uninterrupted one, and under distributed training
    each process takes its own shard. Without ``shuffle`` the batches are sequential and not
    sharded (every process sees all of ``indices``). ``pin_memory`` puts each CPU minibatch in
    page-locked memory (for an asynchronous copy to a GPU). With ``prefetch > 0`` a background
    thread builds up to that many minibatches ahead while the model trains on the current one
    (:class:`PrefetchLoader`; the order and content of the batches do not change). ``block``
    shuffles runs of that many consecutive cells together (for data read from disk).
    """
    subset = _Subset(dataset, indices)
    if shuffle:
        sampler = EpochBatchSampler(len(subset), batch_size, seed, block=block)
    else:
        sampler = BatchSampler(SequentialSampler(subset), batch_size, drop_last=False)
    if prefetch <= 0:
        return DataLoader(subset, sampler=sampler, batch_size=None, num_workers=0,
                          pin_memory=pin_memory)
    loader = PrefetchLoader(subset, sampler=sampler, batch_size=None, num_workers=0,
                            pin_memory=pin_memory)
    loader.prefetch = int(prefetch)
    return loader


class PrefetchLoader(DataLoader):
    """A single-process DataLoader whose iterator runs in a background thread.

    Building a sparse minibatch is numpy work that mostly releases the GIL, so on a GPU it
    overlaps with the training step (on a 2-core CPU it measured no gain: the model already
    uses both cores). Works like the DataLoader it is (Lightning sets the sampler's epoch as
    usual); at most :attr:`prefetch` batches wait in the queue.
    """

    prefetch: int = 2

    def __iter__(self):
        yield from _Prefetcher(super().__iter__(), self.prefetch)


class _Prefetcher:
    """Runs ``source`` in a daemon thread; at most ``size`` items wait in its queue.

    An exception in the thread is raised in the consumer; stopping early (or an error in the
    consumer) stops the thread.
    """

    _DONE = object()

    def __init__(self, source, size: int):
        self.source = source
        self.queue: queue.Queue = queue.Queue(maxsize=max(size, 1))
        self.stop = threading.Event()

    def _put(self, item) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for item in self.source:
                if not self._put(item):
                    return
            self._put(self._DONE)
        except BaseException as err:  # handed to the consumer
            self._put(err)

    def __iter__(self):
        thread = threading.Thread(target=self._work, daemon=True, name="cmcvae-prefetch")
        thread.start()
        try:
            while True:
                item = self.queue.get()
                if item is self._DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop.set()
            thread.join(timeout=5)


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
    block
        With ``block > 1`` the permutation moves runs of ``block`` consecutive items (in a
        random order of runs), so a minibatch is a few runs: few reads for data on disk. With
        ``1`` (default) it is a plain permutation.
    """

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int | None = None,
                 world_size: int | None = None, block: int = 1):
        self.block = max(int(block), 1)
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
        rng = np.random.default_rng([self.seed & 0xFFFFFFFF, self.epoch])
        if self.block == 1:
            order = rng.permutation(self.n)
        else:  # runs of consecutive items in a random order
            runs = rng.permutation(-(-self.n // self.block))
            order = (runs[:, None] * self.block + np.arange(self.block)).ravel()
            order = order[order < self.n]
        per_rank, size = self._per_rank(world)
        if self.n and per_rank * world > self.n:
            order = np.resize(order, per_rank * world)  # repeats the start
        # interleaved shards; with runs (block > 1), contiguous ones so the runs stay whole
        shard = order[rank::world] if self.block == 1 else order[rank * per_rank:(rank + 1) * per_rank]
        for start in range(0, len(shard), size):
            yield shard[start:start + size]

    def __len__(self) -> int:
        per_rank, size = self._per_rank(self._dist()[1])
        return -(-per_rank // size)


class _Subset(Dataset):
    def __init__(self, dataset: Dataset, indices: np.ndarray):
        self.dataset, self.indices = dataset, np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx):
        return self.dataset[self.indices[np.asarray(idx)]]
