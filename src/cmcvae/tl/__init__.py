"""Tools: fitting, zero-shot validation and the observational baselines (a table of contents).

Effect matrices are ``pandas.DataFrame`` objects indexed by gene with protein columns; an entry
is the predicted change of the protein when the gene is knocked down.
"""

from cmcvae.evaluate._baselines import (
    always_down_effects,
    correlation_effects,
    random_effects,
    ridge_effects,
)
from cmcvae.evaluate._perturbation import (
    observed_effects,
    score_predictions,
    validate,
    write_validation,
)
from cmcvae.tl._workflows import direction_accuracy_vs_truth, fit_run, run_default, validate_run

__all__ = [
    "always_down_effects",
    "correlation_effects",
    "direction_accuracy_vs_truth",
    "fit_run",
    "observed_effects",
    "random_effects",
    "ridge_effects",
    "run_default",
    "score_predictions",
    "validate",
    "validate_run",
    "write_validation",
]
