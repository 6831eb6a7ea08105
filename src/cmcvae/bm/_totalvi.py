"""totalVI (scvi-tools) as the peer baseline for the cross-modal tasks.

totalVI models RNA and protein counts jointly; its denoised gene–protein correlation is the
association a CITE-seq user would otherwise read, so minus that correlation is scored as the
predicted knockdown effect, exactly like the plain correlation baseline
(:func:`cmcvae.evaluate._baselines.correlation_effects`). ``scvi-tools`` is an optional
dependency (``pip install "cmcvae[bench]"``).
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError

__all__ = ["totalvi_available", "totalvi_effects"]


def totalvi_available() -> bool:
    """Whether ``scvi-tools`` can be imported."""
    try:
        import scvi  # noqa: F401
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return False
    return True


def _anndata(mdata: md.MuData, batch_key: str | None) -> ad.AnnData:
    rna, prot = mdata.mod["rna"], mdata.mod["prot"]
    counts = sp.csr_matrix(rna.X, dtype=np.float32)
    pro = prot.X.toarray() if sp.issparse(prot.X) else np.asarray(prot.X)
    adata = ad.AnnData(counts, obs=pd.DataFrame(index=rna.obs_names.astype(str)))
    adata.var_names = rna.var_names.astype(str)
    adata.obsm["protein_expression"] = pd.DataFrame(
        pro.astype(np.float32), index=adata.obs_names, columns=prot.var_names.astype(str))
    if batch_key is not None:
        adata.obs[batch_key] = mdata.obs[batch_key].reindex(adata.obs_names).astype(str).to_numpy()
    return adata


def totalvi_effects(mdata: md.MuData, *, batch_key: str | None = "donor", seed: int = 0,
                    max_epochs: int = 20, batch_size: int = 1024, n_samples: int = 5,
                    ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Train totalVI and return minus its denoised gene–protein correlation (genes × proteins).

    Parameters
    ----------
    mdata
        Training MuData with raw counts in ``rna`` and ``prot``.
    batch_key
        Donor column of ``mdata.obs`` (``None``: one batch).
    seed
        ``scvi.settings.seed``.
    max_epochs, batch_size
        Training length and minibatch size (no early stopping, so the throughput is comparable).
    n_samples
        Posterior samples per cell for the correlation.

    Returns
    -------
    effects : pandas.DataFrame
        Genes × proteins predicted knockdown effects (``−corr``).
    info : dict
        ``seconds`` (training only), ``cells_per_second`` (training cells × epochs / seconds),
        ``epochs``, ``n_train_cells``.
    """
    if not totalvi_available():
        raise CMCVAEInputError(
            "totalVI needs scvi-tools: pip install scvi-tools (or cmcvae[bench])."
        )
    import scvi

    for name in ("scvi", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    scvi.settings.seed = seed
    adata = _anndata(mdata, batch_key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scvi.model.TOTALVI.setup_anndata(adata, protein_expression_obsm_key="protein_expression",
                                         batch_key=batch_key)
        model = scvi.model.TOTALVI(adata)
        n_train = int(round(0.9 * adata.n_obs))
        start = time.perf_counter()
        model.train(max_epochs=max_epochs, batch_size=batch_size, train_size=0.9,
                    early_stopping=False, accelerator="cpu", enable_progress_bar=False,
                    check_val_every_n_epoch=max_epochs + 1)
        seconds = time.perf_counter() - start
        corr = model.get_feature_correlation_matrix(n_samples=n_samples, correlation_type="pearson")
    n_genes = mdata.mod["rna"].n_vars
    values = np.asarray(corr, dtype=np.float64)[:n_genes, n_genes:]
    effects = pd.DataFrame(-values, index=mdata.mod["rna"].var_names.astype(str),
                           columns=mdata.mod["prot"].var_names.astype(str))
    info = {"seconds": seconds, "epochs": max_epochs, "n_train_cells": n_train,
            "cells_per_second": n_train * max_epochs / max(seconds, 1e-9)}
    return effects, info
