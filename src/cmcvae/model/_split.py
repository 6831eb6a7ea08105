"""The seeded train/validation/test split of the cells, shared by both architectures."""

from __future__ import annotations

import numpy as np


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
