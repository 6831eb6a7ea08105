"""scverse files and objects: ``.h5mu``, ``.h5ad`` and an in-memory CITE-seq AnnData.

A ``.h5mu`` keeps its RNA and protein modalities (aliases such as ``gex``/``adt`` renamed, other
modalities dropped); an AnnData holds the proteins in ``.obsm`` (scvi-tools' convention) or
among its features (the 10x layout, split by :func:`cmcvae.io._10x.split_feature_types`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import anndata as ad
import h5py
import mudata as md
import pandas as pd

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.io._10x import ANTIBODY_CAPTURE, feature_type_col, split_feature_types
from cmcvae.io._assemble import (
    READ_KEY,
    Notes,
    assemble,
    log,
    pair_cells,
    prot_matrix,
    quiet_names,
    unique_cells,
)
from cmcvae.io._sniff import hdf5_keys, sniff_format

#: Modality names accepted in a ``.h5mu`` and renamed to ``rna`` / ``prot`` (case-insensitive).
RNA_ALIASES = ("rna", "gex", "gene_expression", "gene expression", "mrna", "expression",
               "transcriptome", "rna_counts")
PROT_ALIASES = ("prot", "adt", "protein", "proteins", "antibody_capture", "antibody capture",
                "cite", "adt_counts", "protein_expression")
#: ``.obsm`` keys searched for protein counts in an ``.h5ad`` (the first is scvi-tools' name).
PROTEIN_OBSM_KEYS = ("protein_expression", "protein_counts", "adt", "ADT", "prot", "protein",
                     "adt_counts", "ADT_counts")


# ---------------------------------------------------------------------------------------------
# .h5mu


def modality_matches(mods: list[str], canonical: str, aliases: tuple[str, ...]) -> list[str]:
    """The modalities of ``mods`` that can hold ``canonical``: ``[canonical]`` when present,
    else every name matching one of ``aliases`` (case, ``-`` / ``_`` ignored)."""
    if canonical in mods:
        return [canonical]
    return [m for m in mods if m.lower().replace("-", "_") in aliases or m.lower() in aliases]


def h5ad_has_proteins(path: str | Path) -> bool:
    """Whether an ``.h5ad`` holds proteins the readers find (``.obsm`` or ``var["feature_types"]``),
    read from the file's headers without loading the matrices."""
    if set(hdf5_keys(path, "obsm")) & set(PROTEIN_OBSM_KEYS):
        return True
    try:
        with h5py.File(path, "r") as f:
            columns = [str(c) for c in f["var"].attrs.get("column-order", [])] if "var" in f else []
    except OSError:
        columns = []
    return bool({"feature_types", "feature_type"} & set(columns))


def _pick_mod(mods: list[str], explicit: str | None, canonical: str, aliases: tuple[str, ...],
              what: str, path: Path, option: str) -> str:
    if explicit is not None:
        if explicit not in mods:
            raise CMCVAEInputError(
                f"{option}={explicit!r} is not a modality of {path}; it has {mods}. Pass one of those."
            )
        return explicit
    found = modality_matches(mods, canonical, aliases)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise CMCVAEInputError(
            f"{path} has several candidate {what} modalities {found}; pass {option}='NAME' to "
            "choose one."
        )
    raise CMCVAEInputError(
        f"The {what} modality {canonical!r} is missing from {path}: it has modalities {mods}. "
        f"CMC-VAE needs RNA and protein from the same cells: name the modality {canonical!r} "
        f"(accepted alternatives: {', '.join(aliases[1:5])}, …) or pass {option}='NAME'."
    )


def _choose_modalities(mods: list[str], rna_mod: str | None, prot_mod: str | None, path: Path,
                       notes: Notes) -> tuple[str, str]:
    """The RNA and protein modalities of a ``.h5mu``; renamings and dropped ones noted."""
    rname = _pick_mod(mods, rna_mod, RNA_MOD, RNA_ALIASES, "RNA", path, "rna_mod")
    pname = _pick_mod(mods, prot_mod, PROT_MOD, PROT_ALIASES, "protein", path, "prot_mod")
    if rname == pname:
        raise CMCVAEInputError(
            f"The RNA and protein modality of {path} are the same ({rname!r}); pass rna_mod and "
            "prot_mod naming two different modalities."
        )
    for old, new in ((rname, RNA_MOD), (pname, PROT_MOD)):
        if old != new:
            notes.add(f"Renamed modality {old!r} to {new!r}.")
    others = [m for m in mods if m not in (rname, pname)]
    if others:
        notes.add(f"Dropped the other modalities {others} (cmcvae uses RNA and protein only).")
    return rname, pname


def _open_h5mu(path: Path) -> md.MuData:
    fmt = sniff_format(path)
    if fmt != "h5mu":
        raise CMCVAEInputError(
            f"{path} is not a MuData file (its content is {fmt}); read it with read_dataset, which "
            "detects the format."
        )
    try:
        with quiet_names():
            return md.read_h5mu(path)
    except Exception as err:  # h5py/mudata raise many types for a broken file
        raise CMCVAEInputError(f"Could not read {path} as MuData (.h5mu): {err}.") from err


def _h5mu_obs(mdata: md.MuData, rna: ad.AnnData, mods: list[str]) -> pd.DataFrame:
    """The file's global ``obs`` over the kept cells (no ``mod:`` copies), plus the RNA's columns."""
    obs = mdata.obs.reindex(rna.obs_names)
    obs = obs.loc[:, [c for c in obs.columns if not c.startswith(tuple(f"{m}:" for m in mods))]]
    for col in rna.obs.columns:
        if col not in obs.columns:
            obs[col] = rna.obs[col].to_numpy()
    return obs


@fill_docs
def read_h5mu(path: str | Path, *, rna_mod: str | None = None, prot_mod: str | None = None,
              make_unique: bool = False, strip_genome_prefix: bool = True) -> md.MuData:
    """Read a MuData ``.h5mu`` and return its RNA and protein modalities as ``rna`` / ``prot``.

    Modalities named like ``gex``/``RNA`` or ``adt``/``protein``/``ADT`` are renamed (and the
    renaming is reported); other modalities (e.g. ``hto``) are dropped with a note. When the two
    modalities hold different cells, the shared cells are kept in RNA order (with a warning).

    Parameters
    ----------
    path
        The ``.h5mu`` file.
    rna_mod, prot_mod
        Names of the RNA and protein modalities, when they are not ``rna``/``prot`` or an alias.
    {make_unique}
    {strip_genome_prefix}

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``; ``obs`` is the file's global ``obs`` plus the RNA
        modality's columns.

    Raises
    ------
    CMCVAEInputError
        Not a MuData file, a missing modality, no shared cells, duplicated names or negative counts.
    """
    path = Path(path)
    mdata = _open_h5mu(path)
    notes = Notes()
    mods = list(mdata.mod)
    rname, pname = _choose_modalities(mods, rna_mod, prot_mod, path, notes)
    rna, prot = pair_cells(mdata.mod[rname], mdata.mod[pname], f"{path}['{rname}']",
                           f"{path}['{pname}']", notes)
    uns = {k: v for k, v in mdata.uns.items() if k != READ_KEY}
    return assemble(rna, prot, source=str(path), fmt="h5mu", notes=notes, make_unique=make_unique,
                    strip_genome_prefix=strip_genome_prefix, obs=_h5mu_obs(mdata, rna, mods),
                    uns=uns)


# ---------------------------------------------------------------------------------------------
# AnnData (one file or object)


def _protein_from_obsm(adata: ad.AnnData, key: str, notes: Notes) -> ad.AnnData:
    values = adata.obsm[key]
    if isinstance(values, pd.DataFrame):
        if not values.index.equals(adata.obs_names):
            values = values.reindex(adata.obs_names)
        names = [str(c) for c in values.columns]
    else:
        names = None
        for ukey in (f"{key}_names", "protein_names", "protein_expression_names"):
            if ukey in adata.uns and len(adata.uns[ukey]) == values.shape[1]:
                names = [str(n) for n in adata.uns[ukey]]
                notes.add(f"Protein names taken from uns[{ukey!r}] (obsm[{key!r}] is an array).")
                break
        if names is None:
            names = [f"protein_{i}" for i in range(values.shape[1])]
            notes.add(f"obsm[{key!r}] is an array without protein names; named them protein_0…"
                      f"protein_{values.shape[1] - 1}. Store a DataFrame to keep the antibody "
                      "names (needed to match proteins to genes).", warn=True)
    prot = ad.AnnData(X=prot_matrix(values, f"protein (obsm[{key!r}])"),
                      obs=pd.DataFrame(index=adata.obs_names.copy()))
    prot.var_names = names
    return prot


def _frames_copied(mapping: Any) -> dict[str, Any]:
    """A dict of an AnnData mapping; DataFrames copied (renaming cells re-indexes them in place)."""
    return {k: v.copy() if isinstance(v, pd.DataFrame) else v for k, v in mapping.items()}


def _shallow_copy(adata: ad.AnnData) -> ad.AnnData:
    """A copy sharing the matrices, so that the caller's AnnData is left untouched."""
    with quiet_names():
        return ad.AnnData(X=adata.X, obs=adata.obs.copy(), var=adata.var.copy(),
                          uns=dict(adata.uns), obsm=_frames_copied(adata.obsm),
                          layers=dict(adata.layers), varm=_frames_copied(adata.varm))


def _protein_key(adata: ad.AnnData, protein_key: str | None, source: str,
                 notes: Notes) -> str | None:
    """The ``.obsm`` key of the protein counts: the one given, else the first usual one found."""
    if protein_key is not None:
        if protein_key not in adata.obsm:
            raise CMCVAEInputError(
                f"protein_key={protein_key!r} is not in .obsm of {source} (keys: "
                f"{list(adata.obsm)}); pass the key that holds the protein counts."
            )
        return protein_key
    key = next((k for k in PROTEIN_OBSM_KEYS if k in adata.obsm), None)
    if key is not None and key != "protein_expression":
        notes.add(f"Proteins taken from .obsm[{key!r}] (scvi-tools' name is "
                  "'protein_expression').")
    return key


def _split_obsm(adata: ad.AnnData, key: str, protein_feature_type: str,
                notes: Notes) -> tuple[ad.AnnData, ad.AnnData]:
    """RNA (every feature) and proteins (``.obsm[key]``) of one AnnData."""
    prot = _protein_from_obsm(adata, key, notes)
    obsm = {k: v for k, v in adata.obsm.items() if k != key}
    with quiet_names():
        rna = ad.AnnData(X=adata.X, obs=adata.obs, var=adata.var, uns=dict(adata.uns),
                         obsm=obsm, layers=dict(adata.layers), varm=dict(adata.varm))
    ftype_col = feature_type_col(adata.var)
    if ftype_col is not None and (adata.var[ftype_col].astype(str) == protein_feature_type).any():
        notes.add(f"Also found {protein_feature_type!r} features in var[{ftype_col!r}]; used "
                  f"obsm[{key!r}] for proteins and kept all features in rna.", warn=True)
    return rna, prot


@fill_docs
def from_anndata(adata: ad.AnnData, *, protein_key: str | None = None,
                 protein_feature_type: str = ANTIBODY_CAPTURE, make_unique: bool = False,
                 strip_genome_prefix: bool = True, source: str = "the AnnData") -> md.MuData:
    """Turn one CITE-seq AnnData (RNA + proteins) into a MuData with ``rna`` and ``prot``.

    Proteins are looked up in this order: ``.obsm[protein_key]``; ``.obsm["protein_expression"]``
    (scvi-tools' convention: a DataFrame, or an array with names in ``.uns["protein_names"]``)
    or another usual key (``protein_counts``, ``adt``, …, reported); features whose
    ``.var["feature_types"]`` is ``protein_feature_type`` (the 10x layout, split from the
    ``Gene Expression`` features).

    Parameters
    ----------
    adata
        Cells × genes, with proteins in ``.obsm`` or among the features.
    protein_key
        ``.obsm`` key of the protein counts.
    {protein_feature_type}
    {make_unique}
    {strip_genome_prefix}
    source
        Name of the data in messages.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``; ``obs`` holds the AnnData's ``obs`` columns.

    Raises
    ------
    CMCVAEInputError
        No proteins found, duplicated names or negative counts.
    """
    notes = Notes()
    adata = _shallow_copy(adata)
    key = _protein_key(adata, protein_key, source, notes)
    ftype_col = feature_type_col(adata.var)
    if key is None and ftype_col is None:
        raise CMCVAEInputError(
            f"{source} is an AnnData file without proteins: cmcvae needs both RNA and protein. "
            "Store protein counts as a DataFrame in .obsm['protein_expression'] (scvi-tools' "
            "convention), keep them as features with .var['feature_types'] == 'Antibody Capture', "
            "pass the protein file separately (protein_path=… / read_pair), or save a MuData "
            f"(.h5mu) with modalities 'rna' and 'prot'. .obsm keys found: {list(adata.obsm)}."
        )
    unique_cells(adata, "RNA", source, make_unique, notes, paired_by_name=False)
    if key is not None:
        rna, prot = _split_obsm(adata, key, protein_feature_type, notes)
        fmt = f"h5ad (obsm[{key!r}])"
    else:
        rna, prot = split_feature_types(adata, source, protein_feature_type, notes)
        fmt = f"h5ad (var[{ftype_col!r}])"
    return assemble(rna, prot, source=source, fmt=fmt, notes=notes, make_unique=make_unique,
                    strip_genome_prefix=strip_genome_prefix)


def read_anndata(path: Path) -> ad.AnnData:
    """An ``.h5ad`` as AnnData; a broken file is a clear error, an old-format one a log line."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            adata = ad.read_h5ad(path)
    except Exception as err:  # h5py/anndata raise many types for a broken file
        raise CMCVAEInputError(
            f"Could not read {path} as AnnData (.h5ad): {err}. Check that the file is complete "
            "and was written by anndata (or convert it with anndata/scanpy)."
        ) from err
    old_format = False
    for w in caught:
        if type(w.message).__name__ == "OldFormatWarning":
            old_format = True
        elif "names are not unique" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if old_format:
        log.info("%s was written by an old anndata version (no encoding metadata); re-save it "
                 "with the current anndata to avoid this.", path)
    return adata


def read_h5ad(path: str | Path, *, protein_key: str | None = None,
              protein_feature_type: str = ANTIBODY_CAPTURE, make_unique: bool = False,
              strip_genome_prefix: bool = True) -> md.MuData:
    """Read a CITE-seq ``.h5ad`` holding RNA and proteins (see :func:`from_anndata`).

    Parameters
    ----------
    path
        The ``.h5ad`` file.
    protein_key, protein_feature_type, make_unique, strip_genome_prefix
        As in :func:`from_anndata`.

    Returns
    -------
    mudata.MuData
        Modalities ``rna`` and ``prot``.

    Raises
    ------
    CMCVAEInputError
        Not an AnnData file, no proteins, duplicated names or negative counts.
    """
    path = Path(path)
    fmt = sniff_format(path)
    if fmt != "h5ad":
        raise CMCVAEInputError(
            f"{path} is not an AnnData file (its content is {fmt}); read it with read_dataset, "
            "which detects the format."
        )
    return from_anndata(read_anndata(path), protein_key=protein_key,
                        protein_feature_type=protein_feature_type, make_unique=make_unique,
                        strip_genome_prefix=strip_genome_prefix, source=str(path))
