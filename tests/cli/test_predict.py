"""``cmcvae predict``: the printed tables, the CSV and the refusals (exit code 2, one paragraph).

The runs come from ``predict_folders`` (``tests/conftest.py``), shared with ``tests/tl``.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from cmcvae.tl import PREDICT_COLUMNS, predict_run
from tests._helpers import run_cli

CSV_COLUMNS = ["perturbation", "readout", "modality", "predicted_effect", "se", "z", "pvalue",
               "estimator"]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_knockdown_prints_top_rows_and_writes_the_full_csv(predict_folders, tmp_path):
    out = tmp_path / "kd.csv"
    code, text = run_cli(["predict", predict_folders["run"], "--knockdown", "TF001,G0009",
                          "--top", "3", "--out", out])
    assert code == 0, text
    assert "Knockdown of TF001: top 3 of 47 readouts (adjust)" in text
    assert "Knockdown of G0009: top 3 of 47 readouts" in text
    assert "standard deviations" in text and f"Wrote {out}" in _flat(text)
    table = pd.read_csv(out)
    assert list(table.columns) == CSV_COLUMNS == list(PREDICT_COLUMNS)
    assert table.groupby("perturbation").size().to_dict() == {"TF001": 47, "G0009": 47}
    assert set(table["modality"]) == {"rna", "protein"}
    # the printed rows are the first rows of each knockdown in the CSV
    for gene, rows in table.groupby("perturbation", sort=False):
        block = text.split(f"Knockdown of {gene}")[1]
        for readout in rows["readout"].head(3):
            assert re.search(rf"│ {re.escape(readout)}\s", block), (readout, block)
    manifest = json.loads((tmp_path / ".cmcvae-manifest.json").read_text())
    assert manifest["files"]["kd.csv"]["command"] == "predict"
    # --force replaces the file cmcvae predict wrote
    code, text = run_cli(["predict", predict_folders["run"], "--knockdown", "TF002", "--out", out,
                          "--force"])
    assert code == 0, text
    assert set(pd.read_csv(out)["perturbation"]) == {"TF002"}


def test_readout_ranks_knockdowns(predict_folders):
    code, text = run_cli(["predict", predict_folders["run"], "--readout", "adt_g0009", "--top", "5",
                          "--estimator", "correlation"])
    assert code == 0, text
    assert "Knockdowns moving ADT_G0009 (protein): top 5 of 40 genes (correlation)" in _flat(text)
    expected = predict_run(predict_folders["run"], readout="ADT_G0009", estimator="correlation",
                           top=5)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert [r.split("│")[1].strip() for r in rows] == expected["perturbation"].tolist()


def test_rna_only_run(predict_folders, tmp_path):
    out = tmp_path / "rna.csv"
    code, text = run_cli(["predict", predict_folders["rna"], "--readout", "G0009", "--estimator",
                          "correlation", "--out", out])
    assert code == 0, text
    assert set(pd.read_csv(out)["modality"]) == {"rna"}


@pytest.mark.parametrize(("args", "message"), [
    ([], r"Give exactly one of --knockdown .* neither was given"),
    (["--knockdown", "TF001", "--readout", "G0009"], "both were given"),
    (["--knockdown", "TF001,TF01"], r"'TF01' \(did you mean 'TF001'"),
    (["--readout", "G009"], r"not genes or proteins of the run: 'G009' \(did you mean [^)]*'G0009'"),
    (["--knockdown", "ADT_G0009"], "only genes can be knocked down"),
    (["--knockdown", "TF001", "--top", "0"], r"--top 0 is out of range: use a whole number ≥ 1"),
    (["--knockdown", "TF001", "--estimator", "nope"], "'nope' is not one of"),
])
def test_refusals(predict_folders, args, message):
    code, text = run_cli(["predict", predict_folders["run"], *args])
    assert code == 2, text
    assert "Traceback" not in text
    assert re.search(message, _flat(text)), text


def test_out_never_overwrites_a_users_file(predict_folders, tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_text("my notes\n")
    for force in ([], ["--force"]):
        code, text = run_cli(["predict", predict_folders["run"], "--knockdown", "TF001", "--out",
                              mine, *force])
        assert code == 2, text
        assert mine.read_text() == "my notes\n"
    assert "no record of writing it" in _flat(text)
    assert not (tmp_path / ".cmcvae-manifest.json").exists()


def test_ensemble_asks_for_one_seed(tmp_path):
    (tmp_path / "seed_0").mkdir()
    (tmp_path / "ensemble.json").write_text(json.dumps({"runs": ["seed_0"]}))
    code, text = run_cli(["predict", tmp_path, "--knockdown", "TF001"])
    assert code == 2 and "give one seed's folder" in _flat(text)
