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
        Optional :func:`cmcvae.data.batches.count_histogram` of the same counts: the ``lgamma``
        terms are then evaluated once per (gene, count) pair instead of once per non-zero.
    """
    n_genes = log_ratio.shape[1]
    theta = torch.exp(log_theta)
    zero_part = -(F.softplus(log_ratio) @ theta).sum()  # −Σ θ softplus(ℓ − t)
    r = log_ratio.reshape(-1).index_select(0, rows * n_genes + cols)
    count_part = -torch.dot(values.to(r.dtype), F.softplus(-r))  # −Σ x softplus(t − ℓ)
    lg_theta = torch.lgamma(theta)
    if hist is None:
        lg = _lgamma_terms(values, theta.index_select(0, cols), lg_theta.index_select(0, cols)).sum()
    else:
        k = hist.numel() // max(n_genes, 1)
        ks = torch.arange(1, k + 1, dtype=log_ratio.dtype, device=log_ratio.device)
        table = _lgamma_terms(ks, theta.unsqueeze(1), lg_theta.unsqueeze(1))  # genes × k
        lg = torch.dot(hist.to(table.dtype), table.reshape(-1))
        if big_cols is not None and big_cols.numel():
            lg = lg + _lgamma_terms(big_values.to(table.dtype), theta.index_select(0, big_cols),
                                    lg_theta.index_select(0, big_cols)).sum()
    return zero_part + count_part + lg
