"""The HTML report (``cmcvae.report``) and ``cmcvae report`` on one tiny run and its ensemble."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.report import write_report, write_report_files
from tests._helpers import run_cli_ok
from tests.pl.test_pl import tiny_run_copy

SECTIONS = ("Data and training", "Training curves", "Top edges", "Central dogma",
            "TF→target asymmetry", "Recovery vs truth", "Zero-shot validation", "Edge stability")
FIGURES = {"training_curves", "roc", "perturbation_auroc", "central_dogma_direct",
           "tf_target_holdout_direct", "tf_target_train_direct", "recovery_direct", "edge_stability"}


def _edges() -> pd.DataFrame:
    """25 gene→gene edges S01…S25 (decreasing |weight|), one per other network, one odd name."""
    rows = [{"source": f"S{i:02d}", "target": "T", "source_modality": "rna",
             "target_modality": "rna", "weight": (-1) ** i * (1.0 - i / 100)} for i in range(1, 26)]
    rows += [{"source": "<b>X&Y</b>", "target": "P1", "source_modality": "rna",
              "target_modality": "protein", "weight": 0.5},
             {"source": "P1", "target": "P2", "source_modality": "protein",
              "target_modality": "protein", "weight": 0.2},
             {"source": "P2", "target": "G1", "source_modality": "protein",
              "target_modality": "rna", "weight": -0.1}]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A full run inside an ensemble (seed_0) and a bare run (fit only)."""
    run = tiny_run_copy(tmp_path_factory, "report")
    root = run.parent.parent
    _edges().to_csv(run / "edges.csv", index=False)
    ens = root / "ensemble"
    shutil.rmtree(ens / "seed_0")
    shutil.copytree(run, ens / "seed_0")
    bare = root / "bare"
    bare.mkdir()
    for name in ("metrics.json", "run.json", "edges.csv", "matched_pairs.csv"):
        shutil.copy(run / name, bare / name)
    return {"run": run, "ensemble": ens, "bare": bare}


@pytest.fixture(scope="module")
def report(folders) -> tuple[str, Path, list[Path]]:
    path, figures = write_report_files(folders["ensemble"])
    return path.read_text(encoding="utf-8"), path, figures


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<section id="{anchor}">')
    return html[start:html.index("</section>", start)]


def test_report_has_every_section_and_is_self_contained(report, folders):
    html, path, figures = report
    assert path == folders["ensemble"] / "report.html"
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in html
    assert 'src="http' not in html and "<script" not in html and "<link" not in html
    assert html.count("<svg") == len(FIGURES)
    assert {f.stem for f in figures} == FIGURES
    assert {f.suffix for f in figures} == {".png", ".svg"}
    assert all(f.parent == folders["ensemble"] / "figures" and f.stat().st_size > 1000
               for f in figures)
    assert len(html) < 2_000_000
    assert "seed_0" in html  # the ensemble's per-run sections come from its first seed
    assert "class=\"missing\"" not in html


def test_report_validation_table_every_method(report, folders):
    html = _section(report[0], "validation")
    val = json.loads((folders["run"] / "validation.json").read_text())
    for method in ("cmcvae", "correlation", "ridge", "random", "always_down", "oracle"):
        assert f"<td>{method}</td>" in html
        for key in ("auroc", "auprc", "median_perturbation_auroc", "direction_accuracy"):
            value = val[method][key]
            assert value is None or f"{value:.3f}" in html
    assert f'<tr class="model"><td>cmcvae</td><td class="num">{val["auroc"]:.3f}</td>' in html
    assert f'<td>correlation</td><td class="num">{val["correlation"]["auroc"]:.3f}</td>' in html


def test_report_summary_edges_and_escaping(report, folders):
    html = report[0]
    metrics = json.loads((folders["run"] / "metrics.json").read_text())
    data = _section(html, "data")
    assert f"<td>cells</td><td>{metrics['n_cells']:,}</td>" in data
    assert "<td>latent graph is a DAG</td><td>yes</td>" in data
    edges = _section(html, "edges")
    assert "<td>S20</td>" in edges and "<td>S21</td>" not in edges  # top 20 only
    for label in ("gene→gene", "protein→protein", "RNA→protein", "protein→RNA"):
        assert label in edges
    assert "&lt;b&gt;X&amp;Y&lt;/b&gt;" in edges and "<b>X&Y</b>" not in html


def test_report_asymmetry_recovery_and_stability(report):
    html = report[0]
    tf = _section(html, "tf-target")
    assert "held-out edges, direct" in tf and "training edges (not evidence), direct" in tf
    assert "Held-out prior edges" in tf and "Training prior edges" in tf
    assert "RNA→protein" in _section(html, "central-dogma")
    rec = _section(html, "recovery")
    assert "cmcvae (direct)" in rec and "correlation" in rec and "0.600" in rec
    assert "4 seeds" in _section(html, "stability")


def test_report_refuses_to_overwrite_without_force(report, folders, tmp_path):
    with pytest.raises(CMCVAEInputError, match="--force"):
        write_report(folders["ensemble"])
    with pytest.raises(CMCVAEInputError, match="not a run folder"):
        write_report(tmp_path)


def test_missing_inputs_say_which_command(folders):
    bare = folders["bare"]
    path = write_report(bare)
    html = path.read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f"<h2>{title}</h2>" in html
    assert "cmcvae validate" in _section(html, "validation")
    assert "cmcvae analyze" in _section(html, "tf-target")
    assert "--truth" in _section(html, "recovery")
    assert "--seeds" in _section(html, "stability")
    assert html.count("<svg") == 2  # training curves and central dogma only
    (bare / "validation.json").write_text(json.dumps({"methods": ["cmcvae"], "cmcvae": {}}))
    html = write_report(bare, force=True).read_text(encoding="utf-8")  # force overwrites
    assert "<td>cmcvae</td>" in _section(html, "validation")
    (bare / "validation.json").unlink()


def test_cli_report(folders, tmp_path, monkeypatch, capsys):
    out = tmp_path / "deep" / "r.html"
    text = run_cli_ok(["report", str(folders["bare"]), "--out", str(out)], monkeypatch, capsys)
    assert out.is_file() and "Wrote the report" in text and "figures" in text


def test_cli_report_not_a_run_is_a_clean_error(tmp_path, monkeypatch, capsys):
    from cmcvae.cli import main

    monkeypatch.setattr(sys, "argv", ["cmcvae", "report", str(tmp_path)])
    with pytest.raises(SystemExit) as err:
        main()
    assert err.value.code == 2
    captured = capsys.readouterr()
    assert "not a run folder" in " ".join(captured.err.split())
    assert "Traceback" not in captured.err + captured.out


def test_zero_shot_table_lists_only_the_methods(report, folders):
    html = _section(report[0], "validation")
    val = json.loads((folders["run"] / "validation.json").read_text())
    assert {"definitions", "filtering", "effects", "estimator"} <= set(val)  # bookkeeping keys
    for key in ("definitions", "filtering", "effects", "estimator", "seconds"):
        assert f"<td>{key}</td>" not in html
    rows = re.findall(r"<tr(?: class=\"model\")?><td>([^<]+)</td><td class=\"num\">", html)
    assert rows == val["methods"]
    assert f"<code>{val['estimator']}</code>" in html  # the estimator behind the cmcvae row


def test_report_states_versions_settings_and_captions(report):
    html = report[0]
    data = _section(html, "data")
    for item in ("data file", "cells", "genes", "proteins", "architecture", "torch", "python"):
        assert f"<td>{item}</td>" in data
    assert f"<td>python</td><td>{platform.python_version()}</td>" in data
    assert f"<td>cmcvae (this report)</td><td>{__version__}</td>" in data
    captions = re.findall(r"<figcaption>([^<]+)</figcaption>", html)
    assert len(captions) == html.count("<figure") == len(FIGURES)
    assert all(len(c.split()) >= 8 and c.rstrip().endswith(".") for c in captions)


def test_report_says_how_many_knockdowns_have_both_classes(report, folders):
    html = " ".join(_section(report[0], "validation").split())
    val = json.loads((folders["run"] / "validation.json").read_text())
    k = sum(v is not None for v in val["cmcvae"]["per_perturbation_auroc"].values())
    assert f"{k} of {val['n_perturbations']} knockdowns have both classes" in html


def _copy_run(folders, tmp_path) -> Path:
    """A fit-only run folder (with the tiny run's manifest) of this test's own."""
    run = tmp_path / "run"
    run.mkdir()
    for name in ("metrics.json", "run.json", "edges.csv", "matched_pairs.csv", ".cmcvae-manifest.json"):
        shutil.copy(folders["run"] / name, run / name)
    return run


def test_report_shows_the_gene_readout(folders, tmp_path):
    run = _copy_run(folders, tmp_path)
    val = json.loads((folders["run"] / "validation.json").read_text())
    (run / "validation_rna.json").write_text(json.dumps({**val, "n_pairs": 4321}))
    html = _section(write_report(run).read_text(encoding="utf-8"), "validation")
    assert "Gene read-out (validation_rna.json)" in html and "4321 perturbation–gene pairs" in html
    assert "<td>ridge</td>" in html and "<td>definitions</td>" not in html


def test_report_replaces_its_own_report_when_the_run_changed(folders, tmp_path):
    run = _copy_run(folders, tmp_path)
    path = write_report(run)
    with pytest.raises(CMCVAEInputError, match=r"own report and is up to date.*pass --force"):
        write_report(run)
    later = path.stat().st_mtime + 5
    os.utime(run / "metrics.json", (later, later))  # e.g. a newer analysis.json or validation.json
    assert write_report(run) == path
    user = tmp_path / "mine.html"
    user.write_text("my page")
    with pytest.raises(CMCVAEInputError, match=r"did not write it.*another --out"):
        write_report(run, out=user)
    assert user.read_text() == "my page"


def test_cli_report_after_analyze_needs_no_force(tmp_path_factory, monkeypatch, capsys):
    run = tiny_run_copy(tmp_path_factory, "rerun")  # `cmcvae run` wrote its report.html
    assert (run / "report.html").is_file()
    truth = run.parent / "data" / "truth"
    run_cli_ok(["analyze", str(run), "--truth", str(truth)], monkeypatch, capsys)
    text = run_cli_ok(["report", str(run)], monkeypatch, capsys)
    assert "Wrote the report" in text and "replaces cmcvae's earlier report" in text
    assert 'class="missing"' not in (run / "report.html").read_text()
