"""``cmcvae fit --perturbation-key``: the structure model on a screen's control cells, the
interventions recorded, read back (``intervention_counts``) and left out by ``validate``."""

from __future__ import annotations

import json

import mudata as md
import numpy as np
import pandas as pd
import pytest

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.model.latent._plan import TrainingPlan
from cmcvae.tl import fit_run, resume_run, validate_run
from cmcvae.tl._fitted import intervention_counts, training_counts
from cmcvae.tl._screen_fit import split_screen
from tests._helpers import SCREEN_TRAINED, make_mudata, screen_h5mu

HELD_OUT = ("TF001", "TF002", "TF003")


class Killed(Exception):
    """Stands for a fit cut mid-training."""


def _dense(x) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x)


def test_run_records_the_interventions_and_trains_on_controls(screen_runs):
    run = screen_runs["run"]
    info = json.loads((run / "run.json").read_text())
    assert info["perturbation_key"] == "perturbation" and info["control_label"] == ["control"]
    assert info["interventions"] == {t: 100 for t in SCREEN_TRAINED}
    assert info["interventions_too_few"] == {}
    assert info["interventions_in_model"] == list(SCREEN_TRAINED)
    table = pd.read_csv(run / "interventions.csv")
    assert list(table.columns) == ["perturbation", "n_cells", "in_model"]
    assert table["perturbation"].tolist() == list(SCREEN_TRAINED)
    assert table["n_cells"].tolist() == [100] * 3 and table["in_model"].all()
    split = pd.read_csv(run / "split.csv")
    assert len(split) == 600 and split["cell"].str.startswith("c").all()  # the control cells
    manifest = json.loads((run / ".cmcvae-manifest.json").read_text())
    assert manifest["files"]["interventions.csv"]["command"] == "fit"
    fit_output = " ".join(screen_runs["fit_output"].split())
    assert "Screen: the control cells are the observational data" in fit_output
    # the default (latent) architecture does not put the perturbed cells in its likelihood
    assert "did not enter the structure model (arch 'latent' does not use them" in fit_output


def test_training_and_intervention_counts(screen_runs):
    run, screen = screen_runs["run"], screen_runs["screen"]
    model = CMCVAE.load(run / "model")
    rna, prot = training_counts(run, None, model)
    split = pd.read_csv(run / "split.csv")
    assert rna.shape == ((split["split"] == "train").sum(), len(model.genes))
    assert prot.shape[0] == rna.shape[0]
    labels, irna, iprot = intervention_counts(run, None, model)
    assert sorted(set(labels)) == list(SCREEN_TRAINED) and len(labels) == 300
    data = md.read_h5mu(screen)
    hit = data.obs["perturbation"].to_numpy() != "control"
    np.testing.assert_array_equal(labels, data.obs["perturbation"].to_numpy()[hit])
    np.testing.assert_allclose(_dense(irna), _dense(data.mod["rna"][hit, model.genes].X))
    np.testing.assert_allclose(_dense(iprot), _dense(data.mod["prot"][hit, model.proteins].X))


def test_rna_only_screen(screen_runs):
    run = screen_runs["rna_run"]
    info = json.loads((run / "run.json").read_text())
    assert info["modality"] == "rna" and set(info["interventions"]) == set(SCREEN_TRAINED)
    assert len(pd.read_csv(run / "split.csv")) == 600
    model = CMCVAE.load(run / "model")
    labels, rna, prot = intervention_counts(run, None, model)
    assert len(labels) == 300 and rna.shape == (300, len(model.genes)) and prot is None
    assert training_counts(run, None, model)[1] is None


def test_validate_scores_only_held_out_perturbations(screen_runs):
    run, perturb = screen_runs["run"], screen_runs["sim"] / "perturb.h5mu"
    res = validate_run(run, perturb)
    assert res["filtering"]["trained_perturbations_excluded"] == list(SCREEN_TRAINED)
    pred = pd.read_csv(run / "predictions.csv")
    assert set(pred["perturbation"]) == set(HELD_OUT) and "held_out" not in pred
    assert "n_trained_scored" not in res

    res = validate_run(run, perturb, include_trained=True)
    pred = pd.read_csv(run / "predictions.csv")
    assert set(pred["perturbation"]) == set(HELD_OUT) | set(SCREEN_TRAINED)
    assert (pred["held_out"] == ~pred["perturbation"].isin(SCREEN_TRAINED)).all()
    assert res["n_trained_scored"] == 3 and res["filtering"]["trained_perturbations_excluded"] == []


def test_validate_refuses_a_screen_of_trained_perturbations_only(screen_runs):
    pert = md.read_h5mu(screen_runs["sim"] / "perturb.h5mu")
    keep = pert.obs["perturbation"].isin(["control", *SCREEN_TRAINED]).to_numpy()
    with pytest.raises(CMCVAEInputError, match="--include-trained"):
        validate_run(screen_runs["run"], pert[keep].copy(), readout="rna")


def _labelled(labels: list[str]) -> md.MuData:
    m = make_mudata(n=len(labels))
    m.obs["perturbation"] = labels
    return m


@pytest.mark.parametrize("labels, key, control, match", [
    (["control"] * 60 + ["G1"] * 20, "guide", "control", r"no obs column 'guide'.*'donor'"),
    (["NT"] * 60 + ["G1"] * 20, "perturbation", "control", r"No control cells.*'NT' \(60\)"),
    (["control"] * 30 + ["G1"] * 50, "perturbation", "control", r"Only 30 control cells"),
    (["control"] * 40 + ["NT"] * 30, "perturbation", "control,NT", r"no perturbed cells.*without"),
])
def test_screen_errors(labels, key, control, match):
    with pytest.raises(CMCVAEInputError, match=match):
        split_screen(_labelled(labels), key, control)


def test_split_screen_counts_labels():
    labels = ["control"] * 50 + ["NT"] * 10 + ["G1"] * 12 + ["G2"] * 3 + [None] * 5
    controls, record, (perturbed, targets) = split_screen(_labelled(labels), "perturbation",
                                                          ["control", "NT"])
    assert controls.n_obs == 60
    assert record["interventions"] == {"G1": 12} and record["interventions_too_few"] == {"G2": 3}
    # the perturbed cells handed to the structure model: the interventions' cells only
    assert perturbed.n_obs == 12 and list(targets) == ["G1"] * 12
    few = ["control"] * 50 + ["G2"] * 3
    assert split_screen(_labelled(few), "perturbation", "control")[2] is None


def test_without_perturbation_key_nothing_changes(tmp_path):
    data = make_mudata(n=200)
    data.obs["perturbation"] = ["control"] * 200
    fit_run(data, tmp_path / "run", max_epochs=1, progress_bar=False, n_hidden=16)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert not {"perturbation_key", "interventions"} & set(info)
    assert not (tmp_path / "run" / "interventions.csv").exists()
    with pytest.raises(CMCVAEInputError, match="not fitted on a perturbation screen"):
        intervention_counts(tmp_path / "run", data, CMCVAE.load(tmp_path / "run" / "model"))


def test_resume_reuses_the_recorded_screen(screen_runs, tmp_path, monkeypatch):
    def killed(self):
        if self.current_epoch == 1:
            raise Killed()

    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(TrainingPlan, "on_train_epoch_end", killed, raising=False)
        with pytest.raises(Killed):
            fit_run(screen_runs["screen"], run, perturbation_key="perturbation", max_epochs=3,
                    progress_bar=False, n_hidden=16)
    args = json.loads((run / "checkpoints" / "fit_args.json").read_text())
    assert args["perturbation_key"] == "perturbation" and args["control_label"] == ["control"]
    resume_run(run, progress_bar=False)
    assert json.loads((run / "run.json").read_text())["interventions"] == {t: 100 for t in SCREEN_TRAINED}
    assert len(pd.read_csv(run / "split.csv")) == 600


def test_screen_h5mu_helper(tmp_path, screen_runs):
    out = screen_h5mu(screen_runs["sim"], tmp_path / "s.h5mu", ("TF001",))
    assert md.read_h5mu(out).obs["perturbation"].value_counts().to_dict() == {"control": 600, "TF001": 100}


def test_cite_seq_h5ad_screen(screen_runs, tmp_path):
    m = md.read_h5mu(screen_runs["screen"])
    adata = m.mod["rna"].copy()
    adata.obsm["protein_expression"] = pd.DataFrame(_dense(m.mod["prot"].X), index=adata.obs_names,
                                                    columns=m.mod["prot"].var_names)
    adata.write_h5ad(tmp_path / "cite.h5ad")
    run = tmp_path / "run"
    model = fit_run(tmp_path / "cite.h5ad", run, perturbation_key="perturbation",
                    control_label="control,NT", max_epochs=1, progress_bar=False, n_hidden=16)
    assert len(pd.read_csv(run / "split.csv")) == 600
    assert json.loads((run / "run.json").read_text())["control_label"] == ["control", "NT"]
    labels, rna, prot = intervention_counts(run, None, model)
    assert len(labels) == 300 and prot.shape == (300, len(model.proteins))
