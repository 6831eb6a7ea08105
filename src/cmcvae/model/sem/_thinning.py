"""Noise-corrected feature correlations from counts by binomial data thinning.

Every count is split into two independent halves, ``X1 ~ Binomial(X, 1/2)`` and ``X2 = X − X1``.
For Poisson measurement noise the two halves are independent given the cell's true expression,
so the cross-covariance of the transformed halves estimates the covariance of the *signal*
without the measurement-noise variance that inflates the diagonal of an ordinary covariance
(and so attenuates every correlation). Both halves are transformed like the full data (RNA:
counts per 1e4 of the half's own library, ``log1p``; protein: CLR), centred within donor, and
their symmetrised cross-covariance ``C = (AᵀB + BᵀA) / 2n`` is turned into a correlation
matrix whose eigenvalues are floored (it is not guaranteed positive definite).

Everything is computed in row chunks straight from CSR RNA counts: only one chunk is ever
dense, and the per-donor centring uses accumulated per-donor sums
(``Σ (a − μ_d)(b − ν_d)ᵀ = Σ abᵀ − Σ_d n_d μ_d ν_dᵀ``), so an atlas of 10⁶ cells × 2,000
features needs memory for the ``d × d`` accumulator plus one chunk.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae.pp import TARGET_SUM


def _donor_codes(donors: Any, n: int) -> tuple[np.ndarray, int]:
    if donors is None:
        return np.zeros(n, dtype=np.int64), 1
    codes, uniques = pd.factorize(np.asarray(donors), sort=True)
    if len(codes) != n:
        raise ValueError(f"donors has {len(codes)} entries for {n} cells")
    if (codes < 0).any():
        raise ValueError("donors contains missing values")
    return codes.astype(np.int64), len(uniques)


def _rna_transform(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Counts per 1e4 of each cell's own library, ``log1p`` (float64, stays sparse)."""
    out = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    lib = np.asarray(out.sum(axis=1)).ravel()
    scale = np.divide(TARGET_SUM, lib, out=np.zeros_like(lib), where=lib > 0)
    out.data *= np.repeat(scale, np.diff(out.indptr))
    np.log1p(out.data, out=out.data)
    return out


def _prot_transform(counts: np.ndarray) -> np.ndarray:
    """Per-cell centred log-ratio ``log1p(y) − mean(log1p(y))`` (float64; an RNA-only model's
    empty panel stays empty instead of averaging over nothing)."""
    logged = np.log1p(counts)
    if logged.shape[1] == 0:
        return logged
    return logged - logged.mean(axis=1, keepdims=True)


def _features(rna: sp.csr_matrix, prot: np.ndarray) -> np.ndarray:
    """Dense transformed chunk ``[log CP10k RNA, CLR protein]`` (float32)."""
    G = rna.shape[1]
    out = np.zeros((rna.shape[0], G + prot.shape[1]), dtype=np.float32, order="F")
    _rna_transform(rna).astype(np.float32).toarray(out=out[:, :G])
    out[:, G:] = _prot_transform(prot)
    return out


def _group_sums(x: np.ndarray, codes: np.ndarray, out: np.ndarray) -> None:
    """``out[g] += Σ_{cells of group g} x`` (float64 pairwise sums, no full float64 copy)."""
    for g in np.unique(codes):
        out[g] += x[codes == g].sum(axis=0, dtype=np.float64)


def _sum_squares(x: np.ndarray, block: int = 256) -> np.ndarray:
    """Column sums of squares in float64, a block of columns at a time."""
    return np.concatenate([np.square(x[:, j:j + block].astype(np.float64)).sum(axis=0)
                           for j in range(0, x.shape[1], block)])


class _Moments:
    """Running shifted sums for a within-donor-centred (cross-)covariance."""

    def __init__(self, d: int, n_groups: int, cross: bool):
        self.cross = cross
        self.n = np.zeros(n_groups)
        self.shift_a: np.ndarray | None = None
        self.shift_b: np.ndarray | None = None
        self.ab = np.zeros((d, d))
        self.sum_a = np.zeros((n_groups, d))
        self.sum_b = np.zeros((n_groups, d)) if cross else self.sum_a
        self.sq_a = np.zeros(d)
        self.sq_b = np.zeros(d) if cross else self.sq_a

    def add(self, a: np.ndarray, b: np.ndarray | None, codes: np.ndarray) -> None:
        """Add a chunk (float32, modified in place); ``b`` is ignored unless ``cross``."""
        # a constant shift (the first chunk's means) keeps the float32 product well conditioned
        if self.shift_a is None:
            self.shift_a = a.mean(axis=0)
            self.shift_b = b.mean(axis=0) if self.cross else self.shift_a
        a -= self.shift_a
        if self.cross:
            b -= self.shift_b
        else:
            b = a
        self.ab += a.T @ b
        self.n += np.bincount(codes, minlength=len(self.n))
        _group_sums(a, codes, self.sum_a)
        self.sq_a += _sum_squares(a)
        if self.cross:
            _group_sums(b, codes, self.sum_b)
            self.sq_b += _sum_squares(b)

    def covariance(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Symmetrised cross-covariance and the two variances, centred within donor."""
        keep = self.n > 0
        n_g = self.n[keep][:, None]
        ua, ub = self.sum_a[keep], self.sum_b[keep]
        total = self.n.sum()
        cab = self.ab - (ua / n_g).T @ ub
        cov = (cab + cab.T) / (2.0 * total)
        var_a = (self.sq_a - (ua**2 / n_g).sum(axis=0)) / total
        var_b = (self.sq_b - (ub**2 / n_g).sum(axis=0)) / total
        return cov, var_a, var_b


def _full_variance(rna: sp.csr_matrix, prot: np.ndarray, codes: np.ndarray, sums: np.ndarray,
                   sq: np.ndarray) -> None:
    """Accumulate per-donor sums and squares of the un-thinned transform (sparse, no densifying)."""
    x = _rna_transform(rna)
    y = _prot_transform(prot)
    onehot = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                           shape=(sums.shape[0], len(codes)))
    G = x.shape[1]
    sums[:, :G] += np.asarray((onehot @ x).todense())
    sums[:, G:] += onehot @ y
    sq[:G] += np.asarray(x.multiply(x).sum(axis=0)).ravel()
    sq[G:] += (y**2).sum(axis=0)


def thinned_covariance(rna_counts: Any, prot_counts: Any, donors: Any = None, *,
                       cells: np.ndarray | None = None, seed: int = 0, chunk_size: int = 20_000,
                       thinning: bool = True) -> tuple[np.ndarray, dict[str, Any]]:
    """Within-donor covariance of ``[log CP10k RNA, CLR protein]`` corrected for count noise.

    Parameters
    ----------
    rna_counts
        Cells × genes raw RNA counts (CSR preferred; integers).
    prot_counts
        Cells × proteins raw protein counts (dense or sparse; integers).
    donors
        Donor (batch) label of every cell; every feature is centred within donor. ``None``
        centres globally.
    cells
        Row indices to use (e.g. the training split); default all rows. ``donors`` is indexed
        like the full matrices.
    seed
        Seed of the binomial split. The draws are consumed in row order, so the result does
        not depend on ``chunk_size``.
    chunk_size
        Rows made dense at a time.
    thinning
        ``False`` returns the ordinary covariance of the full data (no noise correction).

    Returns
    -------
    cov : numpy.ndarray
        ``d × d`` float64 (``d`` = genes + proteins): the symmetrised thinned cross-covariance.
    info : dict
        ``n_cells``, ``n_donors``, ``thinning``, ``reliability_rna`` / ``reliability_protein``
        (median over features of ``diag(cov) / diag(full-data covariance)``),
        ``split_half_rna`` / ``split_half_protein`` (median correlation of the two halves of a
        feature), ``variance`` (the full-data variances, for reference), ``signal_z`` (per
        feature ``diag(cov)`` over its standard error under "no shared signal",
        ``sqrt(var_A var_B / n)``; ``inf`` without thinning) and ``seconds``.
    """
    start = time.perf_counter()
    rna = sp.csr_matrix(rna_counts)
    prot = prot_counts.toarray() if sp.issparse(prot_counts) else np.asarray(prot_counts)
    rows = np.arange(rna.shape[0]) if cells is None else np.asarray(cells, dtype=np.int64)
    codes_all, n_groups = _donor_codes(donors, rna.shape[0])
    G, d = rna.shape[1], rna.shape[1] + prot.shape[1]
    moments = _Moments(d, n_groups, cross=thinning)
    full_sums, full_sq = np.zeros((n_groups, d)), np.zeros(d)
    rng_rna, rng_prot = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    for lo in range(0, len(rows), max(int(chunk_size), 1)):
        idx = rows[lo:lo + chunk_size]
        r = rna[idx]
        p = np.rint(prot[idx]).astype(np.int64)
        codes = codes_all[idx]
        if thinning:
            r.data = np.rint(r.data).astype(np.int64)
            r1 = r.copy()
            r1.data = rng_rna.binomial(r.data, 0.5)
            r2 = r.copy()
            r2.data = r.data - r1.data
            p1 = rng_prot.binomial(p, 0.5)
            moments.add(_features(r1, p1), _features(r2, p - p1), codes)
            _full_variance(r, p, codes, full_sums, full_sq)
        else:
            moments.add(_features(r, p), None, codes)
    cov, var_a, var_b = moments.covariance()
    n = len(rows)
    if thinning:
        keep = moments.n > 0
        full_var = (full_sq - (full_sums[keep] ** 2 / moments.n[keep][:, None]).sum(axis=0)) / n
    else:
        full_var = np.diag(cov).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        reliability = np.diag(cov) / full_var
        split_half = np.diag(cov) / np.sqrt(var_a * var_b)
    signal_z = np.nan_to_num(split_half * np.sqrt(n), nan=0.0) if thinning else np.full(d, np.inf)
    info = {
        "n_cells": int(n), "n_donors": int((moments.n > 0).sum()), "thinning": bool(thinning),
        "reliability_rna": _median(reliability[:G]), "reliability_protein": _median(reliability[G:]),
        "split_half_rna": _median(split_half[:G]), "split_half_protein": _median(split_half[G:]),
        "variance": full_var, "signal_z": signal_z, "seconds": time.perf_counter() - start,
    }
    return cov, info


def _median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else None


def covariance_to_correlation(cov: np.ndarray, floor: float = 0.4, signal: np.ndarray | None = None,
                              ) -> tuple[np.ndarray, dict[str, Any]]:
    """Correlation matrix of a (possibly indefinite) covariance, eigenvalues floored at ``floor``.

    Features without signal (``cov[j, j] <= 0`` or ``signal[j]`` false) become independent of
    all others; correlations are clipped to ``[-1, 1]``; then ``R = V max(λ, floor) Vᵀ`` is
    rescaled to a unit diagonal.

    Parameters
    ----------
    cov
        ``d × d`` symmetric covariance.
    floor
        Smallest eigenvalue kept (0 keeps the matrix as it is, up to clipping of negative
        eigenvalues at 0).
    signal
        Optional boolean mask of the features with a reproducible signal. A thinned variance
        that is positive by chance only would turn its feature's noisy covariances into
        correlations far beyond ±1, and the eigenvalue repair would spread them to every
        other feature.

    Returns
    -------
    rho : numpy.ndarray
        ``d × d`` float64 correlation matrix.
    info : dict
        ``n_no_signal``, ``n_clipped`` (off-diagonal entries beyond ±1 before clipping),
        ``n_negative_eigenvalues``, ``n_floored_eigenvalues``, ``min_eigenvalue``.
    """
    cov = (np.asarray(cov, dtype=np.float64) + np.asarray(cov, dtype=np.float64).T) / 2.0
    diag = np.diag(cov)
    signal = (diag > 0) if signal is None else (diag > 0) & np.asarray(signal, dtype=bool)
    sd = np.sqrt(np.where(signal, diag, 1.0))
    rho = cov / np.outer(sd, sd)
    rho[~signal, :] = 0.0
    rho[:, ~signal] = 0.0
    np.fill_diagonal(rho, 1.0)
    n_clipped = int((np.abs(rho) > 1.0).sum())
    np.clip(rho, -1.0, 1.0, out=rho)
    lam, vec = np.linalg.eigh(rho)
    rho = (vec * np.maximum(lam, floor)) @ vec.T
    scale = np.sqrt(np.diag(rho))
    rho = rho / np.outer(scale, scale)
    rho = (rho + rho.T) / 2.0
    np.fill_diagonal(rho, 1.0)
    info = {"n_no_signal": int((~signal).sum()), "n_clipped": n_clipped,
            "n_negative_eigenvalues": int((lam < 0).sum()),
            "n_floored_eigenvalues": int((lam < floor).sum()), "min_eigenvalue": float(lam.min())}
    return rho, info


def thinned_correlation(rna_counts: Any, prot_counts: Any, donors: Any = None, *,
                        floor: float = 0.4, seed: int = 0, chunk_size: int = 20_000,
                        cells: np.ndarray | None = None, thinning: bool = True,
                        min_signal_z: float = 3.0) -> tuple[np.ndarray, dict[str, Any]]:
    """Noise-corrected correlation of genes and proteins (binomial thinning, eigenvalue floor).

    :func:`thinned_covariance` followed by :func:`covariance_to_correlation`.

    Parameters
    ----------
    rna_counts, prot_counts
        Raw counts (cells × genes CSR, cells × proteins).
    donors
        Donor label per cell (centring within donor) or ``None``.
    floor
        Eigenvalue floor of the correlation matrix.
    seed
        Seed of the binomial split.
    chunk_size
        Rows made dense at a time.
    cells
        Row indices to use (default all).
    thinning
        ``False``: the ordinary correlation of the full data (ablation).
    min_signal_z
        A feature whose thinned variance is less than this many standard errors above zero
        has no reproducible signal and is made independent of the others (``n_no_signal``).

    Returns
    -------
    rho : numpy.ndarray
        ``d × d`` float64 correlation over ``genes + proteins`` (genes first).
    info : dict
        Everything of both steps (see their docs) plus ``signal_sd`` (``sqrt(diag(cov))``,
        ``nan`` where not positive), ``n_features`` and total ``seconds``.
    """
    start = time.perf_counter()
    cov, info = thinned_covariance(rna_counts, prot_counts, donors, cells=cells, seed=seed,
                                   chunk_size=chunk_size, thinning=thinning)
    rho, info_corr = covariance_to_correlation(cov, floor, info.pop("signal_z") > min_signal_z)
    diag = np.diag(cov)
    info.update(info_corr)
    info.update({"n_features": int(len(diag)), "floor": float(floor),
                 "signal_sd": np.sqrt(np.where(diag > 0, diag, np.nan)),
                 "covariance_seconds": info["seconds"], "seconds": time.perf_counter() - start})
    return rho, info


def value_correlation(rna: Any, prot: Any, donors: Any = None, *, cells: np.ndarray | None = None,
                      floor: float = 1e-3) -> tuple[np.ndarray, dict[str, Any]]:
    """Correlation of continuous values (no count model, so no thinning), centred within donor.

    Used by the feature-level SEM when the input holds continuous values (``counts=False``):
    there is no count noise to remove, and ``floor`` only keeps the matrix well conditioned.

    Parameters
    ----------
    rna, prot
        Cells × genes (dense or sparse) and cells × proteins values.
    donors
        Donor label per cell (centring within donor) or ``None``.
    cells
        Row indices to use (default all).
    floor
        Eigenvalue floor (see :func:`covariance_to_correlation`).
    """
    x = np.hstack([rna.toarray() if sp.issparse(rna) else np.asarray(rna, dtype=np.float64),
                   np.asarray(prot, dtype=np.float64)]).astype(np.float64)
    codes, n_groups = _donor_codes(donors, x.shape[0])
    if cells is not None:
        x, codes = x[cells], codes[cells]
    for g in range(n_groups):
        rows = codes == g
        if rows.any():
            x[rows] -= x[rows].mean(axis=0)
    cov = x.T @ x / max(x.shape[0] - n_groups, 1)
    rho, info = covariance_to_correlation(cov, floor=floor)
    variance = np.diag(cov).copy()
    info.update({"n_cells": int(x.shape[0]), "n_donors": int(n_groups), "thinning": False,
                 "variance": variance, "signal_sd": np.sqrt(np.clip(variance, 0.0, None))})
    return rho, info
