"""Prior networks in decoupler's ``source,target,weight`` convention (docs/design.md §2).

Reading
    :func:`read_network` reads a CSV/TSV (optionally gzipped) in decoupler's layout
    (``source,target[,weight|mor]``), a SIF-like OmniPath export (``source,interaction,target``)
    or an OmniPath web-service table (``source_genesymbol``, ``target_genesymbol``,
    ``is_stimulation``/``is_inhibition`` or their ``consensus_*`` versions).
Fetching
    is :func:`cmcvae.datasets.fetch_prior`'s job (CollecTRI or OmniPath, downloaded and cached).
Preparing
    :func:`prepare_grn_prior` expands CollecTRI's complex pseudo-TFs (``AP1``, ``NFKB``) and keeps
    the edges among the model's genes; :func:`prepare_ppi_prior` maps gene-symbol interactions onto
    the antibodies of a panel through the protein ↔ gene map.
Model use
    :func:`filter_network` and :func:`split_network` are what the model calls on a prior.

Complex pseudo-TFs and their expansion are in ``_complexes.py``.
"""

from __future__ import annotations

import gzip
import io
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp._complexes import COLLECTRI_COMPLEXES, OMNIPATH_COMPLEX_SEP, expand_complexes
from cmcvae.pp._protein_map import read_protein_map

log = logging.getLogger("cmcvae")

__all__ = [
    "filter_network",
    "prepare_grn_prior",
    "prepare_ppi_prior",
    "read_gene_list",
    "read_network",
    "split_network",
    "standardise_network",
]

# Column aliases, in order of preference (matched case-insensitively). Gene-symbol columns win
# over UniProt ones in OmniPath tables, which carry both.
_SOURCE_COLUMNS = ("source_genesymbol", "source", "tf", "from")
_TARGET_COLUMNS = ("target_genesymbol", "target", "to")
_WEIGHT_COLUMNS = ("weight", "mor", "interaction", "sign")
_SIGN_PAIRS = (("consensus_stimulation", "consensus_inhibition"), ("is_stimulation", "is_inhibition"))


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return path.open(encoding="utf-8", errors="replace")


def _guess_sep(path: Path) -> str:
    """Tab or comma: the more frequent one in the header line; the file name breaks ties."""
    suffixes = [s for s in path.suffixes if s != ".gz"]
    by_name = "\t" if suffixes and suffixes[-1] in (".tsv", ".txt", ".tab", ".sif") else ","
    try:
        with _open_text(path) as fh:
            header = fh.readline()
    except OSError:
        return by_name
    tabs, commas = header.count("\t"), header.count(",")
    if tabs == commas:
        return by_name
    return "\t" if tabs > commas else ","


def _pick(columns: Mapping[str, str], names: Iterable[str]) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _as_flag(values: pd.Series) -> np.ndarray:
    """0/1, True/False or 'TRUE'/'FALSE' columns as a boolean array (missing = False)."""
    if values.dtype == bool:
        return values.to_numpy()
    text = values.astype(str).str.strip().str.lower()
    return text.isin(["1", "1.0", "true", "t", "yes"]).to_numpy()


def _numeric_weights(values: pd.Series, what: str, origin: str) -> pd.Series:
    """The weight column as floats: a missing value (an empty field) is 0.0, an unknown sign; a
    value that is not a finite number (text, ``NaN``, ``inf``) is refused (its sign would
    otherwise be lost), naming the first rows (file lines count the header)."""
    missing = values.isna().to_numpy()
    weight = pd.to_numeric(values, errors="coerce").astype(float)
    bad = ~missing & ~np.isfinite(weight.to_numpy())
    if not bad.any():
        return weight.fillna(0.0)
    where = np.flatnonzero(bad)
    if origin.startswith("file"):
        rows = ", ".join(f"line {int(values.index[i]) + 2} ({values.iloc[i]!r})" for i in where[:5])
    else:
        rows = ", ".join(f"row {values.index[i]!r} ({values.iloc[i]!r})" for i in where[:5])
    raise CMCVAEInputError(
        f"The {what} {origin} has {int(bad.sum())} weight(s) that are not finite numbers "
        f"(column {values.name!r}: {rows}{', …' if len(where) > 5 else ''}). A weight is the "
        "edge's sign or strength (e.g. 1 activating, -1 repressing, 0 or empty for an unknown "
        "sign): write a number there or delete those rows."
    )


def check_duplicate_edges(net: pd.DataFrame, what: str) -> pd.DataFrame:
    """Refuse edges listed more than once with opposite signs; merge same-sign repeats (first
    row kept) with a notice on the ``cmcvae`` logger.

    Parameters
    ----------
    net
        ``source,target,weight`` network.
    what
        Name used in the messages (e.g. ``"GRN prior"``).

    Returns
    -------
    pandas.DataFrame
        ``net`` with each (source, target) once.

    Raises
    ------
    CMCVAEInputError
        When an edge appears with a positive and a negative weight.
    """
    dup = net.duplicated(["source", "target"], keep=False)
    if not dup.any():
        return net
    sign = np.sign(net.loc[dup, "weight"].to_numpy(dtype=float))
    groups = pd.DataFrame({"source": net.loc[dup, "source"], "target": net.loc[dup, "target"],
                           "sign": sign}).groupby(["source", "target"], sort=False)["sign"]
    span = groups.max() - groups.min()
    conflicts = span[span >= 2].index.tolist()
    if conflicts:
        listed = ", ".join(f"{s}→{t}" for s, t in conflicts[:5])
        raise CMCVAEInputError(
            f"The {what} lists {len(conflicts)} edge(s) both as activating and as repressing "
            f"(e.g. {listed}{', …' if len(conflicts) > 5 else ''}); cmcvae will not pick a sign "
            "for you. Keep one row per source,target with the sign you trust, or set its weight "
            "to 0 (unknown sign)."
        )
    out = net.drop_duplicates(["source", "target"]).reset_index(drop=True)
    log.warning("The %s lists %d edge(s) more than once (without opposite signs); each is used "
                "once, with the weight of its first row.",
                what, len(net) - len(out))
    return out


def standardise_network(df: pd.DataFrame, what: str, origin: str) -> pd.DataFrame:
    """Map a prior table's columns onto ``source,target,weight`` (weight: sign / mode of regulation).

    Understands decoupler's layout (``source,target,weight`` or ``mor``), DoRothEA's ``tf``,
    OmniPath SIF exports (``source,interaction,target``) and OmniPath web-service tables (gene
    symbols in ``source_genesymbol``/``target_genesymbol``; sign from
    ``consensus_stimulation``/``consensus_inhibition`` or ``is_stimulation``/``is_inhibition``:
    +1 stimulation, -1 inhibition, 0 unknown or both; rows with ``is_directed == 0`` dropped).
    :func:`read_network` applies it to a file; :func:`cmcvae.datasets.fetch_prior` to a download.

    Parameters
    ----------
    df
        The network as read (any of the layouts above).
    what, origin
        Used in error messages: what the table is (``"GRN prior"``) and where it comes from
        (``"file F"``, ``"download"``, ``"table"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target`` (str, stripped, empty names dropped) and ``weight``
        (float).

    Raises
    ------
    CMCVAEInputError
        When no source or target column is found.
    """
    cols = {str(c).strip().lower(): c for c in df.columns}
    src, tgt = _pick(cols, _SOURCE_COLUMNS), _pick(cols, _TARGET_COLUMNS)
    if src is None or tgt is None:
        missing = [n for n, c in (("source", src), ("target", tgt)) if c is None]
        raise CMCVAEInputError(
            f"The {what} {origin} lacks column(s) {missing}; found {list(df.columns)}. "
            "Networks use decoupler's convention: columns source,target[,weight] (OmniPath's "
            "source_genesymbol/target_genesymbol and SIF source,interaction,target also work)."
        )
    if "is_directed" in cols:
        df = df[_as_flag(df[cols["is_directed"]])]
    wcol = _pick(cols, _WEIGHT_COLUMNS)
    if wcol is not None:
        weight = _numeric_weights(df[wcol], what, origin)
    else:
        weight = pd.Series(1.0, index=df.index)
        for stim, inhib in _SIGN_PAIRS:
            if stim in cols and inhib in cols:
                s, i = _as_flag(df[cols[stim]]), _as_flag(df[cols[inhib]])
                weight = pd.Series(s.astype(float) - i.astype(float), index=df.index)
                break
    out = pd.DataFrame({"source": df[src], "target": df[tgt], "weight": weight})
    out = out.dropna(subset=["source", "target"])
    out["source"] = out["source"].astype(str).str.strip()
    out["target"] = out["target"].astype(str).str.strip()
    out = out[(out["source"] != "") & (out["target"] != "")]
    return out.reset_index(drop=True)


def read_network(path: str | Path, what: str = "prior") -> pd.DataFrame:
    """Read a CSV/TSV network with columns ``source,target`` and optional ``weight``.

    decoupler's/OmniPath's alternative column names are accepted: ``mor`` for weight, the SIF
    layout ``source,interaction,target`` (interaction = ±1) and OmniPath web-service tables
    (``source_genesymbol``, ``target_genesymbol``, ``is_stimulation``/``is_inhibition`` or
    ``consensus_stimulation``/``consensus_inhibition`` → weight +1/-1/0, undirected rows
    dropped). Tab or comma separation is detected from the header line; ``.gz`` files are read
    directly.

    Parameters
    ----------
    path
        CSV/TSV file (``.csv``, ``.tsv``, ``.txt``, optionally ``.gz``).
    what
        Name used in error messages (e.g. ``"GRN prior"``).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target`` (str) and ``weight`` (float; 1.0 when the file has none,
        0.0 where a field is empty: an unknown sign).

    Raises
    ------
    CMCVAEInputError
        When the file does not exist, is empty or has no edge, cannot be parsed, lacks
        source/target columns or has a weight that is neither empty nor a finite number.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"The {what} file {path} does not exist.")
    if path.is_dir():
        raise CMCVAEInputError(f"The {what} path {path} is a folder; pass a CSV/TSV file.")
    layout = ("Networks use decoupler's convention: a CSV or TSV with a header line "
              "source,target[,weight] and one edge per line")
    try:
        df = pd.read_csv(path, sep=_guess_sep(path), dtype=str, keep_default_na=False,
                         na_values=[""], low_memory=False)
    except pd.errors.EmptyDataError:
        raise CMCVAEInputError(
            f"The {what} file {path} is empty (no header, no edges). {layout}; write the edges "
            "into it, or leave the prior out."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        raise CMCVAEInputError(
            f"Could not read the {what} file {path} as CSV/TSV ({err}). {layout}."
        ) from err
    out = standardise_network(df, what, f"file {path}")
    if len(out) == 0:
        raise CMCVAEInputError(
            f"The {what} file {path} has no edges (a header line {', '.join(map(str, df.columns))} "
            f"and {len(df)} usable rows). {layout}; add the edges, or leave the prior out."
        )
    return out


# ---------------------------------------------------------------------------------------------
# model use (unchanged interface)
# ---------------------------------------------------------------------------------------------
def filter_network(net: pd.DataFrame, sources: list[str], targets: list[str] | None = None,
                   what: str = "prior") -> pd.DataFrame:
    """Keep edges whose source and target are model features; drop self-loops and duplicates
    (:func:`check_duplicate_edges`: same-sign repeats are merged with a notice).

    Raises
    ------
    CMCVAEInputError
        When no edge is left (the prior does not overlap the data's features), or an edge kept
        is listed with opposite signs.
    """
    targets = sources if targets is None else targets
    keep = net["source"].isin(set(sources)) & net["target"].isin(set(targets))
    keep &= net["source"] != net["target"]
    out = check_duplicate_edges(net[keep].reset_index(drop=True), what)
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


# ---------------------------------------------------------------------------------------------
# preparing priors for a model
# ---------------------------------------------------------------------------------------------
def read_gene_list(path: str | Path) -> list[str]:
    """Gene symbols from a text file (one per line) or from the ``rna`` var_names of an .h5mu.

    ``.h5ad`` files give their ``var_names``. In text files blank lines and ``#`` comments are
    skipped, as is a header line ``gene``/``genes``/``symbol``; only the first comma/tab field of
    a line is used.

    Raises
    ------
    CMCVAEInputError
        Missing file, an .h5mu without an ``rna`` modality, or no genes.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"The gene list {path} does not exist.")
    if path.suffix in (".h5mu", ".h5ad"):
        key = "mod/rna/var" if path.suffix == ".h5mu" else "var"
        try:
            with h5py.File(path, "r") as fh:
                if key not in fh:
                    mods = list(fh["mod"].keys()) if "mod" in fh else []
                    raise CMCVAEInputError(
                        f"{path} has no 'rna' modality (found {mods}); pass a MuData with "
                        "modalities rna/prot or a text file with one gene per line."
                    )
                genes = [str(g) for g in ad.io.read_elem(fh[key]).index]
        except OSError as err:
            raise CMCVAEInputError(f"Could not read {path} as {path.suffix} ({err}).") from err
    else:
        genes = []
        with _open_text(path) as fh:
            for line in fh:
                field = line.split("#", 1)[0].replace("\t", ",").split(",", 1)[0].strip()
                if field:
                    genes.append(field)
        if genes and genes[0].lower() in ("gene", "genes", "symbol", "gene_symbol"):
            genes = genes[1:]
    genes = list(dict.fromkeys(genes))
    if not genes:
        raise CMCVAEInputError(f"The gene list {path} is empty; give one gene symbol per line.")
    return genes


def _as_network(net: pd.DataFrame | str | Path, what: str) -> pd.DataFrame:
    if isinstance(net, (str, Path)):
        return read_network(net, what)
    if not isinstance(net, pd.DataFrame):
        raise CMCVAEInputError(f"The {what} must be a DataFrame or a CSV/TSV path, not {type(net).__name__}.")
    return standardise_network(net, what, "table")


def _resolve_edges(net: pd.DataFrame, drop_reciprocal: bool) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop self-loops; merge duplicate edges keeping the majority sign (ties: the first edge)."""
    counts: dict[str, int] = {}
    loops = net["source"] == net["target"]
    counts["n_self_loops"] = int(loops.sum())
    df = net[~loops].reset_index(drop=True).copy()
    df["_sign"] = np.sign(df["weight"].to_numpy(dtype=float))
    groups = df.groupby(["source", "target"], sort=False)["_sign"]
    total = groups.transform("sum")
    first = groups.transform("first")
    chosen = np.where(total != 0, np.sign(total), first)
    conflict = (groups.transform("max") > 0) & (groups.transform("min") < 0)
    dup = df.duplicated(["source", "target"], keep=False)
    counts["n_duplicate_edges"] = int(df.duplicated(["source", "target"]).sum())
    counts["n_sign_conflicts"] = int(df.loc[conflict, ["source", "target"]].drop_duplicates().shape[0])
    keep = ~dup | (df["_sign"].to_numpy() == chosen)
    df = df[keep].drop_duplicates(["source", "target"]).drop(columns="_sign")
    pairs = set(zip(df["source"], df["target"], strict=True))
    reciprocal = np.array([(t, s) in pairs for s, t in zip(df["source"], df["target"], strict=True)],
                          dtype=bool)
    counts["n_reciprocal_pairs"] = int(reciprocal.sum() // 2)
    if drop_reciprocal:
        df = df[~reciprocal]
    return df.reset_index(drop=True)[["source", "target", "weight"]], counts


def prepare_grn_prior(net: pd.DataFrame | str | Path, genes: Iterable[str],
                      complexes: Mapping[str, Iterable[str]] | None = None,
                      drop_reciprocal: bool = True) -> tuple[pd.DataFrame, dict]:
    """A TF → target prior restricted to the model's genes (complexes expanded, edges cleaned).

    Steps: expand complex pseudo-TFs into their subunits (default :data:`COLLECTRI_COMPLEXES`:
    ``AP1`` → JUN/JUNB/JUND/FOS/FOSB/FOSL1/FOSL2, ``NFKB`` → NFKB1/NFKB2/RELA/RELB/REL); drop
    self-loops; merge duplicate edges keeping the majority sign (a tie keeps the first edge, i.e.
    a TF's own edge before one inherited from a complex) and count the conflicts; drop pairs
    listed in both directions (they carry no direction for the margin loss and would score 50%
    on held-out direction by construction); keep the edges whose TF and target are both in
    ``genes``.

    Parameters
    ----------
    net
        ``source,target,weight`` network (DataFrame or CSV/TSV path), e.g. CollecTRI.
    genes
        The model's gene symbols (e.g. the 2,000 highly variable genes).
    complexes
        Complex pseudo-TFs and their members (default :data:`COLLECTRI_COMPLEXES`).
    drop_reciprocal
        Drop pairs present in both directions (default ``True``).

    Returns
    -------
    tuple
        The prior (``source,target,weight``) and a report dict with ``n_input``,
        ``complexes`` (``{name: n_edges}``), ``n_after_expansion``, ``n_self_loops``,
        ``n_duplicate_edges``, ``n_sign_conflicts``, ``n_reciprocal_pairs``, ``n_kept``,
        ``n_tfs``, ``n_targets``, ``n_genes``, ``n_activating``, ``n_repressing`` and ``message``.

    Raises
    ------
    CMCVAEInputError
        When no edge is left among ``genes``.
    """
    net = _as_network(net, "GRN prior")
    genes = list(dict.fromkeys(str(g) for g in genes))
    cx = COLLECTRI_COMPLEXES if complexes is None else complexes
    expanded, found = expand_complexes(net, cx)
    resolved, counts = _resolve_edges(expanded, drop_reciprocal)
    gene_set = set(genes)
    inside = resolved["source"].isin(gene_set) & resolved["target"].isin(gene_set)
    if not inside.any():
        filter_network(resolved, genes, what="GRN prior")  # raises with the usual message
    kept = resolved[inside].reset_index(drop=True)
    sign = np.sign(kept["weight"].to_numpy(dtype=float))
    report = {
        "n_input": len(net),
        "complexes": found,
        "n_after_expansion": len(expanded),
        **counts,
        "n_kept": len(kept),
        "n_tfs": int(kept["source"].nunique()),
        "n_targets": int(kept["target"].nunique()),
        "n_genes": len(genes),
        "n_activating": int((sign > 0).sum()),
        "n_repressing": int((sign < 0).sum()),
    }
    cx_note = f"; complexes {', '.join(found)} expanded" if found else ""
    report["message"] = (
        f"{report['n_kept']:,} GRN edges among {report['n_genes']:,} genes "
        f"({report['n_tfs']:,} TFs → {report['n_targets']:,} targets; "
        f"{report['n_activating']:,} activating, {report['n_repressing']:,} repressing{cx_note})"
    )
    return kept, report


def prepare_ppi_prior(net: pd.DataFrame | str | Path, protein_map: pd.DataFrame | str | Path | None,
                      panel: Iterable[str], expand: bool = True,
                      drop_reciprocal: bool = True) -> tuple[pd.DataFrame, dict]:
    """Map a gene-symbol protein → protein prior (e.g. OmniPath) onto a panel's antibodies.

    Each edge ``g1 → g2`` becomes ``a1 → a2`` for every panel antibody ``a1`` encoded by ``g1``
    and ``a2`` encoded by ``g2`` (an antibody to several genes, e.g. CD16 → FCGR3A/FCGR3B, takes
    the union of their edges). OmniPath complexes (``A_B``) are expanded to their members first.
    Antibody self-loops are dropped, duplicates merged keeping the majority sign, and pairs
    present in both directions dropped (see :func:`prepare_grn_prior`).

    Parameters
    ----------
    net
        ``source,target,weight`` network over gene symbols (DataFrame or CSV/TSV path).
    protein_map
        ``protein,gene`` table or CSV (one row per antibody and encoded gene). ``None``: each
        antibody is its own gene symbol.
    panel
        The antibodies (protein feature names) of the data.
    expand
        Expand ``A_B`` complexes (default ``True``).
    drop_reciprocal
        Drop pairs present in both directions (default ``True``).

    Returns
    -------
    tuple
        The antibody-level prior (``source,target,weight``) and a report dict with ``n_input``,
        ``complexes`` (number of complex nodes expanded), ``n_after_expansion``,
        ``n_gene_edges_on_panel``, ``n_self_loops``, ``n_duplicate_edges``, ``n_sign_conflicts``,
        ``n_reciprocal_pairs``, ``n_kept``, ``n_proteins`` (antibodies with an edge),
        ``n_panel``, ``unmapped_panel`` and ``message``.

    Raises
    ------
    CMCVAEInputError
        When the map lacks columns or no edge is left among the panel.
    """
    net = _as_network(net, "PPI prior")
    panel = list(dict.fromkeys(str(p) for p in panel))
    pmap = _panel_map(protein_map, panel)
    unmapped = [p for p in panel if p not in set(pmap["protein"])]
    gene_to_ab: dict[str, list[str]] = {}
    for prot, gene in zip(pmap["protein"], pmap["gene"], strict=True):
        gene_to_ab.setdefault(gene, []).append(prot)

    expanded, found = expand_complexes(net, None, OMNIPATH_COMPLEX_SEP if expand else None)
    on_panel = expanded[expanded["source"].isin(gene_to_ab) & expanded["target"].isin(gene_to_ab)]
    mapped = on_panel.assign(source=on_panel["source"].map(gene_to_ab),
                             target=on_panel["target"].map(gene_to_ab))
    mapped = mapped.explode("source").explode("target").reset_index(drop=True)
    if len(mapped) == 0:
        mapped = pd.DataFrame({"source": [], "target": [], "weight": []})
    resolved, counts = _resolve_edges(mapped, drop_reciprocal)
    if len(resolved) == 0:
        example = ", ".join(net["source"].astype(str).head(3))
        raise CMCVAEInputError(
            f"The PPI prior has no edge between the panel's proteins ({len(net):,} edges read, e.g. "
            f"sources {example}; {len(panel)} panel antibodies, {len(gene_to_ab)} mapped genes, e.g. "
            f"{', '.join(list(gene_to_ab)[:3]) or 'none'}). Check that the protein map's gene column "
            "uses the prior's gene symbols (e.g. FCGR3A for CD16), or leave the prior out."
        )
    sign = np.sign(resolved["weight"].to_numpy(dtype=float))
    proteins = set(resolved["source"]) | set(resolved["target"])
    report = {
        "n_input": len(net),
        "complexes": len(found),
        "n_after_expansion": len(expanded),
        "n_gene_edges_on_panel": len(on_panel),
        **counts,
        "n_kept": len(resolved),
        "n_proteins": len(proteins),
        "n_panel": len(panel),
        "n_activating": int((sign > 0).sum()),
        "n_inhibiting": int((sign < 0).sum()),
        "unmapped_panel": unmapped,
    }
    report["message"] = (
        f"{report['n_kept']:,} PPI edges among {report['n_proteins']} of {report['n_panel']} panel "
        f"proteins ({report['n_activating']:,} stimulating, {report['n_inhibiting']:,} inhibiting; "
        f"from {report['n_gene_edges_on_panel']:,} gene-level edges)"
    )
    return resolved, report


def _panel_map(protein_map: pd.DataFrame | str | Path | None, panel: list[str]) -> pd.DataFrame:
    """The ``protein,gene`` rows of the panel's antibodies (each its own gene without a map)."""
    if protein_map is None:
        pmap = pd.DataFrame({"protein": panel, "gene": panel})
    elif isinstance(protein_map, (str, Path)):
        pmap = read_protein_map(protein_map)
    else:
        missing = {"protein", "gene"} - set(protein_map.columns)
        if missing:
            raise CMCVAEInputError(
                f"The protein map lacks column(s) {sorted(missing)}; it needs columns protein,gene."
            )
        pmap = protein_map[["protein", "gene"]].astype(str).drop_duplicates()
    return pmap[pmap["protein"].isin(set(panel))]
