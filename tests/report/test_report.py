"""The HTML report (``cmcvae.report``) and ``cmcvae report`` on one tiny run and its ensemble."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
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
