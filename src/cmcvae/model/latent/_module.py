"""The CMC-VAE torch module: inference, generative model and the loss of Equation 1."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._dagma import h_dagma
from cmcvae.model.latent._likelihood import nb_decoder_log_likelihood
from cmcvae.model.latent._scm import pair_scores, scm_solve
from cmcvae.pp import TARGET_SUM


def _mlp(n_in: int, n_hidden: int, n_layers: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(n_layers):
        layers += [nn.Linear(n_in if i == 0 else n_hidden, n_hidden), nn.LayerNorm(n_hidden), nn.ReLU()]
    return nn.Sequential(*layers)


def _split_first_layer(module, state_dict, prefix, *args) -> None:
    """Read models saved when the donor columns were part of the first layer's weight."""
    key = prefix + "encoder.0.weight"
    if key in state_dict and prefix + "donor_in.weight" not in state_dict:
        weight = state_dict[key]
        n_in = module.encoder[0].in_features
        state_dict[key] = weight[:, :n_in].contiguous()
        state_dict[prefix + "donor_in.weight"] = weight[:, n_in:].contiguous()


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
        # first layer: [genes | proteins] → hidden, plus the donor code's own (bias-free) columns;
        # two contiguous weights (a column slice of one weight costs a copy per step)
        self.encoder = _mlp(n_genes + n_proteins, config.n_hidden, config.n_layers)
        self.donor_in = nn.Linear(n_donor_in, config.n_hidden, bias=False)
        with torch.no_grad():  # the initialisation of one Linear over all inputs
            bound = 1.0 / math.sqrt(n_genes + n_proteins + n_donor_in)
            self.encoder[0].weight.uniform_(-bound, bound)
            self.encoder[0].bias.uniform_(-bound, bound)
            self.donor_in.weight.uniform_(-bound, bound)
        self.register_load_state_dict_pre_hook(_split_first_layer)
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
        # encoder input scaling (training-split statistics; set by the model, not saved here)
        self.register_buffer("rna_mean", torch.zeros(n_genes), persistent=False)
        self.register_buffer("rna_std", torch.ones(n_genes), persistent=False)
        self.normalize_rna = True
        self.nb_chunk: int | None = 256  # cells per chunk of the fused CPU likelihood (None: off)

    def set_input_scaling(self, rna_mean, rna_std, normalize: bool) -> None:
        """Statistics that standardise the RNA encoder input, and whether the RNA values are
        raw counts to log-normalise first (see :meth:`encoder_input`)."""
        with torch.no_grad():
            self.rna_mean.copy_(torch.as_tensor(rna_mean, dtype=torch.float32))
            self.rna_std.copy_(torch.as_tensor(rna_std, dtype=torch.float32))
        self.normalize_rna = bool(normalize)

    def encoder_input(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Dense ``[RNA | protein]`` encoder input of a minibatch, built on the batch's device.

        The RNA block comes from a dense ``batch["x"]`` (already standardised) if present, else
        from the minibatch's non-zeros (:class:`~cmcvae.model.latent._batches.CellBatches`): counts are
        log-normalised (per 1e4, ``log1p``) when :attr:`normalize_rna`, then standardised with
        :meth:`set_input_scaling`'s statistics (absent entries are zeros before scaling). The
        protein block is ``batch["y"]``.
        """
        y = batch["y"]
        if "x" in batch:
            return torch.cat([batch["x"], y], dim=1)
        rows, cols, values = batch["rna_rows"], batch["rna_cols"], batch["rna_values"]
        n, G = y.shape[0], self.n_genes
        if self.normalize_rna:
            lib = batch["library"]
            scale = torch.where(lib > 0, TARGET_SUM / lib, torch.zeros_like(lib))
            values = torch.log1p(values * scale.index_select(0, rows))
        std = self.rna_std
        xy = y.new_empty((n, G + y.shape[1]))
        xy[:, :G] = -self.rna_mean / std
        xy[:, G:] = y
        xy[rows, cols] = (values - self.rna_mean.index_select(0, cols)) / std.index_select(0, cols)
        return xy

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
    def inference(self, xy: torch.Tensor, donor: torch.Tensor):
        """Posterior ``q(ε | x, y, b)`` from the :meth:`encoder_input` ``xy``: mean and log-variance.

        The first layer is ``encoder[0](xy) + donor_in(code)``: one linear map of the
        concatenated input, with the donor columns applied to the donor code separately, so no
        gradient is formed for the (data) input.
        """
        if self.donor_embedding is None:
            code = F.one_hot(donor, self.n_donors).to(xy.dtype)
        else:
            code = self.donor_embedding(donor).to(xy.dtype)
        h = self.encoder[0](xy) + self.donor_in(code)
        h = self.encoder[1:](h)
        return self.mean_head(h), self.logvar_head(h).clamp(-10.0, 10.0)

    def _decode(self, z: torch.Tensor, donor: torch.Tensor, rna: bool) -> torch.Tensor:
        """Linear decoder with per-donor offsets: ``x̂ = W_r z_r + c_r[b]`` or ``ŷ = W_p z_p + c_p[b]``."""
        Kr = self.n_latent_rna
        W, c, zb = (self.W_r, self.c_r, z[:, :Kr]) if rna else (self.W_p, self.c_p, z[:, Kr:])
        # index_select, not c[donor]: its backward is a fast index_add
        return torch.addmm(c.index_select(0, donor), zb, W.T)

    def forward(self, batch: dict[str, torch.Tensor], sample: bool = True):
        """Encode, sample ``ε``, solve the SCM; the decoders are applied by :meth:`reconstruction`."""
        xy = self.encoder_input(batch)
        mu, logvar = self.inference(xy, batch["donor"])
        eps = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        z = scm_solve(eps, self.A)
        return {"mu": mu, "logvar": logvar, "eps": eps, "z": z, "xy": xy}

    # ------------------------------------------------------------------ loss
    def reconstruction(self, batch: dict[str, torch.Tensor], out: dict[str, torch.Tensor]):
        """Reconstruction losses of RNA and protein, each summed over features, mean over cells.

        Protein: Gaussian on the standardised values. RNA with ``likelihood="nb"``: the
        negative-binomial negative log-likelihood of the counts with the library size as offset
        (``x̂`` is the log-mean per unit of library), from the minibatch's non-zeros, decoder and
        likelihood together (:func:`~cmcvae.model.latent._likelihood.nb_decoder_log_likelihood`).
        Otherwise Gaussian on the standardised values.
        """
        z, donor = out["z"], batch["donor"]
        Kr, n, G = self.n_latent_rna, z.shape[0], self.n_genes
        y_hat = self._decode(z, donor, rna=False)
        rec_y = 0.5 * ((y_hat - batch["y"]) ** 2).sum() / n
        if G == 0:
            return z.new_zeros(()), rec_y
        if self.config.likelihood == "nb":
            # CPU: decoder and likelihood fused over chunks of cells (memory-bound otherwise);
            # float32 also under mixed precision
            chunk = self.nb_chunk if z.device.type == "cpu" else None
            with torch.autocast(device_type=z.device.type, enabled=False):
                loglik = nb_decoder_log_likelihood(
                    z[:, :Kr].float(), self.W_r, self.c_r, self.log_theta, donor, batch["library"],
                    batch["rna_rows"], batch["rna_cols"], batch["rna_values"],
                    batch.get("counts_hist"), batch.get("counts_big_cols"),
                    batch.get("counts_big_values"), chunk=chunk)
            return -loglik / n, rec_y
        x_hat = self._decode(z, donor, rna=True)
        rec_x = 0.5 * ((x_hat - out["xy"][:, :G]) ** 2).sum() / n
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
        kl = 0.5 * (out["mu"] ** 2 + out["logvar"].exp() - 1.0 - out["logvar"]).sum(1).mean()
        A = self.A
        h = h_dagma(A, s)
        margin = self.margin_loss(prior)
        l1_A = A.abs().sum()
        l1_W = self.W_r.abs().sum() + self.W_p.abs().sum()
        ortho = self.orthogonality()
        elbo = rec_x + rec_y + beta * kl
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
            "rec_rna": rec_x,
            "rec_protein": rec_y,
            "kl": kl,
            "h": h,
            "margin": margin,
            "l1_A": l1_A,
            "ortho": ortho,
        }
