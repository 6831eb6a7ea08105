"""cmcvae: CrossModal-CausalVAE for directed gene and protein networks from CITE-seq."""

from __future__ import annotations

__version__ = "0.1.0"

from ._errors import CMCVAEInputError
from .model import CMCVAE, CMCVAEConfig

__all__ = ["CMCVAE", "CMCVAEConfig", "CMCVAEInputError", "__version__"]
