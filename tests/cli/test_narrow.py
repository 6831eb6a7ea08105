"""The tables the commands print fit a terminal of 80 columns, and no number is cut to "…".

Each table is built from a result with long values (small p-values, negative confidence
intervals, every method and split) and rendered 80 columns wide; then ``cmcvae analyze`` and
``cmcvae predict`` run with ``COLUMNS=80`` as a user's terminal would set it.
"""

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from cmcvae.cli._run_screen import run_table
from cmcvae.cli._tables import (
    aggregate_table,
    asymmetry_table,
    predict_table,
    recovery_table,
    validation_table,
)

SRC = Path(__file__).resolve().parents[2] / "src"


def render(table, width=80) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(table)
    return console.file.getvalue()


def assert_fits(text: str, numbers=(), width=80) -> None:
    lines = text.splitlines()
    assert max(map(len, lines)) <= width, "\n".join(line for line in lines if len(line) > width)
    assert "…" not in text, "\n".join(line for line in lines if "…" in line)
    words = text.split()
    for number in numbers:  # whole, on one line (a cell may wrap between numbers, not inside one)
        assert number in words, (number, text)


def _asym(n=12, p=1.2e-5, call="rna_to_protein", truth=0.875, sign=True):
    r = {"n_pairs": n, "fraction_forward": 0.917, "null_fraction_forward": 0.5, "wilcoxon_p": p,
         "p_vs_null": 3.4e-4, "rank_biserial": -0.12, "rank_biserial_ci": [-0.3, -0.05], "call": call,
         "direction_accuracy_vs_truth": truth}
    if sign:
        r |= {"sign_agreement": 0.85, "null_sign_agreement": 0.5}
    return r


NUMBERS = ("0.917", "1.2e-05", "0.00034", "-0.12", "[-0.30,", "-0.05]", "0.875")


def test_central_dogma_table_at_80_columns():
    text = render(asymmetry_table("Central-dogma asymmetry (matched protein–gene pairs): RNA→protein "
                                  "vs protein→RNA", {"direct": _asym(sign=False), "total": _asym()}, 80))
    assert_fits(text, NUMBERS)
    assert "rna to protein" in " ".join(text.split())


def test_tf_target_table_at_80_columns():
    rows = {f"{split} {kind}": _asym(n=1234, call="tf_to_target", truth=None)
            for split in ("holdout", "train", "external") for kind in ("direct", "total")}
    rows["external total"] = {"n_edges": 3, "call": "none", "message": "too few edges (3 < 10) to test"}
    text = render(asymmetry_table("TF→target asymmetry (prior edges by split): forward vs reverse", rows, 80))
    assert_fits(text, (*NUMBERS[:-1], "1234"))


def test_asymmetry_table_is_wide_where_it_fits():
    rows = {"direct": _asym(), "total": _asym()}
    wide = render(asymmetry_table("t", rows, 200), 200)
    assert "effects" in wide and "Wilcoxon p" in wide  # one row per kind, one column per statistic
    assert sum("direct" in line for line in wide.splitlines()) == 1
    assert render(asymmetry_table("t", rows), 200) == wide  # no width: the wide table, as before


def test_recovery_table_at_80_columns():
    methods = ("direct", "total", "correlation", "partial_correlation")
    rec = {m: {net: {"auroc": 0.963, "auprc": 0.777, "auprc_random": 0.017, "direction_accuracy": 0.625}
               for net in ("rna_rna", "rna_protein", "protein_protein", "protein_rna")} for m in methods}
    text = render(recovery_table(rec, 80))
    assert_fits(text, ("0.963", "0.777", "0.017", "0.625"))
    assert "protein→protein" in text and "partial correlation" in text
    assert "cmcvae direct" in render(recovery_table(rec, 200), 200)


def _aggregate(leaf):
    return {"central_dogma": {"direct": {"fraction_forward": leaf, "direction_accuracy_vs_truth": leaf,
                                         "call": ["rna_to_protein", "none", "rna_to_protein"]}},
            "recovery": {"partial_correlation": {"protein_protein": {"auroc": leaf}}}}


def test_aggregate_table_at_80_columns():
    leaf = {"mean": 0.776, "sd": 0.02, "min": 0.762, "max": 0.79, "values": [0.762, 0.776, 0.79]}
    text = render(aggregate_table({"ensemble": {"n_seeds": 3}, "aggregate": _aggregate(leaf)},
                                  "Analyses across seeds"))
    assert_fits(text, ("0.776", "0.020", "[0.762–0.790]"))
    assert "[min–max]" in " ".join(text.split())  # the header is not read as a markup tag


def test_validation_summary_and_predict_tables_at_80_columns():
    methods = ["cmcvae", "adjust_all", "adjust_parents", "partial_correlation", "always_down", "oracle"]
    res = {"n_perturbations": 120, "n_pairs": 12345, "methods": methods,
           **{m: {"auroc": 0.694, "auprc": 0.623, "median_perturbation_auroc": 0.74,
                  "direction_accuracy": 0.568} for m in methods}}
    assert_fits(render(validation_table(res)), ("0.694", "0.623", "0.740", "0.568"))
    summary = {"seed": 0, "regime": "confounded", "n_perturbations": 30, "n_pairs": 1200,
               "seconds": {"total": 1234.5}, "matched_pair_direction_accuracy": {"direct": 0.95, "total": 0.9},
               "zero_shot": {m: {"auroc": 0.712, "direction_accuracy": 0.655}
                             for m in ("cmcvae", "correlation", "ridge", "oracle")}}
    summary["methods"] = ["cmcvae", "correlation", "ridge", "oracle"]
    summary["estimator"] = "adjust"
    assert_fits(render(run_table(summary)), ("0.712", "0.655"))
    rows = pd.DataFrame({"perturbation": ["STAT1"] * 2, "readout": ["ADT_CD279_PD-1", "HLA-DRB1"],
                         "modality": ["protein", "rna"], "predicted_effect": [-0.58, 0.354],
                         "se": [0.024, 0.022], "z": [-24.5, 15.9], "pvalue": [9.5e-133, 5.5e-57]})
    text = render(predict_table(rows, "Knockdown of STAT1: top 2 of 67 readouts (adjust)", "readout"))
    assert_fits(text, ("-0.580", "+0.354", "9.5e-133", "ADT_CD279_PD-1"))


def _cli_80(args, cwd) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb", "PYTHONPATH": str(SRC)}
    env.pop("LINES", None)
    proc = subprocess.run([sys.executable, "-m", "cmcvae", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def run_copy(predict_folders, tmp_path_factory):
    """A copy of the shared run (``analyze`` writes analysis.json in it)."""
    run = tmp_path_factory.mktemp("narrow") / "run"
    shutil.copytree(predict_folders["run"], run)
    return run


def test_analyze_and_predict_print_80_columns(run_copy, predict_folders, tmp_path):
    sim = predict_folders["sim"]
    text = _cli_80(["analyze", run_copy, "--truth", sim / "truth", "--grn", sim / "priors" / "grn.csv"],
                   tmp_path)
    assert "Recovery of the true networks" in text and "TF→target asymmetry" in text
    assert_fits(text)
    text = _cli_80(["predict", run_copy, "--knockdown", "G0001,G0002", "--top", "5"], tmp_path)
    assert "Knockdown of G0001" in text
    assert_fits(text)
