"""Checkpoint resume (exactly the uninterrupted graph) and distributed (DDP) training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.model.latent import EpochBatchSampler
from cmcvae.model.latent._plan import TrainingPlan
from tests._helpers import make_mudata, run_cli_ok

TINY = dict(arch="poster", n_latent_rna=6, n_latent_protein=3, n_hidden=32, batch_size=128,
            kl_warmup_epochs=2, likelihood="gaussian")


class Killed(Exception):
    """Stands for the process being killed."""


class KillAt(Callback):
    """Raise in batch ``batch`` of epoch ``epoch``: cut mid-epoch, last.ckpt holds the epoch before."""

    def __init__(self, epoch: int, batch: int = 1):
        self.epoch, self.batch = epoch, batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == self.epoch and batch_idx == self.batch:
            raise Killed()


def _model(**kw) -> CMCVAE:
    mdata = make_mudata()
    CMCVAE.setup_mudata(mdata, batch_key="donor")
    return CMCVAE(mdata, **{**TINY, **kw})


def _same_graph(a: CMCVAE, b: CMCVAE) -> None:
    np.testing.assert_array_equal(a.get_adjacency(thresholded=False), b.get_adjacency(thresholded=False))
    for wa, wb in zip(a.get_loadings(), b.get_loadings(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.get_adjacency(), b.get_adjacency())


def _bad_start(model: CMCVAE) -> CMCVAE:
    """A dense start near the edge of the M-matrix domain: the guard fires and halves A's lr."""
    K = model.config.n_latent
    with torch.no_grad():
        model.module.A_raw.copy_(torch.full((K, K), 0.95 / K ** 0.5) * 0.33)
    return model


# ---------------------------------------------------------------------------- sampler
def test_epoch_batches_seeded_per_epoch_and_sharded():
    def batches(sampler):
        return [b.tolist() for b in sampler]

    one = EpochBatchSampler(10, 4, seed=3, rank=0, world_size=1)
    one.set_epoch(2)
    first = batches(one)
    assert [len(b) for b in first] == [4, 4, 2] and len(one) == 3
    assert sorted(sum(first, [])) == list(range(10))
    again = EpochBatchSampler(10, 4, seed=3, rank=0, world_size=1)
    again.set_epoch(2)
    assert batches(again) == first  # a function of (seed, epoch) only: resumable
    again.set_epoch(3)
    assert batches(again) != first
    shards = []
    for rank in range(2):
        s = EpochBatchSampler(9, 4, seed=3, rank=rank, world_size=2)
        s.set_epoch(2)
        shards.append(batches(s))
        assert len(s) == len(shards[-1]) == 3 and all(len(b) <= 2 for b in shards[-1])
    flat = [sum(s, []) for s in shards]
    assert len(flat[0]) == len(flat[1]) == 5  # padded to equal shards
    assert set(flat[0]) | set(flat[1]) == set(range(9))
    assert len(set(flat[0]) & set(flat[1])) == 1  # only the padding repeats a cell


# ---------------------------------------------------------------------------- resume
def test_killed_and_resumed_run_gives_the_uninterrupted_graph(tmp_path):
    # stage 0 = epochs 0-1, final stage = epochs 2-4 (best epoch kept, early stopping counting)
    kw = dict(lr=0.2, epochs_per_stage=2, dag_stages=2, max_epochs=5, early_stopping_patience=1)
    full = _bad_start(_model(**kw)).train(progress_bar=False)  # no checkpoints at all
    assert full.metrics["guard_events"] > 0

    for kill in (1, 3):  # cut in the middle of an epoch: the epoch before is checkpointed
        ckpt = tmp_path / f"ckpt{kill}"
        with pytest.raises(Killed):
            _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt,
                                           callbacks=[KillAt(epoch=kill)])
        state = torch.load(ckpt / "last.ckpt", map_location="cpu", weights_only=True)
        assert state["epoch"] == kill - 1
        assert len(state["state_dict"]["_extra_state"]["history"]) == kill
        if kill == 1:  # the guard's halving of A's step size is carried over
            assert state["state_dict"]["_extra_state"]["a_scale"] < 1.0
        else:  # the best final-stage epoch so far is carried over
            assert state["callbacks"]["KeepBest"]["state"] is not None

        resumed = _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt,
                                                 resume=True)
        _same_graph(full, resumed)
        assert resumed.history == full.history
        assert resumed.metrics["guard_events"] == full.metrics["guard_events"]
        assert resumed.metrics["skipped_nonfinite_steps"] == full.metrics["skipped_nonfinite_steps"]


def test_resume_keeps_early_stopping_and_the_best_epoch(tmp_path):
    # final stage from epoch 1; with patience 1, early stopping ends the run one epoch after
    # the best final-stage epoch, and the best epoch (not the last) is kept
    kw = dict(lr=0.1, epochs_per_stage=1, dag_stages=2, max_epochs=8, early_stopping_patience=1)
    ckpt = tmp_path / "done"
    done = _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt)
    n = len(done.history)
    val = [h["val_elbo"] for h in done.history]
    best = 1 + int(np.argmin(val[1:]))
    assert n < kw["max_epochs"] and n == best + 2 and val[best] < val[-1]
    assert n - 1 >= 2  # the cut below happens after the best epoch was checkpointed
    np.testing.assert_array_equal(done.get_adjacency(thresholded=False),
                                  _bad_start(_model(**kw)).train(progress_bar=False)
                                  .get_adjacency(thresholded=False))

    # killed after the last checkpoint, before the run folder was written: nothing left to
    # train, and the best epoch (not the last) is restored from the checkpoint
    again = _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt, resume=True)
    assert len(again.history) == n
    _same_graph(done, again)

    # killed during the last epoch: the early-stopping counters and the best epoch come back
    ckpt = tmp_path / "cut"
    with pytest.raises(Killed):
        _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt,
                                       callbacks=[KillAt(epoch=n - 1)])
    resumed = _bad_start(_model(**kw)).train(progress_bar=False, checkpoint_dir=ckpt, resume=True)
    assert resumed.history == done.history
    _same_graph(done, resumed)


def test_resume_and_distributed_errors(tmp_path):
    with pytest.raises(CMCVAEInputError, match="needs checkpoint_dir"):
        _model(max_epochs=1).train(progress_bar=False, resume=True)
    with pytest.raises(CMCVAEInputError, match="nothing to resume"):
        _model(max_epochs=1).train(progress_bar=False, checkpoint_dir=tmp_path, resume=True)
    sem = _model(arch="sem")
    for kwargs in ({"resume": True, "checkpoint_dir": tmp_path}, {"strategy": "ddp"},
                   {"num_nodes": 2}):
        with pytest.raises(CMCVAEInputError, match="arch='sem'.*without Lightning"):
            sem.train(progress_bar=False, **kwargs)


# ---------------------------------------------------------------------------- CLI
def _cli_fails(args, monkeypatch, capsys) -> str:
    from cmcvae.cli import main

    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    with pytest.raises(SystemExit) as err:
        main()
    assert err.value.code == 2
    return " ".join(capsys.readouterr().err.split())


def test_cli_fit_resume(tmp_path, monkeypatch, capsys):
    data = tmp_path / "train.h5mu"
    make_mudata().write(data)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({**TINY, "epochs_per_stage": 1, "dag_stages": 2}))
    args = [str(data), "--batch-key", "donor", "--config", str(cfg), "--max-epochs", "4", "--seed", "1"]

    run_cli_ok(["fit", *args, "--out", str(tmp_path / "full")], monkeypatch, capsys)
    assert not (tmp_path / "full" / "checkpoints").exists()  # removed once the run is written

    run = tmp_path / "run"

    def killed(self):
        if self.current_epoch == 2:
            raise Killed()

    with monkeypatch.context() as m:
        m.setattr(TrainingPlan, "on_train_epoch_end", killed, raising=False)
        m.setattr(sys, "argv", ["cmcvae", "fit", *args, "--out", str(run)])
        m.setenv("CMCVAE_DEBUG", "1")  # main() re-raises: the simulated kill reaches the test
        from cmcvae.cli import main

        with pytest.raises(Killed):
            main()
    capsys.readouterr()
    assert (run / "checkpoints" / "last.ckpt").is_file() and not (run / "model").exists()
    started = json.loads((run / "checkpoints" / "fit_args.json").read_text())
    assert started["config"]["seed"] == 1 and started["data"] == str(data.resolve())

    err = _cli_fails(["fit", *args, "--out", str(run)], monkeypatch, capsys)
    assert "interrupted run" in err and "--resume" in err
    err = _cli_fails(["fit", "--resume", str(run), "--seeds", "0,1"], monkeypatch, capsys)
    assert "--seeds" in err
    err = _cli_fails(["fit", "--resume", str(run), "--seed", "2"], monkeypatch, capsys)
    assert "drop --seed" in err

    text = run_cli_ok(["fit", "--resume", str(run)], monkeypatch, capsys)
    assert "Resumed" in text
    assert (run / "model" / "model.pt").exists() and not (run / "checkpoints").exists()
    _same_graph(CMCVAE.load(tmp_path / "full"), CMCVAE.load(run))
    assert json.loads((run / "run.json").read_text())["data"] == str(data.resolve())

    err = _cli_fails(["fit", "--resume", str(run)], monkeypatch, capsys)
    assert "nothing to resume" in err and "finished run" in err and "without --resume" in err
    (tmp_path / "empty").mkdir()
    err = _cli_fails(["fit", "--resume", str(tmp_path / "empty")], monkeypatch, capsys)
    assert "nothing to resume" in err and "without --resume" in err
    assert "needs DATA" in _cli_fails(["fit"], monkeypatch, capsys)
    sem = tmp_path / "sem"
    err = _cli_fails(["fit", *args, "--out", str(sem), "--arch", "sem", "--strategy", "ddp"],
                     monkeypatch, capsys)
    assert "arch='sem'" in err and not sem.exists()


def test_fit_run_resume_checks_the_config(tmp_path, monkeypatch):
    from cmcvae.tl import fit_run

    mdata = make_mudata()
    run = tmp_path / "run"
    kw = {**TINY, "epochs_per_stage": 1, "max_epochs": 3}
    original = TrainingPlan.on_train_batch_start

    def kill(self, batch, batch_idx):
        if self.current_epoch == 1:
            raise Killed()
        return original(self, batch, batch_idx)

    with monkeypatch.context() as m, pytest.raises(Killed):
        m.setattr(TrainingPlan, "on_train_batch_start", kill)
        fit_run(mdata, run, batch_key="donor", progress_bar=False, **kw)
    with pytest.raises(CMCVAEInputError, match="another config.*max_epochs"):
        fit_run(mdata, run, batch_key="donor", progress_bar=False, resume=True,
                **{**kw, "max_epochs": 5})
    model = fit_run(mdata, run, batch_key="donor", progress_bar=False, resume=True, **kw)
    assert len(model.history) == 3 and (run / "model").is_dir()


# ---------------------------------------------------------------------------- DDP
DDP_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from cmcvae.datasets._simulate import simulate
    from cmcvae.tl import fit_run

    out = sys.argv[1]
    sim = simulate(n_cells=600, n_genes=30, n_proteins=4, n_donors=2, n_perturbations=5, seed=0)
    model = fit_run(sim.mdata, f"{out}/run", batch_key="donor", max_epochs=2, accelerator="cpu",
                    devices=2, strategy="ddp", progress_bar=False, n_latent_rna=4,
                    n_latent_protein=2, n_hidden=16, epochs_per_stage=1, dag_stages=2,
                    batch_size=128, kl_warmup_epochs=1)
    rank = model.global_rank
    np.save(f"{out}/A_{rank}.npy", model.get_adjacency(thresholded=False))
    np.save(f"{out}/W_{rank}.npy", np.concatenate([w.ravel() for w in model.get_loadings()]))
    with open(f"{out}/history_{rank}.json", "w") as f:
        json.dump(model.history, f)
""")


def test_ddp_two_processes(tmp_path):
    """Lightning's "ddp" launcher reruns the script as rank 1; gloo on CPU."""
    script = tmp_path / "ddp_fit.py"
    script.write_text(DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for key in ("RANK", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    A0, A1 = np.load(tmp_path / "A_0.npy"), np.load(tmp_path / "A_1.npy")
    assert A0.shape == (6, 6)
    np.testing.assert_array_equal(A0, A1)  # DDP keeps the graph identical on both ranks
    np.testing.assert_array_equal(np.load(tmp_path / "W_0.npy"), np.load(tmp_path / "W_1.npy"))
    h0 = json.loads((tmp_path / "history_0.json").read_text())
    h1 = json.loads((tmp_path / "history_1.json").read_text())
    assert len(h0) == 2 and h0 == h1  # training losses averaged over both shards
    assert all(np.isfinite(r["train_loss"]) and np.isfinite(r["val_loss"]) for r in h0)
    # the run folder, written once by rank 0, holds rank 0's model
    run = tmp_path / "run"
    np.testing.assert_array_equal(CMCVAE.load(run).get_adjacency(thresholded=False), A0)
    assert not (run / "checkpoints").exists()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 2 and metrics["finite"]
