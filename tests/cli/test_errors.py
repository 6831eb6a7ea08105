"""Bad input gives a one-paragraph error and a non-zero exit, never a traceback."""

import sys

import numpy as np
import pandas as pd
import pytest

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.cli import main
from cmcvae.pp import filter_network, read_network
from tests._helpers import make_mudata


def run_cli(args, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


@pytest.fixture
def h5mu(tmp_path):
    def write(mdata, name="data.h5mu"):
        path = tmp_path / name
        mdata.write(path)
        return path
    return write


def _assert_clean_error(code, text, *needles):
    assert code == 2, text
    assert "Traceback" not in text
    flat = " ".join(text.split())
    for needle in needles:
        assert needle in flat, flat


def test_missing_modality(tiny_mdata, h5mu, tmp_path, capsys, monkeypatch):
    import mudata as md

    only_rna = md.MuData({"rna": tiny_mdata.mod["rna"]})
    code, text = run_cli(["fit", str(h5mu(only_rna)), "--out", str(tmp_path / "r")], capsys, monkeypatch)
    _assert_clean_error(code, text, "protein modality 'prot' is missing")


def test_mismatched_cells(tiny_mdata):
    import mudata as md

    bad = md.MuData({"rna": tiny_mdata.mod["rna"][:500].copy(), "prot": tiny_mdata.mod["prot"][100:].copy()})
    with pytest.raises(CMCVAEInputError, match="same cells"):
        CMCVAE.setup_mudata(bad)


@pytest.mark.parametrize("value,needle", [(-1.0, "negative"), (np.nan, "NaN"), (0.5, "not integers")])
def test_bad_counts(value, needle, h5mu, tmp_path, capsys, monkeypatch):
    m = make_mudata()
    prot = m.mod["prot"].X
    prot[3, 2] = value
    code, text = run_cli(["fit", str(h5mu(m)), "--out", str(tmp_path / "r"), "--batch-key", "donor"], capsys, monkeypatch)
    _assert_clean_error(code, text, needle, "protein")


def test_unknown_batch_key(tiny_mdata, h5mu, tmp_path, capsys, monkeypatch):
    code, text = run_cli(["fit", str(h5mu(tiny_mdata)), "--out", str(tmp_path / "r"), "--batch-key", "patient"],
                         capsys, monkeypatch)
    _assert_clean_error(code, text, "Unknown batch key 'patient'", "donor")


def test_prior_without_overlap(tiny_mdata, h5mu, tmp_path, capsys, monkeypatch):
    prior = tmp_path / "grn.csv"
    pd.DataFrame({"source": ["STAT1", "IRF1"], "target": ["CXCL10", "GBP1"]}).to_csv(prior, index=False)
    code, text = run_cli(["fit", str(h5mu(tiny_mdata)), "--out", str(tmp_path / "r"), "--grn-prior", str(prior)],
                         capsys, monkeypatch)
    _assert_clean_error(code, text, "no edge between the model's features")


def test_prior_columns_and_filtering(tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"tf": ["A"], "gene": ["B"]}).to_csv(bad, index=False)
    with pytest.raises(CMCVAEInputError, match="source,target"):
        read_network(bad)
    net = pd.DataFrame({"source": ["A", "A", "B", "X"], "target": ["B", "A", "C", "A"], "weight": [1, 1, -1, 1]})
    kept = filter_network(net, ["A", "B", "C"])
    assert list(zip(kept.source, kept.target, strict=True)) == [("A", "B"), ("B", "C")]


def test_missing_file_and_bad_format(tmp_path, capsys, monkeypatch):
    code, text = run_cli(["fit", str(tmp_path / "nope.h5mu"), "--out", str(tmp_path / "r")], capsys, monkeypatch)
    _assert_clean_error(code, text, "does not exist")
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    code, text = run_cli(["fit", str(csv), "--out", str(tmp_path / "r")], capsys, monkeypatch)
    _assert_clean_error(code, text, "Unsupported input format")


def test_existing_run_not_overwritten(tiny_mdata, h5mu, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, text = run_cli(["fit", str(h5mu(tiny_mdata)), "--out", str(out)], capsys, monkeypatch)
    _assert_clean_error(code, text, "already exists", "--force")
    assert (out / "notes.txt").read_text() == "mine"


def test_unknown_config_key(tmp_path):
    from cmcvae import CMCVAEConfig

    cfg = tmp_path / "c.yaml"
    cfg.write_text("n_latent_rna: 8\nlamda_dag: 2\n")
    with pytest.raises(CMCVAEInputError, match="lamda_dag"):
        CMCVAEConfig.from_file(cfg)


def test_force_replaces_only_cmcvae_files_and_drops_stale_results(tmp_path):
    from cmcvae.io import MANIFEST, prepare_out_dir, record_files

    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    (run / "figures" / "roc.png").write_bytes(b"png")
    for name in ("analysis.json", "validation.json", "report.html", "notes.txt"):
        (run / name).write_text("old")
    record_files(run, ["figures/roc.png", "report.html"], "report")  # what cmcvae wrote
    record_files(run, ["analysis.json"], "analyze")
    record_files(run, ["validation.json"], "validate")
    with pytest.raises(CMCVAEInputError, match="--force"):
        prepare_out_dir(run, force=False)
    prepare_out_dir(run, force=True)
    assert sorted(p.name for p in run.iterdir()) == [MANIFEST, "notes.txt"]  # the user's file stays
