"""Figures of ``cmcvae.pl`` on one tiny fitted and validated run (plus hand-written analysis files)."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

import cmcvae.pl as pl
from cmcvae._errors import CMCVAEInputError

NETWORK_KEYS = ("rna_rna", "protein_protein", "rna_protein", "protein_rna")
N_SEEDS = 4


def _stats(n: int, call: str = "none", **extra) -> dict:
    return {"n_pairs": n, "fraction_forward": 0.75, "wilcoxon_p": 0.0123, "rank_biserial": 0.5,
            "rank_biserial_ci": [0.1, 0.8], "null_fraction_forward": 0.6, "p_vs_null": 0.2,
            "call": call, **extra}


def _tf_edges() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = []
    for split, n in (("holdout", 7), ("train", 11)):
        for i in range(n):
            fwd, rev = rng.uniform(0, 0.02, 2)
            rows.append({"source": f"TF{i % 3:03d}", "target": f"G{i:04d}", "mode": [1, -1, 0][i % 3],
                         "split": split, "forward": fwd, "reverse": rev,
                         "forward_total": fwd * 1.1, "reverse_total": rev * 1.1})
    return pd.DataFrame(rows)


def _stability() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for key in NETWORK_KEYS:
        src, dst = key.split("_")
        for i in range(15):
            rows.append({"source": f"{src}{i}", "target": f"{dst}{i + 1}", "source_modality": src,
                         "target_modality": dst, "frequency": rng.integers(1, N_SEEDS + 1) / N_SEEDS,
                         "mean_weight": 0.01, "sd_weight": 0.001, "n_runs": N_SEEDS})
    return pd.DataFrame(rows)


def _recovery() -> dict:
    def nets(base: float) -> dict:
        return {k: {"auroc": base + 0.05 * i, "auprc": base / 4, "auprc_random": 0.01, "n_true": 5 + i,
                    "n_candidates": 100} for i, k in enumerate(NETWORK_KEYS)}

    return {"direct": nets(0.6), "total": nets(0.62), "correlation": nets(0.7)}


def make_tiny_run(root: Path) -> Path:
    """Simulate, fit (2 epochs, 2 DAGMA stages), validate; add analysis files and an ensemble.

    Returns the run folder ``root/r/run``; the ensemble (``stability.csv`` and ``seed_0``) is
    ``root/ensemble``.
    """
    from cmcvae.tl import run_default

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_default(root / "r", seed=0, max_epochs=2, epochs_per_stage=1, progress_bar=False, arch="poster",
                    sim_kwargs={"n_cells": 800, "n_genes": 40, "n_proteins": 6,
                                "n_perturbations": 6})
    run = root / "r" / "run"
    n_pairs = len(pd.read_csv(run / "matched_pairs.csv"))
    tf = {split: {kind: _stats(n, "tf_to_target" if split == "train" else "none",
                               sign_agreement=0.7, null_sign_agreement=0.5, n_edges=n)
                  for kind in ("direct", "total")}
          for split, n in (("holdout", 7), ("train", 11))}
    analysis = {"central_dogma": {k: _stats(n_pairs, "rna_to_protein") for k in ("direct", "total")},
                "tf_target": tf, "recovery": _recovery()}
    (run / "analysis.json").write_text(json.dumps(analysis))
    _tf_edges().to_csv(run / "tf_target_edges.csv", index=False)
    ens = root / "ensemble"
    ens.mkdir()
    _stability().to_csv(ens / "stability.csv", index=False)
    for k in range(N_SEEDS):
        (ens / f"seed_{k}").mkdir()
    return run


_BUILT: dict[str, Path] = {}


def tiny_run_copy(tmp_path_factory, name: str) -> Path:
    """A private copy of the tiny run (built once per test session); returns its run folder."""
    if "root" not in _BUILT:
        _BUILT["root"] = tmp_path_factory.mktemp("tiny_run")
        make_tiny_run(_BUILT["root"])
    dest = tmp_path_factory.mktemp(name)
    shutil.copytree(_BUILT["root"], dest, dirs_exist_ok=True)
    return dest / "r" / "run"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    return tiny_run_copy(tmp_path_factory, "pl")


@pytest.fixture(scope="module")
def ensemble(run) -> Path:
    return run.parent.parent / "ensemble"


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _pairs(ax) -> LineCollection:
    return next(c for c in ax.collections if c.get_gid() == "pairs")


def test_roc_one_curve_per_method(run):
    val = json.loads((run / "validation.json").read_text())
    fig = pl.roc(run)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if not line.get_label().startswith("_")]
    assert len(curves) == len(val["methods"]) >= 6
    texts = _legend_texts(ax)
    assert texts[0] == f"cmcvae (AUROC {val['auroc']:.3f})"
    assert f"correlation (AUROC {val['correlation']['auroc']:.3f})" in texts
    # loaded table works too, and a subset of methods
    fig = pl.roc(pd.read_csv(run / "predictions.csv"), methods=["cmcvae", "random"])
    assert len([x for x in fig.axes[0].lines if not x.get_label().startswith("_")]) == 2


def test_perturbation_auroc_one_bar_per_perturbation(run):
    val = json.loads((run / "validation.json").read_text())
    per = val["cmcvae"]["per_perturbation_auroc"]
    fig = pl.perturbation_auroc(run)
    ax = fig.axes[0]
    model_bars, base_bars = ax.containers
    assert len(model_bars) == len(base_bars) == len(per)
    heights = [b.get_height() for b in model_bars]
    assert heights == sorted(heights, reverse=True)
    assert any(np.allclose(line.get_ydata(), 0.5) for line in ax.lines)
    assert len(pl.perturbation_auroc(val, baseline=None).axes[0].containers) == 1


def test_central_dogma_one_line_per_pair(run):
    pairs = pd.read_csv(run / "matched_pairs.csv")
    fig = pl.central_dogma(run)
    ax, text_ax = fig.axes
    assert len(_pairs(ax).get_segments()) == len(pairs)
    text = text_ax.texts[0].get_text()
    assert "Wilcoxon p = 0.012" in text and "call: RNA→protein" in text
    assert "p vs random-pair null = 0.2" in text
    # a loaded table without statistics points to `cmcvae analyze`
    fig = pl.central_dogma(pairs, "total")
    assert "cmcvae analyze" in fig.axes[1].texts[0].get_text()
    with pytest.raises(CMCVAEInputError, match="kind"):
        pl.central_dogma(run, "both")


def test_tf_target_paired_lines_by_split_and_mode(run):
    edges = _tf_edges()
    fig = pl.tf_target(run)
    ax, text_ax = fig.axes
    lines = _pairs(ax)
    assert len(lines.get_segments()) == (edges["split"] == "holdout").sum() == 7
    assert len({tuple(c) for c in lines.get_colors()}) == 3  # activation, repression, unknown
    assert "held-out" in ax.get_title()
    assert "sign agreement: 70% (null 50%)" in text_ax.texts[0].get_text()
    fig = pl.tf_target(edges, split="train", kind="total")
    assert len(_pairs(fig.axes[0]).get_segments()) == 11
    assert "not evidence" in fig.axes[1].texts[0].get_text()
    with pytest.raises(CMCVAEInputError, match="external"):
        pl.tf_target(run, split="external")


def test_training_curves_two_panels(run):
    metrics = json.loads((run / "metrics.json").read_text())
    fig = pl.training_curves(run)
    top, bottom = fig.axes
    assert len(top.lines) == 4  # train/val loss, train/val ELBO
    n_stages = len({h["stage"] for h in metrics["history"]})
    assert n_stages == 2 and len(top.patches) == n_stages  # one shaded span per stage
    history = [{"epoch": e, "stage": e // 3, "train_loss": 10.0 - e, "val_loss": 11.0 - e,
                "train_h": 10.0 ** -(e + 1), "val_h": 0.0 if e == 0 else 10.0 ** -e}
               for e in range(9)]
    fig = pl.training_curves({"history": history})
    assert fig.axes[1].get_yscale() == "log" and len(fig.axes[0].lines) == 2
    assert len(fig.axes[0].patches) == 3


def test_edge_stability_one_histogram_per_network(ensemble):
    fig = pl.edge_stability(ensemble)
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert len(ax.patches) == N_SEEDS + 1  # one bin per possible frequency k / n_seeds
        assert sum(p.get_height() for p in ax.patches) == 15
    assert len(pl.edge_stability(_stability().iloc[:15], bins=5).axes) == 1


def test_recovery_bars_per_network_and_method(run):
    fig = pl.recovery(run)
    left, right = fig.axes
    n_methods = 2  # the model and the correlation baseline of the hand-written analysis.json
    assert sum(len(c) for c in left.containers) == 4 * n_methods
    assert sum(len(c) for c in right.containers) == 4 * (n_methods + 1)  # + random
    assert [t.get_text() for t in left.get_xticklabels()] == [
        "gene→gene", "protein→protein", "RNA→protein", "protein→RNA"]
    assert len(pl.recovery(_recovery(), "total").axes) == 2


@pytest.mark.parametrize("name", ["roc", "perturbation_auroc", "central_dogma", "tf_target",
                                  "training_curves", "recovery"])
def test_save_png_and_svg(run, tmp_path, name):
    func = getattr(pl, name)
    func(run, save=tmp_path / f"{name}.png")
    func(run, save=tmp_path / "sub" / f"{name}.svg")
    png = (tmp_path / f"{name}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    assert "<svg" in (tmp_path / "sub" / f"{name}.svg").read_text()


def test_save_unknown_format_and_edge_stability_save(run, ensemble, tmp_path):
    pl.edge_stability(ensemble, save=tmp_path / "stab.pdf")
    assert (tmp_path / "stab.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(CMCVAEInputError, match=".png, .svg or .pdf"):
        pl.roc(run, save=tmp_path / "roc.jpg")


def test_missing_inputs_name_the_command(run, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "metrics.json").write_text((run / "metrics.json").read_text())
    (bare / "analysis.json").write_text(json.dumps({"central_dogma": {}}))
    cases = [(pl.roc, "cmcvae validate"), (pl.perturbation_auroc, "cmcvae validate"),
             (pl.central_dogma, "cmcvae fit"), (pl.tf_target, "cmcvae analyze"),
             (pl.recovery, "--truth"), (pl.edge_stability, "--seeds")]
    for func, command in cases:
        with pytest.raises(CMCVAEInputError, match=command):
            func(bare)
    with pytest.raises(CMCVAEInputError, match="not a run folder"):
        pl.training_curves(tmp_path / "nowhere")
