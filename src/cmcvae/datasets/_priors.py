"""Fetching prior networks online, with a cache (``cmcvae priors collectri|omnipath``).

:func:`fetch_prior` downloads CollecTRI (through decoupler) or OmniPath's directed, signed
interactions (web service, :func:`omnipath_query_url`) as a ``source,target,weight`` network and
caches it under :func:`default_prior_cache`; offline it says how to pass a file instead. Reading,
filtering and preparing a network for a model is :mod:`cmcvae.pp`'s job (``read_network``,
``prepare_grn_prior``, ``prepare_ppi_prior``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets._registry import cache_root
from cmcvae.pp import read_network, standardise_network

__all__ = ["OMNIPATH_URL", "PRIOR_NAMES", "default_prior_cache", "fetch_prior", "omnipath_query_url"]

PRIOR_NAMES = ("collectri", "omnipath")

OMNIPATH_URL = "https://omnipathdb.org/interactions"
_OMNIPATH_ORGANISMS = {"human": 9606, "mouse": 10090, "rat": 10116}


def default_prior_cache() -> Path:
    """Cache folder of fetched priors: ``$CMCVAE_CACHE/priors`` or ``~/.cache/cmcvae/priors``."""
    return cache_root() / "priors"


def _check_name(name: str) -> str:
    """The prior's registry key (lower case); an unknown name says how to pass a file instead."""
    key = str(name).strip().lower()
    if key not in PRIOR_NAMES:
        raise CMCVAEInputError(
            f"Unknown prior {name!r}; cmcvae can fetch {', '.join(PRIOR_NAMES)}. Any other network "
            "works as a local CSV/TSV with columns source,target[,weight] (--grn-prior/--ppi-prior)."
        )
    return key


def _check_organism(name: str, organism: str) -> str:
    """The organism as the prior's source names it (OmniPath also takes NCBI taxon ids)."""
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
    import decoupler as dc  # heavy: imported only when CollecTRI is fetched

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
    request = urllib.request.Request(
        omnipath_query_url(organism), headers={"User-Agent": f"cmcvae/{version('cmcvae')}"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read()
    return pd.read_csv(io.BytesIO(payload), sep="\t", dtype=str, keep_default_na=False,
                       na_values=[""])


def _offline_message(name: str, reason: str, cache_file: Path) -> str:
    """What to do when a prior cannot be downloaded: fetch elsewhere, or pass a local file."""
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
    """Write ``df`` as CSV through a temporary file renamed into place (never half a file)."""
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
    net = _download(key, org, float(timeout), cache_file)
    _write_cache(net, cache_file, key, org, started)
    return net


def _download(key: str, org: str, timeout: float, cache_file: Path) -> pd.DataFrame:
    """Download a prior and standardise it; any network or parse failure says what to do."""
    try:
        if key == "collectri":
            raw = _download_collectri(org, timeout)
        else:
            raw = _download_omnipath(org, timeout)
    except CMCVAEInputError:
        raise
    except Exception as err:  # requests, urllib, socket, HTTP and parse errors alike
        reason = f"{type(err).__name__}: {err}".strip().rstrip(":")
        raise CMCVAEInputError(_offline_message(key, reason, cache_file)) from err
    net = standardise_network(raw, f"{key} prior", "download")
    if len(net) == 0:
        raise CMCVAEInputError(_offline_message(key, "the server returned no interactions", cache_file))
    return net


def _write_cache(net: pd.DataFrame, cache_file: Path, key: str, org: str, started: float) -> None:
    """Cache the prior with a ``.json`` note of its source and date (best effort)."""
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
            meta["decoupler"] = version("decoupler")
        cache_file.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    except OSError:
        pass  # a read-only cache must not lose the download
