"""Lightning training plan: DAGMA central path, KL annealing and the M-matrix guard."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping

from .dagma import in_domain
from .module import CMCVAEModule


class TrainingPlan(pl.LightningModule):
    """Optimises :class:`CMCVAEModule` along DAGMA's central path.

    Stage ``t`` (``epochs_per_stage`` epochs each; the last stage runs until early stopping)
    weights ``h(A)`` by ``λ_dag · growth^t`` and uses log-det scale ``s_t``. After every
    optimiser step the plan checks that ``ρ(A∘A) < guard_margin · s``; if not, it restores
    the previous ``A`` and halves the learning rate of ``A`` (reset at each new stage).
    """

    def __init__(self, module: CMCVAEModule, prior: dict[str, torch.Tensor] | None = None):
        super().__init__()
        self.module = module
        self.config = module.config
        self.prior = prior or {}
        self.guard_events = 0
        self.skipped_steps = 0
        self.history: list[dict[str, float]] = []
        self._epoch_sums: dict[str, dict[str, float]] = {}

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
                                 self._prior_on(batch["x"].device), sample=(split == "train"))
        n = batch["x"].shape[0]
        sums = self._epoch_sums.setdefault(split, {"n": 0.0})
        sums["n"] += n
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + float(value.detach()) * n
        return terms

    def training_step(self, batch, batch_idx):
        terms = self._step(batch, "train")
        if not torch.isfinite(terms["loss"]):
            self.skipped_steps += 1
            return None
        self.log("loss", terms["loss"], prog_bar=True, batch_size=batch["x"].shape[0])
        return terms["loss"]

    def validation_step(self, batch, batch_idx):
        terms = self._step(batch, "val")
        self.log("val_elbo", terms["elbo"], prog_bar=True, batch_size=batch["x"].shape[0])

    def on_train_epoch_start(self) -> None:
        if self.current_epoch > 0 and self.current_epoch % max(self.config.epochs_per_stage, 1) == 0:
            for group in self.optimizers().param_groups:
                if group.get("name") == "A":
                    group["lr"] = self.config.lr

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking:
            self._epoch_sums.pop("val", None)
            return
        record = {"epoch": float(self.current_epoch), "stage": float(self.stage),
                  "lambda_dag": self.lambda_dag, "s": self.s, "beta": self.beta}
        for split, sums in self._epoch_sums.items():
            n = max(sums["n"], 1.0)
            record.update({f"{split}_{k}": v / n for k, v in sums.items() if k != "n"})
        self.history.append(record)
        self._epoch_sums = {}
        # FinalStageEarlyStopping reads this only once the DAG penalty has its final weight.
        self.log("val_monitor", record.get("val_elbo", float("inf")))

    # ------------------------------------------------------------------ optimiser
    def configure_optimizers(self):
        a_params = [self.module.A_raw]
        others = [p for n, p in self.module.named_parameters() if n != "A_raw"]
        return torch.optim.Adam(
            [{"params": others, "name": "net"}, {"params": a_params, "name": "A"}], lr=self.config.lr
        )

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
        previous = self.module.A_raw.detach().clone()
        optimizer.step(closure=optimizer_closure)
        if not in_domain(self.module.A, self.s, self.config.guard_margin):
            with torch.no_grad():
                self.module.A_raw.copy_(previous)
            for group in optimizer.param_groups:
                if group.get("name") == "A":
                    group["lr"] = max(group["lr"] * 0.5, 1e-7)
            self.guard_events += 1


class FinalStageEarlyStopping(EarlyStopping):
    """Early stopping on ``val_monitor`` that only counts epochs of the final DAGMA stage."""

    def __init__(self, patience: int):
        super().__init__(monitor="val_monitor", mode="min", patience=patience, check_finite=False)

    def on_validation_end(self, trainer, pl_module) -> None:
        if getattr(pl_module, "is_final_stage", True):
            super().on_validation_end(trainer, pl_module)

    def on_train_epoch_end(self, trainer, pl_module) -> None:  # only check after validation
        return None


class KeepBest(Callback):
    """Keeps the parameters of the best final-stage validation epoch and restores them at the end."""

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

    def on_train_end(self, trainer, pl_module) -> None:
        if self.state is not None:
            pl_module.module.load_state_dict(self.state)
