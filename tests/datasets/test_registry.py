"""Dataset registry and checksummed downloads (``file://`` URLs only, no network), and the
``cmcvae data`` sub-app."""

import dataclasses
import hashlib
import re

import pytest
from typer.testing import CliRunner

from cmcvae._errors import CMCVAEInputError
from cmcvae.cli._data import data_app
from cmcvae.datasets import (
    REGISTRY,
    DatasetInfo,
    RemoteFile,
    cache_root,
    default_data_dir,
    fetch,
    get_dataset,
    list_datasets,
)
from cmcvae.datasets import _registry as datasets

PAYLOAD = b"cmcvae test payload\n" * 1000
runner = CliRunner()
ENV = {"COLUMNS": "200"}


def _registry(monkeypatch, tmp_path, **file_kwargs):
    src = tmp_path / "upstream.bin"
    src.write_bytes(PAYLOAD)
    kwargs = {"sha256": hashlib.sha256(PAYLOAD).hexdigest(), "size": len(PAYLOAD), **file_kwargs}
    info = DatasetInfo(name="toy", title="Toy", description="A test file.", cells="3",
                       files=(RemoteFile("toy.bin", src.as_uri(), **kwargs),), license="CC0",
                       citation="none", accession="none", manual_steps=("Nothing to do.",))
    monkeypatch.setattr(datasets, "REGISTRY", {"toy": info})
    return info


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_registry_entries_are_complete():
    names = [d.name for d in list_datasets()]
    assert names == list(REGISTRY) and len(names) >= 4
    assert {"pbmc10k_protein_v3", "hao2021_pbmc", "stephenson2021_covid", "frangieh2021_perturb_cite"} <= set(names)
    for d in list_datasets():
        assert d.title and d.description and d.cells and d.license and d.citation and d.accession
        assert d.files and len({f.name for f in d.files}) == len(d.files)
        for f in d.files:
            assert f.url.startswith("https://"), f.url
            assert f.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", f.sha256)
            assert f.md5 is None or re.fullmatch(r"[0-9a-f]{32}", f.md5)
            assert f.checksum_source, f"{d.name}/{f.name}: say where the size/checksum comes from"
    frangieh = get_dataset("frangieh2021_perturb_cite")
    assert {f.name for f in frangieh.files} == {"FrangiehIzar2021_RNA.h5ad", "FrangiehIzar2021_protein.h5ad"}
    assert frangieh.checksums_known == "all"
    assert get_dataset("pbmc10k_protein_v3").checksums_known == "none"


def test_unknown_dataset_lists_known_names():
    with pytest.raises(CMCVAEInputError) as err:
        get_dataset("pbmc3k")
    assert "hao2021_pbmc" in str(err.value) and "cmcvae data list" in str(err.value)
    with pytest.raises(CMCVAEInputError):
        fetch("pbmc3k")


def test_fetch_downloads_verifies_and_renames(tmp_path, monkeypatch):
    _registry(monkeypatch, tmp_path)
    dest = tmp_path / "dest"
    seen = []
    res = fetch("toy", dest, progress=lambda name, done, total: seen.append((name, done, total)))
    target = dest / "toy.bin"
    assert target.read_bytes() == PAYLOAD and _leftovers(dest) == []
    assert res["toy.bin"]["status"] == "downloaded" and res["toy.bin"]["verified"] is True
    assert res["toy.bin"]["sha256"] == hashlib.sha256(PAYLOAD).hexdigest()
    assert seen[-1] == ("toy.bin", len(PAYLOAD), len(PAYLOAD))
    # a present file whose checksum matches is kept, not downloaded again
    assert fetch("toy", dest)["toy.bin"]["status"] == "present"


def test_fetch_md5_and_unknown_checksum(tmp_path, monkeypatch):
    _registry(monkeypatch, tmp_path, sha256=None, md5=hashlib.md5(PAYLOAD).hexdigest())
    assert fetch("toy", tmp_path / "a")["toy.bin"]["verified"] is True
    _registry(monkeypatch, tmp_path, sha256=None, size=None)
    dest = tmp_path / "b"
    assert fetch("toy", dest)["toy.bin"]["verified"] is False
    with pytest.raises(CMCVAEInputError, match="already exists.*--force"):
        fetch("toy", dest)  # cannot be verified: refuse to overwrite
    (dest / "toy.bin").write_bytes(b"old")
    fetch("toy", dest, force=True)
    assert (dest / "toy.bin").read_bytes() == PAYLOAD


def test_fetch_wrong_checksum_leaves_nothing(tmp_path, monkeypatch):
    _registry(monkeypatch, tmp_path, sha256="0" * 64)
    dest = tmp_path / "dest"
    with pytest.raises(CMCVAEInputError, match="Checksum mismatch.*removed"):
        fetch("toy", dest)
    assert list(dest.iterdir()) == []
    # an existing file is not replaced by a download that fails verification
    (dest / "toy.bin").write_bytes(b"keep me")
    with pytest.raises(CMCVAEInputError, match="Checksum mismatch"):
        fetch("toy", dest, force=True)
    assert (dest / "toy.bin").read_bytes() == b"keep me" and _leftovers(dest) == []


def test_fetch_size_mismatch_and_network_failure(tmp_path, monkeypatch):
    _registry(monkeypatch, tmp_path, sha256=None, size=len(PAYLOAD) + 1)
    dest = tmp_path / "dest"
    with pytest.raises(CMCVAEInputError, match="incomplete"):
        fetch("toy", dest)
    assert list(dest.iterdir()) == []
    info = _registry(monkeypatch, tmp_path)
    broken = RemoteFile("toy.bin", (tmp_path / "nowhere.bin").as_uri(), size=None)
    monkeypatch.setattr(datasets, "REGISTRY", {"toy": dataclasses.replace(info, files=(broken,))})
    with pytest.raises(CMCVAEInputError, match="Could not download toy.bin"):
        fetch("toy", dest)
    assert list(dest.iterdir()) == []


def test_fetch_checks_free_space(tmp_path, monkeypatch):
    _registry(monkeypatch, tmp_path, size=10**18, sha256=None)
    with pytest.raises(CMCVAEInputError, match="GB is free"):
        fetch("toy", tmp_path / "dest")


def test_cache_root_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("CMCVAE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path
    assert default_data_dir("toy") == tmp_path / "datasets" / "toy"
    monkeypatch.delenv("CMCVAE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "cmcvae"


def test_cli_data_list_info_fetch(tmp_path, monkeypatch):
    res = runner.invoke(data_app, ["list"], env=ENV)
    assert res.exit_code == 0, res.output
    for name in REGISTRY:
        assert name in res.output
    res = runner.invoke(data_app, ["info", "frangieh2021_perturb_cite"], env=ENV)
    assert res.exit_code == 0 and "dc438f53c476a3dd562898654d48ed15" in res.output
    _registry(monkeypatch, tmp_path)
    dest = tmp_path / "dest"
    res = runner.invoke(data_app, ["fetch", "toy", "--dest", str(dest)], env=ENV)
    assert res.exit_code == 0, res.output
    assert (dest / "toy.bin").read_bytes() == PAYLOAD and "Nothing to do." in res.output
    res = runner.invoke(data_app, ["fetch", "nope", "--dest", str(dest)], env=ENV)
    assert isinstance(res.exception, CMCVAEInputError) and "toy" in str(res.exception)
