"""``cmcvae validate --readout protein|rna|both`` end to end on a small simulation.

One CITE-seq run and one RNA-only run (``fit --modality rna`` on an RNA-only ``.h5ad``), scored
against the simulated screen and against the same screen as an RNA-only ``.h5ad``.
"""

from __future__ import annotations

import json
import sys

import mudata as md
import pandas as pd
import pytest

from cmcvae.cli import main
from cmcvae.evaluate import PREDICTION_COLUMNS, PREDICTION_COLUMNS_RNA
from cmcvae.io import read_manifest
from tests._helpers import run_cli_ok

RNA_FILES = ("validation_rna.json", "predictions_rna.csv")
PROTEIN_FILES = ("validation.json", "predictions.csv")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """``(simulation, CITE-seq run, RNA-only run, RNA-only screen .h5ad)``."""
    root = tmp_path_factory.mktemp("readout")
    mp = pytest.MonkeyPatch()
    sim, run, rna_run = root / "sim", root / "run", root / "rna_run"
    try:
        _cli(["simulate", "--out", str(sim), "--cells", "600", "--genes", "40", "--proteins", "8",
              "--perturbations", "5"], mp)
        _cli(["fit", str(sim / "train.h5mu"), "--out", str(run), "--max-epochs", "1"], mp)
        train_rna, screen_rna = root / "train_rna.h5ad", root / "screen_rna.h5ad"
        _rna_only(sim / "train.h5mu", train_rna)
        _rna_only(sim / "perturb.h5mu", screen_rna)
        _cli(["fit", str(train_rna), "--modality", "rna", "--out", str(rna_run), "--max-epochs", "1"],
             mp)
    finally:
        mp.undo()
    return sim, run, rna_run, screen_rna


def _cli(args, mp) -> int:
    """Run ``cmcvae ARGS`` in-process (module-scoped fixtures cannot use ``capsys``)."""
    mp.setattr(sys, "argv", ["cmcvae", *args])
    try:
        main()
    except SystemExit as err:
        assert not err.code, args
    return 0


def _rna_only(h5mu, out) -> None:
    """The RNA of a simulated ``.h5mu`` as an ``.h5ad``, with the cells' obs columns."""
    mdata = md.read_h5mu(h5mu)
    rna = mdata.mod["rna"].copy()
    for col in ("perturbation", "donor"):
        if col in mdata.obs and col not in rna.obs:
            rna.obs[col] = mdata.obs[col].to_numpy()
    rna.write_h5ad(out)


def _fails(args, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    text = " ".join((out.out + out.err).split())
    assert exc.value.code == 2 and "Traceback" not in text, text
    return text


def _clear(run) -> None:
    for name in (*PROTEIN_FILES, *RNA_FILES):
        (run / name).unlink(missing_ok=True)


def test_default_readout_is_protein_only(folders, monkeypatch, capsys):
    sim, run, _, _ = folders
    _clear(run)
    run_cli_ok(["validate", str(run), "--perturb", str(sim / "perturb.h5mu")], monkeypatch, capsys)
    assert all((run / name).exists() for name in PROTEIN_FILES)
    assert not any((run / name).exists() for name in RNA_FILES)
    assert list(pd.read_csv(run / "predictions.csv").columns[:5]) == PREDICTION_COLUMNS
    assert "knockdown_efficiency" not in json.loads((run / "validation.json").read_text())


def test_both_writes_four_files_and_records_them(folders, monkeypatch, capsys):
    sim, run, _, _ = folders
    _clear(run)
    text = run_cli_ok(["validate", str(run), "--perturb", str(sim / "perturb.h5mu"), "--readout",
                       "both", "--truth", str(sim / "truth" / "knockdown_effects.csv")],
                      monkeypatch, capsys)
    assert "Knockdown efficiency" in " ".join(text.split())
    assert all((run / name).exists() for name in (*PROTEIN_FILES, *RNA_FILES))
    manifest = read_manifest(run)
    assert all(manifest[name]["command"] == "validate" for name in (*PROTEIN_FILES, *RNA_FILES))
    table = pd.read_csv(run / "predictions_rna.csv")
    assert list(table.columns[:9]) == [*PREDICTION_COLUMNS_RNA, "pvalue", "qvalue", "n_cells",
                                       "n_control"]
    assert {"predicted_correlation", "predicted_ridge", "predicted_random",
            "predicted_always_down"} <= set(table.columns)
    assert not (table["perturbation"] == table["gene"]).any()
    val = json.loads((run / "validation_rna.json").read_text())
    protein = json.loads((run / "validation.json").read_text())
    assert set(protein) - {"oracle"} <= set(val)
    # the gene oracle comes from truth/knockdown_effects_rna.csv beside --truth, when it exists
    assert ("oracle" in val) == (sim / "truth" / "knockdown_effects_rna.csv").exists()
    baselines = ["correlation", "ridge", "random", "always_down"]
    assert val["methods"][0] == "cmcvae"
    assert [m for m in val["methods"] if m in baselines] == baselines
    assert val["n_pairs"] == len(table)
    per = val["knockdown_efficiency"]["per_perturbation"]
    assert len(per) == 5 and all(p["target_log_fc"] < 0 for p in per)


def test_rna_only_run_and_screen(folders, monkeypatch, capsys):
    sim, run, rna_run, screen_rna = folders
    run_cli_ok(["validate", str(rna_run), "--perturb", str(screen_rna), "--readout", "rna"],
               monkeypatch, capsys)
    assert all((rna_run / name).exists() for name in RNA_FILES)
    assert not (rna_run / "validation.json").exists()
    text = _fails(["validate", str(rna_run), "--perturb", str(sim / "perturb.h5mu")],
                  monkeypatch, capsys)
    assert "fitted on RNA only" in text and "--readout rna" in text
    text = _fails(["validate", str(run), "--perturb", str(screen_rna), "--readout", "both"],
                  monkeypatch, capsys)
    assert "holds RNA only" in text and "--readout rna" in text
