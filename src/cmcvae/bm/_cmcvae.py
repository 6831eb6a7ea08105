"""CMC-VAE as a network-inference method on one-modality benchmark data.

The same model as for CITE-seq, in single-modality mode (:meth:`cmcvae.CMCVAE.setup_anndata`):
RNA-only expression data use the RNA block of latent nodes, Sachs' phospho-proteins the protein
block. The values are continuous (``counts=False``), so they are only standardised.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from cmcvae.bm._trivial import check_expression, dense_edges
from cmcvae.model import ARCH_ALIASES, CMCVAE

__all__ = ["cmcvae_network"]

_BLOCK = {"rna": "rna_rna", "protein": "protein_protein"}


@contextmanager
def quiet() -> Iterator[None]:
    """Silence cmcvae's info messages (one line per fit would drown the benchmark's progress)."""
    logger = logging.getLogger("cmcvae")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _small_data_defaults(n_cells: int, arch: str) -> dict[str, Any]:
    """Minibatches of ~1/16 of the training cells (≥ 64), so small datasets still get steps."""
    if ARCH_ALIASES.get(arch, arch) != "latent":
        return {}
    return {"batch_size": int(min(1024, max(64, 0.8 * n_cells // 16)))}


def cmcvae_network(X: np.ndarray, features: Sequence[str], *, seed: int = 0,
                   modality: str = "rna", arch: str = "latent", kind: str = "direct",
                   dag_threshold: float = 0.3, **config: Any) -> pd.DataFrame:
    """Fit CMC-VAE on one modality and return its feature-level network.

    Parameters
    ----------
    X
        Cells × features continuous values (log-expression, simulated levels, intensities).
    features
        One name per column.
    seed
        Model seed (initialisation, split, minibatch order).
    modality
        ``"rna"`` (gene→gene network) or ``"protein"`` (protein→protein network).
    arch
        ``"latent"`` (latent VAE, the default architecture; alias ``"poster"``) or ``"sem"`` (feature-level SEM).
    kind
        ``"direct"`` or ``"total"`` effects.
    dag_threshold
        ``arch="sem"`` only: ``|w|`` above which an edge of the DAG counts (``attrs["dag"]``);
        the same value as DAGMA's default ``w_threshold``. The latent architecture's
        feature network is not a DAG over features (it passes through latent nodes), so it has
        no ``attrs["dag"]``.
    **config
        :class:`cmcvae.CMCVAEConfig` overrides (e.g. ``max_epochs``).

    Returns
    -------
    pandas.DataFrame
        ``source, target, weight`` over all ordered pairs (signed effect).
    """
    Xa = check_expression(X, features)
    adata = ad.AnnData(Xa.astype(np.float32))
    adata.var_names = [str(f) for f in features]
    adata.obs_names = [f"c{i}" for i in range(Xa.shape[0])]
    CMCVAE.setup_anndata(adata, modality=modality, counts=False)
    options = {**_small_data_defaults(Xa.shape[0], arch), **config}
    with quiet():
        model = CMCVAE(adata, arch=arch, seed=seed, **options)
        model.train(progress_bar=False)
    net = model.get_feature_networks(kind, (_BLOCK[modality],))[_BLOCK[modality]]
    edges = dense_edges(net.to_numpy(), list(net.index))
    if arch == "sem":
        dag = model.get_adjacency(thresholded=False)
        edges.attrs["dag"] = np.where(np.abs(dag) > dag_threshold, dag, 0.0)
    edges.attrs["metrics"] = {k: model.metrics.get(k) for k in ("is_dag", "finite", "epochs")}
    return edges
