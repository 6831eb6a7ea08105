"""``--force`` and the manifest through the workflows: a killed fit, its resume, a refit.

A fit records its checkpoint before training, so a killed fit's folder lists it; ``--resume``
ends with the run files listed and the checkpoint forgotten; ``--force`` into a killed or a
finished run folder replaces cmcvae's files and keeps the user's.
"""

from __future__ import annotations

import json

import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import MANIFEST, read_manifest
from cmcvae.model.latent._plan import TrainingPlan
from cmcvae.tl import fit_run, resume_run
from tests._helpers import make_mudata

TINY = dict(arch="latent", n_latent_rna=6, n_latent_protein=3, n_hidden=32, batch_size=128,
            kl_warmup_epochs=1, likelihood="gaussian")


class Killed(Exception):
    """Stands for the process being killed."""


def _killed_fit(data, run, monkeypatch, **kw):
    def killed(self):
        if self.current_epoch == 1:
            raise Killed()

    with monkeypatch.context() as m:
        m.setattr(TrainingPlan, "on_train_epoch_end", killed, raising=False)
        with pytest.raises(Killed):
            fit_run(data, run, batch_key="donor", max_epochs=3, progress_bar=False, **TINY, **kw)


def test_killed_fit_resume_and_force_keep_the_users_files(tmp_path, monkeypatch):
    data = tmp_path / "train.h5mu"
    make_mudata().write(data)
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.md").write_text("mine")

    with pytest.raises(CMCVAEInputError, match="not empty"):
        fit_run(data, run, batch_key="donor", max_epochs=1, progress_bar=False, **TINY)
    _killed_fit(data, run, monkeypatch, force=True)
    listed = read_manifest(run)
    assert {"checkpoints/last.ckpt", "checkpoints/fit_args.json"} <= set(listed)
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "notes.md").read_text() == "mine"

    resume_run(run, progress_bar=False)
    listed = read_manifest(run)
    assert not any(rel.startswith("checkpoints/") for rel in listed)
    assert {"model/model.pt", "model/config.json", "edges.csv", "run.json"} <= set(listed)
    assert all(entry["command"] == "fit" for entry in listed.values())
    assert (run / "notes.md").read_text() == "mine"

    # killed again after a finished run; --force starts afresh and removes the old results
    (run / "validation.json").write_text("{}")
    with pytest.raises(CMCVAEInputError, match=r"holds validation\.json.*no record"):
        fit_run(data, run, batch_key="donor", max_epochs=1, progress_bar=False, force=True, **TINY)
    (run / "validation.json").unlink()
    _killed_fit(data, run, monkeypatch, force=True)
    assert not (run / "model").exists() and (run / "checkpoints" / "last.ckpt").is_file()
    fit_run(data, run, batch_key="donor", max_epochs=1, progress_bar=False, force=True, **TINY)
    assert not (run / "checkpoints").exists() and (run / "model" / "model.pt").is_file()
    assert sorted(p.name for p in run.iterdir() if p.is_file() and p.suffix == ".md") == ["notes.md"]
    assert json.loads((run / MANIFEST).read_text())["files"]["edges.csv"]["command"] == "fit"


def test_fit_force_refuses_before_training_when_an_input_would_go(tmp_path):
    data = tmp_path / "train.h5mu"
    make_mudata().write(data)
    run = tmp_path / "run"
    fit_run(data, run, batch_key="donor", max_epochs=1, progress_bar=False, **TINY)
    cfg = run / "split.csv"  # any file the fit wrote
    before = cfg.read_bytes()
    with pytest.raises(CMCVAEInputError, match="--protein-map .* is an input of this command"):
        fit_run(data, run, batch_key="donor", protein_map=cfg, max_epochs=1, force=True,
                progress_bar=False, **TINY)
    assert cfg.read_bytes() == before and (run / "model" / "model.pt").is_file()
