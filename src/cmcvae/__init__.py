"""cmcvae: CrossModal-CausalVAE for directed gene and protein networks from CITE-seq.

Table of contents
-----------------
- :class:`CMCVAE`, :class:`CMCVAEConfig` — the model (setup, train, getters, save/load).
- :func:`simulate`, :func:`read_simulation` — CITE-seq data with a known causal structure.
- :mod:`cmcvae.tl` — fitting workflows, zero-shot validation and baselines.
"""

from __future__ import annotations

from cmcvae import tl
from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.datasets import read_simulation, simulate
from cmcvae.model import CMCVAE, CMCVAEConfig

__all__ = ["CMCVAE", "CMCVAEConfig", "CMCVAEInputError", "read_simulation", "simulate", "tl", "__version__"]
