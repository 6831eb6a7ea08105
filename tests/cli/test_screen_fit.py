"""``cmcvae fit --perturbation-key`` and ``cmcvae validate --include-trained`` on the command line."""

from __future__ import annotations

import json

import mudata as md
import pandas as pd

from tests._helpers import SCREEN_TRAINED, run_cli


def test_validate_leaves_trained_perturbations_out(screen_runs):
    run, perturb = screen_runs["run"], screen_runs["sim"] / "perturb.h5mu"
    code, text = run_cli(["validate", run, "--perturb", perturb])
    assert code == 0, text
    assert "3 perturbations were in training and are not scored" in " ".join(text.split())
    assert "--include-trained scores them" in " ".join(text.split())
    code, text = run_cli(["validate", run, "--perturb", perturb, "--include-trained",
                          "--readout", "rna"])
    assert code == 0, text
    pred = pd.read_csv(run / "predictions_rna.csv")
    assert pred["perturbation"].nunique() == 6
    assert set(pred.loc[~pred["held_out"], "perturbation"]) == set(SCREEN_TRAINED)
    assert json.loads((run / "validation_rna.json").read_text())["n_trained_scored"] == 3


def test_validate_all_trained_exits_2(screen_runs, tmp_path):
    pert = md.read_h5mu(screen_runs["sim"] / "perturb.h5mu")
    keep = pert.obs["perturbation"].isin(["control", *SCREEN_TRAINED]).to_numpy()
    pert[keep].copy().write(tmp_path / "trained.h5mu")
    code, text = run_cli(["validate", screen_runs["run"], "--perturb", tmp_path / "trained.h5mu"])
    assert code == 2 and "--include-trained" in text


def test_fit_screen_errors_exit_2(screen_runs, tmp_path):
    screen = screen_runs["screen"]
    cases = [
        (["--perturbation-key", "guide"], "no obs column 'guide'"),
        (["--perturbation-key", "perturbation", "--control-label", "NT"], "No control cells"),
        (["--control-label", "NT"], "--perturbation-key too"),
    ]
    for extra, message in cases:
        code, text = run_cli(["fit", screen, "--out", tmp_path / "r", "--max-epochs", "1", *extra])
        assert code == 2 and message in " ".join(text.split()), text
    code, text = run_cli(["fit", "--resume", screen_runs["run"], "--perturbation-key", "perturbation"])
    assert code == 2 and "drop --perturbation-key" in text, text
