"""Sparse minibatches: the RNA rows of a minibatch travel as their non-zeros.

The RNA matrix is held once, as CSR arrays in torch tensors that share the scipy matrix's
memory (or copied to a GPU with :meth:`CellBatches.to`, the preloaded path). A minibatch carries the
non-zeros of its cells (``rna_rows``, ``rna_cols``, ``rna_values``); the model builds the dense,
log-normalised and standardised encoder input on its own device
(:meth:`cmcvae.model.latent._module.CMCVAEModule.encoder_input`) and the negative-binomial likelihood uses
the non-zeros directly. On the CPU the counts of each minibatch are also summarised as a
(gene, count) histogram, so the likelihood's ``lgamma`` terms cost ``genes × max_count``
evaluations instead of one per non-zero.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import Dataset

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import as_rows, is_backed_sparse
from cmcvae.pp import library_size

MAX_HIST_COUNT = 32


class CellBatches(Dataset):
    """Indexable by an array of cell indices; returns one minibatch as a dict of tensors.

    Parameters
    ----------
    rna
        Cells × genes RNA (CSR): raw counts, or continuous values with ``normalize=False``. A
        backed matrix (:class:`anndata.abc.CSRDataset` of a file read with ``backed=``) stays
        on disk and each minibatch reads its rows (:class:`~cmcvae.io._backed.BackedRows`).
    prot
        Cells × proteins values (dense; CLR of the counts, or continuous values).
    donor
        Integer donor code per cell.
    prot_mean, prot_std
        Protein scaling statistics (training split); applied per minibatch.
    normalize
        ``rna`` holds raw counts: batches carry each cell's library size, which the model
        uses to log-normalise (counts per 1e4, ``log1p``) and as the NB offset.
    nb
        Batches carry what the negative-binomial likelihood needs beyond the non-zeros: the
        ``(gene, count)`` histogram of counts up to ``max_count`` and the counts above it
        (``counts_hist``, ``counts_big_cols``, ``counts_big_values``; CPU data only — on a GPU
        the ``lgamma`` of every non-zero is cheap and computed directly).
    max_count
        Largest count in the histogram.

    Notes
    -----
    A minibatch holds ``rna_rows`` (row within the minibatch), ``rna_cols`` (gene),
    ``rna_values``, ``y`` (standardised protein values), ``donor`` and, with ``normalize``,
    ``library``. Cells come in ascending index order within a minibatch. The matrices live on
    the CPU (minibatches are built there and moved by Lightning, pinned if asked) until
    :meth:`to` copies them to a GPU (minibatches are then built there).
    """

    def __init__(self, rna: sp.spmatrix, prot: np.ndarray, donor: np.ndarray,
                 prot_mean: np.ndarray, prot_std: np.ndarray, *, normalize: bool, nb: bool,
                 max_count: int = MAX_HIST_COUNT):
        self.device = torch.device("cpu")
        self.normalize, self.max_count = bool(normalize), int(max_count)
        self.nb = bool(nb)
        self.n_cells, self.n_genes = rna.shape
        self.backed = as_rows(rna) if is_backed_sparse(rna) else None
        if self.backed is not None:  # on disk: only indptr in memory, rows read per minibatch
            indptr, indices, data = self.backed.indptr, np.zeros(0, np.int32), np.zeros(0, np.float32)
        else:
            csr = rna if sp.isspmatrix_csr(rna) or isinstance(rna, sp.csr_array) else sp.csr_matrix(rna)
            indptr, indices = csr.indptr, csr.indices
            data = csr.data if csr.data.dtype == np.float32 else csr.data.astype(np.float32)
        self._indptr = np.asarray(indptr, dtype=np.int64)  # host copy: minibatch sizes without a sync
        self.indptr = torch.from_numpy(self._indptr)
        self.indices = torch.from_numpy(indices)  # these share the input's memory
        self.data = torch.from_numpy(data)
        self.prot = torch.from_numpy(np.asarray(prot, dtype=np.float32))
        self.donor = torch.from_numpy(np.asarray(donor, dtype=np.int64))
        self.prot_mean = torch.from_numpy(np.asarray(prot_mean, dtype=np.float32))
        self.prot_std = torch.from_numpy(np.asarray(prot_std, dtype=np.float32))
        self.library = None
        if self.normalize:
            self.library = torch.from_numpy(library_size(rna).astype(np.float32))
        # host views of the same memory for the numpy minibatch builder
        self._np = self._host_views()

    def __len__(self) -> int:
        return self.n_cells

    @property
    def sampling_block(self) -> int:
        """Consecutive cells shuffled together (64 for backed data: few reads per minibatch)."""
        return 64 if self.backed is not None else 1

    def to(self, device: str | torch.device) -> CellBatches:
        """Move the matrices to ``device`` in place (``"cuda"``: preload the data on the GPU;
        minibatches are then built there). Returns ``self``."""
        device = torch.device(device)
        if device == self.device:
            return self
        if self.backed is not None:
            raise CMCVAEInputError(
                "Backed (on-disk) RNA cannot be preloaded on a GPU; load it into memory (read "
                "without backed=...) or train without data_on_device / --preload.")
        names = ("indptr", "indices", "data", "prot", "donor", "prot_mean", "prot_std", "library")
        if self.device.type == "cpu":  # keep the host tensors (they share the input's memory)
            self._host = {name: getattr(self, name) for name in names}
        source = self._host if device.type == "cpu" else {name: getattr(self, name) for name in names}
        for name in names:
            setattr(self, name, None if source[name] is None else source[name].to(device))
        self.device = device
        self._np = self._host_views() if device.type == "cpu" else {}
        return self

    def _host_views(self) -> dict[str, np.ndarray | None]:
        return {"indices": self.indices.numpy(), "data": self.data.numpy(), "prot": self.prot.numpy(),
                "donor": self.donor.numpy(), "prot_mean": self.prot_mean.numpy(),
                "prot_std": self.prot_std.numpy(),
                "library": None if self.library is None else self.library.numpy()}

    def __getitem__(self, idx) -> dict[str, torch.Tensor]:
        idx = np.sort(np.asarray(idx, dtype=np.int64))
        if self.device.type == "cpu":
            return self._cpu_batch(idx)
        return self._device_batch(idx)

    def _cpu_batch(self, idx: np.ndarray) -> dict[str, torch.Tensor]:
        """Minibatch built with numpy on the host (faster than torch for these small gathers)."""
        if self.backed is not None:
            lens, cols, values = self.backed.read(idx)
            cols, values = cols.astype(np.int64), values.astype(np.float32, copy=False)
        else:
            starts = self._indptr[idx]
            lens = self._indptr[idx + 1] - starts
            pos = np.arange(int(lens.sum())) + np.repeat(starts - (np.cumsum(lens) - lens), lens)
            cols = self._np["indices"].take(pos).astype(np.int64)
            values = self._np["data"].take(pos)
        rows = np.repeat(np.arange(len(idx)), lens)
        prot = self._np["prot"].take(idx, axis=0)
        batch = {
            "rna_rows": torch.from_numpy(rows),
            "rna_cols": torch.from_numpy(cols),
            "rna_values": torch.from_numpy(values),
            "y": torch.from_numpy((prot - self._np["prot_mean"]) / self._np["prot_std"]),
            "donor": torch.from_numpy(self._np["donor"].take(idx)),
        }
        if self.library is not None:
            batch["library"] = torch.from_numpy(self._np["library"].take(idx))
        if self.nb:
            batch.update(count_histogram(cols, values, self.n_genes, self.max_count))
        return batch

    def _device_batch(self, idx: np.ndarray) -> dict[str, torch.Tensor]:
        """Minibatch built on the device holding the data (the sizes come from the host's indptr)."""
        n = len(idx)
        lens_host = self._indptr[idx + 1] - self._indptr[idx]
        total = int(lens_host.sum())
        dev = self.device
        cells = torch.from_numpy(idx).to(dev, non_blocking=True)
        lens = torch.from_numpy(lens_host).to(dev, non_blocking=True)
        starts = self.indptr[cells]
        rows = torch.repeat_interleave(torch.arange(n, device=dev), lens, output_size=total)
        shift = starts - (torch.cumsum(lens, 0) - lens)  # CSR position − position in the minibatch
        pos = torch.arange(total, device=dev) + shift.repeat_interleave(lens, output_size=total)
        batch = {
            "rna_rows": rows,
            "rna_cols": self.indices[pos].long(),
            "rna_values": self.data[pos],
            "y": (self.prot[cells] - self.prot_mean) / self.prot_std,
            "donor": self.donor[cells],
        }
        if self.library is not None:
            batch["library"] = self.library[cells]
        return batch


def count_histogram(cols: np.ndarray, values: np.ndarray, n_genes: int,
                    max_count: int = MAX_HIST_COUNT) -> dict[str, torch.Tensor]:
    """How often each gene has each count ``1..max_count`` in a minibatch, and the larger counts.

    Returns ``counts_hist`` (``n_genes × max_count`` flattened, float32: entry ``g·max_count +
    k − 1`` counts the cells with count ``k`` for gene ``g``), and ``counts_big_cols`` /
    ``counts_big_values`` for the counts above ``max_count``. The NB likelihood's terms that
    depend on the counts and the dispersion only are sums over this histogram.
    """
    # Clipped before the cast (a count of 2**31 would wrap around int32 into a huge bin index),
    # and the gene indices checked, so the histogram is sized by n_genes · max_count, never by a
    # value. NaN (cast to a negative int), negative and fractional values below 1 add nothing.
    k = np.minimum(values, max_count + 1).astype(np.int32)
    keep = k > 0
    if not keep.all():  # a stored zero adds nothing to any term
        cols, values, k = cols[keep], values[keep], k[keep]
    if cols.size and (cols.min() < 0 or cols.max() >= n_genes):
        raise CMCVAEInputError(
            f"An RNA minibatch has a gene index outside 0..{n_genes - 1}; the count matrix is "
            "malformed (check its indices, e.g. `X.check_format()`).")
    key = cols * max_count + (np.minimum(k, max_count) - 1)
    hist = np.bincount(key, minlength=n_genes * max_count)
    big = np.flatnonzero(k > max_count)
    if big.size:  # counted in the last bin above; they are summed one by one instead
        np.subtract.at(hist, key[big], 1)
    return {"counts_hist": torch.from_numpy(hist.astype(np.float32)),
            "counts_big_cols": torch.from_numpy(cols[big]),
            "counts_big_values": torch.from_numpy(values[big])}
