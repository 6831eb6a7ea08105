"""The protein ↔ gene map (CSV ``protein,gene``; docs/design.md §2).

An antibody (ADT) panel is paired with the genes that encode its targets through a
``protein,gene`` table with one row per antibody and encoded gene; an antibody against a
complex (CD16 → FCGR3A and FCGR3B, HLA-DR → HLA-DRA and HLA-DRB1) lists several rows.

The package ships a curated antigen → gene table, ``resources/antibody_gene_map.csv``
(:func:`~cmcvae.pp.default_protein_map`, read in ``_antigen.py`` with the
antigen resolver that uses it), written from HGNC gene symbols for the antigens of the common
TotalSeq-A/B/C and BioLegend/BD CITE-seq panels. Its columns:

``antigen``
    Canonical antigen name (the CD name where one exists, e.g. ``CD279`` for PD-1).
``gene``
    HGNC symbol of one encoded gene (one row per gene). Empty for isotype controls and for
    reagents that bind no human gene product (Annexin V, anti-PE, anti-FITC, ...).
``isotype_control``
    ``True`` for isotype-control antibodies.
``aliases``
    ``;``-separated other names of the antigen (PD-1, PD1, B7-H1, HLA-A,B,C, ...).
``note``
    Why a mapping was chosen where it is not obvious (CD3 → CD3E, glycan epitopes, ...).

Choices worth knowing: a generic "CD3" antibody maps to **CD3E** only (UCHT1, SK7, OKT3 and
HIT3a bind CD3ε; use CD3d/CD3g for the other chains) and "CD8" to **CD8A** (CD8b → CD8B);
CD45/CD45RA/CD45RB/CD45RO/B220 → PTPRC; TCR αβ/γδ and immunoglobulin antibodies map to the
constant-region genes (TRAC, TRBC1, TRBC2, TRGC1, TRGC2, TRDC, IGKC, IGLC1/2/3/7, IGHM, ...);
carbohydrate epitopes map to the enzyme that makes them (CD15 → FUT4, CD57 → B3GAT1,
CD77 → A4GALT); bare ``IgG1``, ``IgG2a``, ``IgG2b`` and ``IgG2c`` are isotype controls
(mouse/rat subclasses; MOPC-21 and friends in 10x and ECCITE panels) while bare ``IgG`` is
an anti-human IgG (IGHG1-4).

The table was written by hand from CD (HCDM) and HGNC nomenclature; it is not a copy of any
third-party antibody list. Antibody names are matched with :func:`canonical_antigen`, whose
rules are documented there (``_antigen.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp._antigen import (
    Reference,
    canonical_antigen,
    check_names,
    default_reference,
    is_isotype,
)

log = logging.getLogger("cmcvae")

__all__ = [
    "PANEL_COLUMNS",
    "STATUSES",
    "map_panel",
    "matched_pairs",
    "read_protein_map",
]

#: Values of the ``status`` column of :func:`map_panel`.
STATUSES = ("mapped", "isotype_control", "unmapped", "gene_not_in_data")
#: Columns of the table returned by :func:`map_panel`.
PANEL_COLUMNS = ("protein", "gene", "antigen", "status")


def _user_lookup(protein_map: pd.DataFrame | str | Path | None) -> tuple[dict, dict]:
    if protein_map is None:
        return {}, {}
    if isinstance(protein_map, (str, Path)):
        protein_map = read_protein_map(protein_map)
    if not isinstance(protein_map, pd.DataFrame):
        raise CMCVAEInputError(
            f"protein_map must be a DataFrame with columns protein,gene (or a path to such a CSV), "
            f"not {type(protein_map).__name__}."
        )
    df = _normalise_map_frame(protein_map, "protein_map")
    by_name: dict[str, list[str]] = {}
    by_antigen: dict[str, list[str]] = {}
    for protein, gene in zip(df["protein"], df["gene"], strict=True):
        genes = by_name.setdefault(protein, [])
        if gene and gene not in genes:
            genes.append(gene)
    for protein, genes in by_name.items():
        antigen_genes = by_antigen.setdefault(canonical_antigen(protein), [])
        antigen_genes.extend(g for g in genes if g not in antigen_genes)
    return by_name, by_antigen


def map_panel(
    proteins: list[str],
    genes: list[str] | None = None,
    protein_map: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Pair an antibody panel with the genes that encode its targets.

    Each antibody is resolved to a canonical antigen (:func:`canonical_antigen`) and looked
    up in the packaged map (:func:`~cmcvae.pp.default_protein_map`, read in ``_antigen.py`` with the
antigen resolver that uses it). A user map overrides it for the
    antibodies it lists, matched by exact name first, then by canonical antigen.
    An antibody the packaged map does not know is paired with a gene of the same name
    (case-insensitive) when ``genes`` holds one.

    Parameters
    ----------
    proteins
        Antibody feature names as in the data (``prot.var_names``); must be unique.
    genes
        Gene names of the RNA modality. When given, rows whose gene is not among them get
        status ``"gene_not_in_data"``, and the ``gene`` column uses the data's spelling
        where only the case differs. When ``None``, every gene row is ``"mapped"``.
    protein_map
        User ``protein,gene`` table (as returned by :func:`read_protein_map`; a path is read
        with it). A protein listed with an empty gene is left unmapped on purpose.

    Returns
    -------
    pandas.DataFrame
        Columns ``protein, gene, antigen, status``; one row per antibody and gene, in panel
        order. ``protein`` is the data's name, ``antigen`` the canonical antigen. ``status``
        is one of ``"mapped"``, ``"isotype_control"``, ``"unmapped"`` (no known gene) or
        ``"gene_not_in_data"``; the last three carry ``gene == ""`` except
        ``"gene_not_in_data"``, which names the missing gene. The contract table is
        ``out.loc[out["status"] == "mapped", ["protein", "gene"]]``.

    Raises
    ------
    CMCVAEInputError
        If ``proteins`` is not a list of unique non-empty names, ``genes`` holds non-text
        names, or ``protein_map`` lacks the ``protein`` and ``gene`` columns.

    Examples
    --------
    >>> t = map_panel(["CD16_TotalSeqB", "IgG1", "CD3"], genes=["FCGR3A", "CD3E"])
    >>> t[["protein", "gene", "status"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['CD16_TotalSeqB', 'FCGR3A', 'mapped'], ['CD16_TotalSeqB', 'FCGR3B', 'gene_not_in_data'],
     ['IgG1', '', 'isotype_control'], ['CD3', 'CD3E', 'mapped']]
    """
    names = check_names(proteins, "proteins")
    data_genes = None if genes is None else _DataGenes(check_names(genes, "genes", unique=False))
    by_name, by_antigen = _user_lookup(protein_map)
    ref = default_reference()
    rows: list[tuple[str, str, str, str]] = []
    for protein in names:
        antigen = canonical_antigen(protein)
        user_genes = by_name.get(protein, by_antigen.get(antigen))
        gene_list = _panel_genes(protein, antigen, user_genes, ref, data_genes)
        if gene_list is None:
            rows.append((protein, "", antigen, "isotype_control"))
        elif not gene_list:
            rows.append((protein, "", antigen, "unmapped"))
        for gene in gene_list or ():
            hit = gene if data_genes is None else data_genes.find(gene)
            rows.append((protein, hit, antigen, "mapped") if hit is not None
                        else (protein, gene, antigen, "gene_not_in_data"))
    return pd.DataFrame(rows, columns=list(PANEL_COLUMNS), dtype=object)


class _DataGenes:
    """The RNA's gene names, looked up exactly, then case-insensitively (data's spelling)."""

    def __init__(self, gene_names: list[str]) -> None:
        self.exact = set(gene_names)
        self.by_upper: dict[str, str] = {}
        for g in gene_names:
            self.by_upper.setdefault(g.upper(), g)

    def find(self, gene: str) -> str | None:
        """``gene`` as the data spells it, or ``None`` when the data lacks it."""
        if gene in self.exact:
            return gene
        return self.by_upper.get(gene.upper())


def _panel_genes(protein: str, antigen: str, user_genes: list[str] | None, ref: Reference,
                 data_genes: _DataGenes | None) -> list[str] | None:
    """The genes of one antibody (``None``: an isotype control; ``[]``: no known gene).

    A user map wins, then the isotype check, then the packaged map, then a gene of the same
    name as the antigen in the data.
    """
    if user_genes:
        return user_genes
    if is_isotype(protein) or ref.isotype.get(antigen, False):
        return None
    if user_genes is not None:  # listed by the user without a gene
        return []
    if antigen in ref.genes:
        return ref.genes[antigen]
    if data_genes is not None and data_genes.find(antigen) is not None:
        return [antigen]
    return []


#: Other names of the two map columns in published tables (e.g. ``adt_feature,rna_genes``).
_MAP_COLUMN_ALIASES = {
    "protein": ("antigen", "antibody", "adt", "adt_feature", "adt_name", "feature", "target"),
    "gene": ("genes", "gene_symbol", "gene_symbols", "rna_gene", "rna_genes", "symbol"),
}


def _normalise_map_frame(df: pd.DataFrame, where: str) -> pd.DataFrame:
    cols = {c: str(c).strip().lower() for c in df.columns}
    df = df.rename(columns=cols)
    for canonical, aliases in _MAP_COLUMN_ALIASES.items():
        if canonical not in df.columns:
            found = [a for a in aliases if a in df.columns]
            if found:
                df = df.rename(columns={found[0]: canonical})
    missing = {"protein", "gene"} - set(df.columns)
    if missing:
        raise CMCVAEInputError(
            f"The protein map {where} lacks column(s) {sorted(missing)}; it needs columns "
            "protein,gene (one row per antibody and encoded gene)."
        )
    out = df[["protein", "gene"]].copy()
    for col in ("protein", "gene"):
        out[col] = out[col].map(lambda v: "" if pd.isna(v) else str(v).strip())
    empty = out.index[out["protein"] == ""]
    if len(empty):
        raise CMCVAEInputError(
            f"The protein map {where} has {len(empty)} row(s) without a protein name (first: row "
            f"{int(empty[0]) + 1}); fill in the antibody name or delete the row."
        )
    # Lenient: several genes in one cell separated by ';' become several rows.
    out["gene"] = out["gene"].str.split(";")
    out = out.explode("gene")
    out["gene"] = out["gene"].str.strip()
    return out.drop_duplicates().reset_index(drop=True)


def read_protein_map(path: str | Path) -> pd.DataFrame:
    """Read a ``protein,gene`` CSV (one row per antibody and encoded gene).

    Parameters
    ----------
    path
        CSV, or TSV when the suffix is ``.tsv``/``.txt``. Column names are case-insensitive;
        common aliases are accepted (``antigen``/``antibody``/``adt_feature`` for ``protein``,
        ``rna_genes``/``gene_symbol`` for ``gene``); extra columns are ignored. Several genes in
        one cell separated by ``;`` become several rows. An empty gene marks an antibody
        deliberately left without a gene.

    Returns
    -------
    pandas.DataFrame
        Columns ``protein, gene`` (strings, whitespace stripped, empty gene as ``""``),
        duplicates dropped.

    Raises
    ------
    CMCVAEInputError
        If the file is missing, unreadable, lacks the columns or has rows without a protein.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(
            f"The protein map {path} does not exist. Check the path, or leave it out to use the "
            "packaged antibody→gene map."
        )
    try:
        df = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".txt") else ",", dtype=str,
                         keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise CMCVAEInputError(
            f"The protein map {path} could not be read as a table ({err}); write it as a UTF-8 "
            "CSV with a header line protein,gene."
        ) from err
    out = _normalise_map_frame(df, str(path))
    if len(out) == 0:
        raise CMCVAEInputError(
            f"The protein map {path} has a header but no rows; add one row per antibody and "
            "encoded gene (protein,gene), or leave the map out."
        )
    return out


def matched_pairs(protein_map: pd.DataFrame | None, proteins: list[str], genes: list[str]) -> pd.DataFrame:
    """Pairs (protein, gene) where both are model features.

    Without a map, proteins whose name equals a gene symbol are paired.

    Parameters
    ----------
    protein_map
        ``protein,gene`` table or ``None``.
    proteins, genes
        The model's protein and gene features.

    Returns
    -------
    pandas.DataFrame
        The rows of ``protein_map`` whose protein and gene are both features.

    Raises
    ------
    CMCVAEInputError
        If ``protein_map`` lacks the ``protein`` or ``gene`` column, or names none of
        ``proteins`` (like a GRN prior with no edge among the genes).
    """
    given = protein_map is not None
    if protein_map is None:
        protein_map = pd.DataFrame({"protein": list(proteins), "gene": list(proteins)})
    missing = {"protein", "gene"} - set(protein_map.columns)
    if missing:
        raise CMCVAEInputError(
            f"The protein map lacks column(s) {sorted(missing)}; it needs columns protein,gene."
        )
    on_panel = protein_map["protein"].isin(set(proteins))
    if given and proteins and len(protein_map) and not on_panel.any():
        example = ", ".join(protein_map["protein"].astype(str).head(3))
        raise CMCVAEInputError(
            f"The protein map has no protein of the data ({len(protein_map)} rows read, e.g. "
            f"proteins {example}; data proteins e.g. {', '.join(list(proteins)[:3])}). Check that "
            "it uses the same antibody names as the data's protein features, or leave the map out "
            "(proteins named like genes are then paired)."
        )
    keep = on_panel & protein_map["gene"].isin(set(genes))
    if given and not keep.any() and on_panel.any():
        log.warning("The protein map's %d proteins of the data encode none of the model's genes: "
                    "no matched pairs.", int(on_panel.sum()))
    return protein_map[keep].reset_index(drop=True)
