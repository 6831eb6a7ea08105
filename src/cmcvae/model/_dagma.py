"""DAGMA acyclicity function (Bello, Aragam & Ravikumar, NeurIPS 2022).

``h(A) = -log det(sI - A∘A) + K log s`` is zero exactly when the weighted graph ``A`` is a
DAG and positive otherwise, but only while ``sI - A∘A`` is an M-matrix, i.e. while the
spectral radius of ``A∘A`` is below ``s``. Outside that region the log-determinant is
meaningless (and under minibatch SGD it quickly turns NaN), so every optimiser step is
checked with :func:`in_domain` and undone when it leaves the region.

- :func:`h_dagma` — the value, differentiable (the latent VAE's loss, metrics);
- :func:`h_and_grad`, :func:`inverse_and_grad` — value and closed-form gradient together (the
  SEM fit's iterations use the gradient and the inverse behind it);
- :func:`in_domain`, :func:`in_domain_tensor`, :func:`spectral_radius`,
  :func:`perron_upper_bound`, :func:`is_m_matrix` — the M-matrix region and its guard.
"""

from __future__ import annotations

import numpy as np
import torch


def h_dagma(A: torch.Tensor, s: float = 1.0) -> torch.Tensor:
    """Log-determinant acyclicity of a weighted adjacency (differentiable; used in losses).

    Parameters
    ----------
    A
        ``K × K`` weighted adjacency, ``A[a, c]`` is the edge ``a → c``.
    s
        Log-det scale; the function is defined for ``ρ(A∘A) < s``.

    Returns
    -------
    Scalar tensor, differentiable; ``0`` for a DAG and ``> 0`` for a graph with a cycle.
    Its gradient is the one :func:`h_and_grad` gives in closed form.
    """
    K = A.shape[0]
    eye = torch.eye(K, dtype=A.dtype, device=A.device)
    M = s * eye - A * A
    sign, logabsdet = torch.linalg.slogdet(M)
    # A negative determinant means the M-matrix region was left: return +inf rather than a
    # silently wrong finite value (the training guard never lets this reach the optimiser).
    h = -logabsdet + K * float(np.log(s))
    return torch.where(sign > 0, h, torch.full_like(h, float("inf")))


def inverse_and_grad(A: torch.Tensor, s: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sI − A∘A)^{-1}`` and the closed-form gradient of ``h``, ``2 (sI − A∘A)^{-T} ∘ A``.

    One inverse gives both: a loop that checks the inverse for its guard (entrywise
    non-negative exactly inside the M-matrix region) gets the gradient without a second
    factorisation. Outside the region the gradient is meaningless (the inverse then has
    negative or non-finite entries).
    """
    eye = torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    inverse = torch.linalg.inv(s * eye - A * A)
    return inverse, 2.0 * inverse.T * A


def h_and_grad(A: torch.Tensor, s: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``h_s(A)`` and its gradient together, as DAGMA's ``_h(W, s)`` returns them.

    Returns
    -------
    value, gradient
        :func:`h_dagma` (``+inf`` outside the M-matrix region) and ``2 (sI − A∘A)^{-T} ∘ A``
        (:func:`inverse_and_grad`), without autograd.
    """
    with torch.no_grad():
        return h_dagma(A, s), inverse_and_grad(A, s)[1]


def spectral_radius(A: torch.Tensor) -> float:
    """Spectral radius of ``A∘A`` (a non-negative matrix), computed in float64."""
    W = (A.detach().to(torch.float64)) ** 2
    if not torch.isfinite(W).all():
        return float("inf")
    return float(torch.linalg.eigvals(W).abs().max().cpu())


def perron_upper_bound(B: torch.Tensor, iterations: int = 8) -> torch.Tensor:
    """A rigorous upper bound on the spectral radius of a non-negative matrix ``B``.

    Collatz–Wielandt: ``ρ(B) ≤ max_i (Bx)_i / x_i`` for every positive vector ``x``. ``x``
    starts at ones and takes a few power steps with ``B + I`` (which keeps it positive and
    moves it towards the Perron vector, tightening the bound). Returns a 0-d tensor on ``B``'s
    device (no host synchronisation); ``inf``/``nan`` when ``B`` is not finite.
    """
    x = torch.ones(B.shape[0], dtype=B.dtype, device=B.device)
    for _ in range(iterations):
        x = B @ x + x
        x = x / x.max()
    return ((B @ x) / x).max()


def is_m_matrix(M: torch.Tensor) -> torch.Tensor:
    """Whether a Z-matrix ``M`` (off-diagonal entries ≤ 0) is a non-singular M-matrix.

    A Z-matrix is a non-singular M-matrix exactly when all its leading principal minors are
    positive, i.e. when Gaussian elimination without pivoting has positive pivots. Returns a
    0-d bool tensor on ``M``'s device. On a GPU this is one LU call (no synchronisation); on
    other devices the elimination is written out (``K`` rank-one updates).
    """
    if M.device.type == "cuda":
        LU, _, info = torch.linalg.lu_factor_ex(M, pivot=False)
        return (info == 0) & (torch.diagonal(LU) > 0).all()
    U = M.clone()
    ok = torch.ones((), dtype=torch.bool, device=M.device)
    for k in range(M.shape[0]):
        pivot = U[k, k]
        ok = ok & (pivot > 0)
        if k + 1 < M.shape[0]:
            U[k + 1:, k + 1:] -= torch.outer(U[k + 1:, k] / pivot, U[k, k + 1:])
    return ok


def in_domain_tensor(A: torch.Tensor, s: float = 1.0, margin: float = 0.99) -> torch.Tensor:
    """:func:`in_domain` as a 0-d bool tensor on ``A``'s device, without a host synchronisation.

    ``ρ(A∘A) < margin · s`` exactly when ``margin · s · I − A∘A`` (a Z-matrix) is a non-singular
    M-matrix (:func:`is_m_matrix`, float64). On the CPU the exact test only runs when the cheap
    :func:`perron_upper_bound` does not already settle it.
    """
    if A.device.type == "cpu":
        return torch.tensor(in_domain(A, s, margin))
    B = A.detach().to(torch.float64) ** 2
    limit = margin * s
    eye = torch.eye(B.shape[0], dtype=B.dtype, device=B.device)
    finite = torch.isfinite(B).all()
    B = torch.where(finite, B, torch.zeros_like(B))
    return finite & ((perron_upper_bound(B) < limit) | is_m_matrix(limit * eye - B))


def in_domain(A: torch.Tensor, s: float = 1.0, margin: float = 0.99) -> bool:
    """Whether ``sI - A∘A`` is safely an M-matrix: ``ρ(A∘A) < margin · s``.

    A cheap rigorous bound (:func:`perron_upper_bound`) answers most calls; the eigenvalues
    are computed only when it does not.
    """
    B = A.detach().to(torch.float64) ** 2
    if not torch.isfinite(B).all():
        return False
    if float(perron_upper_bound(B)) < margin * s:
        return True
    return spectral_radius(A) < margin * s
