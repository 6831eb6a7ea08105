"""Hyper-parameters of CMC-VAE (docs/design.md §1) in one dataclass, loadable from YAML/JSON.

Every field is checked against its rule in :data:`FIELD_RULES` (type, then range or choices)
whenever it is set, at creation included, so a config that exists is a valid one; a bad value
raises :class:`~cmcvae.CMCVAEInputError` naming the field, the value, what is allowed and the
default. :meth:`CMCVAEConfig.from_file` adds the file's name (and a parse error's line).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmcvae._errors import CMCVAEInputError
from cmcvae.model._schema import Rule, _Refused, check_value, number_list, read_mapping, real, whole

#: The architectures: ``"latent"`` (the published latent VAE) and ``"sem"`` (feature-level SEM).
ARCHS = ("latent", "sem")
#: Earlier names still accepted (configs, ``--arch`` values, saved models): name → canonical name.
ARCH_ALIASES = {"poster": "latent"}


#: The largest seed: NumPy and Lightning take seeds in [0, 2³² − 1].
MAX_SEED = 2**32 - 1


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
    the reverse of every training prior edge. ``sem_interventions`` puts a screen's perturbed
    cells (:meth:`CMCVAE.set_interventions`) in the SEM's likelihood; false gives the
    observational-only fit of the same model (the baseline a screen fit is judged against).
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
    sem_interventions: bool = True

    def __setattr__(self, name: str, value: Any) -> None:
        """Every field is checked against :data:`FIELD_RULES` when it is set (also at creation)."""
        rule = FIELD_RULES.get(name)
        if rule is not None:
            value = check_value(name, rule, value, _DEFAULTS.get(name))
        object.__setattr__(self, name, value)

    def __post_init__(self) -> None:
        """The checks that involve two fields (each field was checked when it was set)."""
        if self.n_latent < 1:
            raise CMCVAEInputError(
                "Config fields n_latent_rna and n_latent_protein are both 0: at least one must be "
                "≥ 1 (0 only for the absent modality in single-modality mode); the defaults are "
                f"{_DEFAULTS['n_latent_rna']} and {_DEFAULTS['n_latent_protein']}."
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
        if not isinstance(values, dict):
            raise CMCVAEInputError(f"A config is a mapping of field: value, not {type(values).__name__}.")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names, key=str)
        if unknown:
            raise CMCVAEInputError(
                f"Unknown config key(s) {unknown}. Valid keys are: {sorted(names)}."
            )
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> CMCVAEConfig:
        """Read a YAML or JSON config file; ``overrides`` that are not ``None`` win.

        Every field is checked (:data:`FIELD_RULES`); a file that cannot be parsed, is empty or
        holds no mapping, and a field that is unknown or out of range, raise
        :class:`~cmcvae.CMCVAEInputError` naming the file (and the line of a parse error).
        """
        values = read_mapping(path)
        try:
            config = cls.from_dict(values)
        except CMCVAEInputError as err:
            raise CMCVAEInputError(f"In config file {path}: {err}") from None
        given = {k: v for k, v in overrides.items() if v is not None}
        return cls.from_dict({**config.to_dict(), **given}) if given else config


def _split(value: Any) -> list[int | float]:
    fractions = number_list(value, length=3)
    if min(fractions) < 0 or abs(sum(fractions) - 1.0) > 1e-6 or fractions[0] <= 0:
        raise _Refused(f"got {value!r}")
    return fractions


def _s_schedule(value: Any) -> list[int | float]:
    values = number_list(value)
    if not values or min(values) <= 0:
        raise _Refused(f"got {value!r}")
    return values


def _sem_stages(value: Any) -> list[list[int | float]]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise _Refused(f"got {value!r}")
    stages = [number_list(stage, length=3) for stage in value]
    for mu, s, iterations in stages:
        if mu <= 0 or not 0 < s <= 1 or iterations < 0 or not float(iterations).is_integer():
            raise _Refused(f"got {value!r}")
    return stages


#: THE table of the config's fields: field → what it accepts (checked whenever a field is set).
FIELD_RULES: dict[str, Rule] = {
    "n_latent_rna": whole(0, text="(0 only for a data set without RNA)"),
    "n_latent_protein": whole(0, text="(0 only for a data set without proteins)"),
    "n_hidden": whole(1),
    "n_layers": whole(1),
    "likelihood": Rule("choice", choices=("nb", "gaussian")),
    "allow_protein_to_rna": Rule("bool"),
    "donor_onehot_max": whole(1),
    "donor_embedding_dim": whole(1),
    "beta": real(0),
    "kl_warmup_epochs": whole(0),
    "lambda_dag": real(0),
    "lambda_prior": real(0),
    "prior_margin": real(0),
    "prior_sign": Rule("bool"),
    "lambda_sparse": real(0),
    "lambda_dec": real(0),
    "lambda_ortho": real(0),
    "prior_holdout": real(0, 1, high_open=True),
    "dag_stages": whole(1),
    "epochs_per_stage": whole(1),
    "dag_penalty_growth": real(0, low_open=True),
    "s_schedule": Rule("list", check=_s_schedule,
                       text="a non-empty list of numbers > 0 (one per DAG stage, e.g. [1.0, 0.9, 0.8, 0.7])"),
    "guard_margin": real(0, 1, low_open=True),
    "lr": real(0, low_open=True),
    "batch_size": whole(1),
    "max_epochs": whole(1),
    "early_stopping_patience": whole(0),
    "split": Rule("list", check=_split,
                  text="three fractions ≥ 0 (train, validation, test) summing to 1, train > 0"),
    "seed": whole(0, MAX_SEED),
    "threshold": real(0),
    "edge_top_k": whole(1),
    "arch": Rule("choice", choices=ARCHS, aliases=tuple(ARCH_ALIASES.items())),
    "sem_l1": real(0),
    "sem_floor": real(0, 1, high_open=True),
    "sem_lr": real(0, low_open=True),
    "sem_stages": Rule("list", check=_sem_stages,
                       text="a non-empty list of [mu, s, iterations] with mu > 0, 0 < s ≤ 1 and a "
                            "whole number of iterations ≥ 0"),
    "sem_thinning": Rule("bool"),
    "sem_score": Rule("choice", choices=("nv", "ls", "me")),
    "sem_lambda_prior": real(0),
    "sem_prior_orient": Rule("bool"),
    "sem_interventions": Rule("bool"),
}

_DEFAULTS: dict[str, Any] = {
    f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
    for f in dataclasses.fields(CMCVAEConfig)
}
