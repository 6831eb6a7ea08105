"""``cmcvae fit --modality rna|protein|both``: an RNA-only run end to end, resumed and as seeds."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from cmcvae import CMCVAE
from cmcvae.model.latent._plan import TrainingPlan
from tests._helpers import make_mudata, run_cli_ok

TINY = dict(arch="poster", n_latent_rna=6, n_latent_protein=3, n_hidden=32, batch_size=128,
            kl_warmup_epochs=2, likelihood="gaussian", epochs_per_stage=1, dag_stages=2)


class Killed(Exception):
    """Stands for the process being killed."""


@pytest.fixture
def rna_h5ad(tmp_path):
    path = tmp_path / "rna.h5ad"
    make_mudata().mod["rna"].copy().write_h5ad(path)
    return path


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(TINY))
    return path


def test_rna_only_run_folder_analyze_report(rna_h5ad, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    run_cli_ok(["fit", str(rna_h5ad), "--modality", "rna", "--out", str(run), "--max-epochs", "30",
                "--batch-key", "donor"], monkeypatch, capsys)
    info = json.loads((run / "run.json").read_text())
    assert info["modality"] == "rna" and info["data"] == str(rna_h5ad.resolve())
    edges = pd.read_csv(run / "edges.csv")
    assert len(edges) and set(edges.source_modality) == set(edges.target_modality) == {"rna"}
    pairs = pd.read_csv(run / "matched_pairs.csv")
    assert pairs.empty and list(pairs.columns)[:2] == ["protein", "gene"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["n_proteins"] == 0 and metrics["n_genes"] == 40
    assert CMCVAE.load(run / "model").proteins == []

    text = run_cli_ok(["analyze", str(run)], monkeypatch, capsys)
    assert "Central-dogma asymmetry skipped" in " ".join(text.split())
    analysis = json.loads((run / "analysis.json").read_text())
    assert all(r["skipped"] for r in analysis["central_dogma"].values())
    run_cli_ok(["report", str(run)], monkeypatch, capsys)
    assert "single-modality run" in (run / "report.html").read_text()


def test_log_normalised_x_with_counts_layer(tmp_path, cfg, monkeypatch, capsys):
    import numpy as np

    rna = make_mudata().mod["rna"].copy()
    rna.layers["counts"] = rna.X.copy()
    rna.X = rna.X.log1p() * 1.37  # not counts: the counts are in the layer
    data = tmp_path / "lognorm.h5ad"
    rna.write_h5ad(data)
    run = tmp_path / "run"
    run_cli_ok(["fit", str(data), "--modality", "rna", "--out", str(run), "--config", str(cfg),
                "--max-epochs", "2"], monkeypatch, capsys)
    assert np.isfinite(json.loads((run / "metrics.json").read_text())["val_elbo"])


def test_protein_and_rna_of_a_cite_seq_file(tmp_path, cfg, monkeypatch, capsys):
    data = tmp_path / "train.h5mu"
    make_mudata().write(data)
    for modality, other in (("protein", "rna"), ("rna", "protein")):
        run = tmp_path / modality
        run_cli_ok(["fit", str(data), "--modality", modality, "--out", str(run), "--config", str(cfg),
                    "--max-epochs", "2"], monkeypatch, capsys)
        edges = pd.read_csv(run / "edges.csv")
        assert other not in set(edges.source_modality) | set(edges.target_modality)
        assert json.loads((run / "run.json").read_text())["modality"] == modality


def test_seeds_with_modality(rna_h5ad, cfg, tmp_path, monkeypatch, capsys):
    ens = tmp_path / "ens"
    run_cli_ok(["fit", str(rna_h5ad), "--modality", "rna", "--out", str(ens), "--config", str(cfg),
                "--max-epochs", "2", "--seeds", "0,1"], monkeypatch, capsys)
    for seed in (0, 1):
        info = json.loads((ens / f"seed_{seed}" / "run.json").read_text())
        assert info["modality"] == "rna" and info["seed"] == seed
    assert (ens / "stability.csv").is_file() and (ens / "ensemble.json").is_file()


def test_resume_keeps_the_modality(rna_h5ad, cfg, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    args = ["fit", str(rna_h5ad), "--modality", "rna", "--out", str(run), "--config", str(cfg),
            "--max-epochs", "4"]

    def killed(self):
        if self.current_epoch == 2:
            raise Killed()

    with monkeypatch.context() as m:
        m.setattr(TrainingPlan, "on_train_epoch_end", killed, raising=False)
        m.setattr(sys, "argv", ["cmcvae", *args])
        m.setenv("CMCVAE_DEBUG", "1")
        from cmcvae.cli import main

        with pytest.raises(Killed):
            main()
    capsys.readouterr()
    assert json.loads((run / "checkpoints" / "fit_args.json").read_text())["modality"] == "rna"
    text = run_cli_ok(["fit", "--resume", str(run)], monkeypatch, capsys)
    assert "Resumed" in text
    assert json.loads((run / "run.json").read_text())["modality"] == "rna"
    assert CMCVAE.load(run / "model").proteins == []
