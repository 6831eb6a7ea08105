"""The benchmark dataset container and the helpers the loaders share.

Every loader in :mod:`cmcvae.bm` returns a :class:`GraphDataset`: a samples × features
matrix plus the directed ground-truth network among those features. The helpers here read files
with a clear :class:`~cmcvae._errors.CMCVAEInputError` instead of a raw pandas or OS error, and
clean an edge list (self-loops, duplicates, unknown endpoints) while recording what was dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from cmcvae._constants import MODALITIES
from cmcvae._errors import CMCVAEInputError

TRUTH_COLUMNS = ("source", "target", "weight")
FAMILIES = ("beeline", "sergio", "dream4", "krumsiek11", "sachs")

T = TypeVar("T")


@dataclass
class GraphDataset:
    """A benchmark dataset: a data matrix and the directed true network among its features.

    Attributes
    ----------
    name : str
        Dataset id, e.g. ``"beeline/dyn-LI"``, ``"beeline/GSD"``, ``"sergio/DS4"``,
        ``"dream4/1"``, ``"krumsiek11"``, ``"sachs"``.
    family : str
        ``"beeline"``, ``"sergio"``, ``"dream4"``, ``"krumsiek11"`` or ``"sachs"``.
    X : numpy.ndarray
        float64, cells/samples × features, finite (no NaN or inf).
    features : list of str
        Unique feature names, ``len(features) == X.shape[1]``.
    truth : pandas.DataFrame
        Columns ``source, target, weight``: the directed true edges among ``features``.
        ``weight`` is +1 (activation), -1 (repression) or 0 (sign unknown). No self-loops, no
        duplicated (source, target) pairs.
    modality : str
        ``"rna"`` for expression data, ``"protein"`` for Sachs.
    counts : bool
        True only if ``X`` holds raw integer counts (False for every loader here).
    meta : dict
        Free-form: description, source, n_cells, n_edges, cleaning notes, per-cell labels.

    Raises
    ------
    CMCVAEInputError
        From ``__post_init__`` when the shapes, names or edges are inconsistent.
    """

    name: str
    family: str
    X: np.ndarray
    features: list[str]
    truth: pd.DataFrame
    modality: str
    counts: bool
    meta: dict

    def __post_init__(self) -> None:
        where = f"GraphDataset {self.name!r}"
        if self.family not in FAMILIES:
            raise CMCVAEInputError(f"{where}: family {self.family!r} is not one of {FAMILIES}.")
        if self.modality not in MODALITIES:
            raise CMCVAEInputError(
                f"{where}: modality {self.modality!r} is not one of {MODALITIES}."
            )
        self.X = _checked_matrix(self.X, where)
        self.features = _checked_features(self.features, self.X.shape[1], where)
        self.truth = _checked_truth(self.truth, self.features, where)
        self.counts = bool(self.counts)

    @property
    def n_edges(self) -> int:
        """Number of true directed edges."""
        return len(self.truth)

    def truth_matrix(self, signed: bool = False) -> np.ndarray:
        """Dense adjacency of the true network.

        Parameters
        ----------
        signed : bool, default False
            False: 0/1 entries. True: the edge weights (+1, -1, 0 for unknown sign, so an
            unsigned edge is indistinguishable from no edge; use the 0/1 form for structure).

        Returns
        -------
        numpy.ndarray
            ``(n_features, n_features)`` int64 matrix, rows = source, columns = target, in the
            order of :attr:`features`.
        """
        index = {f: i for i, f in enumerate(self.features)}
        A = np.zeros((len(self.features), len(self.features)), dtype=np.int64)
        rows = self.truth["source"].map(index).to_numpy()
        cols = self.truth["target"].map(index).to_numpy()
        A[rows, cols] = self.truth["weight"].to_numpy() if signed else 1
        return A

    def __repr__(self) -> str:
        return (
            f"GraphDataset(name={self.name!r}, X={self.X.shape[0]}×{self.X.shape[1]}, "
            f"edges={self.n_edges}, modality={self.modality!r})"
        )


# ---------------------------------------------------------------------------------------------
# helpers shared by the loaders
# ---------------------------------------------------------------------------------------------


def as_root(root: str | Path, what: str, hint: str) -> Path:
    """Return ``root`` as a Path, or raise if it is not an existing folder."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise CMCVAEInputError(f"{what} not found: {path} is not a folder. {hint}")
    return path


def first_existing(root: Path, candidates: Sequence[str], what: str, hint: str) -> Path:
    """Return the first of ``root / c`` that is a file, or raise naming the expected file(s)."""
    for rel in candidates:
        if (root / rel).is_file():
            return root / rel
    expected = candidates[0] + (f" (or {', '.join(candidates[1:])})" if len(candidates) > 1 else "")
    raise CMCVAEInputError(f"{what} not found at {root}: expected {expected}. {hint}")


def read_file(path: Path, reader: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``reader(path, ...)`` and turn parse and I/O errors into CMCVAEInputError."""
    try:
        return reader(path, *args, **kwargs)
    except (
        OSError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        ValueError,
        IndexError,
        KeyError,
    ) as err:
        if isinstance(err, CMCVAEInputError):
            raise
        raise CMCVAEInputError(f"Could not read {path}: {type(err).__name__}: {err}") from None


def numeric_frame(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Coerce every column to float, or raise naming the first non-numeric cell."""
    if all(pd.api.types.is_numeric_dtype(t) for t in df.dtypes):
        out = df.astype(np.float64)
        if out.isna().to_numpy().any():
            raise CMCVAEInputError(f"{path}: {int(out.isna().to_numpy().sum())} missing values.")
        return out
    out = df.apply(pd.to_numeric, errors="coerce")
    bad = out.isna() & df.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise CMCVAEInputError(
            f"{path}: non-numeric value {df.iat[r, c]!r} at row {df.index[r]!r}, "
            f"column {df.columns[c]!r}."
        )
    if out.isna().to_numpy().any():
        raise CMCVAEInputError(f"{path}: {int(out.isna().to_numpy().sum())} missing values.")
    return out.astype(np.float64)


def clean_edges(
    edges: pd.DataFrame, features: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Drop self-loops, duplicated pairs (keep the first sign) and edges to unknown features.

    Parameters
    ----------
    edges : pandas.DataFrame
        Columns ``source, target, weight`` in file order.
    features : sequence of str
        The feature names of the data matrix.

    Returns
    -------
    truth : pandas.DataFrame
        The cleaned edge list.
    info : dict
        ``n_edges_raw``, ``self_loops_dropped`` (rows), ``self_loop_features`` (names),
        ``duplicates_dropped`` (rows),
        ``duplicates_with_conflicting_sign`` (list of (source, target)), ``unknown_dropped``
        (list of (source, target) whose endpoint is not a feature).
    """
    e = edges.loc[:, list(TRUTH_COLUMNS)].copy()
    e["source"] = e["source"].astype(str).str.strip()
    e["target"] = e["target"].astype(str).str.strip()
    e["weight"] = e["weight"].astype(np.int64)
    info: dict[str, Any] = {"n_edges_raw": len(e)}
    loop = e["source"] == e["target"]
    info["self_loops_dropped"] = int(loop.sum())
    info["self_loop_features"] = sorted(set(e.loc[loop, "source"]))
    e = e.loc[~loop]
    known = set(features)
    unknown = ~(e["source"].isin(known) & e["target"].isin(known))
    info["unknown_dropped"] = list(
        zip(e.loc[unknown, "source"], e.loc[unknown, "target"], strict=True)
    )
    e = e.loc[~unknown]
    signs = e.groupby(["source", "target"], sort=False)["weight"].nunique()
    info["duplicates_with_conflicting_sign"] = [tuple(k) for k in signs.index[signs > 1]]
    dup = e.duplicated(["source", "target"], keep="first")
    info["duplicates_dropped"] = int(dup.sum())
    e = e.loc[~dup].reset_index(drop=True)
    return e, info


def _checked_matrix(X_in: Any, where: str) -> np.ndarray:
    """``X`` as a C-contiguous 2-D float64 array with finite values."""
    try:
        X = np.asarray(X_in, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CMCVAEInputError(f"{where}: X is not numeric ({err}).") from None
    if X.ndim != 2:
        raise CMCVAEInputError(
            f"{where}: X must be 2-D (samples × features), got shape {X.shape}."
        )
    if not np.isfinite(X).all():
        n_bad = int((~np.isfinite(X)).sum())
        raise CMCVAEInputError(f"{where}: X has {n_bad} NaN or infinite values.")
    return np.ascontiguousarray(X)


def _checked_features(features: Sequence[Any], n_columns: int, where: str) -> list[str]:
    """Feature names as unique strings, one per column of ``X``."""
    features = [str(f) for f in features]
    if len(features) != n_columns:
        raise CMCVAEInputError(
            f"{where}: {len(features)} feature names for {n_columns} columns of X."
        )
    dup = pd.Index(features)
    if not dup.is_unique:
        raise CMCVAEInputError(
            f"{where}: feature names are not unique: {sorted(set(dup[dup.duplicated()]))[:10]}."
        )
    return features


def _checked_truth(truth_in: Any, features: list[str], where: str) -> pd.DataFrame:
    """The true edges with string names, integer signs in {-1, 0, 1}, no loop or duplicate."""
    if not isinstance(truth_in, pd.DataFrame) or list(truth_in.columns) != list(TRUTH_COLUMNS):
        got = list(getattr(truth_in, "columns", []))
        raise CMCVAEInputError(
            f"{where}: truth must be a DataFrame with columns {list(TRUTH_COLUMNS)}, got {got}."
        )
    truth = truth_in.reset_index(drop=True)
    truth["source"] = truth["source"].astype(str)
    truth["target"] = truth["target"].astype(str)
    try:
        truth["weight"] = pd.to_numeric(truth["weight"]).astype(np.int64)
    except (TypeError, ValueError) as err:
        raise CMCVAEInputError(f"{where}: truth weights are not integers ({err}).") from None
    bad_w = sorted(set(truth["weight"]) - {-1, 0, 1})
    if bad_w:
        raise CMCVAEInputError(f"{where}: truth weights must be -1, 0 or +1; found {bad_w}.")
    known = set(features)
    unknown = sorted((set(truth["source"]) | set(truth["target"])) - known)
    if unknown:
        raise CMCVAEInputError(
            f"{where}: truth names features that are not columns of X: {unknown[:10]}."
        )
    if (truth["source"] == truth["target"]).any():
        loops = truth.loc[truth["source"] == truth["target"], "source"].tolist()
        raise CMCVAEInputError(f"{where}: truth has self-loops on {loops[:10]}.")
    if truth.duplicated(["source", "target"]).any():
        raise CMCVAEInputError(f"{where}: truth has duplicated (source, target) pairs.")
    return truth
