"""The CMC-VAE model: DAGMA acyclicity, latent SCM, torch module, training plan and model class."""

from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._model import CMCVAE

__all__ = ["CMCVAE", "CMCVAEConfig"]
