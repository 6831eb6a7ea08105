"""Public entry points :func:`simulate` and :func:`simulate_atlas`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.datasets._simulate._cells import _train_cells
from cmcvae.datasets._simulate._constants import _CONSTANTS, CONTROL_LABEL
from cmcvae.datasets._simulate._graph import _build_model, _Model, _total_effects
from cmcvae.datasets._simulate._result import SimulatedData
from cmcvae.datasets._simulate._screen import (
    _EFFECT_DRAWS,
    _choose_targets,
    _perturb_screen,
    _prior,
    _simulated_effects,
)
from cmcvae.datasets._simulate._spec import (
    _S_EFFECTS,
    _S_GRAPH,
    _S_MEASURE,
    _S_MECHANISM,
    _S_PERTURB,
    _S_PRIORS,
    _check_float,
    _check_int,
    _make_spec,
    _seed_sequences,
    _Spec,
)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, Path):
        return str(x)
    return x


def _draw_model(spec: _Spec, ss: list[np.random.SeedSequence]) -> _Model:
    """The SCM and its measurement parameters, drawn from their own seeded streams."""
    return _build_model(spec, np.random.default_rng(ss[_S_GRAPH]),
                        np.random.default_rng(ss[_S_MEASURE]),
                        np.random.default_rng(ss[_S_MECHANISM]))


def _matched_pairs(model: _Model) -> pd.DataFrame:
    """``protein,gene,direction``: one row per panel protein."""
    panel = [model.gene_names[g] for g in model.panel_genes]
    return pd.DataFrame({"protein": model.protein_names, "gene": panel,
                         "direction": model.directions})


def _model_params(spec: _Spec, model: _Model) -> dict[str, Any]:
    p = asdict(spec)
    p.update(
        n_tf=model.n_tf,
        n_hidden=model.n_hidden,
        n_feedback=model.n_feedback,
        protein_library_median=model.prot_library_median,
        n_edges={k: int(v) for k, v in model.truth["kind"].value_counts().sort_index().items()},
        cell_state_probs=model.state_probs,
        constants=_CONSTANTS,
        true_effect_method=("analytic" if model.regulation == "linear"
                            else f"monte_carlo_{_EFFECT_DRAWS}_draws"),
    )
    if spec.translation_efficiency_sd > 0:
        p["translation_efficiency"] = dict(zip(model.protein_names,
                                               model.translation_efficiency, strict=True))
    return p


def _knockdown_effects(model: _Model, targets: np.ndarray, knockdown_strength: float,
                       rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The true knockdown effects on proteins and on genes, in that order.

    Proteins: ``perturbation,protein,true_effect`` for every target × protein. Genes:
    ``perturbation,gene,true_effect`` for every target × gene other than the target itself
    (its own transcript is the knockdown, not a readout). Both are the shift of the latent
    (log-scale) level, in latent standard deviations: under linear regulation
    ``−knockdown_strength · T[g, ·]`` (analytic, ``rng`` unused); under saturating regulation
    the simulated mean shift (:func:`_simulated_effects`, one run for both blocks).
    """
    G, P = model.n_genes, model.n_proteins
    if not len(targets):
        T = np.zeros((0, G + P))
    elif model.regulation == "linear":
        T = -knockdown_strength * _total_effects(model, targets)[:, :G + P]
    else:
        T = _simulated_effects(model, targets, knockdown_strength, rng)
    names = np.asarray(model.gene_names, dtype=object)
    target_names = names[targets] if len(targets) else np.array([], dtype=object)
    protein = pd.DataFrame({
        "perturbation": np.repeat(target_names, P).astype(str),
        "protein": np.tile(np.asarray(model.protein_names, dtype=object), len(targets)).astype(str),
        "true_effect": T[:, G:G + P].ravel() + 0.0,
    })
    keep = np.ones((len(targets), G), dtype=bool)
    keep[np.arange(len(targets)), targets] = False
    rows, cols = np.nonzero(keep)
    rna = pd.DataFrame({
        "perturbation": target_names[rows].astype(str),
        "gene": names[cols].astype(str),
        "true_effect": T[rows, cols] + 0.0,
    })
    return protein, rna


def _draw_priors(spec: _Spec, model: _Model, prior_fraction: float, prior_decoy_fraction: float,
                 rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The TF → target (GRN) and protein → protein (PPI) priors, in that order from ``rng``."""
    truth = model.truth
    grn_prior = _prior(truth[truth["kind"] == "tf_target"], model.gene_names[:model.n_tf],
                       model.gene_names, prior_fraction, prior_decoy_fraction,
                       spec.positive_fraction, rng)
    ppi_prior = _prior(truth[truth["kind"] == "protein_protein"], model.protein_names,
                       model.protein_names, prior_fraction, prior_decoy_fraction,
                       spec.positive_fraction, rng)
    return grn_prior, ppi_prior


def simulate(
    n_cells: int = 20_000,
    n_genes: int = 500,
    n_proteins: int = 40,
    n_donors: int = 8,
    *,
    regime: str = "forward",
    seed: int = 0,
    n_perturbations: int = 30,
    n_perturb_donors: int = 2,
    cells_per_perturbation: int = 100,
    n_control_cells: int = 1500,
    n_cell_states: int = 4,
    tf_fraction: float = 0.1,
    translation_strength: float = 0.7,
    n_feedback: int | None = None,
    prior_fraction: float = 0.5,
    prior_decoy_fraction: float = 0.2,
    knockdown_strength: float = 2.0,
    ppi_per_protein: float = 1.0,
    positive_fraction: float = 0.7,
    cell_state_shift: float = 1.0,
    rna_library_median: float = 2500.0,
    protein_library_median: float | None = None,
    donor_sd: float = 0.25,
    ambient_fraction: float = 0.1,
    chunk_size: int = 50_000,
    regulation: str = "linear",
    saturation_scale: float = 1.0,
    translation_efficiency_sd: float = 0.0,
) -> SimulatedData:
    """Simulate CITE-seq training data and a perturbation screen with a known causal graph.

    Parameters
    ----------
    n_cells
        Training cells.
    n_genes
        Genes (TFs ``TF001``… first, then ``G0001``…).
    n_proteins
        Panel proteins ``ADT_<gene>``, each encoded by a distinct gene (≤ ``n_genes − 2``).
    n_donors
        Training donors ``D00``, ``D01``… (unequal sizes, own cell-state mixtures).
    regime
        Matched-pair direction, one of :data:`REGIMES`.
    seed
        Seed of every random draw; the same seed gives bit-identical output.
    n_perturbations
        Knocked-down genes in the screen (about half encode panel proteins, the rest are TFs
        or genes with protein descendants); at most ``n_genes``.
    n_perturb_donors
        Donors of the screen (``P00``, ``P01``…), none of them in the training set.
    cells_per_perturbation
        Screen cells per knocked-down gene.
    n_control_cells
        Control cells of the screen (``obs["perturbation"] == "control"``).
    n_cell_states
        Cell-state programmes (soft interventions on TFs and a few proteins).
    tf_fraction
        Fraction of genes that are TFs.
    translation_strength
        Fraction of a protein's latent variance explained by its gene (forward), of the gene's
        variance explained by its protein (reversed), or of both explained by their hidden
        factor (confounded); in (0, 1).
    n_feedback
        Protein → RNA feedback edges; default ``n_proteins // 5``.
    prior_fraction
        Fraction of the true TF → target and protein → protein edges put in the priors.
    prior_decoy_fraction
        Decoy (non-)edges added to each prior, as a fraction of its true edges.
    knockdown_strength
        Shift of a knocked-down gene's exogenous term, in latent standard deviations.
    ppi_per_protein
        Protein → protein edges per protein (on average).
    positive_fraction
        Fraction of activating (positive) regulatory edges.
    cell_state_shift
        Scale of the cell-state shifts of exogenous means (0 switches states off).
    rna_library_median
        Median RNA UMIs per cell over the simulated genes.
    protein_library_median
        Median protein counts per cell before ambient background; default ``60 · n_proteins``.
    donor_sd
        Standard deviation of the per-donor log-mean offsets of every gene and protein.
    ambient_fraction
        Expected ambient protein counts per cell as a fraction of its protein library.
    chunk_size
        Cells generated per random stream (see :func:`simulate_atlas`).
    regulation
        ``"linear"`` (default): ``v = Bᵀv + e``. ``"saturating"``: each node's parent
        contribution is saturated, ``v = s·tanh(Bᵀv / s) + e`` (``s = saturation_scale``), in
        the training cells and in the screen alike; the true effects are then simulated
        (mean latent shift over many draws), not ``(I − B)^{-1}``.
    saturation_scale
        Bound ``s`` of a saturated parent contribution (latent standard deviations; smaller
        is more nonlinear); used only with ``regulation="saturating"``.
    translation_efficiency_sd
        Log-scale standard deviation of per-protein translation efficiencies (lognormal,
        median 1) multiplying each forward gene → protein weight; 0 (default) switches them
        off. Drawn from their own stream, so the rest of the model of a seed is unchanged.

    Returns
    -------
    The :class:`SimulatedData`; ``.write(out)`` saves it in the docs/design.md §3 layout.

    Raises
    ------
    CMCVAEInputError
        If an argument is out of range.
    """
    spec = _make_spec(n_genes, n_proteins, regime, n_cell_states, tf_fraction,
                      translation_strength, n_feedback, ppi_per_protein, positive_fraction,
                      cell_state_shift, rna_library_median, protein_library_median, donor_sd,
                      ambient_fraction, regulation=regulation, saturation_scale=saturation_scale,
                      translation_efficiency_sd=translation_efficiency_sd)
    n_cells = _check_int("n_cells", n_cells, 1)
    n_donors = _check_int("n_donors", n_donors, 1)
    n_perturbations = _check_int("n_perturbations", n_perturbations, 0)
    if n_perturbations > spec.n_genes:
        raise CMCVAEInputError(
            f"n_perturbations ({n_perturbations}) exceeds n_genes ({spec.n_genes}); lower it."
        )
    n_perturb_donors = _check_int("n_perturb_donors", n_perturb_donors, 1)
    cells_per_perturbation = _check_int("cells_per_perturbation", cells_per_perturbation, 1)
    n_control_cells = _check_int("n_control_cells", n_control_cells, 0)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    prior_fraction = _check_float("prior_fraction", prior_fraction, 0.0, 1.0)
    prior_decoy_fraction = _check_float("prior_decoy_fraction", prior_decoy_fraction, 0.0, 10.0)
    knockdown_strength = _check_float("knockdown_strength", knockdown_strength, 0.0, 1e3)
    ss = _seed_sequences(seed)

    model = _draw_model(spec, ss)
    train = _train_cells(model, n_cells, n_donors, chunk_size, ss)

    rng_p = np.random.default_rng(ss[_S_PERTURB])
    targets = _choose_targets(model, n_perturbations, rng_p)
    perturb = _perturb_screen(model, targets, n_perturb_donors, cells_per_perturbation,
                              n_control_cells, knockdown_strength, rng_p)
    grn_prior, ppi_prior = _draw_priors(spec, model, prior_fraction, prior_decoy_fraction,
                                        np.random.default_rng(ss[_S_PRIORS]))
    effects, effects_rna = _knockdown_effects(model, targets, knockdown_strength,
                                              np.random.default_rng(ss[_S_EFFECTS]))
    panel = [model.gene_names[g] for g in model.panel_genes]
    params = _model_params(spec, model)
    params.update(
        n_cells=n_cells,
        n_donors=n_donors,
        seed=int(seed),
        n_perturbations=n_perturbations,
        n_perturb_donors=n_perturb_donors,
        cells_per_perturbation=cells_per_perturbation,
        n_control_cells=n_control_cells,
        prior_fraction=prior_fraction,
        prior_decoy_fraction=prior_decoy_fraction,
        knockdown_strength=knockdown_strength,
        chunk_size=chunk_size,
        control_label=CONTROL_LABEL,
        perturbation_targets=[model.gene_names[g] for g in targets],
    )
    return SimulatedData(
        mdata=train,
        perturb=perturb,
        grn_prior=grn_prior,
        ppi_prior=ppi_prior,
        protein_map=pd.DataFrame({"protein": model.protein_names, "gene": panel}),
        truth=model.truth.reset_index(drop=True),
        matched_pairs=_matched_pairs(model),
        knockdown_effects=effects,
        knockdown_effects_rna=effects_rna,
        params=_jsonable(params),
    )


def simulate_atlas(
    n_cells: int = 809_130,
    n_genes: int = 2000,
    n_proteins: int = 144,
    n_donors: int = 138,
    *,
    chunk_size: int = 50_000,
    seed: int = 0,
    regime: str = "forward",
    n_cell_states: int = 4,
    tf_fraction: float = 0.1,
    translation_strength: float = 0.7,
    n_feedback: int | None = None,
    ppi_per_protein: float = 1.0,
    positive_fraction: float = 0.7,
    cell_state_shift: float = 1.0,
    rna_library_median: float = 2500.0,
    protein_library_median: float | None = None,
    donor_sd: float = 0.25,
    ambient_fraction: float = 0.1,
    regulation: str = "linear",
    saturation_scale: float = 1.0,
    translation_efficiency_sd: float = 0.0,
) -> md.MuData:
    """Atlas-scale training data (no perturbation screen), generated chunk by chunk.

    The graph is drawn once; cells are generated ``chunk_size`` at a time (each chunk from its
    own seeded stream, internally in row blocks of bounded size) and the RNA is assembled as a
    CSR matrix from per-chunk CSR blocks, so no dense cells × genes matrix is ever held. With
    the same seed, sizes, chunk size and model arguments, the cells equal the training cells
    of :func:`simulate`.

    Parameters
    ----------
    n_cells, n_genes, n_proteins, n_donors
        Sizes (defaults: 809,130 cells × 2,000 genes × 144 proteins, 138 donors).
    chunk_size
        Cells per chunk.
    seed
        Random seed.
    regime, n_cell_states, tf_fraction, translation_strength, n_feedback, ppi_per_protein, \
positive_fraction, cell_state_shift, rna_library_median, protein_library_median, donor_sd, \
ambient_fraction, regulation, saturation_scale, translation_efficiency_sd
        As in :func:`simulate`.

    Returns
    -------
    MuData with modalities ``"rna"`` (CSR float32 counts) and ``"prot"`` (dense float32
    counts); ``uns["simulation_params"]`` (JSON string), ``uns["truth_edges"]`` and
    ``uns["matched_pairs"]`` (DataFrames) record the ground truth.

    Raises
    ------
    CMCVAEInputError
        If an argument is out of range.
    """
    spec = _make_spec(n_genes, n_proteins, regime, n_cell_states, tf_fraction,
                      translation_strength, n_feedback, ppi_per_protein, positive_fraction,
                      cell_state_shift, rna_library_median, protein_library_median, donor_sd,
                      ambient_fraction, regulation=regulation, saturation_scale=saturation_scale,
                      translation_efficiency_sd=translation_efficiency_sd)
    n_cells = _check_int("n_cells", n_cells, 1)
    n_donors = _check_int("n_donors", n_donors, 1)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    ss = _seed_sequences(seed)
    model = _draw_model(spec, ss)
    mdata = _train_cells(model, n_cells, n_donors, chunk_size, ss)
    params = _model_params(spec, model)
    params.update(n_cells=n_cells, n_donors=n_donors, seed=int(seed), chunk_size=chunk_size)
    mdata.uns["simulation_params"] = json.dumps(_jsonable(params))
    mdata.uns["truth_edges"] = model.truth.reset_index(drop=True)
    mdata.uns["matched_pairs"] = _matched_pairs(model)
    return mdata
