"""The CMC-VAE torch module: inference, generative model and the loss of Equation 1."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .config import CMCVAEConfig
from .dagma import h_dagma
from .scm import pair_scores, scm_solve


def _mlp(n_in: int, n_hidden: int, n_layers: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(n_in if i == 0 else n_hidden, n_hidden), nn.LayerNorm(n_hidden), nn.ReLU()]
    return nn.Sequential(*layers)


def nb_log_likelihood(counts: torch.Tensor, mu: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Negative-binomial log-likelihood (mean ``mu``, inverse dispersion ``theta``), per entry."""
    eps = 1e-8
    log_theta_mu = torch.log(theta + mu + eps)
    return (
        theta * (torch.log(theta + eps) - log_theta_mu)
        + counts * (torch.log(mu + eps) - log_theta_mu)
        + torch.lgamma(counts + theta)
        - torch.lgamma(theta)
        - torch.lgamma(counts + 1.0)
    )


def nb_log_likelihood_sparse(log_mu: torch.Tensor, theta: torch.Tensor, rows: torch.Tensor,
                             cols: torch.Tensor, values: torch.Tensor,
                             lgamma_counts: torch.Tensor | None = None) -> torch.Tensor:
    """Per-cell NB log-likelihood summed over genes, with the counts given as non-zeros.

    Equal to ``nb_log_likelihood(counts, exp(log_mu), theta).sum(1)`` but the ``lgamma``
    terms and the ``counts · log`` term are computed only where a count is non-zero (at a zero
    count they cancel or vanish), which is most of the cost on sparse RNA data.

    Parameters
    ----------
    log_mu
        Cells × genes log-means (already clamped).
    theta
        Per-gene inverse dispersion.
    rows, cols, values
        Coordinates and values of the non-zero counts of the minibatch.
    lgamma_counts
        Per-cell ``Σ_g lgamma(count + 1)`` (a constant of the data, precomputed once);
        computed from ``values`` when ``None``.
    """
    eps = 1e-8
    mu = torch.exp(log_mu)
    log_theta_mu = torch.log(theta + mu + eps)
    per_cell = (theta * (torch.log(theta + eps) - log_theta_mu)).sum(1)
    if lgamma_counts is None:
        lgamma_counts = torch.zeros_like(per_cell).index_add(0, rows, torch.lgamma(values + 1.0))
    flat = rows * log_mu.shape[1] + cols
    lm = log_mu.reshape(-1).index_select(0, flat)  # one gather; the rest is recomputed
    mu_nz = torch.exp(lm)
    th = theta.index_select(0, cols)
    lg_theta = torch.lgamma(theta).index_select(0, cols)
    nz = (values * (torch.log(mu_nz + eps) - torch.log(th + mu_nz + eps))
          + torch.lgamma(values + th) - lg_theta)
    return per_cell.index_add(0, rows, nz) - lgamma_counts


class CMCVAEModule(nn.Module):
    """Encoder for exogenous noise, latent linear SCM and linear decoders.

    Parameters
    ----------
    n_genes, n_proteins
        Number of RNA and protein features.
    n_donors
        Number of donors (batch levels); the encoder sees a one-hot donor code (a learned
        embedding above ``config.donor_onehot_max`` donors) and each decoder has per-donor
        offsets.
    config
        Model settings.
    """

    def __init__(self, n_genes: int, n_proteins: int, n_donors: int, config: CMCVAEConfig):
        super().__init__()
        self.config = config
        self.n_genes, self.n_proteins, self.n_donors = n_genes, n_proteins, n_donors
        Kr, Kp = config.n_latent_rna, config.n_latent_protein
        K = Kr + Kp
        # Donor code for the encoder: one-hot for a few donors, an embedding for an atlas's
        # hundreds (a 138-column one-hot block is mostly zeros the first layer multiplies).
        self.donor_embedding = (nn.Embedding(n_donors, config.donor_embedding_dim)
                                if n_donors > config.donor_onehot_max else None)
        n_donor_in = n_donors if self.donor_embedding is None else config.donor_embedding_dim
        self.encoder = _mlp(n_genes + n_proteins + n_donor_in, config.n_hidden, config.n_layers)
        self.mean_head = nn.Linear(config.n_hidden, K)
        self.logvar_head = nn.Linear(config.n_hidden, K)
        self.A_raw = nn.Parameter(torch.zeros(K, K))
        mask = 1.0 - torch.eye(K)
        if not config.allow_protein_to_rna:
            mask[Kr:, :Kr] = 0.0
        self.register_buffer("A_mask", mask)
        self.W_r = nn.Parameter(nn.init.orthogonal_(torch.empty(n_genes, Kr)))
        self.W_p = nn.Parameter(nn.init.orthogonal_(torch.empty(n_proteins, Kp)))
        self.c_r = nn.Parameter(torch.zeros(n_donors, n_genes))
        self.c_p = nn.Parameter(torch.zeros(n_donors, n_proteins))
        if config.likelihood == "nb":
            self.log_theta = nn.Parameter(torch.full((n_genes,), math.log(10.0)))

    def init_rna_offsets(self, log_proportion: torch.Tensor) -> None:
        """Start the per-donor RNA offsets at the log mean proportion of each gene.

        Only used by the negative-binomial likelihood, where ``x̂`` is a log-mean relative to
        the library size; starting at zero would predict the whole library for every gene.
        """
        with torch.no_grad():
            self.c_r.copy_(log_proportion.to(self.c_r).expand_as(self.c_r))

    # ------------------------------------------------------------------ structure
    @property
    def A(self) -> torch.Tensor:
        """Weighted latent adjacency with the diagonal (and any forbidden block) masked."""
        return self.A_raw * self.A_mask

    @property
    def n_latent_rna(self) -> int:
        return self.config.n_latent_rna

    # ------------------------------------------------------------------ model
    def inference(self, x: torch.Tensor, y: torch.Tensor, donor: torch.Tensor):
        """Posterior ``q(ε | x, y, b)``: mean and log-variance."""
        if self.donor_embedding is None:
            code = F.one_hot(donor, self.n_donors).to(x.dtype)
        else:
            code = self.donor_embedding(donor).to(x.dtype)
        h = self.encoder(torch.cat([x, y, code], dim=1))
        return self.mean_head(h), self.logvar_head(h).clamp(-10.0, 10.0)

    def generative(self, z: torch.Tensor, donor: torch.Tensor):
        """Linear decoders with per-donor offsets: ``x̂ = W_r z_r + c_r[b]``, ``ŷ = W_p z_p + c_p[b]``."""
        Kr = self.n_latent_rna
        x_hat = z[:, :Kr] @ self.W_r.T + self.c_r[donor]
        y_hat = z[:, Kr:] @ self.W_p.T + self.c_p[donor]
        return x_hat, y_hat

    def forward(self, batch: dict[str, torch.Tensor], sample: bool = True):
        mu, logvar = self.inference(batch["x"], batch["y"], batch["donor"])
        eps = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        z = scm_solve(eps, self.A)
        x_hat, y_hat = self.generative(z, batch["donor"])
        return {"mu": mu, "logvar": logvar, "eps": eps, "z": z, "x_hat": x_hat, "y_hat": y_hat}

    # ------------------------------------------------------------------ loss
    def reconstruction(self, batch: dict[str, torch.Tensor], out: dict[str, torch.Tensor]):
        """Per-cell reconstruction loss summed over features."""
        rec_y = 0.5 * ((out["y_hat"] - batch["y"]) ** 2).sum(1)
        if self.config.likelihood == "nb":
            log_mu = (out["x_hat"] + torch.log(batch["library"]).unsqueeze(1)).clamp(max=20.0)
            theta = torch.exp(self.log_theta)
            if "counts" in batch:  # dense counts (kept for callers that build their own batches)
                rec_x = -nb_log_likelihood(batch["counts"], torch.exp(log_mu), theta).sum(1)
            else:
                rows, cols = batch["counts_index"]
                rec_x = -nb_log_likelihood_sparse(log_mu, theta, rows, cols, batch["counts_value"],
                                                  batch.get("counts_lgamma"))
        else:
            rec_x = 0.5 * ((out["x_hat"] - batch["x"]) ** 2).sum(1)
        return rec_x, rec_y

    def margin_loss(self, prior: dict[str, torch.Tensor] | None) -> torch.Tensor:
        """Prior margin ``max(0, m + |G[v,u]| − |G[u,v]|)`` over training prior edges."""
        zero = self.A_raw.new_zeros(())
        if not prior:
            return zero
        Kr = self.n_latent_rna
        A = self.A
        total, n = zero, 0
        for key, W, B in (("grn", self.W_r, A[:Kr, :Kr]), ("ppi", self.W_p, A[Kr:, Kr:])):
            if key not in prior or prior[key].numel() == 0:
                continue
            src, dst, sign = prior[key][:, 0].long(), prior[key][:, 1].long(), prior[key][:, 2]
            fwd = pair_scores(W, B, W, src, dst)
            rev = pair_scores(W, B, W, dst, src)
            loss = F.relu(self.config.prior_margin + rev.abs() - fwd.abs())
            if self.config.prior_sign:
                signed = sign != 0
                loss = loss + F.relu(self.config.prior_margin - sign * fwd) * signed
            total = total + loss.sum()
            n += len(src)
        return total / max(n, 1)

    def orthogonality(self) -> torch.Tensor:
        """``‖W_rᵀW_r − I‖²_F + ‖W_pᵀW_p − I‖²_F``."""
        out = self.A_raw.new_zeros(())
        for W in (self.W_r, self.W_p):
            eye = torch.eye(W.shape[1], device=W.device, dtype=W.dtype)
            out = out + ((W.T @ W - eye) ** 2).sum()
        return out

    def loss(self, batch, beta: float, lambda_dag: float, s: float, prior=None, sample: bool = True):
        """All terms of Equation 1; returns a dict with ``loss`` and each component."""
        c = self.config
        out = self.forward(batch, sample=sample)
        rec_x, rec_y = self.reconstruction(batch, out)
        kl = 0.5 * (out["mu"] ** 2 + out["logvar"].exp() - 1.0 - out["logvar"]).sum(1)
        A = self.A
        h = h_dagma(A, s)
        margin = self.margin_loss(prior)
        l1_A = A.abs().sum()
        l1_W = self.W_r.abs().sum() + self.W_p.abs().sum()
        ortho = self.orthogonality()
        elbo = (rec_x + rec_y + beta * kl).mean()
        total = (
            elbo
            + lambda_dag * h
            + c.lambda_prior * margin
            + c.lambda_sparse * l1_A
            + c.lambda_dec * l1_W
            + c.lambda_ortho * ortho
        )
        return {
            "loss": total,
            "elbo": elbo,
            "rec_rna": rec_x.mean(),
            "rec_protein": rec_y.mean(),
            "kl": kl.mean(),
            "h": h,
            "margin": margin,
            "l1_A": l1_A,
            "ortho": ortho,
        }
