"""Second moments of the training cells: what every effect estimator of this layer reads.

RNA is log-normalised (CP10k, ``log1p``) and proteins CLR-transformed exactly as for the model and
the baselines (:mod:`cmcvae.pp`); the estimators work on the correlation matrix of those
features, so an effect is in standard deviations of the readout per standard deviation of the
knocked-down gene. One pass over the cells (sparse RNA is never densified whole), then every
estimate is linear algebra on a features × features matrix: 2,000 genes + 144 proteins is a
2,144² matrix, whatever the number of cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import clr, log_normalize

__all__ = ["FeatureStats", "feature_stats", "stats_from_matrix", "transformed_blocks"]

#: rows per block when accumulating the cross-products of a large sparse matrix
_BLOCK = 20_000


@dataclass(frozen=True)
class FeatureStats:
    """Means, standard deviations and correlations of the (transformed) training features.

    Attributes
    ----------
    names
        Feature names, genes first, then proteins.
    modality
        ``"rna"`` or ``"prot"`` per feature.
    mean, std
        Per-feature mean and standard deviation of the transformed values.
    corr
        Correlation matrix (float64, features × features; constant features have 0 off the
        diagonal and 1 on it).
    n_cells
        Cells the moments were computed on (the effective sample size of the standard errors).
    fold_corr
        The correlation matrices of two halves of the cells (even and odd rows): the ridge
        baseline chooses its penalty by two-fold cross-validation on them.
    """

    names: pd.Index
    modality: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    corr: np.ndarray
    n_cells: int
    fold_corr: tuple[np.ndarray, ...] = ()

    def lookup(self, modality: str | None = None) -> pd.Index:
        """Feature names at their positions, one modality's names only (others masked), so
        ``get_indexer`` gives positions in :attr:`corr` even when a gene and a protein share a
        name (``CD274``)."""
        if modality is None:
            return self.names
        return self._lookups[PROT_MOD if modality in ("protein", PROT_MOD) else RNA_MOD]

    @cached_property
    def _lookups(self) -> dict[str, pd.Index]:
        """:meth:`lookup` per modality, built once (every estimate asks for it several times)."""
        return {mod: pd.Index([n if m == mod else f"\0{i}" for i, (n, m) in
                               enumerate(zip(self.names, self.modality, strict=True))])
                for mod in (RNA_MOD, PROT_MOD)}

    def index(self, names: Sequence[str], modality: str | None = None) -> np.ndarray:
        """Positions of ``names`` among the features (of ``modality``: ``rna`` / ``protein``).

        Raises
        ------
        CMCVAEInputError
            A name that is not a feature, or (without ``modality``) one that names both a gene
            and a protein.
        """
        names = [str(n) for n in names]
        if modality is None:
            shared = set(self.genes) & set(self.proteins) & set(names)
            if shared:
                raise CMCVAEInputError(
                    f"{sorted(shared)[:5]} name both a gene and a protein of the run; say which "
                    "(the readout's modality).")
            first: dict[str, int] = {}
            for i, n in enumerate(self.names):
                first.setdefault(n, i)
            pos = np.array([first.get(n, -1) for n in names], dtype=int)
        else:
            pos = self.lookup(modality).get_indexer(names)
        if (pos < 0).any():
            missing = [n for n, p in zip(names, pos, strict=True) if p < 0][:5]
            raise CMCVAEInputError(
                f"{int((pos < 0).sum())} name(s) are not features of the fitted data (e.g. "
                f"{missing}); use the run's gene and protein names."
            )
        return pos

    @property
    def genes(self) -> list[str]:
        """The RNA features."""
        return list(self.names[self.modality == RNA_MOD])

    @property
    def proteins(self) -> list[str]:
        """The protein features."""
        return list(self.names[self.modality == PROT_MOD])


def feature_stats(rna_counts, prot_counts=None, genes: Sequence[str] = (),
                  proteins: Sequence[str] = ()) -> FeatureStats:
    """Moments of log-normalised RNA and CLR proteins of the training cells.

    Parameters
    ----------
    rna_counts
        Raw RNA counts, cells × genes (dense or scipy sparse).
    prot_counts
        Raw protein counts of the same cells (``None`` for an RNA-only run).
    genes, proteins
        Column names.

    Returns
    -------
    FeatureStats
    """
    genes, proteins = [str(g) for g in genes], [str(p) for p in proteins]
    matrix = transformed_blocks(rna_counts, prot_counts, genes, proteins)
    has_prot = prot_counts is not None and len(proteins) > 0
    names = genes + (proteins if has_prot else [])
    modality = np.array([RNA_MOD] * len(genes) + [PROT_MOD] * (len(names) - len(genes)), dtype=object)
    return stats_from_matrix(matrix, names, modality)


def transformed_blocks(rna_counts, prot_counts, genes: Sequence[str], proteins: Sequence[str]):
    """Log-normalised RNA beside CLR protein (sparse when the RNA is), cells × features.

    ``prot_counts`` ``None`` (or no proteins): the RNA alone.
    """
    blocks = [(log_normalize(rna_counts), list(genes), RNA_MOD)]
    if prot_counts is not None and len(proteins):
        if prot_counts.shape[0] != rna_counts.shape[0]:
            raise CMCVAEInputError("RNA and protein counts must hold the same cells.")
        blocks.append((clr(prot_counts).astype(np.float64), list(proteins), PROT_MOD))
    for matrix, names, mod in blocks:
        if matrix.shape[1] != len(names):
            raise CMCVAEInputError(f"{matrix.shape[1]} {mod} columns but {len(names)} names.")
    if any(sp.issparse(b[0]) for b in blocks):
        return sp.hstack([sp.csr_matrix(b[0]) for b in blocks], format="csr")
    return np.hstack([np.asarray(b[0], np.float64) for b in blocks])


def stats_from_matrix(matrix, names: Sequence[str], modality: Sequence[str] | None = None) -> FeatureStats:
    """:class:`FeatureStats` of an already transformed cells × features matrix.

    Parameters
    ----------
    matrix
        Dense or sparse cells × features values (e.g. log-transformed flow cytometry).
    names
        Feature names (unique).
    modality
        Per-feature modality (default: every feature ``"rna"``, i.e. a source that can be
        knocked down).
    """
    index = pd.Index([str(n) for n in names])
    mods = np.full(len(index), RNA_MOD, dtype=object) if modality is None else np.asarray(modality, dtype=object)
    keyed = pd.Index([f"{m}\0{n}" for m, n in zip(mods, index, strict=True)])
    if not keyed.is_unique:  # a gene and a protein may share a name, two genes may not
        dups = index[keyed.duplicated()][:5].tolist()
        raise CMCVAEInputError(f"Feature names must be unique within a modality; duplicated: {dups}.")
    n = matrix.shape[0]
    if n < 3:
        raise CMCVAEInputError(f"Effects need at least 3 cells; got {n}.")
    moments = _moments(matrix)
    mean, cov = moments[0]
    corr, std = _correlation(cov)
    folds = tuple(_correlation(c)[0] for _, c in moments[1:]) if n >= 20 else ()
    return FeatureStats(index, mods, mean, std, corr, int(n), folds)


def _correlation(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correlation matrix and standard deviations; constant features get 0 off the diagonal."""
    std = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    live = std > 1e-8 * max(1.0, float(std.max(initial=0.0)))
    scale = np.where(live, std, 1.0)
    corr = cov / np.outer(scale, scale)
    corr[~live, :] = 0.0
    corr[:, ~live] = 0.0
    np.fill_diagonal(corr, 1.0)
    return np.clip(corr, -1.0, 1.0), std


def _moments(matrix) -> list[tuple[np.ndarray, np.ndarray]]:
    """Means and population covariances of all rows, the even rows and the odd rows.

    Accumulated in float64 by row blocks around the first block's means, so ``E[xx'] − E[x]E[x']``
    does not cancel catastrophically when a mean is large next to its standard deviation.
    """
    n, f = matrix.shape
    shift = None
    totals = [np.zeros(f), np.zeros(f)]
    cross = [np.zeros((f, f)), np.zeros((f, f))]
    counts = [0, 0]
    for start in range(0, n, _BLOCK):
        block = matrix[start:start + _BLOCK]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        block = block.astype(np.float64, copy=False)
        if shift is None:
            shift = block.mean(axis=0)
        block = block - shift
        for fold in (0, 1):
            part = block[(start + fold) % 2::2]
            totals[fold] += part.sum(axis=0)
            cross[fold] += part.T @ part
            counts[fold] += part.shape[0]
    out = []
    for total, xx, m in ((totals[0] + totals[1], cross[0] + cross[1], n),
                         *((totals[k], cross[k], max(counts[k], 1)) for k in (0, 1))):
        centred = total / m
        cov = xx / m - np.outer(centred, centred)
        out.append((centred + shift, (cov + cov.T) / 2.0))
    return out
