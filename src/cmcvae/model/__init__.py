"""The CMC-VAE model: one user class over two architectures (``cmcvae.model``).

Table of contents
-----------------
- :class:`CMCVAE` — the model: setup, train, getters, save/load.
- :class:`CMCVAEConfig` — its settings; :data:`ARCHS` the architectures (``"latent"``, the
  published latent VAE, and ``"sem"``), :data:`ARCH_ALIASES` their earlier names (``"poster"``).
- :mod:`cmcvae.model.latent`, :mod:`cmcvae.model.sem` — the two architectures, one folder each;
  :class:`Architecture` what the model needs from one, :data:`ARCHITECTURES` them by name.
- :class:`TrainingMixin` — ``train()``: the Lightning wiring around an architecture's plan.
- :func:`check_lightning_options`, :func:`check_data_on_device`, :func:`check_hardware`,
  :func:`is_primary_process`, :func:`may_be_distributed` — checks of the training options,
  before anything is written; :data:`ACCELERATORS`, :data:`PRECISIONS` the accepted names.
- :data:`FIELD_RULES` — what each config field accepts (checked whenever a field is set).
- :func:`split_cells` — the seeded train/validation/test split.
- :func:`h_dagma`, :func:`h_and_grad`, :func:`in_domain` — DAGMA's acyclicity and its domain.
"""

from cmcvae.model._arch import Architecture
from cmcvae.model._config import ARCH_ALIASES, ARCHS, FIELD_RULES, MAX_SEED, CMCVAEConfig
from cmcvae.model._dagma import h_and_grad, h_dagma, in_domain
from cmcvae.model._model import CMCVAE
from cmcvae.model._registry import ARCHITECTURES
from cmcvae.model._split import split_cells
from cmcvae.model._training import (
    ACCELERATORS,
    PRECISIONS,
    TrainingMixin,
    check_data_on_device,
    check_hardware,
    check_lightning_options,
    is_primary_process,
    may_be_distributed,
)

__all__ = [
    "ACCELERATORS", "ARCHITECTURES", "ARCHS", "ARCH_ALIASES", "Architecture", "CMCVAE", "CMCVAEConfig",
    "FIELD_RULES", "MAX_SEED", "PRECISIONS", "TrainingMixin", "check_data_on_device", "check_hardware",
    "check_lightning_options", "h_and_grad", "h_dagma",
    "in_domain", "is_primary_process", "may_be_distributed", "split_cells",
]
