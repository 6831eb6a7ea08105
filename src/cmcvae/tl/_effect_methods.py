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

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    always_down_effects,
    correlation_effects,
    random_effects,
    ridge_effects,
)
from cmcvae.model import CMCVAE
from cmcvae.pp import log_normalize

__all__ = ["RNA_RIDGE_PENALTY", "TRUTH_FILES", "effect_matrices", "knockdown_truth_matrix"]

#: A simulation's truth tables per read-out (``truth/``): the oracle's effects.
TRUTH_FILES = {"protein": "knockdown_effects.csv", "rna": "knockdown_effects_rna.csv"}
#: Ridge penalty of the gene read-out's ridge baseline, in units of the standardised
#: covariance (a correlation matrix): ``λ`` in ``(C + λI)⁻¹``, i.e. ``λ · n_cells`` on the
#: sum-of-squares scale of unit-variance columns. Fixed, not cross-validated (a placeholder).
RNA_RIDGE_PENALTY = 1.0
#: The read-out column of each truth table.
_TRUTH_COLUMN = {"protein": "protein", "rna": "gene"}


def effect_matrices(model: CMCVAE, run: Path, rna_counts, prot_counts, *, readout: str,
                    truth_effects: str | Path | pd.DataFrame | None,
                    seed: int) -> dict[str, pd.DataFrame]:
    """Every method's knockdown effects for one read-out, the model first.

    Parameters
    ----------
    model
        The fitted model.
    run
        Its run folder (for methods that read files there; today's do not).
    rna_counts, prot_counts
        Training-split counts of the model's genes and proteins
        (:func:`cmcvae.tl._fitted.training_counts`; ``None`` for a modality the run left out).
    readout
        ``"protein"``: genes × proteins; ``"rna"``: genes × genes.
    truth_effects
        A simulation's truth table (``truth/knockdown_effects.csv`` or
        ``knockdown_effects_rna.csv``, either file or their folder, or the table): adds the
        oracle; for a read-out whose table is not there the oracle is left out.
    seed
        Seed of the random baseline.

    Returns
    -------
    dict
        ``{method: effect matrix}`` in order: ``cmcvae`` (the primary method), ``correlation``,
        ``ridge``, ``random``, ``always_down`` and, with a truth, ``oracle``.

    Raises
    ------
    CMCVAEInputError
        An unknown read-out, or one the model does not predict.
    """
    if readout == "protein":
        effects = _protein_effects(model, rna_counts, prot_counts, seed)
    elif readout == "rna":
        effects = _rna_effects(model, rna_counts, seed)
    else:
        raise CMCVAEInputError(f"Unknown readout {readout!r}; use 'protein' or 'rna'.")
    truth = _truth_table(truth_effects, readout)
    if truth is not None:
        reference = effects["always_down"]
        effects["oracle"] = knockdown_truth_matrix(truth, readout).reindex(
            index=reference.index, columns=reference.columns).fillna(0.0)
    return effects


def _protein_effects(model: CMCVAE, rna_counts, prot_counts, seed: int) -> dict[str, pd.DataFrame]:
    """Knockdown effects (genes × proteins) of the model and the baselines."""
    effects: dict[str, pd.DataFrame] = {"cmcvae": model.predict_knockdown()}
    effects["correlation"] = correlation_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["ridge"] = ridge_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["random"] = random_effects(model.genes, model.proteins, seed=seed)
    effects["always_down"] = always_down_effects(model.genes, model.proteins)
    return effects


def _rna_effects(model: CMCVAE, rna_counts, seed: int) -> dict[str, pd.DataFrame]:
    """Knockdown effects (genes × genes) of the model and the baselines (a simple placeholder).

    - ``cmcvae``: minus the total gene → gene effect of the fitted SCM.
    - ``correlation``: minus the Pearson correlation of the log-normalised genes.
    - ``ridge``: minus the coefficients of a ridge regression of each read-out gene on all
      other genes (standardised), in closed form from the correlation matrix ``C``: with
      ``Ω = (C + λI)⁻¹`` the coefficient of gene ``g`` for read-out ``h`` is ``−Ω[g, h] /
      Ω[h, h]`` (block inversion), so the effect is ``Ω[g, h] / Ω[h, h]``;
      ``λ`` = :data:`RNA_RIDGE_PENALTY`.
    - ``random``, ``always_down``: as for proteins.

    A gene's effect on its own transcript is NaN for the baselines (it is never a scored pair).
    """
    if not model.genes or rna_counts is None:
        raise CMCVAEInputError(
            "The run has no genes (a --modality protein fit): gene read-outs need an RNA model; "
            "validate it with --readout protein."
        )
    genes = pd.Index(model.genes)
    effects: dict[str, pd.DataFrame] = {
        "cmcvae": -model.get_feature_networks("total", ("rna_rna",))["rna_rna"]
    }
    corr = _gene_correlation(rna_counts)
    effects["correlation"] = _without_diagonal(-corr, genes)
    omega = np.linalg.inv(corr + RNA_RIDGE_PENALTY * np.eye(len(genes)))
    effects["ridge"] = _without_diagonal(omega / np.diag(omega)[None, :], genes)
    effects["ridge"].attrs["alpha"] = RNA_RIDGE_PENALTY
    effects["random"] = random_effects(genes, genes, seed=seed)
    effects["always_down"] = always_down_effects(genes, genes)
    return effects


def _gene_correlation(rna_counts) -> np.ndarray:
    """Pearson correlation (genes × genes) of log-normalised counts; constant genes: 0, diag 1.

    Sparse counts stay sparse: ``XᵀX`` is a genes × genes product, so only that is dense.
    """
    x = log_normalize(rna_counts)
    n = x.shape[0]
    if n < 3:
        raise CMCVAEInputError(f"Baselines need at least 3 training cells; got {n}.")
    if sp.issparse(x):
        x = sp.csr_matrix(x, dtype=np.float64)
        gram = np.asarray((x.T @ x).toarray(), dtype=np.float64)
        mean = np.asarray(x.sum(axis=0), dtype=np.float64).ravel() / n
    else:
        x = np.asarray(x, dtype=np.float64)
        gram = x.T @ x
        mean = x.mean(axis=0)
    cov = gram / n - np.outer(mean, mean)
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    denom = np.outer(std, std)
    corr = np.divide(cov, denom, out=np.zeros_like(cov), where=denom > 1e-12)
    corr = np.clip(corr, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)  # constant genes too, so C + λI stays positive definite
    return corr


def _without_diagonal(values: np.ndarray, genes: pd.Index) -> pd.DataFrame:
    out = np.array(values, dtype=np.float64, copy=True)
    np.fill_diagonal(out, np.nan)
    return pd.DataFrame(out, index=genes, columns=genes)


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
