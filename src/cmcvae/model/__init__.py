"""The CMC-VAE model: DAGMA acyclicity, latent SCM, torch module, training plan and model class."""

from ._model import CMCVAE
from .config import CMCVAEConfig

__all__ = ["CMCVAE", "CMCVAEConfig"]
