"""Matching the model's proteins to a perturbation panel, and cis pairs.

A model and a screen often name the same antibody differently (``HLA-A`` / ``HLA_A``,
``CD279`` / ``PD-1``); :func:`match_proteins` pairs them by exact name, then by canonical
antigen. :func:`cis_pairs` flags the (knocked-down gene, protein) pairs where the gene encodes
the protein, which the cis/trans direction accuracies are computed over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import canonical_antigen, default_protein_map

__all__ = ["cis_pairs", "match_proteins"]


def match_proteins(
    model_proteins: Sequence[str] | None, panel: Sequence[str]
) -> tuple[dict[str, str], dict[str, Any]]:
    """Match the model's protein names to the perturbation panel's antibody names.

    Exact names first; each model protein left over is then matched to a panel antibody left
    over with the same canonical antigen (:func:`cmcvae.pp.canonical_antigen`:
    ``HLA_A`` = ``HLA-A``, ``PD-1`` = ``CD279``, ``CD3-1`` = ``CD3``). When several panel
    antibodies share the canonical antigen (two clones), the first in panel order is used and
    the choice is reported under ``ambiguous``. Each panel antibody is used at most once.

    Parameters
    ----------
    model_proteins
        The model's protein names; ``None`` means the whole panel (matched to itself).
    panel
        Antibody names of the perturbation data (``prot.var_names``).

    Returns
    -------
    mapping : dict
        ``{model protein: panel antibody}`` in panel order.
    report : dict
        JSON-serialisable: ``n_model, n_panel, n_matched, exact`` (names matched as they are),
        ``canonical`` (``{model: panel}`` matched after canonicalisation), ``ambiguous``
        (``{model: [panel candidates]}``, first one used), ``model_not_in_panel`` and
        ``panel_not_in_model``.
    """
    panel_names = [str(p) for p in panel]
    model = panel_names if model_proteins is None else [str(p) for p in model_proteins]
    panel_set = set(panel_names)
    mapping: dict[str, str] = {m: m for m in model if m in panel_set}
    exact = list(mapping)
    used = set(mapping.values())
    by_canon: dict[str, list[str]] = {}
    for p in panel_names:
        if p not in used:
            key = _canon_or_none(p)
            if key is not None:
                by_canon.setdefault(key, []).append(p)
    canonical: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for m in model:
        if m in mapping:
            continue
        key = _canon_or_none(m)
        cands = [p for p in by_canon.get(key, []) if p not in used] if key is not None else []
        if cands:
            mapping[m] = canonical[m] = cands[0]
            used.add(cands[0])
            if len(cands) > 1:
                ambiguous[m] = cands
    order = {p: i for i, p in enumerate(panel_names)}
    mapping = dict(sorted(mapping.items(), key=lambda kv: order[kv[1]]))
    report = {
        "n_model": len(model),
        "n_panel": len(panel_names),
        "n_matched": len(mapping),
        "exact": exact,
        "canonical": canonical,
        "ambiguous": ambiguous,
        "model_not_in_panel": [m for m in model if m not in mapping],
        "panel_not_in_model": [p for p in panel_names if p not in used],
    }
    return mapping, report


def cis_pairs(
    perts: Sequence[str],
    proteins: Sequence[str],
    protein_map: pd.DataFrame | None,
    panel_names: Mapping[str, str] | None = None,
) -> set[tuple[str, str]]:
    """(gene, protein) pairs where the gene encodes the protein.

    ``proteins`` are the model's names; ``panel_names`` maps them to the panel's names. A pair
    is cis when ``protein_map`` lists it under the model's or the panel's antibody name or
    under the same canonical antigen. Without a map, the packaged antigen → gene map decides,
    or a case-insensitive equality of gene and protein names.
    """
    panel_names = panel_names or {}
    genes_of = _encoded_genes(protein_map)
    out: set[tuple[str, str]] = set()
    for p in proteins:
        names = {p, panel_names.get(p, p)}
        keys = names | {_canon_or_self(n) for n in names}
        encoded = set().union(*(genes_of.get(k, set()) for k in keys))
        for g in perts:
            gu = g.upper()
            if gu in encoded or (protein_map is None and any(gu == n.upper() for n in names)):
                out.add((g, p))
    return out


def _encoded_genes(protein_map: pd.DataFrame | None) -> dict[str, set[str]]:
    """``{antibody or antigen name: upper-case genes}`` of a user map, or of the packaged map."""
    genes_of: dict[str, set[str]] = {}
    if protein_map is None:
        ref = default_protein_map()
        for antigen, gene in zip(ref["antigen"], ref["gene"], strict=True):
            if gene:
                genes_of.setdefault(str(antigen), set()).add(str(gene).upper())
        return genes_of
    if not isinstance(protein_map, pd.DataFrame) or not {"protein", "gene"} <= set(
        protein_map.columns
    ):
        raise CMCVAEInputError(
            "protein_map must be a DataFrame with columns 'protein' and 'gene' (one row per "
            "antibody and encoded gene, docs/design.md §2)."
        )
    for p, g in zip(protein_map["protein"], protein_map["gene"], strict=True):
        if pd.isna(p) or pd.isna(g) or not str(g).strip():
            continue
        # Listed under the antibody's own name and under its canonical antigen.
        for key in {str(p), _canon_or_self(str(p))}:
            genes_of.setdefault(key, set()).add(str(g).upper())
    return genes_of


def _canon_or_none(name: str) -> str | None:
    """Canonical antigen of ``name``, ``None`` for a name it cannot read (e.g. empty)."""
    try:
        return canonical_antigen(name)
    except CMCVAEInputError:
        return None


def _canon_or_self(name: str) -> str:
    """Canonical antigen of ``name``, the name itself when it cannot be read."""
    canon = _canon_or_none(name)
    return name if canon is None else canon
