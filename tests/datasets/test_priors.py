"""Fetching priors with a cache (no network: the downloads are replaced), and the
``cmcvae priors`` sub-app fetching them."""

import io
import urllib.parse

import pandas as pd
import pytest
from typer.testing import CliRunner

from cmcvae._errors import CMCVAEInputError
from cmcvae.cli._priors import priors_app
from cmcvae.datasets import _priors as priors
from cmcvae.datasets import fetch_prior, omnipath_query_url
from cmcvae.pp import read_network, standardise_network

SMALL = pd.DataFrame({"source": ["TF1", "TF1", "TF2"], "target": ["G1", "G2", "G1"],
                      "weight": [1.0, -1.0, 1.0]})
runner = CliRunner()
ENV = {"COLUMNS": "200"}


# ------------------------------------------------------------------------------ fetching
def test_fetch_prior_caches_and_uses_cache(tmp_path, monkeypatch):
    calls = []

    def fake_download(organism, timeout):
        calls.append((organism, timeout))
        return SMALL.assign(PMID="1")

    monkeypatch.setattr(priors, "_download_collectri", fake_download)
    net = fetch_prior("collectri", cache_dir=tmp_path, timeout=5)
    assert calls == [("human", 5.0)]
    assert (tmp_path / "collectri_human.csv").exists() and (tmp_path / "collectri_human.json").exists()
    pd.testing.assert_frame_equal(net, SMALL)

    def offline(organism, timeout):
        raise OSError("network is unreachable")

    monkeypatch.setattr(priors, "_download_collectri", offline)
    pd.testing.assert_frame_equal(fetch_prior("collectri", cache_dir=tmp_path), SMALL)  # cache
    with pytest.raises(CMCVAEInputError, match="Could not reach CollecTRI"):
        fetch_prior("collectri", cache_dir=tmp_path, force=True)  # force skips the cache
    assert list(tmp_path.glob("*.part")) == []


def test_fetch_prior_offline_message(tmp_path, monkeypatch):
    def timeout(organism, timeout):
        raise TimeoutError("timed out")

    monkeypatch.setattr(priors, "_download_collectri", timeout)
    monkeypatch.setattr(priors, "_download_omnipath", timeout)
    with pytest.raises(CMCVAEInputError) as err:
        fetch_prior("collectri", cache_dir=tmp_path)
    msg = str(err.value)
    assert "timed out" in msg and "cmcvae priors collectri --out F.csv" in msg
    assert "--grn-prior" in msg and "source,target,weight" in msg
    with pytest.raises(CMCVAEInputError, match="--ppi-prior"):
        fetch_prior("omnipath", cache_dir=tmp_path)


def test_fetch_prior_default_cache_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CMCVAE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(priors, "_download_omnipath", lambda organism, timeout: SMALL)
    fetch_prior("omnipath", organism="9606")
    assert (tmp_path / "cache" / "priors" / "omnipath_human.csv").exists()


def test_fetch_prior_bad_names():
    with pytest.raises(CMCVAEInputError, match="can fetch collectri, omnipath"):
        fetch_prior("dorothea")
    with pytest.raises(CMCVAEInputError, match="human, mouse and rat"):
        fetch_prior("omnipath", organism="zebrafish")


def test_omnipath_download_uses_urllib_with_timeout(monkeypatch):
    url = omnipath_query_url("mouse")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert query["datasets"] == ["omnipath"] and query["genesymbols"] == ["yes"]
    assert query["directed"] == ["yes"] and query["signed"] == ["yes"] and query["organisms"] == ["10090"]
    tsv = ("source\ttarget\tsource_genesymbol\ttarget_genesymbol\tis_directed\tis_stimulation\t"
           "is_inhibition\tconsensus_direction\tconsensus_stimulation\tconsensus_inhibition\n"
           "P1\tP2\tEgfr\tGrb2\t1\t1\t0\t1\t1\t0\n")
    seen = {}

    class Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        seen["url"], seen["timeout"] = request.full_url, timeout
        return Response(tsv.encode())

    monkeypatch.setattr(priors.urllib.request, "urlopen", urlopen)
    raw = priors._download_omnipath("mouse", 7.0)
    assert seen == {"url": url, "timeout": 7.0}
    net = standardise_network(raw, "omnipath prior", "download")
    assert net.values.tolist() == [["Egfr", "Grb2", 1.0]]


def test_requests_default_timeout(monkeypatch):
    import requests

    seen = []

    def fake_request(self, method, url, *args, **kwargs):
        seen.append(kwargs.get("timeout"))
        return "ok"

    monkeypatch.setattr(requests.Session, "request", fake_request)
    with priors._requests_timeout(4.0):
        assert requests.get("https://example.invalid/x") == "ok"
        requests.get("https://example.invalid/x", timeout=1)
    requests.get("https://example.invalid/x")
    assert seen == [4.0, 1, None]


# ------------------------------------------------------------------------------ CLI
def test_cli_collectri_writes_and_refuses_overwrite(tmp_path, monkeypatch):
    monkeypatch.setattr(priors, "_download_collectri", lambda organism, timeout: SMALL)
    out = tmp_path / "grn.csv"
    args = ["collectri", "--out", str(out), "--cache-dir", str(tmp_path / "c")]
    res = runner.invoke(priors_app, args, env=ENV)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(read_network(out), SMALL)
    res = runner.invoke(priors_app, args, env=ENV)
    assert isinstance(res.exception, CMCVAEInputError) and "--force" in str(res.exception)
    genes = tmp_path / "genes.txt"
    genes.write_text("TF1\nG1\n")
    res = runner.invoke(priors_app, [*args, "--force", "--genes", str(genes)], env=ENV)
    assert res.exit_code == 0, res.output
    assert "1 GRN edges among 2 genes" in res.output
    assert read_network(out).values.tolist() == [["TF1", "G1", 1.0]]


def test_cli_omnipath_offline_error(tmp_path, monkeypatch):
    def offline(organism, timeout):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(priors, "_download_omnipath", offline)
    res = runner.invoke(priors_app, ["omnipath", "--out", str(tmp_path / "p.csv"),
                                     "--cache-dir", str(tmp_path)], env=ENV)
    assert isinstance(res.exception, CMCVAEInputError)
    assert "Could not reach OmniPath" in str(res.exception) and "--ppi-prior" in str(res.exception)
    assert not (tmp_path / "p.csv").exists()
