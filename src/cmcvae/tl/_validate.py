"""``cmcvae validate``: zero-shot validation of a fitted run against a perturbation screen."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import pandas as pd

from cmcvae._constants import PROT_MOD
from cmcvae._docs import fill_docs
from cmcvae._errors import CMCVAEInputError
from cmcvae.effects import ESTIMATORS
from cmcvae.evaluate import (
    READOUTS,
    VALIDATION_FILES,
    check_perturbation_data,
    validate,
    write_validation,
)
from cmcvae.io import check_files, read_input, record_files
from cmcvae.model import CMCVAE
from cmcvae.pp import read_protein_map
from cmcvae.tl._effect_methods import effect_matrices, screen_targets
from cmcvae.tl._effects import RunEffects
from cmcvae.tl._ensemble import is_ensemble, over_seeds, seed_runs
from cmcvae.tl._fitted import json_or_empty, load_fitted, read_training_data, training_counts
from cmcvae.tl._modality import read_fit_data
from cmcvae.tl._screen_fit import (
    drop_trained,
    held_out_column,
    n_trained_scored,
    trained_perturbations,
)

#: the values of ``--readout``: one read-out, or both (proteins first)
READOUT_CHOICES = ("protein", "rna", "both")
#: the files validate writes in a run folder, per read-out
_WRITES = {readout: VALIDATION_FILES[readout] for readout in READOUTS}


def validate_writes(readout: str) -> tuple[str, ...]:
    """The files ``cmcvae validate --readout READOUT`` writes in a run folder."""
    return tuple(name for r in _readouts(readout) for name in _WRITES[r])


@fill_docs
def validate_run(run: str | Path, perturb: str | Path | md.MuData | ad.AnnData, *, data=None,
                 control_label: str | list[str] = "control", perturbation_key: str = "perturbation",
                 truth_effects: str | Path | pd.DataFrame | None = None,
                 knockdown_filter: bool = True, seed: int = 0, fdr: float = 0.05,
                 min_cells: int = 10, test: str = "welch",
                 protein_map: str | Path | pd.DataFrame | None = None,
                 perturb_protein: str | Path | None = None,
                 condition_key: str | None = None, readout: str = "protein",
                 estimator: str | None = None,
                 regulators: str | Path | list[str] | None = None,
                 include_trained: bool = False) -> dict:
    """Zero-shot validation of a fitted run against a perturbation screen.

    Scores the model's predicted knockdown effects next to the correlation, ridge, random and
    "every knockdown lowers every read-out" baselines (and the oracle when ``truth_effects`` is
    given); writes ``validation.json`` and ``predictions.csv`` into the run folder (for the gene
    read-out ``validation_rna.json`` and ``predictions_rna.csv``).

    The perturbation data's columns and control cells are checked before the baselines are
    computed, so a wrong label or key fails fast.

    Parameters
    ----------
    {run}
    perturb
        The screen: a MuData, an ``.h5mu`` file, or, with ``perturb_protein``, the RNA file of
        an RNA + protein pair (scPerturb's ``*_RNA.h5ad`` + ``*_protein.h5ad``). For
        ``readout="rna"`` also an RNA-only ``.h5ad`` / AnnData (counts in X or
        ``layers["counts"]``) or an RNA-only ``.h5mu``.
    {training_data}
    control_label
        Label of the control cells in ``perturbation_key``; a list for several labels.
    perturbation_key
        ``.obs`` column naming each cell's targeted gene.
    truth_effects
        A simulation's ``truth/knockdown_effects.csv`` (or the table): adds the oracle. For the
        gene read-out ``knockdown_effects_rna.csv`` beside it is used (no oracle without it).
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
    readout
        ``"protein"`` (the default: proteins of the screen's panel), ``"rna"`` (genes; the
        target's own transcript is reported as knockdown efficiency, not scored) or ``"both"``.
    estimator
        The effect estimator of the primary method ``cmcvae`` (a key of
        :data:`cmcvae.effects.ESTIMATORS`; default :data:`cmcvae.effects.DEFAULT_ESTIMATOR`, or
        ``correlation`` when the run has no regulators to adjust for). The other estimators
        the run can use are scored beside it under their own names.
    regulators
        A TF list (file or names) for the adjustment sets, instead of the GRN prior's sources.
    include_trained
        For a run fitted on a screen (``cmcvae fit --perturbation-key``): also score the
        perturbations it was trained on (``run.json`` ``interventions``). By default their cells
        are dropped from the screen first and listed in
        ``filtering["trained_perturbations_excluded"]``; with ``include_trained`` the
        predictions table gets a boolean ``held_out`` column (False for a trained perturbation)
        and the results ``n_trained_scored``.

    Returns
    -------
    dict
        The content of ``validation.json`` (``validation_rna.json`` for ``readout="rna"``): one
        entry of scores per method (``methods``), ``n_perturbations``, ``n_pairs``,
        ``filtering`` … and ``seconds``. For ``readout="both"``: ``{{"protein": …, "rna": …}}``.

    Raises
    ------
    CMCVAEInputError
        Among others: the protein read-out of an RNA-only screen or of an RNA-only run (use
        ``readout="rna"``); a screen whose every perturbation the run was trained on (without
        ``include_trained``).
    """
    run = Path(run)
    readouts = _readouts(readout)
    inputs = {label: value for label, value in (
        ("--perturb", perturb), ("--perturb-protein", perturb_protein), ("--truth", truth_effects),
        ("--protein-map", protein_map), ("--data", data)) if isinstance(value, (str, Path))}
    if is_ensemble(run):
        if not isinstance(perturb, (md.MuData, ad.AnnData)):  # read the screen once for all seeds
            perturb = _read_screen(perturb, perturb_protein, readouts)
            perturb_protein = None
        kwargs = dict(data=data, control_label=control_label, perturbation_key=perturbation_key,
                      truth_effects=truth_effects, knockdown_filter=knockdown_filter, seed=seed,
                      fdr=fdr, min_cells=min_cells, test=test, protein_map=protein_map,
                      condition_key=condition_key, estimator=estimator, regulators=regulators,
                      include_trained=include_trained)
        out = {r: over_seeds(run, seed_runs(run), _WRITES[r][0],
                             lambda folder, r=r: validate_run(folder, perturb, readout=r, **kwargs),
                             command="validate", inputs=inputs)
               for r in readouts}
        return out[readout] if readout in out else out
    check_files(run, validate_writes(readout), command="validate", inputs=inputs, what="run folder")
    model = load_fitted(run)
    _check_model(model, run, readouts)
    pert = _read_screen(perturb, perturb_protein, readouts)
    check_perturbation_data(pert, control_label=control_label, perturbation_key=perturbation_key,
                            condition_key=condition_key,
                            readout="protein" if "protein" in readouts else "rna")
    trained, excluded, pert = _trained_in_screen(run, pert, perturbation_key, control_label,
                                                 include_trained)
    if estimator is not None and estimator not in ESTIMATORS:
        raise CMCVAEInputError(f"Unknown --estimator {estimator!r}; choose one of "
                               f"{', '.join(ESTIMATORS)}.")
    data = read_training_data(run, data, model)  # once: the counts and, for a screen, its cells
    rna_counts, prot_counts = training_counts(run, data, model)
    run_effects = RunEffects(run, data=data, regulators=regulators, model=model,
                             counts=(rna_counts, prot_counts))
    sources = screen_targets(pert, perturbation_key, model.genes)
    observed_kwargs = dict(control_label=control_label, perturbation_key=perturbation_key,
                           condition_key=condition_key, genes=model.genes,
                           knockdown_filter=knockdown_filter, fdr=fdr, min_cells=min_cells,
                           test=test)
    out = {}
    for r in readouts:
        t0 = time.perf_counter()
        effects = effect_matrices(run_effects, rna_counts, prot_counts, readout=r,
                                  truth_effects=truth_effects, seed=seed, estimator=estimator,
                                  sources=sources)
        kwargs = dict(observed_kwargs)
        if r == "protein":
            pmap = read_protein_map(protein_map) if isinstance(protein_map, (str, Path)) else protein_map
            kwargs.update(proteins=model.proteins, protein_map=model.pairs if pmap is None else pmap)
        results, predictions = validate(effects, pert, readout=r, **kwargs)
        if trained:
            predictions = _mark_trained(results, predictions, trained, excluded, include_trained)
        results["estimator"] = effects["cmcvae"].attrs.get("estimator")
        results["effects"] = run_effects.describe()
        if "stack" in effects:
            results["effects"]["stack"] = effects["stack"].attrs["stack"]
        results["seconds"] = time.perf_counter() - t0
        record_files(run, _WRITES[r], "validate")
        write_validation(results, predictions, run, readout=r)
        out[r] = results
    return out[readout] if readout in out else out


def _trained_in_screen(run: Path, pert, perturbation_key: str, control_label: str | list[str],
                       include_trained: bool) -> tuple[list[str], list[str], Any]:
    """The perturbations a screen fit was trained on, those of them dropped from the screen
    (none with ``include_trained``) and the screen without their cells."""
    trained = trained_perturbations(json_or_empty(run / "run.json"))
    if not trained or include_trained:
        return trained, [], pert
    controls = [control_label] if isinstance(control_label, str) else list(control_label)
    pert, excluded = drop_trained(pert, perturbation_key, trained, controls)
    return trained, excluded, pert


def _mark_trained(results: dict, predictions: pd.DataFrame, trained: list[str],
                  excluded: list[str], include_trained: bool) -> pd.DataFrame:
    """Record the trained perturbations left out (``filtering``) or, with ``include_trained``,
    how many were scored, and flag them in the predictions (``held_out``)."""
    results.setdefault("filtering", {})["trained_perturbations_excluded"] = list(excluded)
    if not include_trained:
        return predictions
    results["n_trained_scored"] = n_trained_scored(predictions, trained)
    return held_out_column(predictions, trained)


def _readouts(readout: str) -> list[str]:
    """The read-outs of ``--readout`` in the order they are validated (proteins first)."""
    if readout not in READOUT_CHOICES:
        raise CMCVAEInputError(
            f"--readout {readout!r} is not one of {', '.join(READOUT_CHOICES)}: pass protein (the "
            "screen's antibody panel), rna (its genes) or both."
        )
    return list(READOUTS) if readout == "both" else [readout]


def _check_model(model: CMCVAE, run: Path, readouts: list[str]) -> None:
    """Refuse a read-out the run does not predict (a single-modality fit), naming the fix."""
    if "protein" in readouts and not model.proteins:
        raise CMCVAEInputError(
            f"The run {run} was fitted on RNA only (cmcvae fit --modality rna): it predicts no "
            "protein, so the protein read-out cannot be validated. Use --readout rna "
            "(readout='rna') to score its predicted gene changes."
        )
    if "rna" in readouts and not model.genes:
        raise CMCVAEInputError(
            f"The run {run} was fitted on proteins only (cmcvae fit --modality protein): it "
            "predicts no gene changes and has no knockdown targets. Fit with RNA to validate the "
            "gene read-out."
        )


def _read_screen(perturb: str | Path | md.MuData | ad.AnnData, perturb_protein: str | Path | None,
                 readouts: list[str]) -> md.MuData | ad.AnnData:
    """The screen as one MuData (from a MuData, an ``.h5mu`` or an RNA/protein pair), or an
    RNA-only AnnData / MuData; a screen without proteins is refused for the protein read-out."""
    if isinstance(perturb, (md.MuData, ad.AnnData)):
        if perturb_protein is not None:
            raise CMCVAEInputError("perturb_protein is only for a pair of files; the perturbation "
                                   "data is already a MuData.")
        screen = perturb
    elif perturb_protein is not None:
        screen = read_input(perturb, perturb_protein)
    else:  # an RNA-only .h5ad or .h5mu is read as it is (read_input needs proteins)
        screen = read_fit_data(perturb, "rna", backed=False)
    if "protein" in readouts and (isinstance(screen, ad.AnnData) or PROT_MOD not in screen.mod):
        name = perturb if isinstance(perturb, (str, Path)) else "The perturbation data"
        raise CMCVAEInputError(
            f"The screen {name} holds RNA only (no protein modality {PROT_MOD!r}), so the protein "
            "read-out cannot be validated. Use --readout rna (readout='rna') to score gene "
            "read-outs, or give the screen's antibody counts with --perturb-protein."
        )
    return screen


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
