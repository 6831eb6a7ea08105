"""Argument checks, the validated model knobs (:class:`_Spec`) and the seeded streams."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets._simulate._constants import REGIMES, REGULATIONS

# Stream indices of the SeedSequence children. The mechanism streams (_S_EFFECTS: Monte Carlo
# true effects under saturating regulation; _S_MECHANISM: translation efficiencies) come after
# the original six, so the first six children, and the default output, are unchanged.
_S_GRAPH, _S_MEASURE, _S_DONORS, _S_CELLS, _S_PERTURB, _S_PRIORS, _S_EFFECTS, _S_MECHANISM = range(8)


@dataclass
class _Spec:
    """Validated knobs of the graph and the measurement model."""

    n_genes: int
    n_proteins: int
    regime: str
    n_cell_states: int
    tf_fraction: float
    translation_strength: float
    n_feedback: int | None
    ppi_per_protein: float
    positive_fraction: float
    cell_state_shift: float
    rna_library_median: float
    protein_library_median: float | None
    donor_sd: float
    ambient_fraction: float
    regulation: str = "linear"
    saturation_scale: float = 1.0
    translation_efficiency_sd: float = 0.0


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise CMCVAEInputError(
            f"{name} must be an integer ≥ {minimum}, got {value!r}; pass a valid {name}."
        )
    return int(value)


def _check_float(name: str, value: Any, low: float, high: float, *, open_low: bool = False,
                 open_high: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = math.isfinite(v) and (v > low if open_low else v >= low) and (
        v < high if open_high else v <= high)
    if not ok:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        raise CMCVAEInputError(
            f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}; pass a value in "
            "that range."
        )
    return v


def _make_spec(n_genes: int, n_proteins: int, regime: str, n_cell_states: int,
               tf_fraction: float, translation_strength: float, n_feedback: int | None,
               ppi_per_protein: float, positive_fraction: float, cell_state_shift: float,
               rna_library_median: float, protein_library_median: float | None,
               donor_sd: float, ambient_fraction: float, regulation: str = "linear",
               saturation_scale: float = 1.0, translation_efficiency_sd: float = 0.0) -> _Spec:
    n_genes = _check_int("n_genes", n_genes, 3)
    n_proteins = _check_int("n_proteins", n_proteins, 1)
    if n_proteins > n_genes - 2:
        raise CMCVAEInputError(
            f"n_proteins ({n_proteins}) must be at most n_genes − 2 ({n_genes - 2}) because each "
            "protein is encoded by its own gene; raise n_genes or lower n_proteins."
        )
    if regime not in REGIMES:
        raise CMCVAEInputError(
            f"Unknown regime {regime!r}; choose one of {', '.join(REGIMES)}."
        )
    if n_feedback is not None:
        n_feedback = _check_int("n_feedback", n_feedback, 0)
    if regulation not in REGULATIONS:
        raise CMCVAEInputError(
            f"Unknown regulation {regulation!r}; choose one of {', '.join(REGULATIONS)}."
        )
    return _Spec(
        n_genes=n_genes,
        n_proteins=n_proteins,
        regime=regime,
        n_cell_states=_check_int("n_cell_states", n_cell_states, 1),
        tf_fraction=_check_float("tf_fraction", tf_fraction, 0.0, 1.0, open_low=True,
                                 open_high=True),
        translation_strength=_check_float("translation_strength", translation_strength, 0.0,
                                          1.0, open_low=True, open_high=True),
        n_feedback=n_feedback,
        ppi_per_protein=_check_float("ppi_per_protein", ppi_per_protein, 0.0, 1e6),
        positive_fraction=_check_float("positive_fraction", positive_fraction, 0.0, 1.0),
        cell_state_shift=_check_float("cell_state_shift", cell_state_shift, 0.0, 1e3),
        rna_library_median=_check_float("rna_library_median", rna_library_median, 0.0, 1e9,
                                        open_low=True),
        protein_library_median=None if protein_library_median is None else _check_float(
            "protein_library_median", protein_library_median, 0.0, 1e9, open_low=True),
        donor_sd=_check_float("donor_sd", donor_sd, 0.0, 10.0),
        ambient_fraction=_check_float("ambient_fraction", ambient_fraction, 0.0, 100.0),
        regulation=regulation,
        saturation_scale=_check_float("saturation_scale", saturation_scale, 0.0, 1e3,
                                      open_low=True),
        translation_efficiency_sd=_check_float("translation_efficiency_sd",
                                               translation_efficiency_sd, 0.0, 5.0),
    )


def _seed_sequences(seed: Any) -> list[np.random.SeedSequence]:
    seed = _check_int("seed", seed, 0)
    return np.random.SeedSequence(seed).spawn(8)
