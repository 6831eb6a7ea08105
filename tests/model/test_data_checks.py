"""The model's own data checks: allocations never sized from a data value, too few cells, a
corrupt saved model, the thread pools of a fit, and the fit time carried through a resume."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import Callback

from cmcvae import CMCVAE
from cmcvae._errors import CMCVAEInputError
from cmcvae.model import _threads
from cmcvae.model._model import MIN_CELLS, MIN_TRAIN_CELLS
from cmcvae.model.latent._batches import MAX_HIST_COUNT, count_histogram
from tests._helpers import make_mudata

TINY = dict(n_latent_rna=4, n_latent_protein=2, n_hidden=16, batch_size=128, likelihood="gaussian")


def _reference_histogram(cols, values, n_genes, max_count=MAX_HIST_COUNT):
    """The histogram as it was computed before (valid for counts below 2**31)."""
    k = values.astype(np.int32)
    keep = k != 0
    cols, values, k = cols[keep], values[keep], k[keep]
    key = cols * max_count + (np.minimum(k, max_count) - 1)
    hist = np.bincount(key, minlength=n_genes * max_count)
    big = np.flatnonzero(k > max_count)
    np.subtract.at(hist, key[big], 1)
    return hist.astype(np.float32), cols[big], values[big]


def test_count_histogram_unchanged_on_counts_and_bounded_on_any_value():
    rng = np.random.default_rng(0)
    cols = rng.integers(0, 50, 4000).astype(np.int64)
    values = rng.poisson(rng.gamma(0.5, 20.0, 4000)).astype(np.float32)
    values[:7] = [0.0, 0.4, 33.0, 33.7, 32.5, 1000.0, 1.9]
    got = count_histogram(cols, values, 50)
    want = _reference_histogram(cols, values, 50)
    for key, expected in zip(("counts_hist", "counts_big_cols", "counts_big_values"), want, strict=True):
        np.testing.assert_array_equal(got[key].numpy(), expected)

    huge = np.array([2.0 ** 31, 3.0e38, 5.0, np.nan, -7.0], dtype=np.float32)
    out = count_histogram(np.array([1, 2, 3, 4, 0], dtype=np.int64), huge, 5)
    assert out["counts_hist"].numel() == 5 * MAX_HIST_COUNT  # never sized from a value
    assert out["counts_hist"].sum() == 1  # the 5; the two huge counts are summed one by one
    np.testing.assert_array_equal(out["counts_big_values"].numpy(), huge[:2])
    with pytest.raises(CMCVAEInputError, match="gene index outside"):
        count_histogram(np.array([9], dtype=np.int64), np.array([1.0], dtype=np.float32), 5)


def test_too_few_cells_are_refused_with_the_documented_minimum():
    assert (MIN_CELLS, MIN_TRAIN_CELLS) == (50, 40)
    for n in (20, MIN_CELLS - 1):
        m = make_mudata(n=n)
        CMCVAE.setup_mudata(m, batch_key="donor")
        with pytest.raises(CMCVAEInputError, match=rf"the data has {n} cells; CMC-VAE needs at least 50"):
            CMCVAE(m, **TINY)
    m = make_mudata(n=60)
    CMCVAE.setup_mudata(m, batch_key="donor")
    with pytest.raises(CMCVAEInputError, match=r"split \[0\.5, 0\.25, 0\.25\] leaves 30 of the 60 cells"):
        CMCVAE(m, split=[0.5, 0.25, 0.25], **TINY)
    m = make_mudata(n=MIN_CELLS)
    CMCVAE.setup_mudata(m, batch_key="donor")
    CMCVAE(m, max_epochs=1, **TINY).train(progress_bar=False)


def test_a_corrupt_saved_model_is_an_input_error(tmp_path):
    m = make_mudata(n=200)
    CMCVAE.setup_mudata(m, batch_key="donor")
    saved = CMCVAE(m, max_epochs=1, **TINY).train(progress_bar=False).save(tmp_path / "model")
    CMCVAE.load(saved)
    config, weights = (saved / "config.json").read_bytes(), (saved / "model.pt").read_bytes()
    cases = [("config.json", config[:50], "not valid JSON"), ("config.json", b"[]", "not a JSON object"),
             ("config.json", b'{"config": {}}', "missing or malformed genes"),
             ("model.pt", weights[:500], "does not load with config.json"),
             ("model.pt", b"", "does not load with config.json")]
    meta = json.loads(config)
    meta["genes"] = meta["genes"][:-2]
    cases.append(("config.json", json.dumps(meta).encode(), "does not load with config.json"))
    for name, content, match in cases:
        (saved / "config.json").write_bytes(config)
        (saved / "model.pt").write_bytes(weights)
        (saved / name).write_bytes(content)
        with pytest.raises(CMCVAEInputError, match=rf"is corrupt \((it )?{match}.*fit the run again"):
            CMCVAE.load(saved)


# ---------------------------------------------------------------------------------- threads
@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)
    _threads.threadpool_limits(limits=before)


def test_threads_default_to_torch_within_the_cpu_budget(monkeypatch, restore_threads):
    monkeypatch.delenv(_threads.THREADS_ENV, raising=False)
    default = min(_threads._TORCH_DEFAULT, _threads.cpu_budget())
    assert _threads.configure_threads() == default == torch.get_num_threads()
    monkeypatch.setattr(_threads, "cpu_budget", lambda: 1)  # e.g. `taskset -c 0`
    assert _threads.configure_threads() == 1 == torch.get_num_threads()
    monkeypatch.setenv(_threads.THREADS_ENV, "1")
    monkeypatch.setattr(_threads, "cpu_budget", lambda: 64)
    assert _threads.configure_threads() == 1 == torch.get_num_threads()
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv(_threads.THREADS_ENV, bad)
        with pytest.raises(CMCVAEInputError, match=rf"CMCVAE_NUM_THREADS='{bad}' is not a positive"):
            _threads.configure_threads()


def test_cpu_budget_reads_a_cgroup_quota(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _threads._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _threads._cgroup_quota(tmp_path) is None
    assert 1 <= _threads.cpu_budget()


def test_openmp_threads_sleep_when_idle():
    import os

    assert os.environ.get("OMP_WAIT_POLICY", "").upper() in ("PASSIVE", "ACTIVE")


# ---------------------------------------------------------------------------------- resume time
class _Killed(Exception):
    """Stands for the process being killed."""


class _KillAt(Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_epoch_start(self, trainer, pl_module):
        time.sleep(0.3)  # every epoch takes a measurable time
        if trainer.current_epoch == self.epoch:
            raise _Killed


class _Slow(Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        time.sleep(0.3)


def test_a_resumed_fit_counts_the_time_before_the_cut(tmp_path):
    def model():
        m = make_mudata(n=200)
        CMCVAE.setup_mudata(m, batch_key="donor")
        return CMCVAE(m, max_epochs=4, epochs_per_stage=2, dag_stages=2, **TINY)

    with pytest.raises(_Killed):
        model().train(progress_bar=False, checkpoint_dir=tmp_path, callbacks=[_KillAt(3)])
    state = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    (before,) = [v["elapsed_s"] for k, v in state["callbacks"].items() if "FitClock" in k]
    assert before >= 3 * 0.3  # epochs 0-2
    resumed = model().train(progress_bar=False, checkpoint_dir=tmp_path, resume=True,
                            callbacks=[_Slow()])
    timings = resumed.metrics["timings"]
    assert len(resumed.history) == 4
    assert timings["fit_seconds"] >= before + 0.3
    assert timings["cells_per_second"] == pytest.approx(
        (resumed.split == "train").sum() * 4 / timings["fit_seconds"])
