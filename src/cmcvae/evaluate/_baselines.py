"""Observational baselines for zero-shot knockdown prediction.

Every baseline returns an *effect matrix*: a :class:`pandas.DataFrame` indexed by gene symbols
(rows) with protein names as columns, whose entry is the predicted change of the protein when
the gene is knocked **down** (the sign is the predicted direction). The model's total effects
(docs/design.md §1) are scored against the same perturbation data in the same shape
(:func:`cmcvae.evaluate._perturbation.validate`).

The baselines are fit on the *training* data only: RNA counts are log-normalised (CP10k,
``log1p``) and proteins CLR-transformed exactly as for the model (:mod:`cmcvae.pp._normalize`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.linear_model import RidgeCV

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import clr, log_normalize

__all__ = [
    "DEFAULT_RIDGE_ALPHAS",
    "always_down_effects",
    "correlation_effects",
    "random_effects",
    "ridge_effects",
]

#: Ridge penalties tried by :func:`ridge_effects` (standardised data, so relative to ``n_cells``).
DEFAULT_RIDGE_ALPHAS: tuple[float, ...] = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


def _names(names: Sequence[str], what: str) -> pd.Index:
    index = pd.Index([str(n) for n in names])
    if len(index) == 0:
        raise CMCVAEInputError(f"No {what} names given: pass one name per {what} column.")
    if not index.is_unique:
        dups = index[index.duplicated()].unique()[:5].tolist()
        raise CMCVAEInputError(
            f"The {what} names are not unique (e.g. {dups}); make them unique "
            "(e.g. `var_names_make_unique()`) before computing baselines."
        )
    return index


def _check_inputs(rna_counts, prot_counts, genes, proteins) -> tuple[pd.Index, pd.Index]:
    """Validate shapes and names of the training matrices; return the name indexes."""
    gene_index = _names(genes, "gene")
    prot_index = _names(proteins, "protein")
    if rna_counts.ndim != 2 or prot_counts.ndim != 2:
        raise CMCVAEInputError(
            "RNA and protein counts must be 2-d matrices (cells × features); got shapes "
            f"{rna_counts.shape} and {prot_counts.shape}."
        )
    if rna_counts.shape[0] != prot_counts.shape[0]:
        raise CMCVAEInputError(
            f"RNA ({rna_counts.shape[0]} cells) and protein ({prot_counts.shape[0]} cells) counts "
            "do not hold the same cells; pass matrices with the same cells in the same order."
        )
    if rna_counts.shape[0] < 3:
        raise CMCVAEInputError(
            f"Baselines need at least 3 training cells; got {rna_counts.shape[0]}."
        )
    if rna_counts.shape[1] != len(gene_index):
        raise CMCVAEInputError(
            f"The RNA counts have {rna_counts.shape[1]} genes but {len(gene_index)} gene names "
            "were given; pass one name per column."
        )
    if prot_counts.shape[1] != len(prot_index):
        raise CMCVAEInputError(
            f"The protein counts have {prot_counts.shape[1]} proteins but {len(prot_index)} "
            "protein names were given; pass one name per column."
        )
    return gene_index, prot_index


def _mean_std64(x) -> tuple[np.ndarray, np.ndarray]:
    """Column means and (population) standard deviations accumulated in float64.

    Sparse input is handled without densifying; two-pass on the non-zeros so the variance
    does not suffer from ``E[x²] − mean²`` cancellation.
    """
    n = x.shape[0]
    if sp.issparse(x):
        m = sp.csc_matrix(x, dtype=np.float64, copy=True)
        mean = np.asarray(m.sum(axis=0), dtype=np.float64).ravel() / n
        nnz = np.diff(m.indptr)
        m.data -= np.repeat(mean, nnz)
        sq = np.asarray(m.multiply(m).sum(axis=0)).ravel()
        var = (sq + (n - nnz) * mean**2) / n
    else:
        arr = np.asarray(x, dtype=np.float64)
        mean = arr.mean(axis=0)
        var = arr.var(axis=0)
    return mean, np.sqrt(np.clip(var, 0.0, None))


def correlation_effects(
    rna_counts: np.ndarray | sp.spmatrix,
    prot_counts: np.ndarray | sp.spmatrix,
    genes: Sequence[str],
    proteins: Sequence[str],
) -> pd.DataFrame:
    """Correlation baseline: effect = −Pearson r(log-normalised gene, CLR protein).

    A knockdown lowers the gene, so a positive correlation predicts a drop of the protein.
    The correlation is computed without densifying sparse RNA (``Xᵀ·Y_centred`` with sparse
    ``X``); genes or proteins that are constant in the training data get 0.

    Parameters
    ----------
    rna_counts
        Training RNA raw counts, cells × genes (dense or scipy sparse).
    prot_counts
        Training protein raw counts, cells × proteins.
    genes, proteins
        Names of the columns of ``rna_counts`` and ``prot_counts``.

    Returns
    -------
    pandas.DataFrame
        Genes × proteins effect matrix (float64) with values in [−1, 1].

    Raises
    ------
    CMCVAEInputError
        Mismatched shapes or names.
    """
    gene_index, prot_index = _check_inputs(rna_counts, prot_counts, genes, proteins)
    x = log_normalize(rna_counts)
    y = clr(prot_counts).astype(np.float64)
    n = y.shape[0]
    y_centred = y - y.mean(axis=0, keepdims=True)
    y_std = y_centred.std(axis=0)
    _, x_std = _mean_std64(x)
    # Σ_i x_ic (y_ip − ȳ_p) = Σ_i (x_ic − x̄_c)(y_ip − ȳ_p): no need to centre X.
    if sp.issparse(x):
        cross = np.asarray((x.T @ y_centred), dtype=np.float64)
    else:
        cross = np.asarray(x, dtype=np.float64).T @ y_centred
    cov = cross / n
    denom = np.outer(x_std, y_std)
    corr = np.divide(cov, denom, out=np.zeros_like(cov), where=denom > 1e-12)
    corr = np.clip(corr, -1.0, 1.0)
    return pd.DataFrame(-corr, index=gene_index, columns=prot_index)


def _standardise_rna(x) -> np.ndarray:
    """Dense float32 z-scores of log-normalised RNA, built in row blocks from sparse input."""
    mean, std = _mean_std64(x)
    std = np.maximum(std, 1e-3)  # constant genes scale to 0
    mean, std = mean.astype(np.float32), std.astype(np.float32)
    n, g = x.shape
    out = np.empty((n, g), dtype=np.float32)
    block = max(1, 2**24 // max(g, 1))
    for start in range(0, n, block):
        stop = min(n, start + block)
        chunk = x[start:stop]
        chunk = chunk.toarray() if sp.issparse(chunk) else np.asarray(chunk)
        out[start:stop] = (chunk - mean) / std
    return out


def ridge_effects(
    rna_counts: np.ndarray | sp.spmatrix,
    prot_counts: np.ndarray | sp.spmatrix,
    genes: Sequence[str],
    proteins: Sequence[str],
    alphas: Sequence[float] = DEFAULT_RIDGE_ALPHAS,
    alpha_per_target: bool = False,
) -> pd.DataFrame:
    """Ridge baseline: multi-output ridge of every CLR protein on all log-normalised genes.

    Genes and proteins are standardised with the training statistics; the penalty is chosen
    from ``alphas`` by efficient leave-one-out cross-validation (:class:`sklearn.linear_model.
    RidgeCV`). The effect of knocking gene ``g`` down on protein ``p`` is ``−coef[p, g]``
    (standardised units). docs/design.md §6 found this the strongest observational baseline.

    Parameters
    ----------
    rna_counts
        Training RNA raw counts, cells × genes (dense or scipy sparse). It is densified as
        float32 z-scores (e.g. 20,000 × 2,000 → 160 MB).
    prot_counts
        Training protein raw counts, cells × proteins.
    genes, proteins
        Names of the columns of ``rna_counts`` and ``prot_counts``.
    alphas
        Candidate ridge penalties (positive).
    alpha_per_target
        Choose a penalty per protein instead of one shared penalty.

    Returns
    -------
    pandas.DataFrame
        Genes × proteins effect matrix; the chosen penalty (a float, or a list per protein) is
        in ``.attrs["alpha"]``.

    Raises
    ------
    CMCVAEInputError
        Mismatched shapes or names, or non-positive penalties.
    """
    gene_index, prot_index = _check_inputs(rna_counts, prot_counts, genes, proteins)
    alpha_grid = np.asarray(list(alphas), dtype=np.float64)
    if alpha_grid.size == 0 or not np.all(np.isfinite(alpha_grid)) or np.any(alpha_grid <= 0):
        raise CMCVAEInputError(
            f"Ridge penalties must be positive finite numbers; got {list(alphas)}. "
            f"Use e.g. {list(DEFAULT_RIDGE_ALPHAS)}."
        )
    x = _standardise_rna(log_normalize(rna_counts))
    y = clr(prot_counts).astype(np.float64)
    y_mean, y_std = _mean_std64(y)
    y = (y - y_mean) / np.maximum(y_std, 1e-3)
    model = RidgeCV(alphas=alpha_grid, fit_intercept=True, alpha_per_target=alpha_per_target)
    model.fit(x, y)
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(len(prot_index), len(gene_index))
    effects = pd.DataFrame(-coef.T, index=gene_index, columns=prot_index)
    alpha = np.asarray(model.alpha_)
    effects.attrs["alpha"] = alpha.tolist() if alpha.ndim else float(alpha)
    return effects


def random_effects(genes: Sequence[str], proteins: Sequence[str], seed: int = 0) -> pd.DataFrame:
    """Random baseline: iid standard-normal effects (AUROC ≈ 0.5, direction accuracy ≈ 0.5).

    Parameters
    ----------
    genes, proteins
        Row and column names.
    seed
        Seed of the random generator.

    Returns
    -------
    pandas.DataFrame
        Genes × proteins effect matrix.
    """
    gene_index, prot_index = _names(genes, "gene"), _names(proteins, "protein")
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((len(gene_index), len(prot_index)))
    return pd.DataFrame(values, index=gene_index, columns=prot_index)


def always_down_effects(genes: Sequence[str], proteins: Sequence[str]) -> pd.DataFrame:
    """Trivial baseline: every knockdown lowers every protein (all effects −1).

    Its direction accuracy is the fraction of observed significant effects that are
    decreases; its AUROC is 0.5 by construction (all scores tie).

    Parameters
    ----------
    genes, proteins
        Row and column names.

    Returns
    -------
    pandas.DataFrame
        Genes × proteins effect matrix of −1.
    """
    gene_index, prot_index = _names(genes, "gene"), _names(proteins, "protein")
    return pd.DataFrame(-1.0, index=gene_index, columns=prot_index)
