"""Training of :class:`~cmcvae.model.CMCVAE`: the Lightning wiring (scvi-tools' training mixin).

:class:`TrainingMixin` gives the model its :meth:`~TrainingMixin.train`: minibatch loaders over
the training and validation cells, the architecture's training plan and callbacks, the
checkpoint, and the :class:`lightning.pytorch.Trainer`. An architecture fitted in one go
(``arch="sem"``) is handed the training cells instead. The checks of the Lightning options
(:func:`check_lightning_options`, :func:`check_data_on_device`, :func:`is_primary_process`)
are also used by the workflows before anything is written.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cmcvae._errors import CMCVAEInputError
from cmcvae.model._arch import TrainResult
from cmcvae.model._registry import architecture
from cmcvae.model._threads import configure_threads
from cmcvae.model.latent._sampling import make_loader

log = logging.getLogger("cmcvae")

#: Accelerator names the command line offers (Lightning's; ``"auto"`` picks a GPU when present).
ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "auto")
#: Precisions the model trains in: full float32 (``"32-true"``, the default) or mixed precision
#: (``"16"`` and ``"bf16"`` are Lightning's short names of the mixed ones). Lightning's whole-model
#: casts (``"16-true"``, ``"bf16-true"``, ``"64-true"``) are refused: parts of the model stay float32.
PRECISIONS = ("32-true", "16-mixed", "bf16-mixed", "32", "16", "bf16")

#: Lightning warnings that do not apply to this training (single-process loaders by design, …).
_QUIET = (".*does not have many workers.*", ".*number of training batches.*",
          ".*exists and is not empty.*", ".*sync_dist=True.*")


class TrainingMixin:
    """``train()`` for a model that hands its architecture the data (scvi-tools' TrainingMixin).

    The model provides ``_arch`` (its :class:`~cmcvae.model._arch.Architecture`: the training
    plan class is ``_arch.training_plan_cls``), ``config``, ``split``, ``module`` and
    ``_set_trained``.
    """

    def train(self, max_epochs: int | None = None, accelerator: str = "cpu", devices: int | str = 1,
              batch_size: int | None = None, progress_bar: bool = True,
              checkpoint_dir: str | Path | None = None, resume: bool = False,
              strategy: str | Any | None = None, num_nodes: int = 1,
              precision: str | int | None = None, data_on_device: bool = False,
              pin_memory: bool | None = None, prefetch: int | None = None,
              **trainer_kwargs: Any):
        """Train along DAGMA's central path with early stopping on the validation split.

        With ``arch="sem"``: noise-corrected correlation of the training-split cells, the DAGMA
        fit of the feature-level SEM (iterations from ``sem_stages``; ``max_epochs``,
        ``batch_size``, ``devices`` and Lightning options do not apply) and the projection of
        ``W`` onto an exact DAG (:func:`cmcvae.graph.threshold.project_to_dag`). It is not
        trained with Lightning: ``checkpoint_dir`` is ignored, and ``resume``, ``strategy`` and
        ``num_nodes`` raise :class:`~cmcvae.CMCVAEInputError`.

        Parameters
        ----------
        max_epochs
            Upper bound on epochs (default from the config).
        accelerator, devices
            Passed to :class:`lightning.pytorch.Trainer` (``"auto"`` picks a GPU when present).
        batch_size
            Minibatch size (default from the config); under distributed training, the number of
            cells of one optimiser step summed over all processes.
        progress_bar
            Show Lightning's progress bar (``arch="sem"``: one line per DAGMA stage on stderr).
        checkpoint_dir
            Folder for a Lightning checkpoint, ``last.ckpt``, rewritten at the end of every epoch:
            weights, optimiser, the guard's step size of ``A``, loop counters, early
            stopping, the best epoch so far and the training history. Training anew (without
            ``resume``) first deletes an earlier ``last.ckpt`` there.
        resume
            Continue from ``checkpoint_dir/last.ckpt`` (an epoch that was cut is trained again
            from its start). Build the model the same way (same data, priors and config, seed
            included) and keep ``max_epochs``: every random draw depends on the seed and the epoch
            only, so the result is the graph an uninterrupted training gives on the same hardware.
            The checkpoint is read with ``torch.load(weights_only=True)``.
        strategy, num_nodes
            Lightning distributed strategy (``"ddp"``, ``"ddp_spawn"`` …) and number of nodes
            (default: one process, or Lightning's choice when ``devices`` > 1).
        precision
            Lightning precision, e.g. ``"bf16-mixed"`` or ``"16-mixed"`` (GPU) for mixed
            precision; default full float32. The encoder runs in the lower precision; the
            log-determinant of the acyclicity term, the M-matrix guard (float64), the SCM
            inverse and the negative-binomial likelihood stay in float32 or better.
        data_on_device
            Copy the whole dataset to the accelerator once and build minibatches there (needs a
            GPU with room for the RNA non-zeros: about 8 bytes per non-zero, e.g. ~3.8 GB for
            809K cells with ~580 detected genes each). The CPU copy is kept and restored after
            training.
        pin_memory
            Page-locked CPU minibatches for asynchronous copies to the GPU (default: on when
            training on a GPU from CPU data).
        prefetch
            Minibatches built ahead in a background thread (default: 2 on a GPU with CPU data,
            0 on the CPU, where the two would compete for the same cores).
        **trainer_kwargs
            Further :class:`lightning.pytorch.Trainer` options; ``callbacks`` are added to the
            model's own.

        Returns
        -------
        CMCVAE
            ``self``, trained. ``self.global_rank`` is this process's rank (``0`` unless
            training was distributed); only rank 0 should write results.

        Notes
        -----
        Distributed training (data parallel): every process trains on its own shard of the
        training cells (:class:`~cmcvae.model.latent.EpochBatchSampler`; Lightning's
        distributed sampler is off) and gradients are averaged, so the graph parameters stay
        identical on all processes, and so does the M-matrix guard's decision. Every process
        evaluates the whole validation split, so early stopping and the best epoch are decided
        identically everywhere. With ``"ddp"`` every process runs the calling script to its end
        (check ``global_rank`` before writing); with ``"ddp_spawn"`` the calling process gets
        rank 0's model and history back. Checkpoints are written by rank 0; to resume on
        several nodes ``checkpoint_dir`` must be on a shared file system.
        """
        if getattr(self, "_arch", None) is None or self._arch.data is None:
            raise CMCVAEInputError("This model was loaded without data; it can be inspected but not trained.")
        check_hardware(accelerator, precision)
        self.global_rank = 0
        configure_threads()  # torch/BLAS/OpenMP pools sized to this process's CPUs
        train_rows = np.flatnonzero(self.split == "train")
        if not self._arch.lightning:
            check_lightning_options(self.config.arch, resume=resume, strategy=strategy,
                                    num_nodes=num_nodes)
            result = self._arch.fit(train_rows, accelerator=accelerator, progress=progress_bar,
                                    max_epochs=max_epochs)
        else:
            result = self._train_with_lightning(
                train_rows, max_epochs=max_epochs, accelerator=accelerator, devices=devices,
                batch_size=batch_size, progress_bar=progress_bar, checkpoint_dir=checkpoint_dir,
                resume=resume, strategy=strategy, num_nodes=num_nodes, precision=precision,
                data_on_device=data_on_device, pin_memory=pin_memory, prefetch=prefetch,
                **trainer_kwargs)
        self._set_trained(result)
        return self

    def _train_with_lightning(self, train_rows: np.ndarray, *, max_epochs: int | None,
                              accelerator: str, devices: int | str, batch_size: int | None,
                              progress_bar: bool, checkpoint_dir: str | Path | None, resume: bool,
                              strategy: Any, num_nodes: int, precision: str | int | None,
                              data_on_device: bool, pin_memory: bool | None,
                              prefetch: int | None, **trainer_kwargs: Any) -> TrainResult:
        """Fit the architecture's training plan with a Lightning Trainer."""
        import lightning.pytorch as pl  # heavy (about 2 s): imported when training starts

        ckpt_path = _checkpoint_to_resume(checkpoint_dir, resume, strategy, devices, num_nodes)
        c = self.config
        max_epochs = int(max_epochs or c.max_epochs)
        pl.seed_everything(c.seed, verbose=False)
        torch.manual_seed(c.seed)
        check_data_on_device(data_on_device, accelerator)
        train_loader, val_loader = self._loaders(train_rows, int(batch_size or c.batch_size),
                                                 accelerator, data_on_device, pin_memory, prefetch)
        plan = self._arch.training_plan()
        callbacks = self._arch.training_callbacks(plan, data_on_device=data_on_device,
                                                  validate=val_loader is not None)
        clock = _fit_clock(pl)
        callbacks.append(clock)
        trainer = _trainer(pl, callbacks, checkpoint_dir, max_epochs=max_epochs,
                           accelerator=accelerator, devices=devices, strategy=strategy,
                           num_nodes=num_nodes, precision=precision, progress_bar=progress_bar,
                           validate=val_loader is not None, **trainer_kwargs)
        clock.start()
        with warnings.catch_warnings():
            for message in _QUIET:
                warnings.filterwarnings("ignore", message)
            trainer.fit(plan, train_dataloaders=train_loader, val_dataloaders=val_loader,
                        ckpt_path=ckpt_path, weights_only=True)
        elapsed = clock.elapsed()  # a resumed fit: includes the time before the checkpoint
        self.global_rank = int(trainer.global_rank)
        self.module.cpu().eval()
        cells_seen = len(train_rows) * max(len(plan.history), 1)
        return self._arch.finish_training(plan, elapsed, cells_seen)

    def _loaders(self, train_rows: np.ndarray, batch_size: int, accelerator: Any,
                 data_on_device: bool, pin_memory: bool | None, prefetch: int | None):
        """Training loader (seeded per epoch, sharded) and validation loader (``None``: no cells)."""
        data, c = self._arch.data, self.config
        val_rows = np.flatnonzero(self.split == "val")
        streaming_gpu = _uses_gpu(accelerator) and not data_on_device
        pin = streaming_gpu if pin_memory is None else bool(pin_memory)
        ahead = (2 if streaming_gpu else 0) if prefetch is None else int(prefetch)
        train_loader = make_loader(data, train_rows, batch_size, shuffle=True, seed=c.seed,
                                   pin_memory=pin, prefetch=ahead, block=data.sampling_block)
        val_loader = (make_loader(data, val_rows, batch_size, shuffle=False, pin_memory=pin)
                      if len(val_rows) else None)
        return train_loader, val_loader


def _fit_clock(pl):
    """A callback that times the fit and keeps the time in the checkpoint, so a resumed fit's
    ``fit_seconds`` (and cells per second) cover the epochs trained before the cut too."""

    class FitClock(pl.Callback):
        def __init__(self) -> None:
            self.before = 0.0  # seconds of the fit up to the checkpoint resumed from
            self._start = time.perf_counter()

        def start(self) -> None:
            self._start = time.perf_counter()

        def elapsed(self) -> float:
            return self.before + time.perf_counter() - self._start

        def state_dict(self) -> dict[str, float]:
            return {"elapsed_s": self.elapsed()}

        def load_state_dict(self, state_dict: dict[str, Any]) -> None:
            self.before = float(state_dict.get("elapsed_s", 0.0))

    return FitClock()


def _trainer(pl, plan_callbacks: list[Any], checkpoint_dir: str | Path | None, *, max_epochs: int,
             accelerator: Any, devices: int | str, strategy: Any, num_nodes: int,
             precision: str | int | None, progress_bar: bool, validate: bool,
             **trainer_kwargs: Any):
    """The Trainer: the plan's callbacks, the per-epoch checkpoint, then the user's
    (``callbacks`` in ``trainer_kwargs``)."""
    callbacks = list(plan_callbacks)
    if checkpoint_dir is not None:
        # no monitor, top-1 under a fixed name: last.ckpt is rewritten after every epoch
        callbacks.append(pl.callbacks.ModelCheckpoint(
            dirpath=checkpoint_dir, filename="last", save_top_k=1, every_n_epochs=1,
            enable_version_counter=False))
    extra = trainer_kwargs.pop("callbacks", None) or []
    callbacks += [extra] if isinstance(extra, pl.Callback) else list(extra)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return pl.Trainer(
        max_epochs=max_epochs, accelerator=accelerator, devices=devices, logger=False,
        strategy="auto" if strategy is None else strategy, num_nodes=int(num_nodes),
        use_distributed_sampler=False,  # the training loader shards itself (seeded per epoch)
        enable_checkpointing=checkpoint_dir is not None, enable_model_summary=False,
        callbacks=callbacks, enable_progress_bar=progress_bar, num_sanity_val_steps=0,
        limit_val_batches=1.0 if validate else 0,
        precision="32-true" if precision is None else precision, **trainer_kwargs,
    )


def check_lightning_options(arch: str, *, resume: bool = False, strategy: Any = None,
                            num_nodes: int = 1) -> None:
    """Refuse checkpoint resume and distributed options for an architecture fitted without
    Lightning (``arch="sem"``)."""
    cls = architecture(arch)
    if cls is None or cls.lightning:
        return
    given = [name for name, on in (("resume", resume), ("strategy", strategy not in (None, "auto")),
                                   ("num_nodes", int(num_nodes or 1) != 1)) if on]
    if given:
        raise CMCVAEInputError(
            f"arch={cls.name!r} is fitted in one go without Lightning: it has no checkpoints to "
            f"resume and no distributed training, so {', '.join(given)} cannot be used with it "
            "(drop --resume / --strategy / --num-nodes, or fit the default arch='latent')."
        )


def _uses_gpu(accelerator: Any) -> bool:
    """Whether Lightning's ``accelerator`` option (a name or an Accelerator) trains on a CUDA GPU."""
    name = accelerator.lower() if isinstance(accelerator, str) else type(accelerator).__name__.lower()
    if name == "gpu" or "cuda" in name:
        return True
    return name == "auto" and torch.cuda.is_available()


def check_hardware(accelerator: Any = "cpu", precision: str | int | None = None) -> None:
    """Refuse an accelerator this machine does not have, and a precision Lightning does not know.

    Called before anything is written (the command line checks its options with it first).
    An accelerator given as a Lightning ``Accelerator`` object is left to Lightning.
    """
    if isinstance(accelerator, str):
        name = accelerator.lower()
        if name in ("gpu", "cuda") and not torch.cuda.is_available():
            visible = os.environ.get("CUDA_VISIBLE_DEVICES")
            raise CMCVAEInputError(
                f"accelerator {accelerator!r} (--accelerator {accelerator}): no CUDA GPU is visible to "
                "this process (torch.cuda.is_available() is False"
                + (f"; CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else "")
                + "). Train on the CPU with --accelerator cpu (accelerator='cpu'), or use "
                "--accelerator auto, which picks a GPU only when there is one.")
        if name == "mps" and not torch.backends.mps.is_available():
            raise CMCVAEInputError(
                f"accelerator {accelerator!r} (--accelerator mps): Apple's MPS backend is not "
                "available here. Train on the CPU with --accelerator cpu, or use --accelerator auto.")
    if precision is not None and str(precision) not in PRECISIONS:
        raise CMCVAEInputError(
            f"precision {precision!r} (--precision) is not supported: use 32-true (the default, full "
            "float32), 16-mixed or bf16-mixed (mixed precision; the acyclicity, the guard and the "
            "likelihood stay float32). Whole-model casts such as 16-true or 64-true are not "
            "supported, as parts of the model stay float32.")


def check_data_on_device(data_on_device: bool, accelerator: Any) -> None:
    """Refuse preloading the data (``--preload``) unless training runs on a GPU."""
    if data_on_device and not _uses_gpu(accelerator):
        raise CMCVAEInputError(
            "data_on_device=True (--preload) copies the data to a GPU: use it with "
            f"accelerator='gpu' / --accelerator gpu (got {accelerator!r}"
            f"{'' if torch.cuda.is_available() else '; no CUDA GPU is visible here'}).")


def may_be_distributed(strategy: Any = None, devices: int | str = 1, num_nodes: int = 1) -> bool:
    """Whether these Trainer options may start several processes."""
    return (strategy not in (None, "auto") or int(num_nodes or 1) != 1
            or str(devices) not in ("1", "None"))


def is_primary_process(strategy: Any = None, devices: int | str = 1, num_nodes: int = 1) -> bool:
    """``False`` in a process that a distributed launcher started with a non-zero rank.

    Read from the environment before training starts (``RANK``, ``LOCAL_RANK``, ``NODE_RANK``,
    ``SLURM_PROCID`` …), and only when the options ask for several processes: Lightning's
    ``"ddp"`` launcher reruns the calling script in every further process, which must neither
    prepare the output folder nor delete a checkpoint. After training use ``global_rank``.
    """
    if not may_be_distributed(strategy, devices, num_nodes):
        return True
    keys = ("RANK", "LOCAL_RANK", "NODE_RANK", "GROUP_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")
    return all(os.environ.get(key, "0").strip() in ("", "0") for key in keys)


def _checkpoint_to_resume(checkpoint_dir: str | Path | None, resume: bool, strategy: Any,
                          devices: int | str, num_nodes: int) -> Path | None:
    """``last.ckpt`` to resume from, or ``None``; a new training removes a stale ``last.ckpt``."""
    if checkpoint_dir is None:
        if resume:
            raise CMCVAEInputError("resume=True needs checkpoint_dir, the folder holding last.ckpt.")
        return None
    last = Path(checkpoint_dir) / "last.ckpt"
    if resume:
        if not last.is_file():
            raise CMCVAEInputError(
                f"nothing to resume: {Path(checkpoint_dir)} has no last.ckpt (training never "
                "finished an epoch there); train without resume=True."
            )
        return last
    if last.is_file() and is_primary_process(strategy, devices, num_nodes):
        last.unlink()  # a new training must not leave an older run's checkpoint behind
    return None

