"""Lightning training plan: DAGMA central path, KL annealing and the M-matrix guard."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping

from cmcvae.model._dagma import in_domain_tensor
from cmcvae.model.latent._module import CMCVAEModule


class TrainingPlan(pl.LightningModule):
    """Optimises :class:`CMCVAEModule` along DAGMA's central path.

    Stage ``t`` (``epochs_per_stage`` epochs each; the last stage runs until early stopping)
    weights ``h(A)`` by ``λ_dag · growth^t`` and uses log-det scale ``s_t``. After every
    optimiser step the plan checks that ``ρ(A∘A) < guard_margin · s``; if not, it restores
    the previous ``A`` and halves the step size of ``A`` (reset at each new stage).

    The hot loop has no host synchronisation on a GPU: the guard's test, the restore and the
    step-size halving are tensor operations on the device
    (:func:`~cmcvae.model._dagma.in_domain_tensor`), and a step whose gradients are not finite
    is skipped by the fused Adam optimiser itself (the ``found_inf`` flag ``GradScaler`` uses);
    the counters are read once per epoch. Where fused Adam is not available the non-finite
    decision is taken on the host.

    Everything random is a function of ``(config.seed, epoch)``: each training epoch reseeds
    torch (the reparameterisation noise) from ``(seed, epoch, rank)`` and the training loader's
    :class:`~cmcvae.model.latent.EpochBatchSampler` orders the cells by ``(seed, epoch)``.
    ``history``, ``guard_events``, ``skipped_steps`` and whether early stopping has fired are
    part of the plan's ``state_dict`` (``get_extra_state``), so a Lightning checkpoint restores
    them and a spawned distributed run hands them back to the main process. Under distributed
    training the decision to skip a non-finite step is taken jointly by all processes and the
    training losses in ``history`` are averaged over all of them.
    """

    def __init__(self, module: CMCVAEModule, prior: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.module = module
        self.config = module.config
        self.prior = prior or {}
        self.history: list[dict[str, float]] = []
        self._epoch_sums: dict[str, dict[str, float]] = {}
        self._epoch_begun = -1
        # device-side counters and the step-size scale of A (read once per epoch)
        self._counters = {"guard_events": torch.zeros((), dtype=torch.float64),
                          "skipped_steps": torch.zeros((), dtype=torch.float64)}
        self._a_scale = torch.ones((), dtype=torch.float64)

    @property
    def guard_events(self) -> int:
        """Optimiser steps of ``A`` undone by the M-matrix guard so far."""
        return int(self._counters["guard_events"])

    @property
    def skipped_steps(self) -> int:
        """Optimiser steps skipped because the loss or its gradients were not finite."""
        return int(self._counters["skipped_steps"])

    # ------------------------------------------------------------------ schedule
    @property
    def stage(self) -> int:
        return min(self.current_epoch // max(self.config.epochs_per_stage, 1), self.config.dag_stages - 1)

    @property
    def is_final_stage(self) -> bool:
        return self.stage == self.config.dag_stages - 1

    @property
    def s(self) -> float:
        sched = self.config.s_schedule
        return float(sched[min(self.stage, len(sched) - 1)])

    @property
    def lambda_dag(self) -> float:
        return self.config.lambda_dag * self.config.dag_penalty_growth ** self.stage

    @property
    def beta(self) -> float:
        warm = self.config.kl_warmup_epochs
        frac = 1.0 if warm <= 0 else min(1.0, (self.current_epoch + 1) / warm)
        return self.config.beta * frac

    # ------------------------------------------------------------------ steps
    def _prior_on(self, device) -> dict[str, torch.Tensor]:
        moved = {k: v.to(device) for k, v in self.prior.items()}
        self.prior = moved
        return moved

    def _step(self, batch, split: str):
        terms = self.module.loss(batch, self.beta, self.lambda_dag, self.s,
                                 self._prior_on(batch["donor"].device), sample=(split == "train"))
        n = batch["donor"].shape[0]
        sums = self._epoch_sums.setdefault(split, {"n": 0.0})
        sums["n"] += n
        # Running sums stay tensors on the device: no host sync per step (read at epoch end).
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value.detach().double() * n
        return terms

    def training_step(self, batch, batch_idx):
        terms = self._step(batch, "train")
        if not self._fused_skip:
            finite = bool(torch.isfinite(terms["loss"]))
            if self.trainer.world_size > 1:  # every process skips, or none: DDP must stay in step
                finite = self.trainer.strategy.reduce_boolean_decision(finite, all=True)
            if not finite:
                self._counters["skipped_steps"] += 1
                return None
        self.log("loss", terms["loss"], prog_bar=True, batch_size=batch["donor"].shape[0])
        return terms["loss"]

    def validation_step(self, batch, batch_idx):
        terms = self._step(batch, "val")
        self.log("val_elbo", terms["elbo"], prog_bar=True, batch_size=batch["donor"].shape[0])

    def on_train_batch_start(self, batch, batch_idx) -> None:
        # Not on_train_epoch_start: Lightning skips that hook for the first epoch after resuming
        # from a checkpoint written at the end of an epoch.
        if self._epoch_begun != self.current_epoch:
            self._epoch_begun = self.current_epoch
            self._begin_epoch()

    def _begin_epoch(self) -> None:
        # the noise of this epoch depends on (seed, epoch, rank) only: a resumed run repeats it
        torch.manual_seed(epoch_seed(self.config.seed, self.current_epoch, self.global_rank))
        if self.current_epoch > 0 and self.current_epoch % max(self.config.epochs_per_stage, 1) == 0:
            self._a_scale.fill_(1.0)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self._epoch_sums.pop("val", None)
            return
        record = {"epoch": float(self.current_epoch), "stage": float(self.stage),
                  "lambda_dag": self.lambda_dag, "s": self.s, "beta": self.beta}
        self._epoch_sums = {split: {k: float(v) for k, v in sums.items()}
                            for split, sums in self._epoch_sums.items()}
        self._reduce_train_sums()
        for split, sums in self._epoch_sums.items():
            n = max(sums["n"], 1.0)
            record.update({f"{split}_{k}": v / n for k, v in sums.items() if k != "n"})
        self.history.append(record)
        self._epoch_sums = {}
        # FinalStageEarlyStopping reads this only once the DAG penalty has its final weight.
        self.log("val_monitor", record.get("val_elbo", float("inf")))

    def _reduce_train_sums(self) -> None:
        """Sum the training sums over processes (each saw its own shard); validation is not sharded."""
        if self._trainer is None or self.trainer.world_size <= 1 or "train" not in self._epoch_sums:
            return
        sums = self._epoch_sums["train"]
        keys = sorted(sums)
        total = torch.tensor([sums[k] for k in keys], dtype=torch.float64, device=self.device)
        total = self.trainer.strategy.reduce(total, reduce_op="sum")
        self._epoch_sums["train"] = dict(zip(keys, total.cpu().tolist(), strict=True))

    def callbacks(self, data, *, data_on_device: bool, validate: bool) -> list[Callback]:
        """The callbacks this plan is trained with: :class:`KeepBest`; :class:`DataOnDevice`
        for ``data`` with ``data_on_device``; :class:`FinalStageEarlyStopping` with a
        validation split (``validate``)."""
        out: list[Callback] = [KeepBest()]
        if data_on_device:
            out.append(DataOnDevice(data))
        if validate:
            out.append(FinalStageEarlyStopping(self.config.early_stopping_patience))
        return out

    # ------------------------------------------------------------------ state
    def get_extra_state(self) -> dict[str, Any]:
        """Training state beyond the weights, kept in the ``state_dict`` (weights-only safe)."""
        trainer = self._trainer
        return {"history": [dict(r) for r in self.history], "guard_events": self.guard_events,
                "skipped_steps": self.skipped_steps, "a_scale": float(self._a_scale),
                "stopped": bool(trainer is not None and trainer.should_stop)}

    def set_extra_state(self, state: Any) -> None:
        """Restore :meth:`get_extra_state`; a run stopped early stays stopped when resumed."""
        if not isinstance(state, dict):
            return
        self.history = [dict(r) for r in state.get("history", [])]
        for key in self._counters:
            self._counters[key].fill_(float(state.get(key, 0)))
        self._a_scale.fill_(float(state.get("a_scale", 1.0)))
        if state.get("stopped") and self._trainer is not None:
            self._trainer.should_stop = True

    def on_fit_start(self) -> None:
        self._counters = {k: v.to(self.device) for k, v in self._counters.items()}
        self._a_scale = self._a_scale.to(self.device)

    def on_fit_end(self) -> None:
        self._counters = {k: v.cpu() for k, v in self._counters.items()}
        self._a_scale = self._a_scale.cpu()

    # ------------------------------------------------------------------ optimiser
    def configure_optimizers(self):
        a_params = [self.module.A_raw]
        others = [p for n, p in self.module.named_parameters() if n != "A_raw"]
        groups = [{"params": others, "name": "net"}, {"params": a_params, "name": "A"}]
        # fused Adam: one kernel per step, and it skips a step flagged non-finite on the device
        self._fused_skip = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point
                               for p in self.module.parameters())
        return torch.optim.Adam(groups, lr=self.config.lr, fused=self._fused_skip or None)

    _fused_skip = False

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        raw = getattr(optimizer, "optimizer", optimizer)
        A = self.module.A_raw
        previous = A.detach().clone()

        def closure():
            loss = optimizer_closure()
            if self._fused_skip:  # after backward (and DDP's all-reduce): the same flag on every rank
                grads = [p.grad for p in self.module.parameters() if p.grad is not None]
                found = torch.zeros((), device=A.device)
                torch._amp_foreach_non_finite_check_and_unscale_(grads, found, torch.ones_like(found))
                raw.found_inf = found
                self._counters["skipped_steps"] += found
            return loss

        optimizer.step(closure=closure)
        raw.found_inf = None
        with torch.no_grad():  # the M-matrix guard, as tensor operations (no host sync on a GPU)
            scale = self._a_scale.to(A.dtype)
            stepped = previous + scale * (A - previous)
            ok = in_domain_tensor(stepped * self.module.A_mask, self.s, self.config.guard_margin)
            A.copy_(torch.where(ok, stepped, previous))
            self._counters["guard_events"] += (~ok).to(torch.float64)
            floor = 1e-7 / max(self.config.lr, 1e-12)
            self._a_scale.copy_(torch.where(ok, self._a_scale, (self._a_scale * 0.5).clamp_min(floor)))


class FinalStageEarlyStopping(EarlyStopping):
    """Early stopping on ``val_monitor`` that only counts epochs of the final DAGMA stage."""

    def __init__(self, patience: int):
        # check_on_train_epoch_end=False: the check runs in on_validation_end (Lightning's default
        # with validation every epoch is on_train_epoch_end, which is switched off below)
        super().__init__(monitor="val_monitor", mode="min", patience=patience, check_finite=False,
                         check_on_train_epoch_end=False)

    def on_validation_end(self, trainer, pl_module) -> None:
        if getattr(pl_module, "is_final_stage", True):
            super().on_validation_end(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:  # only check after validation
        return None


class KeepBest(Callback):
    """Keeps the parameters of the best final-stage validation epoch and restores them at the end.

    The best value and parameters are part of Lightning checkpoints (:meth:`state_dict`). They are
    restored at ``on_fit_end``, which also runs when a resumed run has nothing left to train.
    """

    def __init__(self):
        self.best = float("inf")
        self.state: dict[str, torch.Tensor] | None = None

    def on_validation_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking or not pl_module.is_final_stage or not pl_module.history:
            return
        value = pl_module.history[-1].get("val_elbo", float("inf"))
        if value < self.best:
            self.best = value
            self.state = {k: v.detach().clone() for k, v in pl_module.module.state_dict().items()}

    def on_fit_end(self, trainer, pl_module) -> None:
        self.restore(pl_module)

    def restore(self, pl_module: TrainingPlan) -> None:
        """Load the best parameters (if any) into ``pl_module.module``."""
        if self.state is not None:
            pl_module.module.load_state_dict(self.state)

    def state_dict(self) -> dict[str, Any]:
        """Best value and parameters so far (saved in Lightning checkpoints)."""
        return {"best": float(self.best), "state": self.state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (when Lightning resumes from a checkpoint)."""
        self.best = float(state_dict.get("best", float("inf")))
        self.state = state_dict.get("state")


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """Torch seed of one training epoch of one process: a function of ``(seed, epoch, rank)``."""
    entropy = [int(seed) & 0xFFFFFFFF, int(epoch), int(rank)]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> 1)


class DataOnDevice(Callback):
    """Copies a :class:`~cmcvae.model.latent.CellBatches` to the training device for the fit
    (minibatches are then built there) and moves it back to the CPU afterwards."""

    def __init__(self, data):
        self.data = data

    def on_fit_start(self, trainer, pl_module) -> None:
        self.data.to(pl_module.device)

    def on_fit_end(self, trainer, pl_module) -> None:
        self.data.to("cpu")

    def on_exception(self, trainer, pl_module, exception) -> None:
        self.data.to("cpu")
