"""``cmcvae validate``: zero-shot validation of a fitted run against a perturbation screen."""

from __future__ import annotations

import time
from pathlib import Path

import mudata as md
import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    always_down_effects,
    check_perturbation_data,
    correlation_effects,
    random_effects,
    ridge_effects,
    validate,
    write_validation,
)
from cmcvae.io import check_files, read_input, record_files
from cmcvae.model import CMCVAE
from cmcvae.pp import read_protein_map
from cmcvae.tl._ensemble import is_ensemble, over_seeds, seed_runs
from cmcvae.tl._fitted import load_fitted, training_counts

#: the files validate writes in a run folder
_WRITES = ("validation.json", "predictions.csv")


@fill_docs
def validate_run(run: str | Path, perturb: str | Path | md.MuData, *, data=None,
                 control_label: str | list[str] = "control", perturbation_key: str = "perturbation",
                 truth_effects: str | Path | pd.DataFrame | None = None,
                 knockdown_filter: bool = True, seed: int = 0, fdr: float = 0.05,
                 min_cells: int = 10, test: str = "welch",
                 protein_map: str | Path | pd.DataFrame | None = None,
                 perturb_protein: str | Path | None = None,
                 condition_key: str | None = None) -> dict:
    """Zero-shot validation of a fitted run against a perturbation screen.

    Scores the model's predicted knockdown effects next to the correlation, ridge, random and
    "every knockdown lowers every protein" baselines (and the oracle when ``truth_effects`` is
    given); writes ``validation.json`` and ``predictions.csv`` into the run folder.

    The perturbation data's columns and control cells are checked before the baselines are
    computed, so a wrong label or key fails fast.

    Parameters
    ----------
    {run}
    perturb
        The screen: a MuData, an ``.h5mu`` file, or, with ``perturb_protein``, the RNA file of
        an RNA + protein pair (scPerturb's ``*_RNA.h5ad`` + ``*_protein.h5ad``).
    {training_data}
    control_label
        Label of the control cells in ``perturbation_key``; a list for several labels.
    perturbation_key
        ``.obs`` column naming each cell's targeted gene.
    truth_effects
        A simulation's ``truth/knockdown_effects.csv`` (or the table): adds the oracle.
    knockdown_filter
        Drop perturbations whose target transcript did not drop.
    {seed}
    fdr, min_cells, test
        Benjamini-Hochberg FDR of an observed effect, minimum cells per perturbation (and
        control cells per condition) and the test (``"welch"`` or ``"mannwhitney"``).
    {protein_map}
        Default: the map the run was fitted with.
    perturb_protein
        Protein ``.h5ad`` of an RNA + protein pair.
    condition_key
        ``.obs`` column with each cell's condition: each perturbed cell is compared with the
        control cells of its own condition (:func:`observed_effects`).

    Returns
    -------
    dict
        The content of ``validation.json``: one entry of scores per method (``methods``),
        ``n_perturbations``, ``n_pairs``, ``filtering`` … and ``seconds``.
    """
    run = Path(run)
    inputs = {label: value for label, value in (
        ("--perturb", perturb), ("--perturb-protein", perturb_protein), ("--truth", truth_effects),
        ("--protein-map", protein_map), ("--data", data)) if isinstance(value, (str, Path))}
    if is_ensemble(run):
        if not isinstance(perturb, md.MuData):  # read the screen once for all seeds
            perturb = read_input(perturb, perturb_protein)
            perturb_protein = None
        kwargs = dict(data=data, control_label=control_label, perturbation_key=perturbation_key,
                      truth_effects=truth_effects, knockdown_filter=knockdown_filter, seed=seed,
                      fdr=fdr, min_cells=min_cells, test=test, protein_map=protein_map,
                      condition_key=condition_key)
        return over_seeds(run, seed_runs(run), "validation.json",
                          lambda r: validate_run(r, perturb, **kwargs), command="validate",
                          inputs=inputs)
    check_files(run, _WRITES, command="validate", inputs=inputs, what="run folder")
    model = load_fitted(run)
    pert = _read_screen(perturb, perturb_protein)
    check_perturbation_data(pert, control_label=control_label, perturbation_key=perturbation_key,
                            condition_key=condition_key)
    rna_counts, prot_counts = training_counts(run, data, model)
    t0 = time.perf_counter()
    effects = _predicted_effects(model, rna_counts, prot_counts, truth_effects, seed)
    pmap = read_protein_map(protein_map) if isinstance(protein_map, (str, Path)) else protein_map
    results, predictions = validate(effects, pert, control_label=control_label,
                                    perturbation_key=perturbation_key,
                                    condition_key=condition_key, genes=model.genes,
                                    proteins=model.proteins, knockdown_filter=knockdown_filter,
                                    fdr=fdr, min_cells=min_cells, test=test,
                                    protein_map=model.pairs if pmap is None else pmap)
    results["seconds"] = time.perf_counter() - t0
    record_files(run, _WRITES, "validate")
    write_validation(results, predictions, run)
    return results


def _read_screen(perturb: str | Path | md.MuData, perturb_protein: str | Path | None) -> md.MuData:
    """The perturbation screen as one MuData (from a MuData, an ``.h5mu`` or an RNA/protein pair)."""
    if not isinstance(perturb, md.MuData):
        return read_input(perturb, perturb_protein)
    if perturb_protein is not None:
        raise CMCVAEInputError("perturb_protein is only for a pair of files; the perturbation "
                               "data is already a MuData.")
    return perturb


def _predicted_effects(model: CMCVAE, rna_counts, prot_counts,
                       truth_effects: str | Path | pd.DataFrame | None,
                       seed: int) -> dict[str, pd.DataFrame]:
    """Knockdown effects (genes × proteins) of the model, the baselines and, given a truth, the oracle."""
    effects: dict[str, pd.DataFrame] = {"cmcvae": model.predict_knockdown()}
    effects["correlation"] = correlation_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["ridge"] = ridge_effects(rna_counts, prot_counts, model.genes, model.proteins)
    effects["random"] = random_effects(model.genes, model.proteins, seed=seed)
    effects["always_down"] = always_down_effects(model.genes, model.proteins)
    if truth_effects is not None:
        effects["oracle"] = knockdown_truth_matrix(truth_effects).reindex(
            index=model.genes, columns=model.proteins).fillna(0.0)
    return effects


def knockdown_truth_matrix(truth: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Oracle effect matrix (genes × proteins) from ``truth/knockdown_effects.csv``.

    Parameters
    ----------
    truth
        The file or its table, with columns ``perturbation``, ``protein`` and ``true_effect``.

    Returns
    -------
    pandas.DataFrame
        Mean true effect per knocked-down gene (rows) and protein (columns).
    """
    df = pd.read_csv(truth) if isinstance(truth, (str, Path)) else truth
    need = {"perturbation", "protein", "true_effect"}
    if not need <= set(df.columns):
        raise CMCVAEInputError(f"Truth effects need columns {sorted(need)}; found {list(df.columns)}.")
    return df.pivot_table(index="perturbation", columns="protein", values="true_effect", aggfunc="mean")


def direction_accuracy_vs_truth(pairs: pd.DataFrame, truth_pairs: pd.DataFrame) -> dict[str, float]:
    """Matched-pair direction calls (RNA→protein if the forward effect is larger) vs the truth.

    Parameters
    ----------
    pairs
        The model's matched pairs (:meth:`CMCVAE.get_matched_pairs`): ``protein``, ``gene``,
        ``rna_to_protein``, ``protein_to_rna`` and optionally the ``*_total`` effects.
    truth_pairs
        A simulation's ``truth/matched_pairs.csv``: ``protein``, ``gene`` and ``direction``
        (``forward`` / ``reversed``; other directions are not scored).

    Returns
    -------
    dict
        ``direct`` (and ``total`` when the total effects are given): the fraction of pairs
        called in the true direction; ``n_pairs``: the pairs scored.
    """
    merged = pairs.merge(truth_pairs, on=["protein", "gene"])
    merged = merged[merged["direction"].isin(["forward", "reversed"])]
    if merged.empty:
        return {"direct": float("nan"), "total": float("nan"), "n_pairs": 0}
    truth_fwd = merged["direction"].eq("forward").to_numpy()
    direct = (merged["rna_to_protein"] > merged["protein_to_rna"]).to_numpy()
    out = {"direct": float((direct == truth_fwd).mean()), "n_pairs": int(len(merged))}
    if "rna_to_protein_total" in merged:
        total = (merged["rna_to_protein_total"] > merged["protein_to_rna_total"]).to_numpy()
        out["total"] = float((total == truth_fwd).mean())
    return out
