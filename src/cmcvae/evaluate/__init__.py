"""Evaluation: zero-shot perturbation validation, recovery metrics and baselines (``cmcvae.evaluate``).

Effect matrices are :class:`pandas.DataFrame` objects indexed by gene with protein columns; an
entry is the predicted change of the protein when the gene is knocked down.

Table of contents
-----------------
Zero-shot perturbation validation (``cmcvae validate``; definitions in ``_perturbation.py``):

- :func:`validate` — observed effects once, every method scored on the same pairs;
  :func:`write_validation` writes ``validation.json`` and ``predictions.csv``.
- :func:`observed_effects` (``_observed.py``) — knockdown vs control per (perturbation, protein);
  :func:`observed_rna_effects` and :func:`knockdown_efficiency` (``_observed_rna.py``) — the
  same per (perturbation, gene) for ``validate(..., readout="rna")``.
- :func:`score_predictions` (``_scoring.py``) — AUROC, AUPRC and direction accuracy of one method.
- :func:`check_perturbation_data` (``_screen.py``) — fail fast on a screen ``observed_effects``
  would reject; :func:`match_proteins` (``_matching.py``) — model proteins ↔ panel antibodies.
- :data:`DEFINITIONS`, :data:`PREDICTION_COLUMNS`, :data:`OBSERVED_COLUMNS` (and
  :data:`PREDICTION_COLUMNS_RNA`, :data:`OBSERVED_RNA_COLUMNS`, :data:`READOUTS`,
  :data:`VALIDATION_FILES` per read-out); :func:`rna_modality` (``_screen.py``).

Observational baselines (``_baselines.py``): :func:`correlation_effects`, :func:`ridge_effects`,
:func:`random_effects`, :func:`always_down_effects`; :data:`DEFAULT_RIDGE_ALPHAS`.

Metrics (``_metrics.py``): :func:`auroc`, :func:`auprc`, :func:`bh_fdr`,
:func:`direction_accuracy`, :func:`sign_agreement`.

Network read-outs against a truth or a prior:

- :func:`central_dogma`, :func:`asymmetry_test` (``_asymmetry.py``) — RNA→protein vs
  protein→RNA of matched pairs.
- :func:`recovery_scores`, :func:`association_networks` (``_recovery.py``) — AUROC / AUPRC of
  each network against a simulated truth, and the correlation baselines' networks.
- :func:`tf_target_edges`, :func:`tf_target_asymmetry` (``_tf_target.py``) — TF→target vs
  reverse effects of prior edges.
"""

from cmcvae.evaluate._asymmetry import asymmetry_test, central_dogma
from cmcvae.evaluate._baselines import (
    DEFAULT_RIDGE_ALPHAS,
    always_down_effects,
    correlation_effects,
    random_effects,
    ridge_effects,
)
from cmcvae.evaluate._matching import match_proteins
from cmcvae.evaluate._metrics import auprc, auroc, bh_fdr, direction_accuracy, sign_agreement
from cmcvae.evaluate._observed import OBSERVED_COLUMNS, observed_effects
from cmcvae.evaluate._observed_rna import (
    OBSERVED_RNA_COLUMNS,
    knockdown_efficiency,
    observed_rna_effects,
)
from cmcvae.evaluate._perturbation import (
    DEFINITIONS,
    PREDICTION_COLUMNS,
    PREDICTION_COLUMNS_RNA,
    READOUTS,
    VALIDATION_FILES,
    validate,
    write_validation,
)
from cmcvae.evaluate._recovery import association_networks, recovery_scores
from cmcvae.evaluate._scoring import score_predictions
from cmcvae.evaluate._screen import check_perturbation_data, rna_modality
from cmcvae.evaluate._tf_target import tf_target_asymmetry, tf_target_edges

__all__ = [
    "DEFAULT_RIDGE_ALPHAS", "DEFINITIONS", "OBSERVED_COLUMNS", "OBSERVED_RNA_COLUMNS",
    "PREDICTION_COLUMNS", "PREDICTION_COLUMNS_RNA", "READOUTS", "VALIDATION_FILES",
    "always_down_effects", "association_networks", "asymmetry_test", "auprc", "auroc", "bh_fdr",
    "central_dogma", "check_perturbation_data", "correlation_effects", "direction_accuracy",
    "knockdown_efficiency", "match_proteins", "observed_effects", "observed_rna_effects",
    "random_effects", "recovery_scores", "ridge_effects", "rna_modality", "score_predictions",
    "sign_agreement", "tf_target_asymmetry", "tf_target_edges", "validate", "write_validation",
]
