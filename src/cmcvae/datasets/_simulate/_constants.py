"""Shared constants of the simulator: regimes, the control label and the model constants."""

from __future__ import annotations

from typing import Any

REGIMES = ("forward", "reversed", "mixed", "confounded")
"""Matched-pair regimes understood by :func:`simulate`."""

REGULATIONS = ("linear", "saturating")
"""Regulation mechanisms understood by :func:`simulate` (``regulation=``)."""

CONTROL_LABEL = "control"
"""``obs["perturbation"]`` label of the control cells of the perturbation screen."""

# Fixed constants of the generative model (recorded in ``params["constants"]``).
_CONSTANTS: dict[str, Any] = {
    "tf_target_explained": [0.4, 0.8],
    "protein_parents_explained": [0.3, 0.6],
    "raw_weight_magnitude": [0.5, 1.5],
    "master_tf_fraction": 0.2,
    "tf_parent_counts": [1, 2, 3],
    "tf_parent_probs": [0.4, 0.35, 0.25],
    "tf_hub_log_sd": 1.0,
    "panel_tf_fraction": 0.15,
    "state_tf_fraction": 0.3,
    "state_protein_fraction": 0.1,
    "state_shift_magnitude": [0.5, 1.5],
    "state_prob_concentration": 4.0,
    "donor_state_concentration": 20.0,
    "donor_size_concentration": 10.0,
    "rna_base_log_sd": 1.0,
    "rna_scale": [0.5, 1.0],
    "rna_theta": [5.0, 20.0],
    "rna_library_log_sd": 0.4,
    "protein_base_log_sd": 0.8,
    "protein_scale": [0.5, 1.0],
    "protein_theta": [20.0, 50.0],
    "protein_library_log_sd": 0.4,
    "protein_counts_per_protein": 60.0,
    "ambient_profile_log_sd": 0.5,
    "donor_library_log_sd": 0.2,
}
