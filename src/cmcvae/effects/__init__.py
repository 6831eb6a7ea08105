"""Knockdown effect estimation, separate from structure learning (``cmcvae.effects``).

Given a fitted run's training moments and what it knows (the GRN prior and its regulators, the
fitted graph, the model), estimate the effect of knocking down each gene on every gene and
protein, with a standard error. Sits between :mod:`cmcvae.model` (structure) and
:mod:`cmcvae.evaluate` (scoring against screens).

Table of contents
-----------------
- :func:`feature_stats`, :func:`stats_from_matrix`, :class:`FeatureStats` (``_stats.py``) — the
  training moments (log-normalised RNA, CLR protein; correlations and two half-sample folds).
- :func:`estimate_effects`, :class:`EffectEstimate`, :data:`ESTIMATORS`,
  :data:`DEFAULT_ESTIMATOR` (``_estimate.py``) — the estimators by name:
  ``adjust`` (default), ``adjust_all``, ``adjust_parents``, ``adjust_graph``, ``ida``,
  ``propagate``, ``correlation``, ``ridge``.
- :func:`intervention_stats`, :class:`InterventionStats` (``_interventions.py``) — a screen fit's
  trained perturbations (their shifts), for ``adjust_iv``, ``stack``, ``linear``, ``mean``,
  ``ridge_pooled`` (:data:`SCREEN_ESTIMATORS`); :func:`linear_model` (Ahlmann-Eltze et al.'s
  linear baseline on any shift matrix); :func:`can_stack` (``_stack.py``: whether the trained
  knockdowns can weight the observational estimators).
- :func:`adjusted_effects` (``_adjust.py``) — regression coefficients and SEs under any
  adjustment sets, from the correlation matrix.
- :func:`resolve_regulators`, :func:`default_estimator` — which regulators an estimate adjusts
  for (given, the prior's, the packaged list or none) and the default estimator that follows.
- :func:`read_regulators`, :func:`known_regulators` (``_sets.py``) — a TF list file; the
  packaged human TF list (``resources/human_tfs.txt``).
"""

from cmcvae.effects._adjust import adjusted_effects
from cmcvae.effects._estimate import (
    DEFAULT_ESTIMATOR,
    ESTIMATORS,
    SCREEN_ESTIMATORS,
    EffectEstimate,
    Estimator,
    default_estimator,
    estimate_effects,
    gene_positions,
)
from cmcvae.effects._interventions import InterventionStats, intervention_stats, linear_model
from cmcvae.effects._sets import known_regulators, read_regulators, resolve_regulators
from cmcvae.effects._stack import can_stack
from cmcvae.effects._stats import FeatureStats, feature_stats, stats_from_matrix, transformed_blocks

__all__ = [
    "DEFAULT_ESTIMATOR", "ESTIMATORS", "SCREEN_ESTIMATORS", "EffectEstimate", "Estimator",
    "FeatureStats", "InterventionStats", "intervention_stats", "linear_model",
    "adjusted_effects", "can_stack", "default_estimator", "estimate_effects", "feature_stats", "gene_positions", "known_regulators",
    "read_regulators", "resolve_regulators",
    "stats_from_matrix", "transformed_blocks",
]
