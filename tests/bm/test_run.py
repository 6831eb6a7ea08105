"""The benchmark runner, the CMC-VAE adapter, the cross-modal task, tables and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm import (
    _crossmodal,
    cmcvae_network,
    crossmodal_task,
    losses,
    render_markdown,
    run_benchmark,
    undirected_scores,
    update_readme,
)
from cmcvae.bm._table import README_END, README_START
from cmcvae.cli import app
from cmcvae.graph.threshold import is_dag


def _linear_dag_data(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, list[str], pd.DataFrame]:
    """A five-gene linear SEM: g0 → g1 → g2, g0 → g3, g4 independent."""
    rng = np.random.default_rng(seed)
    g0 = rng.normal(size=n)
    g1 = 0.9 * g0 + 0.4 * rng.normal(size=n)
    g2 = -0.8 * g1 + 0.4 * rng.normal(size=n)
    g3 = 0.7 * g0 + 0.5 * rng.normal(size=n)
    g4 = rng.normal(size=n)
    X = np.column_stack([g0, g1, g2, g3, g4])
    truth = pd.DataFrame({"source": ["g0", "g1", "g0"], "target": ["g1", "g2", "g3"],
                          "weight": [1, -1, 1]})
    return X, [f"g{i}" for i in range(5)], truth


def _write_beeline(root: Path) -> Path:
    """The linear SEM above in BEELINE's file layout (genes × cells)."""
    X, genes, truth = _linear_dag_data()
    folder = root / "beeline_boolode" / "Synthetic" / "dyn-LI_2000_0"
    folder.mkdir(parents=True)
    pd.DataFrame(X.T, index=genes, columns=[f"E{i}" for i in range(X.shape[0])]).to_csv(
        folder / "ExpressionData.csv")
    pd.DataFrame({"Gene1": truth.source, "Gene2": truth.target,
                  "Type": ["+", "-", "+"]}).to_csv(folder / "refNetwork.csv", index=False)
    pd.DataFrame({"Time": np.arange(X.shape[0])}, index=[f"E{i}" for i in range(X.shape[0])]
                 ).to_csv(folder / "PseudoTime.csv")
    return root


@pytest.mark.parametrize("arch", ["poster", "sem"])
def test_cmcvae_adapter_covers_every_ordered_pair(arch):
    X, genes, truth = _linear_dag_data()
    pred = cmcvae_network(X, genes, seed=0, arch=arch, max_epochs=3)
    assert len(pred) == 5 * 4 and set(pred.columns) == {"source", "target", "weight"}
    assert np.isfinite(pred.weight).all()
    if arch == "sem":
        dag = pred.attrs["dag"]
        assert dag.shape == (5, 5) and is_dag(dag)
        # the feature-level SEM links the dependent genes and leaves g4 alone (skeleton only:
        # a linear Gaussian SEM cannot orient these edges from observational data)
        assert undirected_scores(pred, truth, genes)["auroc"] > 0.8
        assert np.abs(pred.loc[(pred.source == "g4") | (pred.target == "g4"), "weight"]).max() < 0.05


def test_run_benchmark_rows_summary_and_tables(tmp_path):
    root = _write_beeline(tmp_path)
    record = run_benchmark(data_root=root, seeds=[0, 1, 2], quick=True,
                           methods=["pearson", "random", "cmcvae_sem", "empty"],
                           crossmodal=False, progress=None, checkpoint=tmp_path / "ck.json")
    rows = pd.DataFrame(record["rows"])
    counts = rows.groupby("method").size().to_dict()
    # deterministic methods run once, seeded ones once per seed
    assert counts == {"pearson": 1, "cmcvae_sem": 1, "empty": 1, "random": 3}
    assert set(rows.dataset) == {"beeline/dyn-LI"}
    assert any("sachs2005: not found" in n for n in record["notes"])
    summ = {e["method"]: e for e in record["summary"]}
    rnd = rows[rows.method == "random"].auroc
    assert summ["random"]["auroc"]["median"] == pytest.approx(float(np.median(rnd)))
    assert summ["random"]["auroc"]["min"] == pytest.approx(float(rnd.min()))
    # Pearson ranks the three true (symmetric) pairs above the 7 unlinked ones
    assert summ["pearson"]["undirected_auroc"]["median"] == pytest.approx(1.0)
    assert summ["empty"]["auroc"]["median"] == pytest.approx(0.5)
    md = render_markdown(record)
    assert "| beeline/dyn-LI |" in md and "Pearson" in md and "Where CMC-VAE loses" in md
    assert json.loads((tmp_path / "ck.json").read_text())["meta"]["seeds"] == [0, 1, 2]
    for entry in losses(record["summary"]):
        assert entry["gap"] > 0 and entry["method"] in ("cmcvae", "cmcvae_sem")


def test_run_benchmark_rejects_unknown_method(tmp_path):
    with pytest.raises(CMCVAEInputError, match="Unknown methods"):
        run_benchmark(data_root=tmp_path, methods=["notears"], crossmodal=False, progress=None)


def test_crossmodal_task_small(monkeypatch):
    monkeypatch.setitem(_crossmodal.SIM_SETTINGS, "tiny", {
        "n_cells": 1500, "n_genes": 40, "n_proteins": 6, "n_donors": 3,
        "translation_strength": 0.8})
    rows = crossmodal_task("tiny", 0, methods=("cmcvae_sem", "correlation", "random", "oracle",
                                                "prior"))
    by = {r["method"]: r for r in rows}
    assert set(by) == {"cmcvae_sem", "correlation", "random", "oracle", "partial_correlation",
                       "prior"}
    # the training prior is half true edges plus decoys: informative when its edges count,
    # and it is never scored on the column that excludes them
    assert by["prior"]["grn_auroc_all"] > 0.55 and "grn_auroc" not in by["prior"]
    assert by["oracle"]["auroc"] > 0.8 > by["random"]["auroc"]
    assert 0.0 <= by["cmcvae_sem"]["grn_auroc"] <= 1.0
    assert by["cmcvae_sem"]["is_dag"] is True
    assert "auroc" not in by["partial_correlation"] or by["partial_correlation"]["auroc"] is None


def test_update_readme_only_touches_the_marked_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\nbefore\n{README_START}\nold table\n{README_END}\nafter\n")
    update_readme(readme, "new table\n")
    text = readme.read_text()
    assert "old table" not in text and "new table" in text
    assert text.startswith("# title\nbefore\n") and text.endswith("after\n")
    plain = tmp_path / "other.md"
    plain.write_text("no markers\n")
    with pytest.raises(CMCVAEInputError, match="no benchmark section"):
        update_readme(plain, "x")
    assert plain.read_text() == "no markers\n"


def test_cli_benchmark_writes_and_refuses_to_overwrite(tmp_path):
    root = _write_beeline(tmp_path / "data")
    out = tmp_path / "out"
    args = ["benchmark", "--data-root", str(root), "--methods", "pearson,random",
            "--no-crossmodal", "--quick", "--out", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    record = json.loads((out / "benchmark.json").read_text())
    assert {r["method"] for r in record["rows"]} == {"pearson", "random"}
    assert (out / "benchmark.md").read_text().startswith("Generated by")
    res = CliRunner().invoke(app, args)
    assert isinstance(res.exception, CMCVAEInputError) and "--force" in str(res.exception)
