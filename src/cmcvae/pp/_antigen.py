"""Antibody (ADT) names → canonical antigens, and isotype-control detection.

:func:`canonical_antigen` reads an antibody feature name as found in CITE-seq data
(``"PD-1_TotalSeqB"``, ``"CD3 (UCHT1)"``, ``"Mouse IgG1, k Isotype Ctrl"``) and returns the
antigen it targets, resolved against the packaged antigen → gene map
(:func:`default_protein_map`, ``resources/antibody_gene_map.csv``; its columns and curation
choices are described in :mod:`cmcvae.pp._protein_map`). :func:`isotype_controls` picks the
isotype controls of a panel by name. The rules are documented on :func:`canonical_antigen`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import pandas as pd

from cmcvae._errors import CMCVAEInputError

__all__ = [
    "MAP_COLUMNS",
    "MAP_RESOURCE",
    "Reference",
    "canonical_antigen",
    "check_names",
    "default_protein_map",
    "default_reference",
    "is_isotype",
    "isotype_controls",
]

MAP_RESOURCE = "antibody_gene_map.csv"
#: Columns of the packaged antigen → gene map.
MAP_COLUMNS = ("antigen", "gene", "isotype_control", "aliases", "note")

_GREEK_CHARS = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "κ": "kappa", "λ": "lambda", "μ": "m",
}
_GREEK_WORDS = re.compile(r"alpha|beta|gamma|delta|epsilon|zeta|kappa|lambda")
_SEP = r"[\s_\-.:|]"
# Decorations around the antigen in feature names: technology, modality, "anti-human".
_SPECIES = r"(?:human|mouse|rat)"
_PREFIX = re.compile(
    rf"^(?:(?:anti{_SEP}*)?human(?:/{_SPECIES})*{_SEP}+|(?:anti{_SEP}*)?{_SPECIES}(?:/{_SPECIES})+{_SEP}+"
    rf"|(?:anti|hu){_SEP}+|(?:adt|prot|protein|cite|citeseq|totalseq[abc]?)[_\-.:|]+)",
    re.IGNORECASE,
)
_SUFFIX = re.compile(
    rf"{_SEP}+(?:total{_SEP}?seq{_SEP}?[abc]?|ts[abc]|adt|prot|protein|antibody|ab|cite|citeseq"
    rf"|recombinant|human|hu){_SEP}*$",
    re.IGNORECASE,
)
_SUFFIX_WORDS = frozenset(
    {"totalseq", "totalseqa", "totalseqb", "totalseqc", "tsa", "tsb", "tsc", "adt", "prot",
     "protein", "antibody", "ab", "cite", "citeseq", "recombinant", "human", "hu"}
)
_PARENS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_TOKEN_SEP = re.compile(rf"({_SEP}+)")
_SLASH = re.compile(r"(?<!\d)/|/(?!\d)")

# Isotype controls: "Mouse IgG1, k isotype Ctrl", "IgG1_control_TotalSeqB", "Rat.IgG2b.iso",
# "control_mIgG1_2", "IsoIgG2A", "IgG_Hamster", bare "IgG1"/"IgG2a"/"IgG2b"/"IgG2c".
_ISO_WORD = re.compile(r"isotype|ctrl|control|(?:^|[^a-z])iso(?![a-z])|^iso(?=[\W_]*[a-z]?ig)")
_ISO_SPECIES = re.compile(r"(?<![a-z])(mouse|murine|rat|hamster|armenian|syrian|arm\.?ham)")
_ISO_SHORT = re.compile(r"(?<![a-z])(?:ms|rt|m|r)ig[gm]")
_ISO_BARE = re.compile(r"igg(?:1|2[abc])[\s_\-.,]*(?:k|kappa|l|lambda)?")
_ISO_CLASS = re.compile(r"ig([gmade])([1-4]?)([abc]?)")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _key(text: str) -> str:
    """Matching key: case-, separator- and Greek-spelling-insensitive.

    ``α``/``alpha``/``a`` (and the other Greek letters) become one letter, all separators and
    punctuation are dropped except between two digits, where they become ``.`` (so that
    ``CD3-1`` never collides with ``CD31`` and ``TCR Va7-2`` equals ``TCR Va7.2``).
    """
    s = _nfkc(text)
    for char, word in _GREEK_CHARS.items():
        s = s.replace(char, word)
    s = _GREEK_WORDS.sub(lambda m: m.group(0)[0], s.lower())
    s = re.sub(r"(?<=\d)[^a-z0-9]+(?=\d)", ".", s)
    s = re.sub(r"[^a-z0-9.]", "", s)
    return re.sub(r"(?<!\d)\.|\.(?!\d)", "", s)


def _strip_decorations(text: str) -> str:
    """Drop technology/modality prefixes and suffixes (``ADT-``, ``_TotalSeqB``, ``_PROT``, ...)."""
    s = text.strip()
    while True:
        new = s
        m = _PREFIX.match(new)
        if m and new[m.end():].strip():
            new = new[m.end():]
        m = _SUFFIX.search(new)
        if m and new[: m.start()].strip():
            new = new[: m.start()]
        new = new.strip(" _-.:|")
        if new == s:
            return s
        s = new


def _split_parens(text: str) -> tuple[str, list[str]]:
    """``"CD3 (UCHT1)"`` → ``("CD3", ["UCHT1"])``; inner text split at ``,`` and ``;``."""
    inner = [p.strip() for m in _PARENS.finditer(text) for p in re.split(r"[,;]", m.group(1))]
    base = re.sub(r"\s+", " ", _PARENS.sub(" ", text)).strip(" _-.:|")
    return base, [p for p in inner if p]


# ----------------------------------------------------------------------------- packaged map


@lru_cache(maxsize=1)
def _read_default_map() -> pd.DataFrame:
    source = resources.files("cmcvae").joinpath("resources", MAP_RESOURCE)
    with source.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    df["isotype_control"] = df["isotype_control"].str.lower().eq("true")
    return df


def default_protein_map() -> pd.DataFrame:
    """The packaged antigen → gene map.

    Returns
    -------
    pandas.DataFrame
        Columns ``antigen, gene, isotype_control, aliases, note``; one row per antigen and
        encoded gene (``gene`` is ``""`` for isotype controls and for reagents without a
        human target gene). ``isotype_control`` is boolean. A fresh copy on every call.

    Examples
    --------
    >>> m = default_protein_map()
    >>> sorted(m.loc[m["antigen"] == "CD16", "gene"])
    ['FCGR3A', 'FCGR3B']
    """
    return _read_default_map().copy()


class Reference:
    """Alias index and gene lists of an antigen → gene map."""

    def __init__(self, ref: pd.DataFrame) -> None:
        self.genes: dict[str, list[str]] = {}
        self.isotype: dict[str, bool] = {}
        aliases: dict[str, list[str]] = {}
        for row in ref.itertuples(index=False):
            antigen = str(row.antigen)
            self.genes.setdefault(antigen, [])
            if row.gene and row.gene not in self.genes[antigen]:
                self.genes[antigen].append(str(row.gene))
            self.isotype[antigen] = bool(self.isotype.get(antigen, False) or row.isotype_control)
            for alias in str(getattr(row, "aliases", "") or "").split(";"):
                if alias.strip() and alias.strip() not in aliases.setdefault(antigen, []):
                    aliases[antigen].append(alias.strip())
        self.index = self._build_index(aliases)

    def _build_index(self, aliases: dict[str, list[str]]) -> dict[str, str]:
        """Matching key → antigen.

        Priority: antigen names, then aliases, then the symbol of a single-gene antigen (only
        where exactly one single-gene antigen has that gene).
        """
        index: dict[str, str] = {}
        for antigen in self.genes:
            index.setdefault(_key(antigen), antigen)
        for antigen, names in aliases.items():
            for alias in names:
                index.setdefault(_key(alias), antigen)
        owners: dict[str, list[str]] = {}
        for antigen, genes in self.genes.items():
            if len(genes) == 1:
                owners.setdefault(genes[0], []).append(antigen)
        for gene, antigens in owners.items():
            if len(antigens) == 1:
                index.setdefault(_key(gene), antigens[0])
        return index

    # -- resolution -------------------------------------------------------------------------
    def _whole(self, text: str) -> str | None:
        key = _key(text)
        return self.index.get(key) if key else None

    def _resolve_text(self, text: str) -> str | None:
        """Whole name, then ``/``-alternatives, then a prefix followed by a clone/counter."""
        found = self._whole(text)
        if found:
            return found
        parts = [p for p in _SLASH.split(text) if p.strip()]
        if len(parts) > 1:
            for part in parts:
                found = self._whole(part)
                if found:
                    return found
        tokens = _TOKEN_SEP.split(text)
        # tokens alternate word, separator, word, ...; try the longest left part first.
        for i in range(len(tokens) - 2, 0, -2):
            left, right = "".join(tokens[:i]), "".join(tokens[i + 1 :])
            if not left.strip() or not right.strip():
                continue
            found = self._whole(left)
            if not found:
                continue
            other = self._whole(right)
            if other == found or (other is None and _is_suffix_like(right)):
                return found
        return None

    def resolve(self, name: str) -> str | None:
        """Canonical antigen of ``name`` or ``None``."""
        raw = _nfkc(name)
        found = self._whole(raw)
        if found:
            return found
        base, inner = _split_parens(raw)
        for candidate in (base, _strip_decorations(base), *inner, *map(_strip_decorations, inner)):
            if candidate:
                found = self._resolve_text(candidate)
                if found:
                    return found
        return None


def _is_suffix_like(text: str) -> bool:
    """A clone name (has a digit: HI100, RPA-T4, 3G8), a duplicate counter (1, 2) or a decoration."""
    return bool(re.search(r"\d", text)) or _key(text) in _SUFFIX_WORDS


@lru_cache(maxsize=1)
def default_reference() -> Reference:
    """The :class:`Reference` of the packaged map (built once)."""
    return Reference(_read_default_map())


# ----------------------------------------------------------------------------- isotypes


def is_isotype(name: str) -> bool:
    """Whether an antibody name reads as an isotype control (:func:`canonical_antigen`, rule 2)."""
    low = _nfkc(name).lower()
    if _ISO_WORD.search(low) or _ISO_SHORT.search(low):
        return True
    if _ISO_SPECIES.search(low) and re.search(r"ig[gmaed]", low):
        return True
    if re.search(r"igg2[abc]", low):  # mouse/rat subclasses; human IgG2 has none
        return True
    base = _strip_decorations(_split_parens(_nfkc(name))[0]).lower()
    base = re.sub(rf"{_SEP}\d{{1,2}}$", "", base)  # duplicate counter: IgG1-2, IgG1.1
    return bool(_ISO_BARE.fullmatch(base))


def _isotype_label(name: str) -> str | None:
    """Normalised isotype label, e.g. ``"Mouse IgG1 kappa"``, or ``None`` if no Ig class is named."""
    low = _nfkc(name)
    for char, word in _GREEK_CHARS.items():
        low = low.replace(char, word)
    low = low.lower()
    m = _ISO_CLASS.search(low)
    if not m:
        return None
    cls = "Ig" + m.group(1).upper() + m.group(2) + m.group(3)
    species_m = _ISO_SPECIES.search(low)
    species = species_m.group(1) if species_m else None
    if species is None:
        short = re.search(r"(?<![a-z])(ms|rt|m|r)ig[gm]", low)
        species = {"ms": "mouse", "m": "mouse", "rt": "rat", "r": "rat"}[short.group(1)] if short else None
    if species in ("hamster", "armenian", "arm.ham", "armham"):
        species_name = "Syrian Hamster" if "syrian" in low else "Armenian Hamster"
    elif species == "syrian":
        species_name = "Syrian Hamster"
    elif species == "rat":
        species_name = "Rat"
    elif species in ("mouse", "murine"):
        species_name = "Mouse"
    else:
        species_name = "Rat" if cls == "IgG2c" else "Mouse"
    if "Hamster" in species_name:
        return f"{species_name} {cls}"
    rest = low[m.end():]
    lam = re.search(r"lambda|(?<![a-z])l(?![a-z])", rest) or re.match(r"[\s_,.\-]*l(?=iso|ctrl|control)", rest)
    light = "lambda" if lam else "kappa"
    if cls in ("IgG", "IgA", "IgE", "IgD"):
        return f"{species_name} {cls}"
    return f"{species_name} {cls} {light}"


# ----------------------------------------------------------------------------- public API


def canonical_antigen(name: str) -> str:
    """Canonical antigen name of an antibody (ADT) feature name.

    Rules, applied in order (matching is case-insensitive throughout):

    1. **Matching key.** Names are compared by a key that ignores case, spaces, ``-``,
       ``_``, ``.``, ``/``, ``,`` and parentheses, and spells Greek letters as one Latin letter
       (``α``/``alpha``/``a``). Separators between two digits are kept as ``.``, so
       ``CD3-1``/``CD3.1`` (a second CD3 antibody) never reads as ``CD31`` and
       ``TCR-V-alpha-7.2`` equals ``TCR Va7.2``.
    2. **Isotype controls** ("Mouse IgG1, k Isotype Ctrl", "IgG1_control_TotalSeqB",
       "Rat.IgG2b.iso", "control_mIgG1", "IgG_Hamster", bare ``IgG1``/``IgG2a``/``IgG2b``/
       ``IgG2c``) become a label ``"<Species> <class> [kappa|lambda]"``, e.g.
       ``"Mouse IgG1 kappa"`` (species defaults to mouse, rat for IgG2c; light chain to kappa).
    3. **Whole name.** The key of the whole name is looked up among the packaged map's
       antigen names, then its aliases, then gene symbols of single-gene antigens
       (``PD-1``, ``PDCD1`` → ``CD279``).
    4. **Parentheses** hold a clone or another name: ``"CD3 (UCHT1)"`` → ``CD3``;
       the text outside is tried first, then each comma-separated part inside
       (``"MHCII (HLA-DR)"`` → ``HLA-DR``).
    5. **Decorations** are dropped when the name does not match as it is: prefixes
       ``anti-``, ``anti-human``, ``anti-human/mouse``, ``human``, ``Hu.``, ``ADT-``,
       ``prot_``, ``TotalSeq``;
       suffixes ``_TotalSeqB``, ``-TotalSeq-C``, ``_TSB``, ``_ADT``, ``_PROT``, ``_protein``,
       ``_Ab``, ``Recombinant``.
    6. **Alternatives**: ``"CD123/IL-3R"`` matches if one ``/``-part does.
    7. **Trailing clone or counter**: ``"CD45RA_HI100"``, ``"CD4-RPA-T4"``, ``"CD3-1"``,
       ``"CD3.1"`` → the longest leading part that matches, provided what follows contains a
       digit (a clone name or duplicate counter), is a decoration word, or names the same
       antigen (``"CD279-PD-1"`` → ``CD279``). Names are never cut to a different antigen:
       ``"CD3-CD28"`` stays unresolved, ``"CD45RA"``, ``"HLA-DR"``, ``"PD-1"`` and
       ``"TCR-V-alpha-7.2"`` match whole.

    Parameters
    ----------
    name
        Antibody feature name as found in the data.

    Returns
    -------
    str
        The packaged map's antigen name (the CD name where one exists: ``"PD-1_TotalSeqB"``
        → ``"CD279"``), the isotype label, or, for an antigen the map does not know, the name
        without parentheses and decorations (``"FOO_TotalSeqB"`` → ``"FOO"``).

    Raises
    ------
    CMCVAEInputError
        If ``name`` is not a non-empty string.

    Examples
    --------
    >>> [canonical_antigen(n) for n in ("CD3_TotalSeqB", "ADT-CD3", "CD3 (UCHT1)", "Hu.CD3")]
    ['CD3', 'CD3', 'CD3', 'CD3']
    >>> canonical_antigen("HLA-DR_TotalSeqB"), canonical_antigen("Mouse IgG1, k Isotype Ctrl")
    ('HLA-DR', 'Mouse IgG1 kappa')
    """
    if not isinstance(name, str) or not name.strip():
        raise CMCVAEInputError(
            f"Antibody name {name!r} is not a non-empty string; give protein names as text "
            "(e.g. list(adata.var_names))."
        )
    return _canonical(name)


@lru_cache(maxsize=8192)
def _canonical(name: str) -> str:
    if is_isotype(name):
        return _isotype_label(name) or _clean(name)
    found = default_reference().resolve(name)
    return found if found is not None else _clean(name)


def _clean(name: str) -> str:
    base, inner = _split_parens(_nfkc(name))
    base = base or (inner[0] if inner else _nfkc(name))
    return _strip_decorations(base) or base


def isotype_controls(proteins: Iterable[str]) -> list[str]:
    """Names among ``proteins`` that are isotype-control antibodies.

    Detection uses the name alone (see :func:`canonical_antigen`, rule 2): words such as
    "isotype", "iso", "ctrl", "control"; a host species together with an Ig class
    ("Mouse IgG2a", "IgG1_Rat_k", "IgG_Hamster", "mIgG1"); or a bare mouse/rat subclass
    (``IgG1``, ``IgG2a``, ``IgG2b``, ``IgG2c``). Anti-human immunoglobulin antibodies
    (``IgG``, ``IgM``, ``IgD``, ``IgA``, ``IgG Fc``) are not controls.

    Parameters
    ----------
    proteins
        Antibody feature names.

    Returns
    -------
    list of str
        The isotype controls, in the order given.

    Raises
    ------
    CMCVAEInputError
        If ``proteins`` is a single string or holds empty or non-string names.

    Examples
    --------
    >>> isotype_controls(["CD3", "IgG1", "Mouse IgG2a, k isotype Ctrl", "IgM"])
    ['IgG1', 'Mouse IgG2a, k isotype Ctrl']
    """
    return [p for p in check_names(proteins, "proteins", unique=False) if is_isotype(p)]


def check_names(values: Iterable[str], what: str, unique: bool = True) -> list[str]:
    """``values`` as a list of non-empty strings (unique unless ``unique=False``), else an error."""
    if isinstance(values, str):
        raise CMCVAEInputError(
            f"{what} is a single string ({values!r}); give a list of names, e.g. [{values!r}]."
        )
    try:
        names = list(values)
    except TypeError as err:
        raise CMCVAEInputError(f"{what} must be a list of names, not {type(values).__name__}.") from err
    bad = [v for v in names if not isinstance(v, str) or not v.strip()]
    if bad:
        raise CMCVAEInputError(
            f"{what} holds {len(bad)} empty or non-text name(s) (first: {bad[0]!r}); give every "
            "feature a non-empty string name."
        )
    if unique:
        seen: set[str] = set()
        dups = sorted({v for v in names if v in seen or seen.add(v)})
        if dups:
            raise CMCVAEInputError(
                f"{what} lists {dups[:5]} more than once; names must be unique. Make them unique "
                "first (e.g. AnnData.var_names_make_unique())."
            )
    return names


