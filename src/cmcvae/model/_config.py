"""Hyper-parameters of CMC-VAE (docs/design.md §1) in one dataclass, loadable from YAML/JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmcvae._errors import CMCVAEInputError

#: The architectures: ``"latent"`` (the published latent VAE) and ``"sem"`` (feature-level SEM).
ARCHS = ("latent", "sem")
#: Earlier names still accepted (configs, ``--arch`` values, saved models): name → canonical name.
ARCH_ALIASES = {"poster": "latent"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


@dataclass
class CMCVAEConfig:
    """Model and training settings.

    The defaults follow docs/design.md §1. Loss weights refer to Equation 1 of the poster:
    ``L_rec + β KL + λ_dag h(A) + λ_prior L_margin + λ_sparse ‖A‖₁ + λ_dec ‖W‖₁ + λ_ortho ‖WᵀW − I‖²``.

    ``arch`` selects the model: ``"latent"`` (the latent VAE above, the published design;
    ``"poster"`` is accepted as an alias and stored as ``"latent"``) or ``"sem"`` (a linear
    causal SEM directly over genes and proteins, fitted to their noise-corrected correlation;
    see :mod:`cmcvae.model.sem`). Only the ``sem_*`` fields, ``prior_holdout``, ``guard_margin``,
    ``prior_margin``, ``split``, ``seed``, ``threshold`` and ``edge_top_k`` apply to
    ``arch="sem"``; its iterations come from ``sem_stages`` (``max_epochs`` does not apply), and
    its ``n_latent_rna`` / ``n_latent_protein`` are set to the numbers of genes and proteins
    (the SEM is a latent SCM with identity loadings). ``sem_score`` picks the SEM's score
    (``"nv"``, ``"ls"`` or ``"me"``, see :func:`cmcvae.model.sem.fit_sem`); ``sem_prior_orient`` forbids
    the reverse of every training prior edge.
    """

    # architecture
    n_latent_rna: int = 64
    n_latent_protein: int = 16
    n_hidden: int = 256
    n_layers: int = 2
    likelihood: str = "nb"  # "nb" on RNA counts (library size as offset) or "gaussian" on scaled values
    allow_protein_to_rna: bool = True
    # donors: one-hot encoder input up to donor_onehot_max donors, a learned embedding above
    donor_onehot_max: int = 32
    donor_embedding_dim: int = 16
    # loss weights
    beta: float = 1.0
    kl_warmup_epochs: int = 10
    lambda_dag: float = 1.0
    lambda_prior: float = 100.0
    prior_margin: float = 0.05
    prior_sign: bool = False
    lambda_sparse: float = 0.01
    lambda_dec: float = 1e-4
    lambda_ortho: float = 0.1
    # priors
    prior_holdout: float = 0.2
    # DAGMA central path
    dag_stages: int = 4
    epochs_per_stage: int = 8
    dag_penalty_growth: float = 10.0
    s_schedule: list[float] = field(default_factory=lambda: [1.0, 0.9, 0.8, 0.7])
    guard_margin: float = 0.99
    # optimisation
    lr: float = 1e-3
    batch_size: int = 1024
    max_epochs: int = 80
    early_stopping_patience: int = 8
    split: list[float] = field(default_factory=lambda: [0.8, 0.1, 0.1])
    seed: int = 0
    # read-out
    threshold: float = 0.02
    edge_top_k: int = 5000
    # model: "latent" (latent VAE, docs/design.md §1; alias "poster") or "sem" (feature-level SEM)
    arch: str = "latent"
    # feature-level SEM (arch="sem")
    sem_l1: float = 0.1
    sem_floor: float = 0.4
    sem_lr: float = 5e-3
    sem_stages: list[list[float]] = field(default_factory=lambda: [
        [1.0, 1.0, 300], [0.1, 0.9, 300], [0.01, 0.8, 300], [0.001, 0.7, 400]])
    sem_thinning: bool = True
    sem_score: str = "nv"
    sem_lambda_prior: float = 0.0
    sem_prior_orient: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.arch, str):  # one stored name per architecture
            self.arch = ARCH_ALIASES.get(self.arch, self.arch)
        if self.likelihood not in ("gaussian", "nb"):
            raise CMCVAEInputError(
                f"Unknown likelihood {self.likelihood!r}: use 'gaussian' (scaled log values) "
                "or 'nb' (negative binomial on RNA counts)."
            )
        if self.n_latent_rna < 0 or self.n_latent_protein < 0 or self.n_latent < 1:
            raise CMCVAEInputError(
                "n_latent_rna and n_latent_protein must be at least 1 (0 only for the absent "
                "modality in single-modality mode)."
            )
        for name in ("donor_onehot_max", "donor_embedding_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CMCVAEInputError(f"{name} must be a positive integer; got {value!r}.")
        if len(self.split) != 3 or abs(sum(self.split) - 1.0) > 1e-6 or min(self.split) < 0:
            raise CMCVAEInputError(
                f"split must be three non-negative fractions summing to 1 (train, val, test); got {self.split}."
            )
        if not 0.0 <= self.prior_holdout < 1.0:
            raise CMCVAEInputError("prior_holdout must be in [0, 1).")
        self._check_sem()

    def _check_sem(self) -> None:
        if self.arch not in ARCHS:
            raise CMCVAEInputError(
                f"Unknown arch {self.arch!r}: use 'latent' (latent VAE; alias 'poster') or 'sem' "
                "(feature-level causal SEM)."
            )
        if self.sem_score not in ("me", "nv", "ls"):
            raise CMCVAEInputError(
                f"Unknown sem_score {self.sem_score!r}: use 'me' (latent levels with measurement "
                "noise), 'nv' (per-node noise variances) or 'ls' (least squares)."
            )
        for name in ("sem_thinning", "sem_prior_orient"):
            if not isinstance(getattr(self, name), bool):
                raise CMCVAEInputError(f"{name} must be true or false, not {getattr(self, name)!r}.")
        for name in ("sem_l1", "sem_lambda_prior"):
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise CMCVAEInputError(f"{name} must be a non-negative number; got {getattr(self, name)!r}.")
        if not _number(self.sem_floor) or not 0.0 <= self.sem_floor < 1.0:
            raise CMCVAEInputError(f"sem_floor must be in [0, 1); got {self.sem_floor!r}.")
        if not _number(self.sem_lr) or self.sem_lr <= 0:
            raise CMCVAEInputError(f"sem_lr must be a positive number; got {self.sem_lr!r}.")
        stages = self.sem_stages
        ok = isinstance(stages, (list, tuple)) and len(stages) > 0 and all(
            isinstance(st, (list, tuple)) and len(st) == 3 and all(_number(v) for v in st)
            and st[0] > 0 and 0 < st[1] <= 1 and st[2] >= 0 and float(st[2]).is_integer()
            for st in stages)
        if not ok:
            raise CMCVAEInputError(
                "sem_stages must be a non-empty list of [mu, s, iterations] with mu > 0, "
                f"0 < s <= 1 and a whole number of iterations >= 0; got {stages!r}."
            )

    @property
    def n_latent(self) -> int:
        """Total number of latent nodes ``K = K_r + K_p``."""
        return self.n_latent_rna + self.n_latent_protein

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-serialisable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CMCVAEConfig:
        """Build from a dictionary, rejecting unknown keys with the list of valid ones."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise CMCVAEInputError(
                f"Unknown config key(s) {unknown}. Valid keys are: {sorted(names)}."
            )
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> CMCVAEConfig:
        """Read a YAML or JSON config file; ``overrides`` that are not ``None`` win."""
        path = Path(path)
        if not path.exists():
            raise CMCVAEInputError(f"Config file {path} does not exist.")
        text = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text) or {}
        else:
            values = json.loads(text)
        if not isinstance(values, dict):
            raise CMCVAEInputError(f"Config file {path} must hold a mapping of option: value.")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values)
