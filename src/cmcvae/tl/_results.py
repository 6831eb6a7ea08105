"""A fitted model's results written into the user's MuData (:func:`write_results`, :func:`read_results`).

The scverse way: a tool writes what it computed into the data object the user holds, under a
``key_added`` prefix, as :mod:`scanpy.tl` and :mod:`decoupler` do (``sc.tl.leiden(adata,
key_added=…)``, ``dc.mt.ulm(adata, net)``), so that the results travel with the cells in one
``.h5mu``. A function in :mod:`cmcvae.tl` rather than a method of :class:`~cmcvae.CMCVAE`,
because the results are written for a *run folder* (what ``cmcvae fit`` leaves, with its
``validation.json``) as well as for a model in memory, and because one call writes into several
modalities and the MuData's ``uns`` at once.

Layout (``K`` = ``key_added``, default ``"cmcvae"``):

``mdata.uns[K]``
    ``edges`` (``source,target,source_modality,target_modality,weight``: the top direct edges
    of each network, ``edges.csv``), ``network`` (``source,target,weight``: the gene→gene edges,
    sources = regulators; decoupler's ``net``), ``matched_pairs``, ``latent_graph``,
    ``config`` (the model's configuration), ``info`` (version, architecture, knockdown
    estimator), and when given ``validation`` (``validation.json``) and ``predictions``
    (``predictions.csv``).
``mdata.mod["rna"].varp[f"{K}_direct"]``, ``mdata.mod["prot"].varp[f"{K}_direct"]``
    Genes × genes and proteins × proteins direct effects (row = source; CSR when mostly zero).
``mdata.mod["rna"].varm[f"{K}_rna_to_protein"]``, ``mdata.mod["prot"].varm[f"{K}_protein_to_rna"]``
    The cross-modal direct effects as data frames (genes × proteins, proteins × genes).
``mdata.mod["rna"].varm[f"{K}_knockdown_protein"]`` and ``…_knockdown_protein_se``
    The effect layer's predicted protein change per knocked-down gene (:mod:`cmcvae.effects`;
    standard deviations of the protein per standard deviation of the gene) and its SE.

``config`` and ``validation`` are stored as JSON text: an ``.h5mu`` turns lists into arrays and
cannot hold ``None`` inside a list or a list of objects, so a dict would not come back as
written. :func:`read_results` parses them back into dicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.effects import default_estimator, estimate_effects, feature_stats, resolve_regulators
from cmcvae.io import RESULT_KEY, get_counts, input_modalities, is_pathlike
from cmcvae.model import CMCVAE
from cmcvae.tl._effects import RunEffects
from cmcvae.tl._fitted import json_or_empty, load_fitted

__all__ = ["write_results"]

#: below this fraction of non-zero entries a ``varp`` matrix is stored sparse (CSR)
SPARSE_BELOW = 0.3


def _model_and_run(model: CMCVAE | str | Path) -> tuple[CMCVAE, Path | None]:
    if is_pathlike(model):
        run = Path(model)
        return load_fitted(run), run
    if not isinstance(model, CMCVAE):
        raise CMCVAEInputError(f"write_results needs a fitted CMCVAE or a run folder, not "
                               f"{type(model).__name__}.")
    if not model.is_trained:
        raise CMCVAEInputError("The model is not trained yet: call `model.train()` first.")
    return model, None


def _modalities(model: CMCVAE, mdata: md.MuData | ad.AnnData) -> tuple:
    """The RNA and protein AnnData of ``mdata`` the model's features live in (``None`` if absent)."""
    setup = model.setup
    try:
        rna, prot = input_modalities(mdata, setup.get("rna_mod"), setup.get("prot_mod"),
                                     setup.get("modality"))
    except KeyError as err:
        raise CMCVAEInputError(f"The data has no modality {err}: pass the MuData the model was "
                               "fitted on.") from None
    for adata, names, what in ((rna, model.genes, "genes"), (prot, model.proteins, "proteins")):
        if names and (adata is None or pd.Index(names).difference(adata.var_names).size):
            raise CMCVAEInputError(f"The data lacks {what} of the model: pass the MuData the "
                                   "model was fitted on (the same features).")
    return (rna if model.genes else None), (prot if model.proteins else None)


def _as_varp(frame: pd.DataFrame, names: pd.Index):
    """A square network over ``names`` (zeros for features the model lacks), CSR when sparse."""
    mat = frame.reindex(index=names, columns=names, fill_value=0.0).to_numpy(dtype=float)
    return sp.csr_matrix(mat) if np.count_nonzero(mat) < SPARSE_BELOW * mat.size else mat


def _write_networks(model: CMCVAE, rna: ad.AnnData | None, prot: ad.AnnData | None,
                    key: str) -> None:
    nets = model.get_feature_networks("direct")
    if rna is not None:
        rna.varp[f"{key}_direct"] = _as_varp(nets["rna_rna"], rna.var_names)
    if prot is not None:
        prot.varp[f"{key}_direct"] = _as_varp(nets["protein_protein"], prot.var_names)
    if rna is not None and prot is not None:
        rna.varm[f"{key}_rna_to_protein"] = nets["rna_protein"].reindex(rna.var_names)
        prot.varm[f"{key}_protein_to_rna"] = nets["protein_rna"].reindex(prot.var_names)


def _model_prior(model: CMCVAE) -> pd.DataFrame | None:
    parts = [df for df in (model.priors.get("grn") or {}).values() if len(df)]
    return pd.concat(parts, ignore_index=True) if parts else None


def _training_rows(model: CMCVAE, n_obs: int) -> np.ndarray:
    """The training-split cells of a model built on these cells; every cell otherwise."""
    split = getattr(model, "split", None)
    if split is not None and len(split) == n_obs:
        return np.flatnonzero(np.asarray(split) == "train")
    return np.arange(n_obs)


def _model_effects(model: CMCVAE, rna: ad.AnnData, prot: ad.AnnData, estimator: str | None):
    """The effect layer of a model in memory: moments of its training cells in ``mdata``."""
    setup = model.setup
    rows = _training_rows(model, rna.n_obs)
    genes = rna.var_names.get_indexer(model.genes)
    proteins = prot.var_names.get_indexer(model.proteins)
    rna_counts = get_counts(rna, setup.get("rna_layer"), "RNA")
    prot_counts = get_counts(prot, setup.get("prot_layer"), "protein")
    stats = feature_stats(rna_counts[rows][:, genes], prot_counts[rows][:, proteins],
                          model.genes, model.proteins)
    prior = _model_prior(model)
    regulators, _ = resolve_regulators(model.genes, prior, None)
    estimator = estimator or default_estimator(prior, regulators)
    return estimate_effects(stats, estimator, prior=prior, regulators=regulators,
                            readout_modality="protein", model=model)


def _write_knockdown(model: CMCVAE, run: Path | None, mdata, rna: ad.AnnData, prot: ad.AnnData,
                     key: str, estimator: str | None) -> str:
    """Write the effect layer's gene → protein knockdown effects; return the estimator used."""
    if run is not None:
        effects = RunEffects(run, data=mdata, model=model)
        method = estimator or effects.default_method()
        est = effects.estimate(method, readout_modality="protein")
    else:
        est = _model_effects(model, rna, prot, estimator)
    for suffix, frame in (("", est.effect), ("_se", est.se)):
        frame = frame.reindex(index=rna.var_names, columns=model.proteins).astype(float)
        rna.varm[f"{key}_knockdown_protein{suffix}"] = frame
    return est.method


def _validation(validation: dict | str | Path | None, run: Path | None) -> tuple:
    """The validation dict and predictions table: given, or the run folder's when present."""
    if isinstance(validation, dict):
        return validation, None
    folder = Path(validation) if validation is not None else run
    if folder is None:
        return None, None
    if folder.is_file():  # a validation.json named directly
        return json_or_empty(folder), None
    path = folder / "validation.json"
    if not path.is_file():
        if validation is not None:
            raise CMCVAEInputError(f"No validation.json in {folder}: run `cmcvae validate` first.")
        return None, None
    preds = folder / "predictions.csv"
    return json_or_empty(path), (pd.read_csv(preds) if preds.is_file() else None)


def _uns_entry(model: CMCVAE, top_k: int | None) -> dict[str, Any]:
    edges = model.get_edges(top_k)
    edges = edges.assign(weight=edges["weight"].astype(float))  # float even when empty
    rna_rna = (edges["source_modality"] == "rna") & (edges["target_modality"] == "rna")
    entry: dict[str, Any] = {
        "edges": edges.reset_index(drop=True),
        "network": edges.loc[rna_rna, ["source", "target", "weight"]].reset_index(drop=True),
        "latent_graph": model.get_latent_graph(),
        "config": json.dumps(model.config.to_dict()),
        "info": {"cmcvae_version": __version__, "arch": model.config.arch,
                 "knockdown_estimator": ""},
    }
    if model.genes and model.proteins:
        entry["matched_pairs"] = model.get_matched_pairs()
    return entry


def write_results(model: CMCVAE | str | Path, mdata: md.MuData | ad.AnnData, *,
                  key_added: str = RESULT_KEY, validation: dict | str | Path | None = None,
                  knockdown: bool = True, estimator: str | None = None,
                  top_k: int | None = None) -> None:
    """Write a fitted model's networks, matched pairs and knockdown effects into ``mdata``.

    In place, like :mod:`scanpy.tl` and :mod:`decoupler`; the layout (``uns``, ``varp``,
    ``varm`` keys) is in :mod:`cmcvae.tl._results` and ``docs/tutorial.md``. Everything
    survives ``mdata.write(path)`` and :func:`mudata.read_h5mu`; :func:`read_results` gives
    the ``uns`` entry back with its dicts parsed.

    Parameters
    ----------
    model
        A trained :class:`~cmcvae.CMCVAE`, or a run folder of ``cmcvae fit`` (its
        ``validation.json`` and ``predictions.csv`` are written too when present).
    mdata
        The data the model was fitted on (a MuData; an AnnData for a single-modality model):
        it must hold the model's genes and proteins. Features the model lacks get zeros
        (``varp``) or NaN (``varm``).
    key_added
        The ``uns`` key and the prefix of the ``varp`` / ``varm`` keys.
    validation
        A ``validation.json`` dict, its file, or a run folder holding it (default: the run
        folder's, when ``model`` is one).
    knockdown
        Also write the effect layer's knockdown effects on the proteins (needs both
        modalities; costs one regression per gene).
    estimator
        The effect estimator (:data:`cmcvae.effects.ESTIMATORS`; default: what ``cmcvae
        predict`` uses — ``adjust`` with a GRN prior or known TFs, else ``correlation``).
    top_k
        Edges kept per network in ``edges`` and ``network`` (default ``config.edge_top_k``).

    Raises
    ------
    CMCVAEInputError
        An untrained model, a folder that is not a run folder, or data without the model's
        features.
    """
    model, run = _model_and_run(model)
    rna, prot = _modalities(model, mdata)
    entry = _uns_entry(model, top_k)
    _write_networks(model, rna, prot, key_added)
    if knockdown and rna is not None and prot is not None:
        entry["info"]["knockdown_estimator"] = _write_knockdown(model, run, mdata, rna, prot,
                                                                key_added, estimator)
    val, predictions = _validation(validation, run)
    if val is not None:
        entry["validation"] = json.dumps(val)
    if predictions is not None:
        entry["predictions"] = predictions
    mdata.uns[key_added] = entry
