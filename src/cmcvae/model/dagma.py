"""DAGMA acyclicity function (Bello, Aragam & Ravikumar, NeurIPS 2022).

``h(A) = -log det(sI - A∘A) + K log s`` is zero exactly when the weighted graph ``A`` is a
DAG and positive otherwise, but only while ``sI - A∘A`` is an M-matrix, i.e. while the
spectral radius of ``A∘A`` is below ``s``. Outside that region the log-determinant is
meaningless (and under minibatch SGD it quickly turns NaN), so every optimiser step is
checked with :func:`in_domain` and undone when it leaves the region.
"""

from __future__ import annotations

import numpy as np
import torch


def h_dagma(A: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    """Log-determinant acyclicity of a weighted adjacency.

    Parameters
    ----------
    A
        ``K × K`` weighted adjacency, ``A[a, c]`` is the edge ``a → c``.
    s
        Log-det scale; the function is defined for ``ρ(A∘A) < s``.

    Returns
    -------
    Scalar tensor, differentiable; ``0`` for a DAG and ``> 0`` for a graph with a cycle.
    Its gradient is ``2 (sI - A∘A)^{-T} ∘ A``.
    """
    K = A.shape[0]
    eye = torch.eye(K, dtype=A.dtype, device=A.device)
    M = s * eye - A * A
    sign, logabsdet = torch.linalg.slogdet(M)
    # A negative determinant means the M-matrix region was left: return +inf rather than a
    # silently wrong finite value (the training guard never lets this reach the optimiser).
    h = -logabsdet + K * float(np.log(s))
    return torch.where(sign > 0, h, torch.full_like(h, float("inf")))


def h_grad(A: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    """Closed-form gradient of :func:`h_dagma`: ``2 (sI - A∘A)^{-T} ∘ A``."""
    K = A.shape[0]
    M = s * torch.eye(K, dtype=A.dtype, device=A.device) - A * A
    return 2.0 * torch.linalg.inv(M).T * A


def spectral_radius(A: torch.Tensor) -> float:
    """Spectral radius of ``A∘A`` (a non-negative matrix), computed in float64."""
    W = (A.detach().to(torch.float64)) ** 2
    if not torch.isfinite(W).all():
        return float("inf")
    return float(torch.linalg.eigvals(W).abs().max().cpu())


def in_domain(A: torch.Tensor, s: float = 1.0, margin: float = 0.99) -> bool:
    """Whether ``sI - A∘A`` is safely an M-matrix: ``ρ(A∘A) < margin · s``."""
    return spectral_radius(A) < margin * s
