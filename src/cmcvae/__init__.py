"""cmcvae: CrossModal-CausalVAE for directed gene and protein networks from CITE-seq."""

from __future__ import annotations

__version__ = "0.1.0"
