"""The latent VAE, the published design (``arch="latent"``, alias ``"poster"``).

Table of contents
-----------------
- :class:`LatentArch` — the architecture :class:`~cmcvae.model.CMCVAE` delegates to.
- :class:`CMCVAEModule` — encoder for exogenous noise, latent linear SCM, linear decoders and
  the loss of Equation 1.
- :class:`TrainingPlan` — Lightning plan: DAGMA's central path, KL annealing, the M-matrix
  guard (with :class:`KeepBest`, :class:`FinalStageEarlyStopping`, :class:`DataOnDevice`);
  loaded with Lightning on first use.
- :class:`CellBatches`, :func:`make_loader`, :class:`EpochBatchSampler` — sparse minibatches,
  seeded per epoch and sharded across processes.
- :func:`nb_log_likelihood`, :func:`nb_decoder_log_likelihood` — the negative-binomial
  likelihood of RNA counts.
- :func:`scm_solve` — latent values of the SCM for exogenous noise.
"""

from typing import Any

from cmcvae.model.latent._arch import LatentArch, plan_module
from cmcvae.model.latent._batches import CellBatches
from cmcvae.model.latent._likelihood import nb_decoder_log_likelihood, nb_log_likelihood
from cmcvae.model.latent._module import CMCVAEModule
from cmcvae.model.latent._sampling import EpochBatchSampler, make_loader
from cmcvae.model.latent._scm import scm_solve

#: Names from the Lightning plan module, resolved on first access (Lightning imports slowly).
_PLAN_NAMES = ("DataOnDevice", "FinalStageEarlyStopping", "KeepBest", "TrainingPlan")


def __getattr__(name: str) -> Any:
    if name in _PLAN_NAMES:
        return getattr(plan_module(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CMCVAEModule", "CellBatches", "DataOnDevice", "EpochBatchSampler", "FinalStageEarlyStopping",
    "KeepBest", "LatentArch", "TrainingPlan", "make_loader", "nb_decoder_log_likelihood",
    "nb_log_likelihood", "scm_solve",
]
