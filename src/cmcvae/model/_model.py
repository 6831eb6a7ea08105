"""User-facing model class :class:`CMCVAE` (scvi-tools style: setup, train, getters, save/load).

The class connects the data to an architecture (:mod:`cmcvae.model.latent` or
:mod:`cmcvae.model.sem`, chosen by ``config.arch``): it reads the registered data, splits the
cells and prepares the priors, then hands the architecture the inputs to build its module from.
``train()`` comes from :class:`~cmcvae.model._training.TrainingMixin`.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import torch
from torch import nn

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.graph.networks import matched_pair_effects, top_edges
from cmcvae.model._arch import Architecture, Priors, TrainResult
from cmcvae.model._config import CMCVAEConfig
from cmcvae.model._inputs import make_setup, read_inputs
from cmcvae.model._interventions import read_interventions
from cmcvae.model._registry import ARCHITECTURES
from cmcvae.model._split import split_cells
from cmcvae.model._training import TrainingMixin
from cmcvae.pp import filter_network, matched_pairs, split_network

SETUP_KEY = "cmcvae_setup"
#: The fewest cells a model is built on, and the fewest in its training split: below them the
#: split, the protein scaling and the graph are noise (a fit would still "succeed").
MIN_CELLS = 50
MIN_TRAIN_CELLS = 40
log = logging.getLogger("cmcvae")


class CMCVAE(TrainingMixin):
    """CrossModal-CausalVAE: a VAE whose latent space is a linear SCM with a DAGMA constraint.

    With ``arch="sem"`` the model is instead a linear causal SEM directly over genes and
    proteins (:mod:`cmcvae.model.sem`), fitted to their noise-corrected correlation; it is
    exposed as a latent SCM whose nodes are the features (identity loadings), so every getter
    works the same way. ``arch="latent"`` (the default; alias ``"poster"``) is the published
    latent VAE (:mod:`cmcvae.model.latent`).

    Parameters
    ----------
    mdata
        MuData registered with :meth:`setup_mudata` (modalities ``rna`` and ``prot`` with raw counts).
    grn_prior, ppi_prior
        Optional ``source,target[,weight]`` networks among genes (TF→target) and proteins.
        A seeded ``prior_holdout`` fraction is held out from training.
    protein_map
        ``protein,gene`` table for matched pairs (proteins named like genes are paired if omitted).
    config
        A :class:`CMCVAEConfig`; keyword arguments override its fields.

    Examples
    --------
    >>> CMCVAE.setup_mudata(mdata, batch_key="donor")
    >>> model = CMCVAE(mdata, grn_prior=grn)
    >>> model.train(max_epochs=50)
    >>> edges = model.get_edges()
    """

    def __init__(self, mdata: md.MuData | ad.AnnData | None, grn_prior: pd.DataFrame | None = None,
                 ppi_prior: pd.DataFrame | None = None, protein_map: pd.DataFrame | None = None,
                 config: CMCVAEConfig | None = None, **overrides: Any):
        base = (config or CMCVAEConfig()).to_dict()
        base.update(overrides)
        self.config = CMCVAEConfig.from_dict(base)
        self.is_trained = False
        self.history: list[dict[str, float]] = []
        self.metrics: dict[str, Any] = {}
        self._arch: Architecture | None = None
        if mdata is None:  # used by load()
            return
        setup = mdata.uns.get(SETUP_KEY)
        if setup is None:
            raise CMCVAEInputError(
                "The data is not set up for CMC-VAE: call `CMCVAE.setup_mudata(mdata, batch_key=...)` "
                "(or `CMCVAE.setup_anndata(adata, modality=...)` for one modality) first."
            )
        self.setup = dict(setup)
        inputs = read_inputs(mdata, self.setup)
        self.genes, self.proteins = inputs.genes, inputs.proteins
        self.modalities = inputs.modalities
        self.donors = sorted(pd.unique(inputs.donors))
        donor_codes = pd.Categorical(inputs.donors, categories=self.donors).codes.astype(np.int64)
        self._size_latents()
        self.split = split_cells(len(inputs.obs_names), self.config.split, self.config.seed)
        self.cell_names = inputs.obs_names
        train_rows = np.flatnonzero(self.split == "train")
        _check_cell_numbers(len(inputs.obs_names), len(train_rows), self.config.split)
        self._set_priors(grn_prior, ppi_prior)
        self.pairs = matched_pairs(protein_map, self.proteins, self.genes)
        self._arch = self._new_arch()
        self._arch.build(inputs, donor_codes, train_rows)

    def _new_arch(self) -> Architecture:
        """The architecture ``config.arch`` names, for this model's features, donors and priors."""
        cls = ARCHITECTURES[self.config.arch]
        return cls(self.config, self.genes, self.proteins, len(self.donors), self.priors)

    def _size_latents(self) -> None:
        """Latent sizes for the modalities present.

        An absent modality gets no latent nodes; in single-modality mode the number of latent
        nodes is capped at the number of features (orthogonal loadings need ``K ≤ features``).
        """
        c = self.config
        if self.modalities == ("rna", "protein"):
            if c.n_latent_rna < 1 or c.n_latent_protein < 1:
                raise CMCVAEInputError(
                    "n_latent_rna and n_latent_protein must both be at least 1 with two modalities."
                )
            return
        n = len(self.genes) + len(self.proteins)
        K = c.n_latent_rna if self.modalities == ("rna",) else c.n_latent_protein
        if K > n:
            log.info("Single-modality mode: %d latent nodes capped at the %d features.", K, n)
        K = max(1, min(K, n))
        c.n_latent_rna, c.n_latent_protein = (K, 0) if self.modalities == ("rna",) else (0, K)

    def _set_priors(self, grn_prior, ppi_prior) -> None:
        self.priors: Priors = {}
        for key, net, feats in (("grn", grn_prior, self.genes), ("ppi", ppi_prior, self.proteins)):
            if net is None:
                continue
            kept = filter_network(net, feats, what=f"{key.upper()} prior")
            tr, held = split_network(kept, self.config.prior_holdout, self.config.seed)
            self.priors[key] = {"train": tr, "holdout": held}

    # ------------------------------------------------------------------ architecture state
    @property
    def module(self) -> nn.Module:
        """The torch module of the architecture (latent VAE or the SEM's weights ``W``)."""
        return self._arch.module

    @property
    def stats(self) -> dict[str, np.ndarray]:
        """Arrays saved with the module: input scaling (latent) or feature variances (SEM)."""
        return self._arch.stats

    @property
    def _data(self) -> Any:
        """The training data the architecture built (``None`` for a loaded model)."""
        return None if self._arch is None else self._arch.data

    def set_interventions(self, mdata: md.MuData | ad.AnnData, labels: Any) -> None:
        """Add a screen's perturbed cells to the training data (call before :meth:`train`).

        The model's own cells are then the observational (control) cells, ``mdata`` the
        perturbed ones with each cell's target in ``labels``. With ``arch="sem"`` every
        perturbation with at least 10 cells on donors that have control cells enters the
        likelihood as a mean shift against those controls: a target among the features gets
        a free footprint on itself, any other target an unknown, sparse footprint
        (:mod:`cmcvae.model.sem._shifts`). ``arch="latent"`` trains on the control cells only
        (``metrics["interventions"]["in_likelihood"]`` is then false).

        Parameters
        ----------
        mdata
            The perturbed cells, laid out like the model's data (same modalities, layers and
            features; read with the model's setup).
        labels
            Each perturbed cell's target (an ``obs`` column's values).
        """
        if self._arch is None:
            raise CMCVAEInputError("set_interventions needs a model built on data, not a loaded one.")
        self._screen_given = True
        if self._arch.accepts_interventions():  # read only when the likelihood uses them
            self._arch.interventions = read_interventions(mdata, self.setup, labels, self.genes,
                                                          self.proteins, self.donors)

    def _set_trained(self, result: TrainResult) -> None:
        """Keep a training's history and metrics (the data sizes and history appended)."""
        self.history = result.history
        self.is_trained = True
        screen = None
        if getattr(self, "_screen_given", False) \
                and "interventions" not in result.metrics:  # latent, or sem_interventions=False
            screen = {"interventions": {"in_likelihood": False}}
        self.metrics = {
            **result.metrics,
            **(screen or {}),
            "n_cells": int(len(self.split)),
            "n_genes": len(self.genes),
            "n_proteins": len(self.proteins),
            "n_donors": len(self.donors),
            "history": self.history,
        }

    # ------------------------------------------------------------------ setup
    @staticmethod
    def setup_mudata(mdata: md.MuData, batch_key: str | None = None, rna_mod: str | None = RNA_MOD,
                     prot_mod: str | None = PROT_MOD, rna_layer: str | None = None,
                     prot_layer: str | None = None, counts: bool = True) -> None:
        """Check the MuData against the data contract and register where things are.

        Parameters
        ----------
        mdata
            MuData with RNA and protein modalities holding raw counts of the same cells.
        batch_key
            Column in ``obs`` with the donor/batch of each cell (``None``: one batch).
        rna_mod, prot_mod
            Modality names. Set one to ``None`` for single-modality mode (RNA-only or
            protein-only: the same model with one block of latent nodes).
        rna_layer, prot_layer
            Layers with raw counts (default ``layers['counts']`` if present, else ``.X``).
        counts
            ``True`` (default): raw counts, normalised by the model (RNA log-normalised or the
            negative-binomial likelihood, protein CLR). ``False``: continuous values (e.g.
            log-expression, simulated ODE levels, cytometry intensities) that are only
            standardised; the Gaussian likelihood is used.
        """
        mdata.uns[SETUP_KEY] = make_setup(mdata, batch_key=batch_key, rna_mod=rna_mod,
                                          prot_mod=prot_mod, rna_layer=rna_layer,
                                          prot_layer=prot_layer, counts=counts)

    @staticmethod
    def setup_anndata(adata: ad.AnnData, modality: str = "rna", batch_key: str | None = None,
                      layer: str | None = None, counts: bool = True) -> None:
        """Register a single-modality AnnData (RNA-only or protein-only).

        Parameters
        ----------
        adata
            Cells × features.
        modality
            ``"rna"`` or ``"protein"``: which block of latent nodes models the features.
        batch_key
            Column in ``obs`` with the donor/batch of each cell (``None``: one batch).
        layer
            Layer with the values (default ``layers['counts']`` if present, else ``.X``).
        counts
            Whether the values are raw counts (see :meth:`setup_mudata`).

        Examples
        --------
        >>> CMCVAE.setup_anndata(adata, modality="rna", counts=False)
        >>> model = CMCVAE(adata).train()
        >>> grn = model.get_feature_networks()["rna_rna"]
        """
        adata.uns[SETUP_KEY] = make_setup(adata, batch_key=batch_key, rna_mod=None, prot_mod=None,
                                          rna_layer=layer, prot_layer=layer, counts=counts,
                                          modality=modality)

    # ------------------------------------------------------------------ getters
    def _require_trained(self) -> None:
        if not self.is_trained:
            raise CMCVAEInputError("The model is not trained yet: call `model.train()` first.")

    @property
    def latent_names(self) -> list[str]:
        """Names of latent nodes: ``rna_0 … rna_{K_r−1}``, ``prot_0 … prot_{K_p−1}``.

        For ``arch="sem"`` the nodes are the features: ``rna:<gene>`` then ``protein:<protein>``.
        """
        return self._arch.latent_names

    def get_adjacency(self, thresholded: bool = True) -> np.ndarray:
        """Latent weighted adjacency ``A`` (``A[a, c]`` is ``a → c``); a DAG when thresholded.

        For ``arch="sem"`` this is the feature-level ``W`` projected onto a DAG (``W_dag``); it
        is a DAG either way, and ``thresholded=True`` also zeroes ``|w| ≤ config.threshold``
        (the listing in ``latent_graph.csv``). Networks and predictions use the full ``W_dag``.
        The un-projected fit is ``model.module.W``.
        """
        self._require_trained()
        return self._arch.adjacency(thresholded)

    def get_latent_graph(self) -> pd.DataFrame:
        """Edges of the thresholded latent DAG as ``source,target,weight``."""
        A = self.get_adjacency()
        rows, cols = np.nonzero(A)
        names = np.asarray(self.latent_names)
        return pd.DataFrame({"source": names[rows], "target": names[cols], "weight": A[rows, cols]})

    def get_loadings(self) -> tuple[np.ndarray, np.ndarray]:
        """Decoder loadings ``W_r`` (genes × K_r) and ``W_p`` (proteins × K_p).

        Identity matrices for ``arch="sem"`` (the latent nodes are the features).
        """
        return self._arch.loadings()

    def get_feature_networks(self, kind: str = "direct",
                             which: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
        """The four feature-level networks (``rna_rna``, ``rna_protein``, ``protein_rna``,
        ``protein_protein``) as dense labelled matrices, rows = sources.

        ``kind="direct"`` uses ``W A Wᵀ``; ``kind="total"`` uses ``W ((I−A)^{-1} − I) Wᵀ``;
        ``which`` limits the computation to some of the four networks. For ``arch="sem"`` the
        loadings are identities and ``A`` is the full (un-thresholded) ``W_dag``: the direct
        network is the block of ``W_dag``, the total one the block of ``(I − W_dag)^{-1} − I``.
        """
        self._require_trained()
        return self._arch.feature_networks(kind, which)

    def get_edges(self, top_k: int | None = None) -> pd.DataFrame:
        """Feature-level edge list (``edges.csv``): top ``top_k`` direct edges per network."""
        return top_edges(self.get_feature_networks("direct"), top_k or self.config.edge_top_k)

    def get_matched_pairs(self) -> pd.DataFrame:
        """RNA→protein and protein→RNA absolute effects for every matched (protein, gene) pair."""
        cross = ("rna_protein", "protein_rna")
        return matched_pair_effects(self.pairs, self.get_feature_networks("direct", cross),
                                    self.get_feature_networks("total", cross))

    def predict_knockdown(self) -> pd.DataFrame:
        """Predicted protein change when each gene is knocked down (genes × proteins).

        The value is minus the total RNA→protein effect through the full SCM, in units of
        scaled (standardised) protein per standardised unit of gene expression. For
        ``arch="sem"`` the SCM is the un-thresholded ``W_dag`` and the units are signal standard
        deviations (the SEM is fitted to a correlation matrix).
        """
        if not self.genes or not self.proteins:
            raise CMCVAEInputError(
                "predict_knockdown needs RNA and protein: this is a single-modality model "
                f"({', '.join(self.modalities)} only). Fit on a MuData with both modalities."
            )
        return -self.get_feature_networks("total", ("rna_protein",))["rna_protein"]

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, overwrite: bool = False) -> Path:
        """Save weights (a plain tensor state dict) and config JSON into ``path``."""
        self._require_trained()
        path = Path(path)
        if path.exists() and any(path.iterdir()) and not overwrite:
            raise CMCVAEInputError(f"{path} exists and is not empty; pass overwrite=True (--force) to replace it.")
        path.mkdir(parents=True, exist_ok=True)
        torch.save(self._arch.state_dict(), path / "model.pt")
        meta = {
            "config": self.config.to_dict(), "genes": self.genes, "proteins": self.proteins,
            "donors": self.donors, "setup": self.setup, "metrics": {k: v for k, v in self.metrics.items() if k != "history"},
            "pairs": self.pairs.to_dict(orient="list"),
            "priors": {k: {s: df.to_dict(orient="list") for s, df in v.items()} for k, v in self.priors.items()},
            "cmcvae_version": __version__,
        }
        (path / "config.json").write_text(json.dumps(meta, indent=1, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path) -> CMCVAE:
        """Load a model saved with :meth:`save` (``torch.load(weights_only=True)``).

        Models saved with ``arch="poster"`` (or before ``arch`` existed) load as ``"latent"``.
        """
        path = Path(path)
        if (path / "model").is_dir() and not (path / "model.pt").exists():
            path = path / "model"
        if not (path / "model.pt").exists() or not (path / "config.json").exists():
            raise CMCVAEInputError(f"No saved model in {path}: expected model.pt and config.json.")
        meta = _read_meta(path / "config.json")
        meta["config"].setdefault("arch", "latent")  # saved before arch existed
        meta["config"].setdefault("donor_onehot_max", 1 << 30)  # saved before donor embeddings
        self = cls(None, config=CMCVAEConfig.from_dict(meta["config"]))
        self.genes, self.proteins, self.donors = meta["genes"], meta["proteins"], meta["donors"]
        self.modalities = tuple(m for m, f in (("rna", self.genes), ("protein", self.proteins)) if f)
        self.setup = meta["setup"]
        self.pairs = pd.DataFrame(meta["pairs"])
        self.priors = {k: {s: pd.DataFrame(d) for s, d in v.items()} for k, v in meta["priors"].items()}
        self.metrics = meta.get("metrics", {})
        try:
            self._arch = self._new_arch()
            state = torch.load(path / "model.pt", map_location="cpu", weights_only=True)
            self._arch.load_state_dict(state, counts=bool(self.setup.get("counts", True)))
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError, ArithmeticError,
                EOFError, OSError, pickle.UnpicklingError) as err:
            problem = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise CMCVAEInputError(_corrupt_model(
                path / "model.pt", f"it does not load with config.json: {problem}")) from None
        self.is_trained = True
        return self

    def __repr__(self) -> str:
        status = "trained" if self.is_trained else "untrained"
        n_g = len(getattr(self, "genes", []))
        n_p = len(getattr(self, "proteins", []))
        described = ARCHITECTURES[self.config.arch].describe(self.config)
        return f"CMCVAE({status}; {n_g} genes, {n_p} proteins, {described})"


_META_KEYS = {"config": dict, "genes": list, "proteins": list, "donors": list, "setup": dict,
              "pairs": dict, "priors": dict}


def _corrupt_model(path: Path, problem: str) -> str:
    return (f"The saved model file {path} is corrupt ({problem}). cmcvae writes it itself: "
            f"restore the run folder from a copy, or fit the run again (`cmcvae fit ... --out "
            f"{path.parent.parent}`).")


def _read_meta(path: Path) -> dict[str, Any]:
    """The ``config.json`` of a saved model, checked for the keys :meth:`CMCVAE.load` reads."""
    try:
        meta = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise CMCVAEInputError(_corrupt_model(path, f"not valid JSON: {err}")) from None
    if not isinstance(meta, dict):
        raise CMCVAEInputError(_corrupt_model(path, "not a JSON object"))
    bad = [key for key, kind in _META_KEYS.items() if not isinstance(meta.get(key), kind)]
    if bad:
        raise CMCVAEInputError(_corrupt_model(path, f"missing or malformed {', '.join(bad)}"))
    if not meta["genes"] and not meta["proteins"]:
        raise CMCVAEInputError(_corrupt_model(path, "it lists no genes and no proteins"))
    return meta


def _check_cell_numbers(n_cells: int, n_train: int, split: list[float]) -> None:
    """Refuse data with fewer than :data:`MIN_CELLS` cells or :data:`MIN_TRAIN_CELLS` training cells."""
    if n_cells < MIN_CELLS:
        raise CMCVAEInputError(
            f"Too few cells to train: the data has {n_cells} cells; CMC-VAE needs at least "
            f"{MIN_CELLS} (and thousands for a graph worth reading). Fit on more cells, e.g. "
            "several samples or donors together."
        )
    if n_train < MIN_TRAIN_CELLS:
        raise CMCVAEInputError(
            f"Too few training cells: the split {split} leaves {n_train} of the {n_cells} cells "
            f"for training; CMC-VAE needs at least {MIN_TRAIN_CELLS}. Give the training split a "
            "larger fraction (config split: [train, val, test], e.g. [0.8, 0.1, 0.1]) or fit on "
            "more cells."
        )


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj)}")
