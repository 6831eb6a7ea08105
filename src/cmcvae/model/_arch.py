"""What :class:`~cmcvae.model.CMCVAE` needs from an architecture, and what both share.

The user class reads the data, splits the cells and prepares the priors; everything that
depends on the architecture — the torch module, the training data it is fed, how it is trained,
the fitted DAG and its read-outs, the state saved with the model — lives in one
:class:`Architecture` object per model, one subclass per folder
(:class:`cmcvae.model.latent.LatentArch`, :class:`cmcvae.model.sem.SEMArch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from cmcvae.graph.networks import feature_networks
from cmcvae.graph.threshold import is_dag
from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._dagma import h_dagma
from cmcvae.model._inputs import ModelInputs

#: Prior networks as the model keeps them: ``{"grn" | "ppi": {"train" | "holdout": edges}}``.
Priors = dict[str, dict[str, pd.DataFrame]]


@dataclass
class TrainResult:
    """What a training hands back to the model.

    Attributes
    ----------
    history
        One record per epoch (latent) or per DAGMA stage (SEM), keys the training-curve plot reads.
    metrics
        The architecture's own metrics, in ``metrics.json`` order; the model appends the data
        sizes and ``history``.
    """

    history: list[dict[str, Any]]
    metrics: dict[str, Any]


def acyclicity_metrics(A: torch.Tensor, A_dag: np.ndarray) -> dict[str, Any]:
    """``h_final`` (of the fitted ``A``; NaN when not finite), ``h_thresholded`` and ``is_dag``."""
    return {
        "h_final": float(h_dagma(A, 1.0)) if bool(torch.isfinite(A).all()) else float("nan"),
        "h_thresholded": float(h_dagma(torch.from_numpy(A_dag), 1.0)),
        "is_dag": bool(is_dag(A_dag)),
    }


def prior_edges(priors: Priors, key: str, features: list[str],
                offset: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Source and target indices (plus ``offset``) of the training edges of the ``key`` prior."""
    if key not in priors:
        return None
    net = priors[key]["train"]
    pos = {f: i + offset for i, f in enumerate(features)}
    return (net.source.map(pos).to_numpy(dtype=np.int64),
            net.target.map(pos).to_numpy(dtype=np.int64))


class Architecture:
    """One architecture of :class:`~cmcvae.model.CMCVAE`: its module, data, training and read-outs.

    A subclass sets :attr:`name` and :attr:`lightning` and implements :meth:`build`,
    :meth:`new_module`, :meth:`adjacency`, :meth:`loadings` and :meth:`describe`, plus either
    :meth:`fit` (fitted in one go, ``lightning = False``) or :attr:`training_plan_cls`, :meth:`training_plan`,
    :meth:`training_callbacks` and :meth:`finish_training` (trained with Lightning by
    :class:`~cmcvae.model._training.TrainingMixin`).

    Parameters
    ----------
    config
        The model's settings (shared with the model: building may adjust them).
    genes, proteins
        Feature names (an absent modality has none).
    n_donors
        Number of donors (batch levels).
    priors
        The model's prior networks (training parts are used).

    Attributes
    ----------
    module
        The torch module (parameters and buffers saved with the model).
    data
        The training data the module is fed (``None`` for a loaded model).
    stats
        Arrays saved with the model beside the module's state (e.g. input scaling).
    A_dag
        The fitted DAG over the latent nodes (``None`` until trained).
    """

    name: str = ""
    #: Trained with Lightning (:attr:`training_plan_cls`), or fitted in one go (:meth:`fit`).
    lightning: bool = True
    #: The Lightning plan class (when :attr:`lightning`).
    training_plan_cls: type | None = None

    def __init__(self, config: CMCVAEConfig, genes: list[str], proteins: list[str],
                 n_donors: int, priors: Priors):
        self.config, self.genes, self.proteins = config, genes, proteins
        self.n_donors, self.priors = n_donors, priors
        self.module: nn.Module | None = None
        self.data: Any = None
        self.stats: dict[str, np.ndarray] = {}
        self.A_dag: np.ndarray | None = None
        #: a screen's perturbed cells (:class:`cmcvae.model.sem.InterventionData`) or ``None``
        self.interventions: Any = None

    def accepts_interventions(self) -> bool:
        """Whether a screen's perturbed cells enter this architecture's likelihood (they are
        only read when they do)."""
        return False

    # ------------------------------------------------------------------ building
    def build(self, inputs: ModelInputs, donor_codes: np.ndarray, train_rows: np.ndarray) -> None:
        """Build :attr:`data`, :attr:`stats` and :attr:`module` from the model's inputs."""
        raise NotImplementedError

    def new_module(self) -> nn.Module:
        """An untrained module of the right shape (filled by :meth:`load_state_dict`)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ training
    def fit(self, train_rows: np.ndarray, *, accelerator: str, progress: bool,
            max_epochs: int | None) -> TrainResult:
        """Fit in one go (architectures without a Lightning plan)."""
        raise NotImplementedError

    def training_plan(self) -> Any:
        """The Lightning plan that trains :attr:`module`."""
        raise NotImplementedError

    def training_callbacks(self, plan: Any, *, data_on_device: bool, validate: bool) -> list[Any]:
        """The Lightning callbacks ``plan`` needs (``validate``: there is a validation split)."""
        return []

    def finish_training(self, plan: Any, seconds: float, cells_seen: int) -> TrainResult:
        """Read the result of a Lightning training (the module is back on the CPU)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ read-outs
    @property
    def latent_names(self) -> list[str]:
        """Names of the latent nodes (rows and columns of :meth:`adjacency`)."""
        raise NotImplementedError

    def adjacency(self, thresholded: bool = True) -> np.ndarray:
        """The latent weighted adjacency (``A[a, c]`` is ``a → c``)."""
        raise NotImplementedError

    def loadings(self) -> tuple[np.ndarray, np.ndarray]:
        """Decoder loadings ``W_r`` (genes × K_r) and ``W_p`` (proteins × K_p)."""
        raise NotImplementedError

    def network_loadings(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Loadings for :func:`~cmcvae.graph.feature_networks` (``None``: identity)."""
        return self.loadings()

    def feature_networks(self, kind: str, which: tuple[str, ...] | None) -> dict[str, pd.DataFrame]:
        """The feature-level networks of :attr:`A_dag` (see :meth:`CMCVAE.get_feature_networks`)."""
        W_r, W_p = self.network_loadings()
        return feature_networks(self.A_dag, W_r, W_p, self.genes, self.proteins, kind=kind,
                                which=which)

    @staticmethod
    def describe(config: CMCVAEConfig) -> str:
        """The architecture's part of the model's ``repr`` (of a model with ``config``)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Plain tensors saved as ``model.pt``: ``module``, ``stats`` and ``A_dag``."""
        return {
            "module": self.module.state_dict(),
            "stats": {k: torch.from_numpy(np.asarray(v)) for k, v in self.stats.items()},
            "A_dag": torch.from_numpy(self.A_dag),
        }

    def load_state_dict(self, state: dict[str, Any], counts: bool) -> None:
        """Restore :meth:`state_dict`; ``counts`` is whether the model was set up on counts."""
        self.module = self.new_module()
        self.module.load_state_dict(state["module"])
        self.module.eval()
        self.stats = {k: v.numpy() for k, v in state["stats"].items()}
        self.A_dag = state["A_dag"].numpy()
