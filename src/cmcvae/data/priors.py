"""Prior networks in decoupler's ``source,target,weight`` convention (DESIGN §2)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import CMCVAEInputError


def read_network(path: str | Path, what: str = "prior") -> pd.DataFrame:
    """Read a CSV/TSV network with columns ``source,target`` and optional ``weight``.

    decoupler's/OmniPath's alternative column names (``mor`` for weight) are accepted.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"The {what} file {path} does not exist.")
    sep = "\t" if path.suffix in (".tsv", ".txt") else ","
    df = pd.read_csv(path, sep=sep)
    if "weight" not in df.columns and "mor" in df.columns:
        df = df.rename(columns={"mor": "weight"})
    missing = {"source", "target"} - set(df.columns)
    if missing:
        raise CMCVAEInputError(
            f"The {what} file {path} lacks column(s) {sorted(missing)}; found {list(df.columns)}. "
            "Networks use decoupler's convention: columns source,target[,weight]."
        )
    if "weight" not in df.columns:
        df["weight"] = 1.0
    df = df[["source", "target", "weight"]].copy()
    df["source"] = df["source"].astype(str)
    df["target"] = df["target"].astype(str)
    df["weight"] = pd.to_numeric(df["weight"], errors="coerce").fillna(0.0)
    return df


def filter_network(net: pd.DataFrame, sources: list[str], targets: list[str] | None = None,
                   what: str = "prior") -> pd.DataFrame:
    """Keep edges whose source and target are model features; drop self-loops and duplicates.

    Raises
    ------
    CMCVAEInputError
        When no edge is left (the prior does not overlap the data's features).
    """
    targets = sources if targets is None else targets
    keep = net["source"].isin(set(sources)) & net["target"].isin(set(targets))
    keep &= net["source"] != net["target"]
    out = net[keep].drop_duplicates(["source", "target"]).reset_index(drop=True)
    if len(out) == 0:
        example = ", ".join(net["source"].astype(str).head(3))
        raise CMCVAEInputError(
            f"The {what} has no edge between the model's features ({len(net)} edges read, e.g. "
            f"sources {example}; data features e.g. {', '.join(list(sources)[:3])}). Check that "
            "it uses the same identifiers (gene symbols / antibody names) as the data, or leave "
            "the prior out."
        )
    return out


def split_network(net: pd.DataFrame, holdout: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded split into training edges and held-out edges (never used in training)."""
    rng = np.random.default_rng(seed)
    n_hold = int(round(holdout * len(net)))
    order = rng.permutation(len(net))
    held = net.iloc[np.sort(order[:n_hold])].reset_index(drop=True)
    train = net.iloc[np.sort(order[n_hold:])].reset_index(drop=True)
    return train, held
