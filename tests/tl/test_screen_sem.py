"""A screen fit with ``--arch sem``: the perturbed cells enter the SEM's likelihood."""

from __future__ import annotations

import json

import mudata as md
import numpy as np
import pytest

from cmcvae import CMCVAE
from tests._helpers import run_cli, screen_h5mu

TRAINED = ("TF001", "TF002", "TF003")


@pytest.fixture(scope="module")
def sem_screen(tmp_path_factory):
    root = tmp_path_factory.mktemp("sem_screen")
    code, text = run_cli(["simulate", "--out", root / "sim", "--cells", "800", "--genes", "40",
                          "--proteins", "6", "--perturbations", "6", "--seed", "0"])
    assert code == 0, text
    screen = screen_h5mu(root / "sim", root / "screen.h5mu", TRAINED, screen_controls=True)
    (root / "observational.json").write_text(json.dumps({"sem_interventions": False}))
    runs, texts = {}, {}
    for name, extra in (("sem", []), ("obs", ["--config", root / "observational.json"])):
        runs[name] = root / name
        code, texts[name] = run_cli(["fit", screen, "--out", runs[name], "--arch", "sem",
                                     "--batch-key", "donor", "--perturbation-key", "perturbation",
                                     "--control-label", "control", "--seed", "0",
                                     "--grn-prior", root / "sim" / "priors" / "grn.csv", *extra])
        assert code == 0, texts[name]
    return {"root": root, "runs": runs, "texts": texts}


def test_perturbed_cells_enter_the_likelihood(sem_screen):
    metrics = json.loads((sem_screen["runs"]["sem"] / "metrics.json").read_text())
    assert metrics["interventions"] == {"n_regimes": 3, "n_cells": 3 * 100, "n_targets_in_model": 3,
                                        "n_targets_outside_model": 0, "in_likelihood": True}
    assert "likelihood also holds 300 perturbed cells of 3 perturbations" in \
        " ".join(sem_screen["texts"]["sem"].split())


def test_observational_only_fit_of_the_same_model(sem_screen):
    runs = sem_screen["runs"]
    metrics = json.loads((runs["obs"] / "metrics.json").read_text())
    assert metrics["interventions"] == {"in_likelihood": False}
    assert "sem_interventions is false" in " ".join(sem_screen["texts"]["obs"].split())
    # same cells, split and seed: the weights differ only through the perturbed cells
    with_screen, without = (CMCVAE.load(runs[k] / "model").get_adjacency(thresholded=False)
                            for k in ("sem", "obs"))
    assert with_screen.shape == without.shape and not np.allclose(with_screen, without)
    assert (runs["sem"] / "split.csv").read_bytes() == (runs["obs"] / "split.csv").read_bytes()


def test_validate_scores_the_learned_graph_estimators(sem_screen):
    run, sim = sem_screen["runs"]["sem"], sem_screen["root"] / "sim"
    code, text = run_cli(["validate", run, "--perturb", sim / "perturb.h5mu"])
    assert code == 0, text
    v = json.loads((run / "validation.json").read_text())
    assert {"adjust_graph", "ida", "propagate", "adjust_iv", "ridge_pooled", "linear",
            "stack"} <= set(v["methods"])
    stack = v["effects"]["stack"]  # the weights the trained knockdowns chose, readable
    assert stack["n_trained"] == 3 and sum(stack["weights"].values()) == pytest.approx(1.0)
    assert set(stack["weights"]) <= {"adjust", "adjust_all", "adjust_parents", "correlation", "ridge"}
    assert sorted(v["filtering"]["trained_perturbations_excluded"]) == list(TRAINED)
    assert 0.0 <= v["adjust_graph"]["auroc"] <= 1.0


@pytest.mark.parametrize("arch", ["sem", "latent"])
def test_trained_targets_outside_the_model(sem_screen, tmp_path, arch):
    """The real-screen protocol: train on the controls and on perturbations whose targets are
    not measured, score the perturbations whose targets are."""
    data = md.read_h5mu(sem_screen["root"] / "screen.h5mu")
    renamed = {t: f"OUT_{t}" for t in TRAINED}  # the same cells, targets no longer features
    for frame in (data.obs, *(m.obs for m in data.mod.values())):
        frame["perturbation"] = frame["perturbation"].astype(str).replace(renamed)
    screen = tmp_path / "screen.h5mu"
    data.write(screen)
    run, sim = tmp_path / "run", sem_screen["root"] / "sim"
    code, text = run_cli(["fit", screen, "--out", run, "--arch", arch, "--batch-key", "donor",
                          "--perturbation-key", "perturbation", "--control-label", "control",
                          "--seed", "0", "--max-epochs", "1",
                          "--grn-prior", sim / "priors" / "grn.csv"])
    assert code == 0, text
    metrics = json.loads((run / "metrics.json").read_text())
    if arch == "sem":
        assert metrics["interventions"]["n_targets_outside_model"] == 3
        assert metrics["interventions"]["n_targets_in_model"] == 0
    else:
        assert metrics["interventions"] == {"in_likelihood": False}
    code, text = run_cli(["validate", run, "--perturb", sim / "perturb.h5mu", "--readout", "both"])
    assert code == 0, text
    v = json.loads((run / "validation.json").read_text())
    # nothing to stack on (no trained knockdown of a modelled gene); the rest is scored
    assert "stack" not in v["methods"] and {"adjust_iv", "linear"} <= set(v["methods"])
    assert v["estimator"] == "adjust"  # the primary ("cmcvae") column
    # the renamed perturbations are not in the screen, so every knockdown there is scored
    assert v["filtering"].get("trained_perturbations_excluded", []) == []


def test_report_says_what_entered_the_likelihood(sem_screen):
    run = sem_screen["runs"]["sem"]
    code, text = run_cli(["report", run])
    assert code == 0, text
    html = (run / "report.html").read_text()
    assert "perturbed cells in the likelihood" in html
    assert "yes: 300 cells of 3 perturbations (3 on modelled genes, 0 outside the model)" in html


def test_rna_only_screen(sem_screen, tmp_path):
    rna = md.read_h5mu(sem_screen["root"] / "screen.h5mu").mod["rna"].copy()
    rna.write_h5ad(tmp_path / "screen.h5ad")
    run = tmp_path / "run"
    code, text = run_cli(["fit", tmp_path / "screen.h5ad", "--modality", "rna", "--arch", "sem",
                          "--out", run, "--batch-key", "donor", "--perturbation-key",
                          "perturbation", "--control-label", "control", "--seed", "0"])
    assert code == 0, text
    used = json.loads((run / "metrics.json").read_text())["interventions"]
    assert used["in_likelihood"] and used["n_regimes"] == 3 and used["n_cells"] == 300


def test_measurement_error_score_leaves_the_screen_out_and_says_why(sem_screen, tmp_path):
    (tmp_path / "me.json").write_text(json.dumps({"sem_score": "me"}))
    run = tmp_path / "run"
    code, text = run_cli(["fit", sem_screen["root"] / "screen.h5mu", "--arch", "sem", "--out", run,
                          "--batch-key", "donor", "--perturbation-key", "perturbation",
                          "--control-label", "control", "--config", tmp_path / "me.json"])
    assert code == 0, text
    used = json.loads((run / "metrics.json").read_text())["interventions"]
    assert used["in_likelihood"] is False and "use sem_score 'nv' or 'ls'" in used["reason"]
    assert "no interventional likelihood" in " ".join(text.split())
