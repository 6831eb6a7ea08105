"""Covariate adjustment on a correlation matrix: the linear algebra of every estimator here.

The effect of source ``G`` on readout ``Y`` given an adjustment set ``Z`` is the coefficient of
``G`` when ``Y`` is regressed on ``{G} ∪ Z \\ {Y}`` (the back-door / IDA estimate of a linear
model, Maathuis et al. 2009). Sources that share their set are done together from one
factorisation of ``C_ZZ``:

- ``Y ∉ Z``: residualise on ``Z`` once, ``R = C − C_·Z C_ZZ⁻¹ C_Z·``; then
  ``β = R_GY / R_GG``.
- ``Y ∈ Z``: ``Y`` leaves the set; with ``u = C_ZZ⁻¹ C_ZG``, ``s = R_GG`` and ``K = C_ZZ⁻¹`` the
  bordered inverse gives ``β = u_Y / (s K_YY + u_Y²)``.

Standard errors are the ordinary least-squares ones, ``se² = σ²(Y | G, Z) / (n σ²(G | Z))``, with
the cells of the training data as ``n`` (correlated cells make them optimistic, see
docs/model.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import linalg

__all__ = ["adjusted_effects"]

#: jitter added to the diagonal of C_ZZ, relative to 1 (correlations): keeps collinear sets solvable
_JITTER = 1e-8
#: a source whose variance left after its set is below this is collinear with it: no estimate
_MIN_RESIDUAL = 1e-6


def adjusted_effects(corr: np.ndarray, sources: np.ndarray, readouts: np.ndarray,
                     sets: Sequence[np.ndarray], n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted regression coefficients of every source on every readout, with their SEs.

    Parameters
    ----------
    corr
        Features × features correlation matrix.
    sources, readouts
        Feature positions.
    sets
        One array of feature positions per source: its adjustment set (the source itself is
        dropped from its own set).
    n_cells
        Cells behind ``corr``.

    Returns
    -------
    beta, se : numpy.ndarray
        Sources × readouts; NaN where a readout is the source itself or the source is
        collinear with its set.
    """
    sources = np.asarray(sources, dtype=int)
    readouts = np.asarray(readouts, dtype=int)
    beta = np.full((len(sources), len(readouts)), np.nan)
    se = np.full_like(beta, np.nan)
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for row, (g, z) in enumerate(zip(sources, sets, strict=True)):
        groups[tuple(sorted(set(np.asarray(z, dtype=int).tolist()) - {int(g)}))].append(row)
    for zset, rows in groups.items():
        b, s = _group(corr, sources[rows], readouts, np.asarray(zset, dtype=int), n_cells)
        beta[rows], se[rows] = b, s
    self_hit = sources[:, None] == readouts[None, :]
    beta[self_hit] = np.nan
    se[self_hit] = np.nan
    return beta, se


def _group(corr: np.ndarray, src: np.ndarray, readouts: np.ndarray, zset: np.ndarray,
           n: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and SEs for sources sharing the adjustment set ``zset``."""
    c_gy = corr[np.ix_(src, readouts)]
    if zset.size == 0:
        resid_g = np.ones(len(src))
        beta = c_gy.copy()
        resid_y = 1.0 - beta**2
        return beta, np.sqrt(np.clip(resid_y, 0.0, None) / n)
    factor = linalg.cho_factor(corr[np.ix_(zset, zset)] + _JITTER * np.eye(zset.size))
    u = linalg.cho_solve(factor, corr[np.ix_(zset, src)])            # |Z| × sources
    v = linalg.cho_solve(factor, corr[np.ix_(zset, readouts)])       # |Z| × readouts
    resid_g = 1.0 - np.einsum("zs,zs->s", corr[np.ix_(zset, src)], u)
    resid_yz = 1.0 - np.einsum("zr,zr->r", corr[np.ix_(zset, readouts)], v)
    ok = resid_g > _MIN_RESIDUAL
    safe_g = np.where(ok, resid_g, 1.0)
    r_gy = c_gy - u.T @ corr[np.ix_(zset, readouts)]
    beta = r_gy / safe_g[:, None]
    resid_y = resid_yz[None, :] - beta**2 * safe_g[:, None]
    se = np.sqrt(np.clip(resid_y, 0.0, None) / (n * safe_g[:, None]))
    _readouts_in_set(corr, zset, readouts, u, safe_g, factor, beta, se, n)
    beta[~ok] = np.nan
    se[~ok] = np.nan
    return beta, se


def _readouts_in_set(corr, zset, readouts, u, resid_g, factor, beta, se, n) -> None:
    """Overwrite the columns of readouts that are in the set (they leave it; bordered inverse)."""
    pos_in_z = {int(z): i for i, z in enumerate(zset)}
    cols = [(j, pos_in_z[int(r)]) for j, r in enumerate(readouts) if int(r) in pos_in_z]
    if not cols:
        return
    j_idx = np.array([c[0] for c in cols])
    z_idx = np.array([c[1] for c in cols])
    eye = np.zeros((zset.size, len(z_idx)))
    eye[z_idx, np.arange(len(z_idx))] = 1.0
    k_yy = np.einsum("zi,zi->i", eye, linalg.cho_solve(factor, eye))  # diag of C_ZZ⁻¹ at Y
    u_y = u[z_idx].T                                                  # sources × readouts-in-Z
    s = resid_g[:, None]
    omega_yy = k_yy[None, :] + u_y**2 / s
    beta[:, j_idx] = (u_y / s) / omega_yy
    var_g = 1.0 / s - (u_y / s) ** 2 / omega_yy   # [(C_S)⁻¹]_GG for S = {G} ∪ Z \ {Y}
    se[:, j_idx] = np.sqrt(np.clip(var_g / omega_yy, 0.0, None) / n)
