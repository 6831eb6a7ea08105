"""Which modalities a fit uses (``cmcvae fit --modality rna|protein|both``): read and register DATA.

``both`` (the default) is the CITE-seq fit: DATA is read by :func:`cmcvae.io.read_input` into
``rna`` + ``prot`` and registered with :meth:`CMCVAE.setup_mudata`. ``rna`` / ``protein`` fit one
modality (single-modality mode, ``docs/design.md`` §1.3):

- an ``.h5ad`` without proteins (no protein ``.obsm`` key, no ``var["feature_types"]``) is taken
  whole as that modality (counts in ``.X`` or ``layers["counts"]``);
- a CITE-seq ``.h5ad``, a two-modality ``.h5mu`` or any other supported input is read as usual and
  the other modality is left out;
- a one-modality ``.h5mu`` must hold the modality asked for (named ``rna``/``prot`` or an alias).

Priors that only mean something for the modality left out are refused, not ignored: a
``--protein-map`` or ``--ppi-prior`` with ``--modality rna``, a ``--grn-prior`` or
``--protein-map`` with ``--modality protein``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import (
    PROT_ALIASES,
    RNA_ALIASES,
    h5ad_has_proteins,
    hdf5_keys,
    modality_matches,
    read_anndata,
    read_backed,
    read_input,
    sniff_format,
)
from cmcvae.model import CMCVAE

#: the values of ``--modality``
MODALITY_CHOICES = ("both", "rna", "protein")
#: priors that have no meaning without the other modality: modality → (input, option) pairs
_MEANINGLESS = {"rna": (("protein_map", "--protein-map"), ("ppi_prior", "--ppi-prior")),
                "protein": (("grn_prior", "--grn-prior"), ("protein_map", "--protein-map"))}
_WHAT = {"rna": "RNA", "protein": "protein"}


def check_modality(modality: str, priors: dict[str, Any]) -> None:
    """Refuse an unknown ``modality`` and the priors that mean nothing without the other one."""
    if modality not in MODALITY_CHOICES:
        raise CMCVAEInputError(
            f"--modality {modality!r} is not one of {', '.join(MODALITY_CHOICES)}: pass rna (RNA "
            "only), protein (proteins only) or both (the default, CITE-seq)."
        )
    given = [option for key, option in _MEANINGLESS.get(modality, ()) if priors.get(key) is not None]
    if given:
        other = "protein" if modality == "rna" else "RNA"
        raise CMCVAEInputError(
            f"{' and '.join(given)} describe{'s' if len(given) == 1 else ''} the {other} modality, "
            f"which a --modality {modality} fit leaves out: drop {', '.join(given)} (or fit "
            "--modality both on data with RNA and protein)."
        )


def read_fit_data(path: str | Path, modality: str, backed: bool) -> md.MuData | ad.AnnData:
    """Read DATA for a fit of ``modality`` (see the module docstring)."""
    path = Path(path)
    fmt = sniff_format(path) if path.exists() else None
    mods = hdf5_keys(path, "mod") if fmt == "h5mu" else []
    if backed:
        if modality != "both" and fmt == "h5mu" and _missing_other(mods, modality):
            raise CMCVAEInputError(
                f"--backed reads a .h5mu with modalities 'rna' and 'prot'; {path} holds one "
                "modality: fit it without --backed."
            )
        return read_backed(path)
    if fmt == "h5ad" and not h5ad_has_proteins(path):
        if modality == "both":
            raise CMCVAEInputError(
                f"{path} is an .h5ad without proteins (no .obsm['protein_expression'], no "
                "var['feature_types']): a --modality both fit needs RNA and protein. For an "
                "RNA-only fit pass --modality rna (--modality protein if it holds protein counts); "
                "for CITE-seq, store the protein counts in .obsm['protein_expression']."
            )
        return read_anndata(path)
    if fmt == "h5mu" and modality == "both":
        _check_both(path, mods)
    if fmt == "h5mu" and modality != "both":
        if _modality_name(mods, modality) is None:
            raise CMCVAEInputError(_no_modality(modality, mods, str(path)))
        if _missing_other(mods, modality):
            return _one_modality_h5mu(path)
    return read_input(path)


def setup_fit_data(data: md.MuData | ad.AnnData, modality: str, batch_key: str | None) -> None:
    """Register ``data`` for a fit of ``modality`` (:meth:`CMCVAE.setup_mudata` / ``setup_anndata``)."""
    if isinstance(data, ad.AnnData):
        if modality == "both":
            raise CMCVAEInputError(
                "The data is one AnnData (one modality): a --modality both fit needs RNA and "
                "protein; pass modality='rna' or 'protein' (--modality rna|protein)."
            )
        CMCVAE.setup_anndata(data, modality=modality, batch_key=batch_key)
        return
    if modality == "both":
        CMCVAE.setup_mudata(data, batch_key=batch_key)
        return
    name = _modality_name(list(data.mod), modality)
    if name is None:
        raise CMCVAEInputError(_no_modality(modality, list(data.mod), "The data"))
    names = {"rna_mod": name, "prot_mod": None} if modality == "rna" else \
        {"rna_mod": None, "prot_mod": name}
    CMCVAE.setup_mudata(data, batch_key=batch_key, **names)


def _modality_name(mods: list[str], modality: str) -> str | None:
    """The modality of ``mods`` holding ``modality`` (its canonical name, else one alias)."""
    aliases = RNA_ALIASES if modality == "rna" else PROT_ALIASES
    found = modality_matches(mods, aliases[0], aliases)
    return found[0] if len(found) == 1 else None


def _no_modality(modality: str, mods: list[str], where: str) -> str:
    other = "protein" if modality == "rna" else "rna"
    return (f"{where} has no {_WHAT[modality]} modality (it has modalities {mods}), so it cannot "
            f"be fitted with --modality {modality}: name the {_WHAT[modality]} modality "
            f"{'rna' if modality == 'rna' else 'prot'!r} in the file, or fit the data it holds "
            f"(--modality {other} if that is what it holds).")


def _missing_other(mods: list[str], modality: str) -> bool:
    """Whether a ``.h5mu`` with modalities ``mods`` lacks the one other than ``modality``."""
    other = "protein" if modality == "rna" else "rna"
    return _modality_name(mods, other) is None


def _check_both(path: Path, mods: list[str]) -> None:
    """Refuse a one-modality ``.h5mu`` for a ``both`` fit, saying which ``--modality`` fits it."""
    for modality in ("rna", "protein"):
        if _missing_other(mods, modality) and _modality_name(mods, modality):
            other = ("protein", "prot") if modality == "rna" else ("RNA", "rna")
            raise CMCVAEInputError(
                f"The {other[0]} modality {other[1]!r} is missing from {path}: it holds "
                f"{_WHAT[modality]} only (modalities {mods}), and a --modality "
                f"both fit needs RNA and protein. Pass --modality {modality} to fit the "
                f"{_WHAT[modality]} alone."
            )


def _one_modality_h5mu(path: Path) -> md.MuData:
    """A ``.h5mu`` without the other modality, read as it is."""
    try:
        return md.read_h5mu(path)
    except Exception as err:  # h5py/mudata raise many types for a broken file
        raise CMCVAEInputError(f"Could not read {path} as MuData (.h5mu): {err}.") from err
