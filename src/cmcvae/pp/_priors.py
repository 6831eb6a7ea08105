"""Prior networks in decoupler's ``source,target,weight`` convention (docs/design.md §2).

Reading
    :func:`read_network` reads a CSV/TSV (optionally gzipped) in decoupler's layout
    (``source,target[,weight|mor]``), a SIF-like OmniPath export (``source,interaction,target``)
    or an OmniPath web-service table (``source_genesymbol``, ``target_genesymbol``,
    ``is_stimulation``/``is_inhibition`` or their ``consensus_*`` versions).
Fetching
    :func:`fetch_prior` downloads CollecTRI (through decoupler) or OmniPath's directed, signed
    interactions (web service) and caches them; offline it says how to pass a file instead.
Preparing
    :func:`prepare_grn_prior` expands CollecTRI's complex pseudo-TFs (``AP1``, ``NFKB``) and keeps
    the edges among the model's genes; :func:`prepare_ppi_prior` maps gene-symbol interactions onto
    the antibodies of a panel through the protein ↔ gene map.
Model use
    :func:`filter_network` and :func:`split_network` are what the model calls on a prior.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

PRIOR_NAMES = ("collectri", "omnipath")

#: CollecTRI's complex pseudo-TFs and their subunits. decoupler's CollecTRI download
#: (``decoupler.op.collectri``) merges the AP-1 (JUN/FOS family) and NF-κB (REL family) dimers
#: into the pseudo-TFs ``AP1`` and ``NFKB``; these are the only complexes in it (decoupler's
#: ``remove_complexes`` drops exactly these two names).
COLLECTRI_COMPLEXES: dict[str, tuple[str, ...]] = {
    "AP1": ("JUN", "JUNB", "JUND", "FOS", "FOSB", "FOSL1", "FOSL2"),
    "NFKB": ("NFKB1", "NFKB2", "RELA", "RELB", "REL"),
}

#: Separator of complex members in OmniPath gene symbols (e.g. ``CDK1_CCNB1``; the web service's
#: UniProt form is ``COMPLEX:P06493_P14635``).
OMNIPATH_COMPLEX_SEP = "_"

OMNIPATH_URL = "https://omnipathdb.org/interactions"
_OMNIPATH_ORGANISMS = {"human": 9606, "mouse": 10090, "rat": 10116}

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


def _standardise_network(df: pd.DataFrame, what: str, origin: str) -> pd.DataFrame:
    """Map a prior table's columns onto ``source,target,weight`` (weight: sign / mode of regulation).

    Understands decoupler's layout (``source,target,weight`` or ``mor``), DoRothEA's ``tf``,
    OmniPath SIF exports (``source,interaction,target``) and OmniPath web-service tables (gene
    symbols in ``source_genesymbol``/``target_genesymbol``; sign from
    ``consensus_stimulation``/``consensus_inhibition`` or ``is_stimulation``/``is_inhibition``:
    +1 stimulation, -1 inhibition, 0 unknown or both; rows with ``is_directed == 0`` dropped).
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
        weight = pd.to_numeric(df[wcol], errors="coerce").fillna(0.0).astype(float)
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
        0.0 where a value is missing).

    Raises
    ------
    CMCVAEInputError
        When the file does not exist, cannot be parsed or lacks source/target columns.
    """
    path = Path(path)
    if not path.exists():
        raise CMCVAEInputError(f"The {what} file {path} does not exist.")
    if path.is_dir():
        raise CMCVAEInputError(f"The {what} path {path} is a folder; pass a CSV/TSV file.")
    try:
        df = pd.read_csv(path, sep=_guess_sep(path), dtype=str, keep_default_na=False,
                         na_values=[""], low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        raise CMCVAEInputError(
            f"Could not read the {what} file {path} as CSV/TSV ({err}). Networks use decoupler's "
            "convention: a CSV or TSV with columns source,target[,weight]."
        ) from err
    return _standardise_network(df, what, f"file {path}")


# ---------------------------------------------------------------------------------------------
# model use (unchanged interface)
# ---------------------------------------------------------------------------------------------
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


# ---------------------------------------------------------------------------------------------
# fetching and caching
# ---------------------------------------------------------------------------------------------
def default_prior_cache() -> Path:
    """Cache folder of fetched priors: ``$CMCVAE_CACHE/priors`` or ``~/.cache/cmcvae/priors``."""
    from cmcvae.datasets._registry import cache_root

    return cache_root() / "priors"


def _check_name(name: str) -> str:
    key = str(name).strip().lower()
    if key not in PRIOR_NAMES:
        raise CMCVAEInputError(
            f"Unknown prior {name!r}; cmcvae can fetch {', '.join(PRIOR_NAMES)}. Any other network "
            "works as a local CSV/TSV with columns source,target[,weight] (--grn-prior/--ppi-prior)."
        )
    return key


def _check_organism(name: str, organism: str) -> str:
    org = str(organism).strip().lower()
    if name == "omnipath":
        taxids = {str(v): k for k, v in _OMNIPATH_ORGANISMS.items()}
        org = taxids.get(org, org)
        if org not in _OMNIPATH_ORGANISMS:
            raise CMCVAEInputError(
                f"OmniPath's web service serves human, mouse and rat interactions, not {organism!r}. "
                "Use --organism human|mouse|rat (or 9606|10090|10116)."
            )
        return org
    if org == "human":
        return org
    import decoupler as dc

    valid = dc.op.show_organisms()
    if org not in valid:
        raise CMCVAEInputError(
            f"CollecTRI is human; decoupler translates it to {', '.join(valid)}, not {organism!r}. "
            "Pick one of those with --organism."
        )
    return org


@contextlib.contextmanager
def _requests_timeout(timeout: float) -> Iterator[None]:
    """Give ``requests`` calls without their own timeout (decoupler's) a default one."""
    try:
        import requests
    except ImportError:  # pragma: no cover - decoupler depends on requests
        yield
        return
    original = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request
    try:
        yield
    finally:
        requests.Session.request = original


def _download_collectri(organism: str, timeout: float) -> pd.DataFrame:
    """CollecTRI through decoupler (``decoupler.op.collectri``; Zenodo record 8192729)."""
    import decoupler as dc

    with _requests_timeout(timeout):
        return dc.op.collectri(organism=organism, remove_complexes=False)


def omnipath_query_url(organism: str = "human") -> str:
    """URL of OmniPath's directed, signed interactions (the ``omnipath`` dataset), gene symbols.

    Parameters follow the web service's ``interactions`` query (pypath server's
    ``args_reference``): ``datasets=omnipath`` (literature-curated causal signalling),
    ``genesymbols=yes``, ``directed=yes``, ``signed=yes``, ``organisms`` (NCBI taxon),
    ``fields=curation_effort,type``, ``license=academic``, ``format=tsv``.
    """
    params = {
        "datasets": "omnipath",
        "genesymbols": "yes",
        "fields": "curation_effort,type",
        "directed": "yes",
        "signed": "yes",
        "organisms": str(_OMNIPATH_ORGANISMS[organism]),
        "license": "academic",
        "format": "tsv",
    }
    return f"{OMNIPATH_URL}?{urllib.parse.urlencode(params)}"


def _download_omnipath(organism: str, timeout: float) -> pd.DataFrame:
    """OmniPath's directed, signed interactions from the web service (plain HTTPS, urllib)."""
    from importlib.metadata import version

    request = urllib.request.Request(
        omnipath_query_url(organism), headers={"User-Agent": f"cmcvae/{version('cmcvae')}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read()
    return pd.read_csv(io.BytesIO(payload), sep="\t", dtype=str, keep_default_na=False,
                       na_values=[""])


def _offline_message(name: str, reason: str, cache_file: Path) -> str:
    label = {"collectri": "CollecTRI (via decoupler, zenodo.org)",
             "omnipath": "OmniPath (omnipathdb.org)"}[name]
    option = "--grn-prior" if name == "collectri" else "--ppi-prior"
    return (
        f"Could not reach {label} ({reason}). Download on a connected machine with "
        f"`cmcvae priors {name} --out F.csv`, or pass any local CSV/TSV in decoupler's "
        f"source,target,weight format with {option}. (A copy saved as {cache_file} is used "
        "without a download.)"
    )


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            df.to_csv(fh, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_prior(name: str, cache_dir: str | Path | None = None, timeout: float = 30,
                organism: str = "human", force: bool = False) -> pd.DataFrame:
    """Fetch CollecTRI or OmniPath as a ``source,target,weight`` network, using a cache.

    CollecTRI (TF → target, mode of regulation ±1; complexes kept as the pseudo-TFs ``AP1`` and
    ``NFKB``) comes through :func:`decoupler.op.collectri`. OmniPath is the web service's
    ``omnipath`` dataset restricted to directed, signed interactions (gene symbols; the sign is
    OmniPath's consensus: +1 stimulation, -1 inhibition, 0 when resources disagree; complexes
    as ``A_B`` symbols), see :func:`omnipath_query_url`. The result is cached as
    ``{cache_dir}/{name}_{organism}.csv`` (with a ``.json`` note of source and date) and the
    cached copy is used when present.

    Parameters
    ----------
    name
        ``"collectri"`` or ``"omnipath"``.
    cache_dir
        Cache folder (default :func:`default_prior_cache`: ``$CMCVAE_CACHE/priors`` or
        ``~/.cache/cmcvae/priors``).
    timeout
        Seconds to wait for the server to connect or to send data.
    organism
        ``"human"`` (default). CollecTRI: any organism decoupler translates to; OmniPath: human,
        mouse or rat.
    force
        Download again even when a cached copy exists (and replace it).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target``, ``weight``.

    Raises
    ------
    CMCVAEInputError
        Unknown name/organism, or the server cannot be reached (offline, timeout, HTTP error):
        the message says how to pass a local file instead.
    """
    key = _check_name(name)
    org = _check_organism(key, organism)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_prior_cache()
    cache_file = cache / f"{key}_{org}.csv"
    if cache_file.exists() and not force:
        try:
            return read_network(cache_file, what=f"cached {key} prior")
        except CMCVAEInputError:
            pass  # unreadable cache: download again below
    if timeout is None or timeout <= 0:
        raise CMCVAEInputError(f"--timeout must be a positive number of seconds, not {timeout}.")
    started = time.time()
    try:
        if key == "collectri":
            raw = _download_collectri(org, float(timeout))
        else:
            raw = _download_omnipath(org, float(timeout))
    except CMCVAEInputError:
        raise
    except Exception as err:  # requests, urllib, socket, HTTP and parse errors alike
        reason = f"{type(err).__name__}: {err}".strip().rstrip(":")
        raise CMCVAEInputError(_offline_message(key, reason, cache_file)) from err
    net = _standardise_network(raw, f"{key} prior", "download")
    if len(net) == 0:
        raise CMCVAEInputError(_offline_message(key, "the server returned no interactions", cache_file))
    try:
        _write_atomic(net, cache_file)
        meta = {
            "name": key,
            "organism": org,
            "source": ("decoupler.op.collectri" if key == "collectri" else omnipath_query_url(org)),
            "downloaded": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds": round(time.time() - started, 1),
            "n_edges": len(net),
        }
        if key == "collectri":
            from importlib.metadata import version

            meta["decoupler"] = version("decoupler")
        cache_file.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    except OSError:
        pass  # a read-only cache must not lose the download
    return net


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
        import anndata as ad
        import h5py

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
    return _standardise_network(net, what, "table")


def expand_complexes(net: pd.DataFrame, complexes: Mapping[str, Iterable[str]] | None = None,
                     sep: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Replace complex nodes by their member genes (every member inherits the complex's edges).

    Parameters
    ----------
    net
        ``source,target,weight`` network.
    complexes
        Named complexes and their members (e.g. :data:`COLLECTRI_COMPLEXES`).
    sep
        Also split node names containing ``sep`` (OmniPath's ``A_B`` complexes).

    Returns
    -------
    tuple
        The expanded network (original edges first, in order) and ``{complex: n_edges}`` for the
        complexes that occurred.
    """
    complexes = {k: tuple(v) for k, v in (complexes or {}).items()}

    def members(node: str) -> tuple[str, ...] | None:
        if node in complexes:
            return complexes[node]
        if sep and sep in node:
            parts = tuple(p for p in node.split(sep) if p)
            return parts if len(parts) > 1 else None
        return None

    nodes = pd.unique(pd.concat([net["source"], net["target"]], ignore_index=True))
    mapping = {n: m for n in nodes if (m := members(str(n))) is not None}
    if not mapping:
        return net.reset_index(drop=True), {}
    found: dict[str, int] = {}
    is_cx = net["source"].isin(mapping) | net["target"].isin(mapping)
    for name in mapping:
        found[name] = int(((net["source"] == name) | (net["target"] == name)).sum())
    plain = net[~is_cx]
    cx = net[is_cx].copy()
    cx["source"] = cx["source"].map(lambda n: list(mapping.get(n, (n,))))
    cx["target"] = cx["target"].map(lambda n: list(mapping.get(n, (n,))))
    cx = cx.explode("source").explode("target")
    out = pd.concat([plain, cx], ignore_index=True)
    out["source"] = out["source"].astype(str)
    out["target"] = out["target"].astype(str)
    return out, found


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
    from cmcvae.pp._protein_map import read_protein_map

    net = _as_network(net, "PPI prior")
    panel = list(dict.fromkeys(str(p) for p in panel))
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
    pmap = pmap[pmap["protein"].isin(set(panel))]
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
