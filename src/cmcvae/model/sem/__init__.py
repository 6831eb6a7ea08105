"""The feature-level causal SEM (``arch="sem"``): a linear SEM over genes and proteins.

Table of contents
-----------------
- :class:`SEMArch` — the architecture :class:`~cmcvae.model.CMCVAE` delegates to.
- :func:`train_sem`, :class:`SEMFit` — correlation, DAGMA fit and DAG projection, as a result.
- :func:`fit_sem` — the SEM fitted to a correlation matrix along DAGMA's central path, with the
  scores :func:`sem_score` (``"nv"``, ``"ls"``) and :func:`me_score` (``"me"``) and
  :func:`prior_orientation_mask`.
- :func:`thinned_correlation`, :func:`thinned_covariance`, :func:`value_correlation` — the
  noise-corrected correlation of counts (binomial thinning), or of continuous values.
- :class:`SEMModule`, :class:`SEMData` — the fitted weights ``W`` and the raw data.
- :class:`InterventionData`, :func:`intervention_shifts`, :func:`shift_misfit` — a screen's
  perturbed cells in the likelihood (mean shifts with a profiled footprint, after joint causal
  inference).
"""

from cmcvae.model.sem._arch import SEMArch
from cmcvae.model.sem._fit import fit_sem, me_score, prior_orientation_mask, sem_score
from cmcvae.model.sem._module import SEMData, SEMModule
from cmcvae.model.sem._shifts import (
    InterventionData,
    InterventionShifts,
    intervention_shifts,
    shift_misfit,
)
from cmcvae.model.sem._thinning import thinned_correlation, thinned_covariance, value_correlation
from cmcvae.model.sem._train import SEMFit, train_sem

__all__ = [
    "InterventionData", "InterventionShifts", "SEMArch", "SEMData", "SEMFit", "SEMModule", "fit_sem", "me_score", "prior_orientation_mask",
    "intervention_shifts", "sem_score", "shift_misfit", "thinned_correlation", "thinned_covariance", "train_sem", "value_correlation",
]
