"""One-epoch CLI smoke runs on a small simulation: every contract file, with the right columns."""

import json
import re
import sys

import pandas as pd
import pytest

from cmcvae.cli import main
from tests._helpers import run_cli_ok


def cli(args, monkeypatch, capsys):
    return run_cli_ok(args, monkeypatch, capsys)


@pytest.fixture(scope="module")
def small_args():
    return ["--cells", "1500", "--genes", "60", "--proteins", "8"]


def test_help_lists_every_command_once_in_order(monkeypatch, capsys):
    text = cli(["--help"], monkeypatch, capsys)
    names = ["report", "benchmark", "simulate", "prepare", "fit", "validate", "analyze", "run",
             "priors", "data"]
    # a command's row starts "│ name " (a wrapped description line is indented further)
    found = [line.split()[1] for line in text.splitlines()
             if line.startswith("│ ") and not line.startswith("│  ") and line.split()[1] in names]
    assert found == names


def test_simulate_fit_validate(tmp_path, monkeypatch, capsys, small_args):
    sim = tmp_path / "sim"
    cli(["simulate", "--out", str(sim), *small_args, "--perturbations", "6", "--seed", "3"], monkeypatch, capsys)
    for f in ("train.h5mu", "perturb.h5mu", "priors/grn.csv", "priors/ppi.csv", "protein_map.csv",
              "truth/edges.csv"):
        assert (sim / f).exists(), f
    truth = pd.read_csv(sim / "truth" / "edges.csv")
    assert list(truth.columns) == ["source", "target", "source_modality", "target_modality", "weight", "kind"]

    run = tmp_path / "run"
    text = cli(["fit", str(sim / "train.h5mu"), "--out", str(run), "--batch-key", "donor",
                "--grn-prior", str(sim / "priors" / "grn.csv"), "--ppi-prior", str(sim / "priors" / "ppi.csv"),
                "--protein-map", str(sim / "protein_map.csv"), "--max-epochs", "1", "--arch", "sem"],
               monkeypatch, capsys)
    assert "Fitted the feature-level SEM" in text  # --max-epochs applies to the poster model only
    edges = pd.read_csv(run / "edges.csv")
    assert list(edges.columns) == ["source", "target", "source_modality", "target_modality", "weight"]
    assert set(edges.source_modality) <= {"rna", "protein"}
    assert list(pd.read_csv(run / "latent_graph.csv", nrows=0).columns) == ["source", "target", "weight"]
    pairs = pd.read_csv(run / "matched_pairs.csv")
    assert list(pairs.columns[:4]) == ["protein", "gene", "rna_to_protein", "protein_to_rna"]
    assert len(pairs) == 8
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["is_dag"] is True and metrics["epochs"] > 0
    split = pd.read_csv(run / "split.csv")
    assert split["split"].value_counts()["train"] == 1200
    assert (run / "model" / "model.pt").exists()

    text = cli(["validate", str(run), "--perturb", str(sim / "perturb.h5mu"),
                "--truth", str(sim / "truth" / "knockdown_effects.csv")], monkeypatch, capsys)
    val = json.loads((run / "validation.json").read_text())
    for key in ("auroc", "direction_accuracy", "n_perturbations", "n_pairs"):
        assert key in val
    for method in ("correlation", "ridge", "random", "always_down", "oracle"):
        assert "auroc" in val[method]
    # the oracle knows the truth: it must rank real effects above chance and above random
    assert val["oracle"]["auroc"] > 0.6
    assert val["oracle"]["auroc"] > val["random"]["auroc"]
    pred = pd.read_csv(run / "predictions.csv")
    assert list(pred.columns[:5]) == ["perturbation", "protein", "predicted_effect", "observed_effect", "significant"]
    assert len(pred) == val["n_pairs"]

    cli(["analyze", str(run), "--truth", str(sim / "truth")], monkeypatch, capsys)
    analysis = json.loads((run / "analysis.json").read_text())
    for kind in ("direct", "total"):
        r = analysis["central_dogma"][kind]
        assert r["n_pairs"] == 8 and r["call"] in {"rna_to_protein", "protein_to_rna", "none"}
        assert 0.0 <= r["direction_accuracy_vs_truth"] <= 1.0
    # TF→target on held-out and training prior edges, labelled; the per-edge table matches
    tf_edges = pd.read_csv(run / "tf_target_edges.csv")
    assert set(tf_edges["split"]) == {"holdout", "train"}
    holdout = pd.read_csv(run / "priors" / "grn_holdout.csv")
    holdout = set(holdout["source"] + ">" + holdout["target"])
    tested = tf_edges[tf_edges.split == "holdout"]
    assert set(tested["source"] + ">" + tested["target"]) <= holdout
    for split in ("holdout", "train"):
        r = analysis["tf_target"][split]["direct"]
        assert r["n_edges"] == (tf_edges.split == split).sum()
        assert r["call"] in {"tf_to_target", "target_to_tf", "none"}
    # recovery against the truth folder, model and baselines on the same candidates
    rec = analysis["recovery"]
    for method in ("direct", "total", "correlation", "partial_correlation"):
        assert set(rec[method]) == {"rna_rna", "rna_protein", "protein_rna", "protein_protein"}
    assert rec["direct"]["rna_rna"]["n_candidates"] == rec["correlation"]["rna_rna"]["n_candidates"]
    assert rec["correlation"]["rna_protein"]["direction_accuracy"] == 0.5  # symmetric score


def test_run_reads_a_config_file(tmp_path, monkeypatch, capsys, small_args):
    cfg = tmp_path / "me.yaml"
    cfg.write_text("sem_score: me\nsem_floor: 0.1\nsem_prior_orient: true\n"
                   "sem_stages: [[1.0, 1.0, 30], [0.1, 0.9, 30]]\n")
    out = tmp_path / "r"
    text = cli(["run", "--out", str(out), *small_args, "--arch", "sem", "--config", str(cfg)],
               monkeypatch, capsys)
    used = json.loads((out / "run" / "run.json").read_text())["config"]
    assert used["arch"] == "sem" and used["sem_score"] == "me" and used["sem_prior_orient"]
    assert used["sem_stages"] == [[1.0, 1.0, 30], [0.1, 0.9, 30]]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["is_dag"] and summary["matched_pair_direction_identifiable"]
    _screen_checks(text, summary)
    # arch sem: the matched-pair direction is a score against random orientation
    n = summary["matched_pair_direction_accuracy"]["n_pairs"]
    assert "not identifiable" not in text
    assert re.search(rf"\d+ of {n} pairs \(\d\.\d{{3}}\) called in the simulation's true direction",
                     " ".join(text.split()))


def _screen_checks(text: str, summary: dict) -> None:
    """The final screen: ≤ 80 columns, the legend, every headline number beside its baseline."""
    assert max(len(line) for line in text.splitlines()) <= 80
    for term in ("AUROC:", "direction accuracy:", "oracle:", "always_down:"):
        assert term in text  # the legend under the table
    flat = " ".join(text.split())
    zs = summary["zero_shot"]
    for method in ("cmcvae", "correlation", "ridge", "oracle"):
        assert f"{zs[method]['auroc']:.3f}" in flat
    assert f"cmcvae ({summary['estimator']})" in flat
    assert re.search(r"it (beats|trails|ties with) correlation \(\d\.\d{3}\)", flat)
    assert re.search(r"(beats|trails|ties with) ridge \(\d\.\d{3}\)", flat)
    assert "Chance is 0.500" in flat and "not found" not in flat
    assert f"cmcvae predict {summary['paths']['run']} --knockdown {summary['example_knockdown']}" in flat
    assert summary["paths"]["report"] in flat and "cmcvae analyze" in flat


def test_run_end_to_end_small(tmp_path, monkeypatch, capsys, small_args):
    out = tmp_path / "r"
    screen = tmp_path / "screen" / "run.svg"
    text = cli(["run", "--out", str(out), *small_args, "--max-epochs", "2", "--arch", "poster",
                "--save-screen", str(screen)], monkeypatch, capsys)
    assert "zero-shot AUROC" in " ".join(text.split()) and "correlation" in text and "oracle" in text
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["zero_shot"]) >= {"cmcvae", "correlation", "ridge", "oracle"}
    assert not set(summary["zero_shot"]) & {"definitions", "filtering", "effects", "estimator"}
    assert 0.0 <= summary["matched_pair_direction_accuracy"]["direct"] <= 1.0
    _screen_checks(text, summary)
    # arch latent: the matched-pair direction is fixed by construction, not a perfect result
    assert summary["arch"] == "latent" and not summary["matched_pair_direction_identifiable"]
    flat = " ".join(text.split())
    assert "not identifiable for this architecture — see `cmcvae analyze`" in flat
    assert "direct / " not in flat
    # run analyzes and reports: the report has no "not found" box
    assert (out / "run" / "analysis.json").is_file()
    html = (out / "run" / "report.html").read_text()
    assert 'class="missing"' not in html and "not found" not in html
    assert "<td>definitions</td>" not in html
    assert screen.read_text().startswith("<svg") and "What was learned" in screen.with_suffix(".txt").read_text()
    # a second run into the same folder needs --force
    monkeypatch.setattr(sys, "argv", ["cmcvae", "run", "--out", str(out), *small_args])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
