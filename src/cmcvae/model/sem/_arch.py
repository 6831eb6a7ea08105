"""The feature-level SEM as an architecture of :class:`~cmcvae.model.CMCVAE` (``arch="sem"``).

A linear causal SEM directly over genes and proteins, fitted in one go (no Lightning) to their
noise-corrected correlation. It is exposed as a latent SCM whose nodes are the features
(identity loadings), so every getter of the model works the same way.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from cmcvae.model._arch import Architecture, TrainResult
from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._inputs import ModelInputs
from cmcvae.model.sem._module import SEMData, SEMModule
from cmcvae.model.sem._train import listed_adjacency, train_sem

log = logging.getLogger("cmcvae")


class SEMArch(Architecture):
    """The feature-level SEM: module :class:`SEMModule`, data :class:`SEMData` (raw values).

    ``A_dag`` is the fit ``W`` projected onto a DAG (``W_dag``); networks and predictions use
    it whole, the listing (``adjacency(thresholded=True)``) drops ``|w| ≤ config.threshold``.
    """

    name = "sem"
    lightning = False
    counts = True  # set by build: whether the data are raw counts

    def build(self, inputs: ModelInputs, donor_codes: np.ndarray, train_rows: np.ndarray) -> None:
        """Keep the raw values; the SEM's nodes are the features themselves."""
        self.config.n_latent_rna, self.config.n_latent_protein = len(self.genes), len(self.proteins)
        self.counts = inputs.counts
        self.data = SEMData(inputs.rna, np.asarray(inputs.prot), donor_codes)
        self.stats = {}
        self.module = self.new_module()

    def accepts_interventions(self) -> bool:
        """Unless ``sem_interventions`` is false (the observational-only fit)."""
        return bool(self.config.sem_interventions)

    def new_module(self) -> SEMModule:
        return SEMModule(len(self.genes), len(self.proteins))

    def fit(self, train_rows: np.ndarray, *, accelerator: str, progress: bool,
            max_epochs: int | None) -> TrainResult:
        """Correlation, DAGMA fit and DAG projection (:func:`~cmcvae.model.sem._train.train_sem`)."""
        if max_epochs is not None:
            log.info("max_epochs does not apply to arch='sem' (iterations come from sem_stages).")
        result = train_sem(self.data, train_rows, self.config, genes=self.genes,
                           proteins=self.proteins, priors=self.priors, counts=self.counts,
                           accelerator=accelerator, progress=progress,
                           interventions=self.interventions)
        self.module.W.copy_(torch.from_numpy(result.W))
        self.A_dag = result.W_dag
        self.stats = result.stats
        return TrainResult(result.history, result.metrics)

    @property
    def latent_names(self) -> list[str]:
        """The features: ``rna:<gene>`` then ``protein:<protein>``."""
        return [f"rna:{g}" for g in self.genes] + [f"protein:{p}" for p in self.proteins]

    def adjacency(self, thresholded: bool = True) -> np.ndarray:
        """``W_dag``; ``thresholded=True`` also zeroes ``|w| ≤ config.threshold``."""
        if thresholded:
            return listed_adjacency(self.A_dag, self.config.threshold)
        return self.A_dag.copy()

    def loadings(self) -> tuple[np.ndarray, np.ndarray]:
        """Identities: the latent nodes are the features."""
        return np.eye(len(self.genes)), np.eye(len(self.proteins))

    def network_loadings(self) -> tuple[None, None]:
        return None, None  # identities, without forming them

    @staticmethod
    def describe(config: CMCVAEConfig) -> str:
        return "arch='sem'"
