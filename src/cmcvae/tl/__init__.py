"""Tools: the workflows behind the command line, zero-shot validation and baselines (``cmcvae.tl``).

Effect matrices are ``pandas.DataFrame`` objects indexed by gene with protein columns; an entry
is the predicted change of the protein when the gene is knocked down.

Table of contents
-----------------
Workflows (one per command; each reads and writes files, ``docs/design.md`` §3-4):

- :func:`prepare_run` — ``cmcvae prepare``: harmonise datasets into one model-ready atlas.
- :func:`fit_run`, :func:`resume_run` — ``cmcvae fit``: train and write a run folder; continue
  a cut fit.
- :func:`fit_seeds`, :func:`summarize_ensemble` — ``cmcvae fit --seeds``: one run per seed and
  their agreement; :func:`parse_seeds`, :func:`seed_runs`, :func:`is_ensemble` read the seeds
  and the folders of an ensemble.
- :func:`validate_run` — ``cmcvae validate``: zero-shot validation against a perturbation screen
  (``readout`` protein, rna or both, :data:`READOUT_CHOICES`); :func:`effect_matrices`
  (``_effect_methods.py``: every method's effect matrix per read-out),
  :func:`knockdown_truth_matrix` (the oracle of a simulation) and
  :func:`direction_accuracy_vs_truth` (matched-pair directions vs a simulation's truth).
- :func:`predict_run` — ``cmcvae predict``: a run's predicted knockdown effects with their
  uncertainty, by knocked-down gene or by readout (columns :data:`PREDICT_COLUMNS`).
- :func:`analyze_run` — ``cmcvae analyze``: central-dogma and TF→target asymmetry, recovery.

Results in the user's data (``_results.py``; no files):

- :func:`write_results` — a fitted model's (or run folder's) networks, matched pairs, knockdown
  effects and validation written into the MuData (``uns["cmcvae"]``, ``varp`` / ``varm``
  ``cmcvae_*``), scanpy-style with ``key_added``; :func:`read_results` gives the ``uns`` entry
  back with its dicts parsed; :data:`RESULT_KEY`.
- :func:`run_default` — ``cmcvae run``: simulate → fit → validate → summary.

Zero-shot validation on effect matrices (no files):

- :func:`observed_effects`, :func:`score_predictions`, :func:`validate`,
  :func:`write_validation`.

Observational baselines (effect matrices from the training counts):

- :func:`correlation_effects`, :func:`ridge_effects`, :func:`random_effects`,
  :func:`always_down_effects`.
"""

from cmcvae.evaluate import (
    always_down_effects,
    correlation_effects,
    observed_effects,
    random_effects,
    ridge_effects,
    score_predictions,
    validate,
    write_validation,
)
from cmcvae.io import RESULT_KEY, read_results
from cmcvae.tl._analyze import analyze_run
from cmcvae.tl._effect_methods import effect_matrices, knockdown_truth_matrix
from cmcvae.tl._ensemble import fit_seeds, is_ensemble, parse_seeds, seed_runs, summarize_ensemble
from cmcvae.tl._fit import fit_run, resume_run
from cmcvae.tl._predict import PREDICT_COLUMNS, predict_run
from cmcvae.tl._prepare import prepare_run
from cmcvae.tl._results import write_results
from cmcvae.tl._run import run_default
from cmcvae.tl._validate import READOUT_CHOICES, direction_accuracy_vs_truth, validate_run

__all__ = [
    "PREDICT_COLUMNS",
    "READOUT_CHOICES",
    "RESULT_KEY",
    "always_down_effects",
    "analyze_run",
    "correlation_effects",
    "direction_accuracy_vs_truth",
    "effect_matrices",
    "fit_run",
    "fit_seeds",
    "is_ensemble",
    "knockdown_truth_matrix",
    "observed_effects",
    "parse_seeds",
    "predict_run",
    "prepare_run",
    "random_effects",
    "read_results",
    "resume_run",
    "ridge_effects",
    "run_default",
    "score_predictions",
    "seed_runs",
    "summarize_ensemble",
    "validate",
    "validate_run",
    "write_results",
    "write_validation",
]
