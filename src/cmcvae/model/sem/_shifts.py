"""A screen's perturbed cells in the SEM's likelihood: mean shifts and their misfit.

Joint causal inference (Mooij, Magliacane & Claassen, JMLR 2020) adds one context variable per
intervention — an indicator ``E_k`` of the cells of perturbation ``k`` — as a root node with
edges into the features it moves (its *footprint*). In a linear SEM with the same noise in every
regime this is a mean shift: ``x = Wᵀx + Bᵀe_k + ε``, so the shift of the regime's mean against
its batch-matched controls, ``δ_k``, satisfies ``(I − W)ᵀ δ_k = B_k``: the footprint is what the
graph does not carry on. Pooling the control cells (covariance ``R``) and every regime's cells,
the residual variance of feature ``j`` becomes

    ``r_j = [(I − W)ᵀ R (I − W)]_jj + Σ_k p_k ρ_τ(U_kj)``,  ``U = Δ (I − W)``,

with ``p_k`` the regime's share of the cells, and the footprint profiled out under an L1 cost:
``min_B (U − B)² + 2τ|B|`` is the Huber function ``ρ_τ(U) = c (2U − c)``, ``c = clip(U, ±τ)``.

- The known target of a regime (a modelled feature) has a free footprint (``ρ = 0``): its own
  equation is replaced, soft or hard alike (as in GIES and DCDI's interventional likelihood).
- A target that is not a modelled feature (most screen targets are outside a 2,000-gene panel)
  has no free entry: its cells still count, as an intervention with an unknown footprint.
- ``τ_kj = FOOTPRINT_Z · SE(δ_kj)``: a shift the graph leaves unexplained costs its full
  squared misfit while it is within sampling noise, and grows only linearly beyond, so a real
  off-target footprint (or a non-linear response) does not dominate the fit.

The shifts are on the scale of the SEM's correlation matrix (divided by each feature's signal
SD), so the observational and interventional parts of ``r_j`` add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from cmcvae.model.sem._thinning import _features

#: ``τ`` in standard errors of the shift (fixed before the held-out settings were run).
FOOTPRINT_Z = 3.0
#: fewest cells of a perturbation that enter the likelihood
MIN_REGIME_CELLS = 10


class InterventionData(NamedTuple):
    """Raw values of a screen's perturbed cells, in the model's feature order.

    ``donor`` holds the model's donor codes (``-1``: a donor without control cells).
    """

    rna: sp.csr_matrix
    prot: np.ndarray
    donor: np.ndarray
    labels: np.ndarray


@dataclass
class InterventionShifts:
    """The regimes of a screen as they enter :func:`shift_misfit`.

    Attributes
    ----------
    labels
        ``K`` perturbation names.
    target
        ``K`` feature indices of the targets (``-1``: not a modelled feature).
    shift
        ``K × d`` mean shift against batch-matched controls, in signal SDs.
    se
        ``K × d`` its standard error (same units).
    n_cells
        ``K`` cells per regime.
    weight
        ``K`` shares ``p_k`` of all cells in the likelihood (controls and regimes).
    """

    labels: list[str]
    target: np.ndarray
    shift: np.ndarray
    se: np.ndarray
    n_cells: np.ndarray
    weight: np.ndarray

    def summary(self) -> dict[str, int]:
        """Counts for ``metrics.json``: regimes, cells, targets in / outside the model."""
        return {"n_regimes": len(self.labels), "n_cells": int(self.n_cells.sum()),
                "n_targets_in_model": int((self.target >= 0).sum()),
                "n_targets_outside_model": int((self.target < 0).sum())}


def _values(rna: sp.csr_matrix, prot: np.ndarray, counts: bool) -> np.ndarray:
    """The values the SEM's correlation is of: log CP10k / CLR of counts, else the values."""
    if counts:
        return _features(rna, prot).astype(np.float64)
    dense = rna.toarray() if sp.issparse(rna) else np.asarray(rna)
    return np.hstack([dense.astype(np.float64), np.asarray(prot, dtype=np.float64)])


def _group_sums(rna: sp.csr_matrix, prot: np.ndarray, codes: np.ndarray, n_groups: int,
                counts: bool, squares: bool = False,
                chunk: int = 20_000) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per-group cell counts, feature sums and (with ``squares``) sums of squares (float64)."""
    d = rna.shape[1] + prot.shape[1]
    n, sums = np.zeros(n_groups), np.zeros((n_groups, d))
    sq = np.zeros((n_groups, d)) if squares else None
    for start in range(0, len(codes), chunk):
        x = _values(rna[start:start + chunk], prot[start:start + chunk], counts)
        c = codes[start:start + chunk]
        onehot = sp.csr_matrix((np.ones(len(c)), (c, np.arange(len(c)))), shape=(n_groups, len(c)))
        n += np.bincount(c, minlength=n_groups)
        sums += onehot @ x
        if squares:
            sq += onehot @ np.square(x)
    return n, sums, sq


def intervention_shifts(controls: tuple[sp.csr_matrix, np.ndarray, np.ndarray],
                        perturbed: InterventionData, names: list[str], signal_sd: np.ndarray,
                        n_observational: int, counts: bool = True) -> InterventionShifts | None:
    """Each perturbation's mean shift against the control cells of the same donors.

    Parameters
    ----------
    controls
        ``(rna, prot, donor_codes)`` of the control (observational) cells.
    perturbed
        The perturbed cells (:class:`InterventionData`).
    names
        The SEM's features (genes, then proteins) — a target named like a gene is that gene.
    signal_sd
        The features' signal SD (the correlation's scale; ``nan``: no signal).
    n_observational
        Control cells in the likelihood (the training split), for the regimes' shares.
    counts
        Whether the matrices hold raw counts (log CP10k and CLR, as the correlation) or values.

    Returns
    -------
    InterventionShifts or None
        ``None`` when no perturbation has :data:`MIN_REGIME_CELLS` cells on donors with controls.
    """
    rna_c, prot_c, donor_c = controls
    n_donors = int(max(donor_c.max(initial=-1), perturbed.donor.max(initial=-1))) + 1
    n_d, sum_d, sq_d = _group_sums(rna_c, prot_c, donor_c, n_donors, counts, squares=True)
    has_controls = n_d > 0
    keep = (perturbed.donor >= 0) & has_controls[np.maximum(perturbed.donor, 0)]
    labels = pd.Series(perturbed.labels[keep])
    sizes = labels.value_counts()
    regimes = sorted(str(k) for k, v in sizes.items() if v >= MIN_REGIME_CELLS)
    if not regimes:
        return None
    safe = np.maximum(n_d, 1)[:, None]
    ctrl_mean = sum_d / safe
    ctrl_var = ((sq_d - sum_d**2 / safe).sum(axis=0) / max(n_d.sum() - has_controls.sum(), 1))
    codes = pd.Categorical(labels, categories=regimes).codes
    in_regime = codes >= 0
    rows = np.flatnonzero(keep)[in_regime]
    # one group per (regime, donor) pair present: an atlas-sized donor list stays cheap
    pairs = codes[in_regime].astype(np.int64) * n_donors + perturbed.donor[rows]
    present, group = np.unique(pairs, return_inverse=True)
    n_g, sum_g, _ = _group_sums(perturbed.rna[rows], perturbed.prot[rows], group, len(present),
                                counts)
    regime_of, donor_of = present // n_donors, present % n_donors
    to_regime = sp.csr_matrix((np.ones(len(present)), (regime_of, np.arange(len(present)))),
                              shape=(len(regimes), len(present)))
    n_k = np.asarray(to_regime @ n_g).ravel()
    # the regime's cells minus the controls of their own donors, cell-weighted over donors
    delta = (to_regime @ (sum_g - n_g[:, None] * ctrl_mean[donor_of])) / n_k[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(np.isfinite(signal_sd) & (signal_sd > 0), 1.0 / signal_sd, 0.0)
    se = np.sqrt(ctrl_var[None, :] / n_k[:, None]) * scale[None, :]
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        index.setdefault(name, i)  # genes come first: a protein named like a gene is not a target
    target = np.array([index.get(r, -1) for r in regimes], dtype=np.int64)
    weight = n_k / (n_observational + n_k.sum())
    return InterventionShifts(regimes, target, delta * scale[None, :], se, n_k, weight)


class ShiftTerm(NamedTuple):
    """:class:`InterventionShifts` as tensors for the fit (``free`` marks the known targets)."""

    D: torch.Tensor
    weight: torch.Tensor
    tau: torch.Tensor
    free: torch.Tensor

    @classmethod
    def from_shifts(cls, shifts: InterventionShifts, dtype: torch.dtype,
                    device: str | torch.device) -> ShiftTerm:
        K, d = shifts.shift.shape
        free = np.zeros((K, d), dtype=bool)
        hit = shifts.target >= 0
        free[np.flatnonzero(hit), shifts.target[hit]] = True
        as_t = lambda a: torch.as_tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
        return cls(as_t(shifts.shift), as_t(shifts.weight), as_t(FOOTPRINT_Z * shifts.se),
                   torch.as_tensor(free, device=device))


def shift_misfit(W: torch.Tensor, term: ShiftTerm) -> tuple[torch.Tensor, torch.Tensor]:
    """``Σ_k p_k ρ_τ(U_kj)`` per feature ``j`` and its gradient in ``W`` (``d × d``).

    ``U = Δ (I − W)``; ``ρ_τ(U) = c (2U − c)`` with ``c = clip(U, −τ, τ)`` (zero on the free
    entries); ``∂/∂W[i, j] = −2 Σ_k p_k c_kj Δ_ki``.
    """
    U = term.D - term.D @ W
    c = torch.maximum(torch.minimum(U, term.tau), -term.tau).masked_fill(term.free, 0.0)
    weighted = term.weight[:, None] * c
    value = (weighted * (2.0 * U - c)).sum(dim=0)
    return value, -2.0 * term.D.T @ weighted
