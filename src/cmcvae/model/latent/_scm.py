"""The latent linear structural causal model ``z = Aᵀz + ε``.

For a minibatch of row vectors ``Z = E (I − A)^{-1}``. Total effects of node ``a`` on node
``c`` are ``[(I − A)^{-1} − I][a, c]``.
"""

from __future__ import annotations

import torch


def scm_solve(eps: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """Latent values of the SCM for exogenous noise ``eps`` (batch × K): ``ε (I − A)^{-1}``.

    The ``K × K`` inverse is formed once and applied as one matrix product (cheaper than a
    solve with ``batch`` right-hand sides, forward and backward); ``I − A`` is well conditioned
    inside DAGMA's domain (``ρ(A∘A) < s ≤ 1``). The inverse is computed in float32 at least,
    also under mixed precision.
    """
    K = A.shape[0]
    dtype = torch.promote_types(A.dtype, torch.float32)
    with torch.autocast(device_type=A.device.type, enabled=False):
        inv = torch.linalg.inv(torch.eye(K, dtype=dtype, device=A.device) - A.to(dtype))
    return eps @ inv.to(eps.dtype)


def total_effects(A: torch.Tensor) -> torch.Tensor:
    """Total causal effects ``(I − A)^{-1} − I`` (all directed paths of length ≥ 1)."""
    K = A.shape[0]
    eye = torch.eye(K, dtype=A.dtype, device=A.device)
    return torch.linalg.inv(eye - A) - eye


def project(W_src: torch.Tensor, B: torch.Tensor, W_dst: torch.Tensor) -> torch.Tensor:
    """Feature-level graph ``W_src B W_dstᵀ`` from a latent block ``B``.

    ``result[u, v]`` is the effect of source feature ``u`` on target feature ``v``.
    """
    return W_src @ B @ W_dst.T


def pair_scores(W_src: torch.Tensor, B: torch.Tensor, W_dst: torch.Tensor,
                src_idx: torch.Tensor, dst_idx: torch.Tensor) -> torch.Tensor:
    """Entries ``(W_src B W_dstᵀ)[src_idx[i], dst_idx[i]]`` without the full product."""
    return ((W_src[src_idx] @ B) * W_dst[dst_idx]).sum(dim=1)
