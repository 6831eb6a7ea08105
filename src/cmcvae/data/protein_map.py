"""The protein ↔ gene map (CSV ``protein,gene``; DESIGN §2)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._errors import CMCVAEInputError


def read_protein_map(path: str | Path) -> pd.DataFrame:
    """Read a ``protein,gene`` CSV (one row per antibody and encoded gene)."""
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"The protein map {path} does not exist.")
    df = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".txt") else ",")
    missing = {"protein", "gene"} - set(df.columns)
    if missing:
        raise CMCVAEInputError(
            f"The protein map {path} lacks column(s) {sorted(missing)}; it needs columns protein,gene."
        )
    return df[["protein", "gene"]].astype(str).drop_duplicates().reset_index(drop=True)


def matched_pairs(protein_map: pd.DataFrame | None, proteins: list[str], genes: list[str]) -> pd.DataFrame:
    """Pairs (protein, gene) where both are model features.

    Without a map, proteins whose name equals a gene symbol are paired.
    """
    if protein_map is None:
        protein_map = pd.DataFrame({"protein": list(proteins), "gene": list(proteins)})
    keep = protein_map["protein"].isin(set(proteins)) & protein_map["gene"].isin(set(genes))
    return protein_map[keep].reset_index(drop=True)
