"""The effect matrices ``cmcvae validate`` scores: one per method, per read-out.

:func:`effect_matrices` is the one place that knows which methods are scored and how each
predicts knockdown effects; everything method-specific lives in this file, so the estimation
layer behind it can be replaced without touching the validation workflow (``_validate.py``).

An effect matrix is a :class:`pandas.DataFrame` indexed by the knocked-down genes; its columns
are the read-outs (proteins for ``readout="protein"``, genes for ``readout="rna"``) and an entry
is the predicted change of the read-out when the gene is knocked **down** (the sign is the
predicted direction).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    always_down_effects,
    correlation_effects,
    random_effects,
    ridge_effects,
)
from cmcvae.tl._effects import RunEffects
from cmcvae.tl._screen_fit import obs_labels

__all__ = ["TRUTH_FILES", "effect_matrices", "knockdown_truth_matrix", "screen_targets"]

#: A simulation's truth tables per read-out (``truth/``): the oracle's effects.
TRUTH_FILES = {"protein": "knockdown_effects.csv", "rna": "knockdown_effects_rna.csv"}
#: The read-out column of each truth table.
_TRUTH_COLUMN = {"protein": "protein", "rna": "gene"}


def effect_matrices(effects: RunEffects, rna_counts, prot_counts, *, readout: str,
                    truth_effects: str | Path | pd.DataFrame | None, seed: int,
                    estimator: str | None = None,
                    sources: Sequence[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every method's knockdown effects for one read-out, the primary estimator first.

    Parameters
    ----------
    effects
        The run's effect estimators (:class:`~cmcvae.tl._effects.RunEffects`).
    rna_counts, prot_counts
        Training-split counts of the model's genes and proteins (``None`` for a modality the
        run left out): the protein read-out's correlation and ridge baselines are computed from
        them exactly as before the effect layer existed.
    readout
        ``"protein"``: genes × proteins; ``"rna"``: genes × genes.
    truth_effects
        A simulation's truth table (``truth/knockdown_effects.csv`` or
        ``knockdown_effects_rna.csv``, either file or their folder, or the table): adds the
        oracle; for a read-out whose table is not there the oracle is left out.
    seed
        Seed of the random baseline.
    estimator
        The primary estimator (default: :meth:`RunEffects.default_method`).
    sources
        The knocked-down genes to predict (default: every gene of the run).

    Returns
    -------
    dict
        ``{method: effect matrix}`` in order: ``cmcvae`` (the primary estimator), every other
        estimator the run can use (``adjust``, ``adjust_all``, ``adjust_parents``, ``ida``,
        ``propagate``, by name), then the baselines ``correlation``, ``ridge``, ``random``,
        ``always_down`` and, with a truth, ``oracle``.

    Raises
    ------
    CMCVAEInputError
        An unknown read-out or estimator, or a read-out the model does not predict.
    """
    model = effects.model
    if readout == "protein":
        readouts = list(model.proteins)
    elif readout == "rna":
        if not model.genes:
            raise CMCVAEInputError(
                "The run has no genes (a --modality protein fit): gene read-outs need an RNA "
                "model; validate it with --readout protein.")
        readouts = list(model.genes)
    else:
        raise CMCVAEInputError(f"Unknown readout {readout!r}; use 'protein' or 'rna'.")
    primary = estimator or effects.default_method()
    sources = list(model.genes) if sources is None else [str(s) for s in sources]
    out = {"cmcvae": effects.estimate(primary, sources, readouts, readout).effect}
    out["cmcvae"].attrs["estimator"] = primary
    for name in effects.available():
        if name not in (primary, "correlation", "ridge"):
            estimate = effects.estimate(name, sources, readouts, readout)
            out[name] = estimate.effect
            if name == "stack":  # the screen's verdict on the estimators, for the json
                out[name].attrs["stack"] = estimate.info
    if readout == "protein":
        out["correlation"] = correlation_effects(rna_counts, prot_counts, model.genes, model.proteins)
        out["ridge"] = ridge_effects(rna_counts, prot_counts, model.genes, model.proteins)
    else:
        for name in ("correlation", "ridge"):
            out[name] = effects.estimate(name, sources, readouts, readout).effect
    out["random"] = random_effects(model.genes, readouts, seed=seed)
    out["always_down"] = always_down_effects(model.genes, readouts)
    truth = _truth_table(truth_effects, readout)
    if truth is not None:
        reference = out["always_down"]
        out["oracle"] = knockdown_truth_matrix(truth, readout).reindex(
            index=reference.index, columns=reference.columns).fillna(0.0)
    return out


def screen_targets(perturb, key: str, genes: Sequence[str]) -> list[str]:
    """The run's genes that a screen knocks down (its ``obs[key]`` labels); every gene when none."""
    labels = set(obs_labels(perturb, key).dropna())
    hits = [g for g in genes if g in labels]
    return hits or list(genes)


def _truth_table(truth: str | Path | pd.DataFrame | None, readout: str) -> pd.DataFrame | str | Path | None:
    """The oracle's table for ``readout``: ``truth`` itself, its sibling file, or ``None``.

    ``truth`` may name either truth file (or the ``truth/`` folder): the other read-out's file
    is looked up beside it, and a read-out without its file has no oracle. A table is used
    when it has the read-out's column (``protein`` / ``gene``).
    """
    if truth is None:
        return None
    if isinstance(truth, pd.DataFrame):  # the other read-out's table: no oracle here
        other = _TRUTH_COLUMN["rna" if readout == "protein" else "protein"]
        theirs = other in truth.columns and _TRUTH_COLUMN[readout] not in truth.columns
        return None if theirs else truth
    path = Path(truth)
    if path.is_dir():
        candidate = path / TRUTH_FILES[readout]
        return candidate if candidate.is_file() else None
    if path.name == TRUTH_FILES[readout] or path.name not in TRUTH_FILES.values():
        return path  # the read-out's own file (or a file named otherwise: read and checked)
    candidate = path.parent / TRUTH_FILES[readout]
    return candidate if candidate.is_file() else None


def knockdown_truth_matrix(truth: str | Path | pd.DataFrame, readout: str = "protein") -> pd.DataFrame:
    """Oracle effect matrix from ``truth/knockdown_effects.csv`` (or ``…_rna.csv``).

    Parameters
    ----------
    truth
        The file or its table, with columns ``perturbation``, ``protein`` (``gene`` for
        ``readout="rna"``) and ``true_effect``.
    readout
        ``"protein"`` (genes × proteins) or ``"rna"`` (genes × genes).

    Returns
    -------
    pandas.DataFrame
        Mean true effect per knocked-down gene (rows) and read-out (columns).
    """
    df = pd.read_csv(truth) if isinstance(truth, (str, Path)) else truth
    column = _TRUTH_COLUMN.get(readout, "protein")
    need = {"perturbation", column, "true_effect"}
    if not need <= set(df.columns):
        raise CMCVAEInputError(f"Truth effects need columns {sorted(need)}; found {list(df.columns)}.")
    return df.pivot_table(index="perturbation", columns=column, values="true_effect", aggfunc="mean")
