"""cmcvae: CrossModal-CausalVAE for directed gene and protein networks from CITE-seq.

Table of contents
-----------------
- :class:`CMCVAE`, :class:`CMCVAEConfig` — the model (setup, train, getters, save/load).
- :func:`simulate`, :func:`read_simulation` — CITE-seq data with a known causal structure.
- :mod:`cmcvae.tl` — fitting workflows, zero-shot validation and baselines.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep rather than spin (read when torch loads, so set before any import):
# spinning threads of several fits on the same cores slow each down tens of times. A value the
# user set is kept. See cmcvae.model._threads and docs/scale.md.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from cmcvae import tl  # noqa: E402
from cmcvae._errors import CMCVAEInputError  # noqa: E402
from cmcvae._version import __version__  # noqa: E402
from cmcvae.datasets import read_simulation, simulate  # noqa: E402
from cmcvae.model import CMCVAE, CMCVAEConfig  # noqa: E402

__all__ = ["CMCVAE", "CMCVAEConfig", "CMCVAEInputError", "read_simulation", "simulate", "tl", "__version__"]
