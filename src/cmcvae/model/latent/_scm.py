"""The latent linear structural causal model ``z = Aᵀz + ε``.

For a minibatch of row vectors ``Z = E (I − A)^{-1}``. Total effects of node ``a`` on node
``c`` are ``[(I − A)^{-1} − I][a, c]`` (read out by :mod:`cmcvae.graph.networks`).
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


def pair_scores(W_src: torch.Tensor, B: torch.Tensor, W_dst: torch.Tensor,
                src_idx: torch.Tensor, dst_idx: torch.Tensor) -> torch.Tensor:
    """Entries ``(W_src B W_dstᵀ)[src_idx[i], dst_idx[i]]`` without the full product.

    ``W_src B W_dstᵀ`` is the feature-level graph of a latent block ``B``: its ``[u, v]`` entry is
    the effect of source feature ``u`` on target feature ``v``.
    """
    return ((W_src[src_idx] @ B) * W_dst[dst_idx]).sum(dim=1)
