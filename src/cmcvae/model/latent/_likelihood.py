"""Negative-binomial log-likelihood of RNA counts, dense (reference) and from sparse minibatches.

With mean ``μ = exp(ℓ)`` and inverse dispersion ``θ = exp(t)`` the log-likelihood of a count
``x`` is

``θ (log θ − log(θ + μ)) + x (log μ − log(θ + μ)) + lgamma(x + θ) − lgamma(θ) − lgamma(x + 1)``

and ``log(θ + μ) − log θ = softplus(ℓ − t)``, ``log(θ + μ) − log μ = softplus(t − ℓ)``, so

``−θ softplus(ℓ − t) − x softplus(t − ℓ) + lgamma(x + θ) − lgamma(θ) − lgamma(x + 1)``,

which needs no ``exp(ℓ)`` (no overflow for large ``ℓ``) and no ``eps``. Only the first term is
non-zero at a zero count; the others are summed over the non-zeros, and the ``lgamma`` terms
(functions of ``x`` and ``θ`` only) over a ``(gene, count)`` histogram when one is given.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def nb_log_likelihood(counts: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Negative-binomial log-likelihood (mean ``mu``, inverse dispersion ``theta``), per entry.

    The dense textbook form; the reference for :func:`nb_batch_log_likelihood`.
    """
    eps = 1e-8
    log_theta_mu = torch.log(theta + mu + eps)
    return (
        theta * (torch.log(theta + eps) - log_theta_mu)
        + counts * (torch.log(mu + eps) - log_theta_mu)
        + torch.lgamma(counts + theta)
        - torch.lgamma(theta)
        - torch.lgamma(counts + 1.0)
    )


def _lgamma_terms(values: torch.Tensor, theta_at: torch.Tensor, lgamma_theta_at: torch.Tensor
                  ) -> torch.Tensor:
    return torch.lgamma(values + theta_at) - lgamma_theta_at - torch.lgamma(values + 1.0)


def nb_batch_log_likelihood(log_ratio: torch.Tensor, log_theta: torch.Tensor, rows: torch.Tensor,
                            cols: torch.Tensor, values: torch.Tensor,
                            hist: torch.Tensor | None = None, big_cols: torch.Tensor | None = None,
                            big_values: torch.Tensor | None = None) -> torch.Tensor:
    """NB log-likelihood of a minibatch, summed over its cells and genes.

    Equal to ``nb_log_likelihood(counts, exp(log_ratio + log_theta), exp(log_theta)).sum()``
    for the dense ``counts`` whose non-zeros are ``(rows, cols, values)`` (up to the ``eps`` of
    the dense form).

    Parameters
    ----------
    log_ratio
        Cells × genes ``log μ − log θ`` (library offset included).
    log_theta
        Per-gene log inverse dispersion ``t``.
    rows, cols, values
        The minibatch's non-zero counts (row within the minibatch, gene, count).
    hist, big_cols, big_values
        Optional :func:`cmcvae.model.latent._batches.count_histogram` of the same counts: the ``lgamma``
        terms are then evaluated once per (gene, count) pair instead of once per non-zero.
    """
    n_genes = log_ratio.shape[1]
    theta = torch.exp(log_theta)
    zero_part = -(F.softplus(log_ratio) @ theta).sum()  # −Σ θ softplus(ℓ − t)
    r = log_ratio.reshape(-1).index_select(0, rows * n_genes + cols)
    count_part = -torch.dot(values.to(r.dtype), F.softplus(-r))  # −Σ x softplus(t − ℓ)
    lg = _lgamma_sum(log_theta, cols, values, hist, big_cols, big_values)
    return zero_part + count_part + lg


class _FusedNBDecoder(torch.autograd.Function):
    """The NB log-likelihood of a minibatch through the linear RNA decoder, cells in chunks.

    Forward computes the summed log-likelihood and, in the same pass over each chunk, its
    gradients with respect to ``z_r``, ``W_r``, ``c_r`` and ``log_theta`` (the likelihood is a
    scalar sum, so they need nothing else); backward only scales them. Every cells × genes
    intermediate exists for one chunk at a time and stays in cache, where autograd would make
    about twenty passes over full minibatch-sized arrays. The ``lgamma`` terms are not included.
    """

    @staticmethod
    def forward(ctx, z_r, W_r, c_r, log_theta, donor, log_lib, rows, cols, values, chunk):
        # Per entry, with u = ℓ − t (log mean minus log θ) and θ = exp(t):
        #   L = −θ softplus(u) − x softplus(−u) (+ lgamma terms, added outside)
        #   ∂L/∂ℓ = −θ σ(u) + x σ(−u),   ∂L/∂t = −θ softplus(u) − ∂L/∂ℓ
        n, G = z_r.shape[0], W_r.shape[0]
        theta = torch.exp(log_theta)
        base = c_r - log_theta  # donors × genes, once per minibatch
        g_z, g_W = torch.empty_like(z_r), torch.zeros_like(W_r)
        g_c, g_t = torch.zeros_like(c_r), torch.zeros_like(log_theta)
        total = z_r.new_zeros((), dtype=torch.float64)
        starts = torch.arange(0, n + chunk, chunk, device=rows.device).clamp_(max=n)
        bounds = torch.searchsorted(rows, starts).tolist()  # rows are sorted (CSR order)
        for i, start in enumerate(range(0, n, chunk)):
            stop = min(n, start + chunk)
            d = donor[start:stop]
            u = torch.addmm(base.index_select(0, d), z_r[start:stop], W_r.T)
            u.add_(log_lib[start:stop, None])
            sp_sum = F.softplus(u).sum(0)
            total -= torch.dot(theta, sp_sum).double()
            g_l = torch.sigmoid(u).mul_(-theta)  # ∂L/∂ℓ at zero counts
            a, b = bounds[i], bounds[i + 1]
            if b > a:  # the chunk's non-zeros (unique positions: a plain scatter)
                flat = (rows[a:b] - start) * G + cols[a:b]
                un = u.reshape(-1).index_select(0, flat)
                x = values[a:b].to(u.dtype)
                total -= torch.dot(x, F.softplus(-un)).double()
                g_nz = x * torch.sigmoid(-un) - theta.index_select(0, cols[a:b]) * torch.sigmoid(un)
                g_l.view(-1).index_copy_(0, flat, g_nz)
            g_t -= theta * sp_sum + g_l.sum(0)
            torch.mm(g_l, W_r, out=g_z[start:stop])
            g_W.addmm_(g_l.T, z_r[start:stop])
            g_c.index_add_(0, d, g_l)
        ctx.save_for_backward(g_z, g_W, g_c, g_t)
        return total.to(z_r.dtype)

    @staticmethod
    def backward(ctx, grad):
        g_z, g_W, g_c, g_t = ctx.saved_tensors
        return grad * g_z, grad * g_W, grad * g_c, grad * g_t, *([None] * 6)


def nb_decoder_log_likelihood(z_r: torch.Tensor, W_r: torch.Tensor, c_r: torch.Tensor,
                              log_theta: torch.Tensor, donor: torch.Tensor, library: torch.Tensor,
                              rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor,
                              hist: torch.Tensor | None = None, big_cols: torch.Tensor | None = None,
                              big_values: torch.Tensor | None = None,
                              chunk: int | None = 256) -> torch.Tensor:
    """NB log-likelihood of a minibatch with log-mean ``z_r W_rᵀ + c_r[donor] + log(library)``.

    The value of :func:`nb_batch_log_likelihood` on ``log μ − log θ`` from the linear decoder.
    With ``chunk`` (and gradients enabled) the decoder and the likelihood run fused, ``chunk``
    cells at a time (:class:`_FusedNBDecoder`; the CPU path, bound by memory traffic); with
    ``chunk=None`` it is plain autograd over the whole minibatch (the GPU path). ``rows`` must
    be sorted (minibatches from :class:`~cmcvae.model.latent._batches.CellBatches` are).
    """
    log_lib = torch.log(library)
    if chunk is None or not torch.is_grad_enabled():
        offset = c_r.index_select(0, donor) + (log_lib.unsqueeze(1) - log_theta)
        log_ratio = torch.addmm(offset, z_r, W_r.T)
        return nb_batch_log_likelihood(log_ratio, log_theta, rows, cols, values, hist, big_cols,
                                       big_values)
    main = _FusedNBDecoder.apply(z_r, W_r, c_r, log_theta, donor, log_lib, rows, cols, values,
                                 int(chunk))
    return main + _lgamma_sum(log_theta, cols, values, hist, big_cols, big_values)


def _lgamma_sum(log_theta, cols, values, hist, big_cols, big_values) -> torch.Tensor:
    """``Σ lgamma(x + θ) − lgamma(θ) − lgamma(x + 1)`` over the non-zeros (or their histogram)."""
    theta = torch.exp(log_theta)
    lg_theta = torch.lgamma(theta)
    if hist is None:
        return _lgamma_terms(values.to(theta.dtype), theta.index_select(0, cols),
                             lg_theta.index_select(0, cols)).sum()
    n_genes = log_theta.shape[0]
    k = hist.numel() // max(n_genes, 1)
    ks = torch.arange(1, k + 1, dtype=theta.dtype, device=theta.device)
    table = _lgamma_terms(ks, theta.unsqueeze(1), lg_theta.unsqueeze(1))  # genes × k
    lg = torch.dot(hist.to(table.dtype), table.reshape(-1))
    if big_cols is not None and big_cols.numel():
        lg = lg + _lgamma_terms(big_values.to(table.dtype), theta.index_select(0, big_cols),
                                lg_theta.index_select(0, big_cols)).sum()
    return lg
