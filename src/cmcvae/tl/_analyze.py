"""``cmcvae analyze``: the evidence analyses of a fitted run → ``analysis.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    association_networks,
    central_dogma,
    recovery_scores,
    tf_target_asymmetry,
    tf_target_edges,
)
from cmcvae.io import check_files, record_files, write_json
from cmcvae.model import CMCVAE
from cmcvae.pp import read_network
from cmcvae.tl._ensemble import is_ensemble, over_seeds, seed_runs
from cmcvae.tl._fitted import load_fitted, training_counts

_KINDS = ("direct", "total")


@fill_docs
def analyze_run(run: str | Path, *, truth: str | Path | None = None,
                grn: str | Path | pd.DataFrame | None = None, data=None, seed: int = 0) -> dict:
    """The evidence analyses of a fitted run → ``analysis.json`` and ``tf_target_edges.csv``.

    1. Central-dogma asymmetry of the matched protein–gene pairs (direct and total effects)
       against a random-pair null (:func:`~cmcvae.evaluate._asymmetry.central_dogma`).
    2. TF→target asymmetry and sign agreement on the GRN prior edges held out from training
       (``priors/grn_holdout.csv``), separately on the training edges (labelled ``train``) and,
       with ``grn``, on an external network (:mod:`cmcvae.evaluate._tf_target`).
    3. With ``truth`` (a simulation's ``truth/`` folder or one of its files): per-pair direction
       accuracy and recovery AUROC/AUPRC per network, excluding training prior edges, next to
       correlation and partial-correlation baselines on the training cells
       (:mod:`cmcvae.evaluate._recovery`).

    Parameters
    ----------
    {run}
    truth
        A simulation's ``truth/`` folder (or a file in it).
    grn
        An external TF→target network never used in training (path or data frame).
    {training_data}
        Only read for the recovery baselines (with ``truth``).
    {seed}

    Returns
    -------
    dict
        The content of ``analysis.json``: ``central_dogma`` and ``tf_target`` per kind of
        effect, and ``recovery`` with ``truth``.
    """
    run = Path(run)
    inputs = {label: value for label, value in (("--truth", truth), ("--grn", grn), ("--data", data))
              if isinstance(value, (str, Path))}
    if is_ensemble(run):
        return over_seeds(run, seed_runs(run), "analysis.json",
                          lambda r: analyze_run(r, truth=truth, grn=grn, data=data, seed=seed),
                          command="analyze", inputs=inputs)
    check_files(run, ("analysis.json", "tf_target_edges.csv"), command="analyze", inputs=inputs,
                what="run folder")
    model = load_fitted(run)
    truth_edges = truth_pairs = None
    if truth is not None:
        e, p = _truth_files(truth)
        truth_edges = pd.read_csv(e) if e is not None else None
        truth_pairs = pd.read_csv(p, dtype=str) if p is not None else None
    nets = {kind: model.get_feature_networks(kind) for kind in _KINDS}
    result: dict[str, Any] = {"central_dogma": _central_dogma(model, nets, truth_pairs, seed)}
    splits = {"holdout": _prior_split(run, "grn_holdout.csv"),
              "train": _prior_split(run, "grn_train.csv")}
    if grn is not None:
        splits["external"] = read_network(grn, "GRN") if isinstance(grn, (str, Path)) else grn
    result["tf_target"] = _tf_target(run, nets, splits, seed)
    if truth_edges is not None:
        exclude = pd.concat([f for f in (splits["train"], _prior_split(run, "ppi_train.csv"))
                             if f is not None] or [_no_edges()])
        result["recovery"] = _recovery(run, model, nets, truth_edges, exclude, data, seed)
    record_files(run, ["analysis.json"], "analyze")
    write_json(run / "analysis.json", result)
    return result


def _central_dogma(model: CMCVAE, nets: dict, truth_pairs: pd.DataFrame | None,
                   seed: int) -> dict[str, Any]:
    """RNA→protein vs protein→RNA of the matched pairs, per kind of effect."""
    if not model.genes or not model.proteins:
        only = "RNA" if model.genes else "protein"
        return {kind: {"n_pairs": 0, "call": "none", "skipped": True,
                       "message": f"single-modality run ({only} only): no protein–gene pairs, "
                                  "the central-dogma asymmetry does not apply"} for kind in _KINDS}
    pairs = model.get_matched_pairs()
    if len(pairs) < 3:
        return {kind: {"n_pairs": int(len(pairs)), "call": "none",
                       "message": "fewer than 3 matched pairs"} for kind in _KINDS}
    return {kind: central_dogma(pairs, nets[kind], kind=kind, truth=truth_pairs, seed=seed)
            for kind in _KINDS}


def _tf_target(run: Path, nets: dict, splits: dict[str, pd.DataFrame | None],
               seed: int) -> dict[str, Any]:
    """TF→target asymmetry per prior split; writes the scored edges to ``tf_target_edges.csv``."""
    all_prior = pd.concat([f for f in splits.values() if f is not None] or [_no_edges()],
                          ignore_index=True)
    tables, result = [], {}
    for split, frame in splits.items():
        if frame is None:
            continue
        table = tf_target_edges(frame, nets["direct"]["rna_rna"], nets["total"]["rna_rna"], split=split)
        tables.append(table)
        result[split] = {
            kind: tf_target_asymmetry(table, nets[kind], kind=kind, exclude=all_prior, seed=seed)
            for kind in _KINDS}
        result[split]["n_prior_edges"] = table.attrs.get("n_input", len(frame))
    if tables:
        record_files(run, ["tf_target_edges.csv"], "analyze")
        pd.concat(tables, ignore_index=True).to_csv(run / "tf_target_edges.csv", index=False)
    return result


def _recovery(run: Path, model: CMCVAE, nets: dict, truth_edges: pd.DataFrame,
              exclude: pd.DataFrame, data, seed: int) -> dict[str, Any]:
    """Recovery of the true networks by the model and, on the training cells, the baselines."""
    rec: dict[str, Any] = {kind: recovery_scores(nets[kind], truth_edges, exclude=exclude)
                           for kind in _KINDS}
    try:
        rna_counts, prot_counts = training_counts(run, data, model)
    except CMCVAEInputError as err:
        rec["baselines_skipped"] = str(err)
        return rec
    if rna_counts is None or prot_counts is None:  # the baselines relate RNA and protein
        rec["baselines_skipped"] = "single-modality run: the association baselines need RNA and protein."
        return rec
    for method in ("correlation", "partial_correlation"):
        assoc = association_networks(rna_counts, prot_counts, model.genes, model.proteins,
                                     method=method, seed=seed)
        rec[method] = recovery_scores(assoc, truth_edges, exclude=exclude)
    return rec


def _no_edges() -> pd.DataFrame:
    return pd.DataFrame(columns=["source", "target"])


def _truth_files(truth: str | Path) -> tuple[Path | None, Path | None]:
    """``(edges.csv, matched_pairs.csv)`` of a simulation's truth folder (or one of its files)."""
    truth = Path(truth)
    folder = truth if truth.is_dir() else truth.parent
    if not truth.exists():
        raise CMCVAEInputError(f"Truth {truth} does not exist; pass a simulation's truth/ folder.")
    edges, pairs = folder / "edges.csv", folder / "matched_pairs.csv"
    if not edges.exists() and not pairs.exists():
        raise CMCVAEInputError(
            f"{folder} holds neither edges.csv nor matched_pairs.csv; pass a simulation's truth/ folder."
        )
    return (edges if edges.exists() else None), (pairs if pairs.exists() else None)


def _prior_split(run: Path, name: str) -> pd.DataFrame | None:
    """The run's ``priors/<name>`` (``None`` when absent or empty)."""
    path = run / "priors" / name
    return read_network(path, name) if path.exists() and path.stat().st_size > 0 else None
