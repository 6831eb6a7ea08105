"""The SEM's module (its fitted weights) and the raw data it is fitted to."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn


class SEMData(NamedTuple):
    """Raw counts kept for fitting: RNA (CSR), protein (dense) and donor codes."""

    rna: sp.csr_matrix
    prot: np.ndarray
    donor: np.ndarray


class SEMModule(nn.Module):
    """Holds the fitted, un-projected SEM weights ``W`` (``W[a, c]`` is ``a → c``).

    ``W`` is a float64 buffer, so the state dict is a plain tensor dict (loads with
    ``torch.load(weights_only=True)``).
    """

    def __init__(self, n_genes: int, n_proteins: int):
        super().__init__()
        self.n_genes, self.n_proteins = n_genes, n_proteins
        d = n_genes + n_proteins
        self.register_buffer("W", torch.zeros(d, d, dtype=torch.float64))

    @property
    def A(self) -> torch.Tensor:
        """The weighted adjacency (same name as the latent module's ``A``)."""
        return self.W
