"""Knockdown effect estimators (a registry with metadata) and :func:`estimate_effects`.

Every estimator maps the training moments (:class:`FeatureStats`) and what the run knows (the
GRN prior, its regulators, the fitted graph, the model) to the predicted change of each readout
when each source gene is knocked down, with a standard error. The definitions are in
``docs/model.md`` ("Effect estimators").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from cmcvae._constants import RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.effects._adjust import adjusted_effects
from cmcvae.effects._ida import gene_graph, ida_effects
from cmcvae.effects._interventions import (
    InterventionStats,
    linear_effects,
    mean_effects,
    orient_by_screen,
    screen_graph,
)
from cmcvae.effects._ridge import ridge_coefficients
from cmcvae.effects._sets import check_regulators, parent_sets, prior_graph, regulator_sets
from cmcvae.effects._stack import (
    MIN_TRAINED,
    SIGNIFICANT_Z,
    combine,
    stack_weights,
    trained_examples,
)
from cmcvae.effects._stats import FeatureStats

__all__ = ["DEFAULT_ESTIMATOR", "ESTIMATORS", "SCREEN_ESTIMATORS", "EffectEstimate", "Estimator",
           "default_estimator", "estimate_effects", "gene_positions"]


@dataclass(frozen=True)
class Estimator:
    """One effect estimator: its name, a one-line summary, what it needs and its reference."""

    name: str
    summary: str
    needs: tuple[str, ...]
    reference: str
    fn: Callable[..., tuple[np.ndarray, np.ndarray, dict]] = field(repr=False)


@dataclass
class EffectEstimate:
    """Predicted knockdown effects of one estimator.

    Attributes
    ----------
    method
        The estimator's name.
    effect
        Sources (knocked-down genes) × readouts: the predicted change of the readout, in its
        standard deviations, when the source drops by one standard deviation (the sign is the
        predicted direction). NaN where no estimate exists (a readout that is the source).
    se
        Standard errors of ``effect`` (NaN where the estimator has none).
    info
        What was used (e.g. the number of regulators, the ridge penalty).
    modality
        ``rna`` / ``protein`` per readout column.
    """

    method: str
    effect: pd.DataFrame
    se: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    modality: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Long table ``perturbation,readout,modality,predicted_effect,se,z,pvalue``, one row per
        (knockdown, readout) with an estimate; ``pvalue`` is two-sided normal, NaN without SE."""
        n_src, n_rd = self.effect.shape
        effect = self.effect.to_numpy(dtype=float).ravel()
        se = self.se.to_numpy(dtype=float).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            z = effect / se
        long = pd.DataFrame({
            "perturbation": np.repeat(self.effect.index.to_numpy(dtype=object), n_rd),
            "readout": np.tile(self.effect.columns.to_numpy(dtype=object), n_src),
            "modality": np.tile(np.asarray(self.modality or ["rna"] * n_rd, dtype=object), n_src),
            "predicted_effect": effect, "se": se, "z": z,
            "pvalue": 2.0 * sps.norm.sf(np.abs(z)),
        })
        return long[np.isfinite(effect)].reset_index(drop=True)


def _src(stats: FeatureStats, sources) -> np.ndarray:
    return stats.index(sources, RNA_MOD)


def _rd(stats: FeatureStats, readouts, ctx: dict) -> np.ndarray:
    return stats.index(readouts, ctx.get("readout_modality"))


def _regulators(ctx: dict) -> list[str]:
    regs = ctx.get("regulators")
    if regs is None:
        prior = ctx.get("prior")
        regs = [] if prior is None else list(dict.fromkeys(prior["source"].astype(str)))
    return [str(r) for r in regs]


def _adjust(stats, sources, readouts, ctx, exclude_descendants=True):
    regs = _regulators(ctx)
    graph = prior_graph(ctx.get("prior"))
    sets = regulator_sets(sources, regs, stats.lookup(RNA_MOD), graph, exclude_descendants)
    beta, se = adjusted_effects(stats.corr, _src(stats, sources), _rd(stats, readouts, ctx), sets,
                                stats.n_cells)
    sizes = [len(s) for s in sets]
    return beta, se, {"n_regulators": int(sum(r in set(stats.genes) for r in set(regs))),
                      "median_set_size": float(np.median(sizes)) if sizes else 0.0}


def _adjust_graph(stats, sources, readouts, ctx):
    regs = _regulators(ctx)
    sets = regulator_sets(sources, regs, stats.lookup(RNA_MOD), gene_graph(ctx["graph"]), True)
    beta, se = adjusted_effects(stats.corr, _src(stats, sources), _rd(stats, readouts, ctx), sets,
                                stats.n_cells)
    return beta, se, {"median_set_size": float(np.median([len(x) for x in sets])) if sets else 0.0}


def _adjust_all(stats, sources, readouts, ctx):
    return _adjust(stats, sources, readouts, ctx, exclude_descendants=False)


def _adjust_parents(stats, sources, readouts, ctx):
    sets = parent_sets(sources, prior_graph(ctx.get("prior")), stats.lookup(RNA_MOD))
    beta, se = adjusted_effects(stats.corr, _src(stats, sources), _rd(stats, readouts, ctx), sets,
                                stats.n_cells)
    return beta, se, {"n_sources_with_parents": int(sum(len(s) > 0 for s in sets))}


def _correlation(stats, sources, readouts, ctx):
    sets = [np.array([], dtype=int)] * len(sources)
    beta, se = adjusted_effects(stats.corr, _src(stats, sources), _rd(stats, readouts, ctx), sets,
                                stats.n_cells)
    return beta, se, {}


def _ridge(stats, sources, readouts, ctx):
    beta, lam = _ridge_on(stats, stats, sources, readouts, ctx)
    return beta, np.full_like(beta, np.nan), {"penalty": lam}


def _ridge_on(fit: FeatureStats, stats: FeatureStats, sources, readouts, ctx) -> tuple:
    """Ridge coefficients from the moments ``fit`` (the run's, or pooled with a screen's cells);
    NaN where a readout is the source itself."""
    genes = fit.index(fit.genes, RNA_MOD)
    coef, lam = ridge_coefficients(fit, genes, fit.index(readouts, ctx.get("readout_modality")),
                                   ctx.get("ridge_penalty"))
    beta = coef[pd.Index(fit.genes).get_indexer([str(s) for s in sources])]
    beta[_src(stats, sources)[:, None] == _rd(stats, readouts, ctx)[None, :]] = np.nan
    return beta, lam


def _ida(stats, sources, readouts, ctx):
    graph = ctx.get("graph")
    regs = set(_regulators(ctx))
    beta, se, n_sets = ida_effects(stats, sources, _rd(stats, readouts, ctx), graph,
                                   prior_graph(ctx.get("prior")), regs)
    return beta, se, {"median_parent_sets": float(np.median(n_sets)) if len(n_sets) else 0.0}


def _screen(ctx: dict):
    return ctx["interventions"]


def _mean(stats, sources, readouts, ctx):
    beta = -mean_effects(_screen(ctx), len(sources), _rd(stats, readouts, ctx))
    return beta, np.full_like(beta, np.nan), {"n_trained": len(_screen(ctx).targets)}


def _linear(stats, sources, readouts, ctx):
    beta = -linear_effects(_screen(ctx), stats.lookup(RNA_MOD), _src(stats, sources),
                           _rd(stats, readouts, ctx))
    return beta, np.full_like(beta, np.nan), {"n_trained": len(_screen(ctx).targets)}


def _adjust_iv(stats, sources, readouts, ctx):
    regs = _regulators(ctx)
    graph, ancestors = screen_graph(prior_graph(ctx.get("prior")), _screen(ctx), stats.lookup(RNA_MOD))
    orient_by_screen(graph, stats.corr, stats.n_cells, sources, regs, stats.lookup(RNA_MOD),
                     _screen(ctx))
    sets = regulator_sets(sources, regs, stats.lookup(RNA_MOD), graph, True, keep=ancestors)
    beta, se = adjusted_effects(stats.corr, _src(stats, sources), _rd(stats, readouts, ctx), sets,
                                stats.n_cells)
    return beta, se, {"n_trained": len(_screen(ctx).targets),
                      "median_set_size": float(np.median([len(x) for x in sets])) if sets else 0.0}


def _ridge_pooled(stats, sources, readouts, ctx):
    pooled = ctx["pooled"]
    beta, lam = _ridge_on(pooled, stats, sources, readouts, ctx)
    return beta, np.full_like(beta, np.nan), {"penalty": lam, "n_cells": pooled.n_cells}


def _propagate(stats, sources, readouts, ctx):
    nets = ctx["model"].get_feature_networks("total")
    blocks = [nets["rna_rna"].to_numpy()]
    if "rna_protein" in nets and nets["rna_protein"].size:
        blocks.append(nets["rna_protein"].to_numpy())
    total = np.hstack(blocks)  # genes × (genes, proteins): the order of the features
    beta = total[_src(stats, sources)][:, _rd(stats, readouts, ctx)].astype(float)
    return beta, np.full_like(beta, np.nan), {}


#: the observational estimators a stack may weight (those the run can use)
STACK_BASE = ("adjust", "adjust_all", "adjust_parents", "correlation", "ridge")


def gene_positions(stats: FeatureStats) -> dict[str, int]:
    """Each gene's column in the moments (genes only: a protein may share a gene's name)."""
    return dict(zip(stats.genes, stats.index(stats.genes, RNA_MOD).tolist(), strict=True))


def _stack_base(ctx: dict) -> list[str]:
    has_regs = ctx.get("prior") is not None or ctx.get("regulators") is not None
    return [m for m in STACK_BASE if (m not in ("adjust", "adjust_all") or has_regs)
            and (m != "adjust_parents" or ctx.get("prior") is not None)]


def _stack(stats, sources, readouts, ctx):
    iv = _screen(ctx)
    trained, rows = trained_examples(iv.shift, iv.z, iv.targets, gene_positions(stats))
    base = _stack_base(ctx)
    if len(trained) < MIN_TRAINED:
        raise CMCVAEInputError(
            f"The 'stack' estimator weights the observational estimators by the screen's trained "
            f"knockdowns, but only {len(trained)} of them lowered their own target (z ≤ −3; "
            f"{MIN_TRAINED} needed): choose another estimator (e.g. adjust).")
    rd = _rd(stats, readouts, ctx)
    # every base estimator is computed once, for the trained and the requested genes together
    # (each row depends on its own source only), and sliced for the two uses
    genes = list(dict.fromkeys([*trained, *sources]))
    at = {g: i for i, g in enumerate(genes)}
    full = {m: ESTIMATORS[m].fn(stats, genes, readouts, ctx)[0] for m in base}
    trained_rows, source_rows = [at[g] for g in trained], [at[g] for g in sources]
    predictions = {m: beta[trained_rows] for m, beta in full.items()}
    self_pairs = _src(stats, trained)[:, None] == rd[None, :]
    moved = np.abs(iv.z[rows][:, rd]) > SIGNIFICANT_Z
    weights, scales, auroc = stack_weights(predictions, moved, self_pairs)
    beta = combine(weights, scales, lambda m: full[m][source_rows])
    return beta, np.full_like(beta, np.nan), {"weights": weights, "n_trained": len(trained),
                                              "trained_auroc": auroc}


ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (
    Estimator("adjust", "regression on the gene and the regulators (prior TFs) that are not its "
              "descendants in the prior", ("prior or regulators",),
              "back-door adjustment; Maathuis et al. 2009 (IDA) with a knowledge-based set",
              _adjust),
    Estimator("adjust_graph", "regression on the gene and the regulators that are not its "
              "descendants in the fitted graph (arch='sem' on a screen learns the orientation "
              "from the perturbed cells)", ("graph", "prior or regulators"),
              "back-door adjustment with the learned ancestry", _adjust_graph),
    Estimator("adjust_all", "regression on the gene and every regulator in the data",
              ("prior or regulators",), "back-door adjustment with all TFs", _adjust_all),
    Estimator("adjust_parents", "regression on the gene and its TFs in the prior",
              ("prior",), "IDA with the prior's parents", _adjust_parents),
    Estimator("ida", "regression on the gene and its parents in the fitted graph; ambiguous "
              "orientations enumerated, smallest |effect| kept", ("graph",),
              "Maathuis et al. 2009, Ann. Stat.; 2010, Nat. Methods", _ida),
    Estimator("propagate", "total effect through the fitted SCM, (I − A)⁻¹ − I", ("model",),
              "the CMC-VAE poster", _propagate),
    Estimator("correlation", "the marginal regression (= Pearson correlation)", (),
              "baseline", _correlation),
    Estimator("ridge", "ridge regression of each readout on every other gene (2-fold CV penalty)",
              (), "baseline", _ridge),
    Estimator("adjust_iv", "adjust, with the screen's trained perturbations as known ancestry "
              "(what a perturbation moved is its descendant)", ("screen", "prior or regulators"),
              "back-door adjustment with interventional ancestry", _adjust_iv),
    Estimator("linear", "linear model of the trained perturbations' shifts (gene embedding × "
              "perturbation embedding)", ("screen",),
              "Ahlmann-Eltze, Huber & Anders 2025, Nat. Methods", _linear),
    Estimator("mean", "the average shift of the trained perturbations, for every knockdown",
              ("screen",), "baseline (Ahlmann-Eltze et al. 2025)", _mean),
    Estimator("ridge_pooled", "ridge on the control and perturbed cells pooled", ("screen",),
              "baseline", _ridge_pooled),
    Estimator("stack", "the observational estimators combined with the weights that best rank "
              "the trained knockdowns' moved readouts (AUROC on a simplex grid)", ("screen",),
              "stacked generalisation (Wolpert 1992) on the screen's trained perturbations",
              _stack),
)}

#: the estimators that need a screen fit's perturbed cells
SCREEN_ESTIMATORS = tuple(name for name, e in ESTIMATORS.items() if "screen" in e.needs)

#: the estimator ``cmcvae validate`` / ``predict`` use unless told otherwise (chosen by the
#: benchmark across simulator settings; docs/model.md)
DEFAULT_ESTIMATOR = "adjust"


def estimate_effects(stats: FeatureStats, method: str = DEFAULT_ESTIMATOR, *,
                     sources: Sequence[str] | None = None, readouts: Sequence[str] | None = None,
                     prior: pd.DataFrame | None = None, regulators: Sequence[str] | None = None,
                     graph: pd.DataFrame | None = None, model: Any = None,
                     ridge_penalty: float | None = None,
                     readout_modality: str | None = None,
                     interventions: InterventionStats | None = None,
                     pooled: FeatureStats | None = None) -> EffectEstimate:
    """Predicted effect of knocking down each source gene on each readout.

    Parameters
    ----------
    stats
        Moments of the training cells (:func:`feature_stats`).
    method
        A key of :data:`ESTIMATORS`.
    sources
        Genes to knock down (default: every gene).
    readouts
        Genes and proteins to read out (default: every feature).
    prior
        GRN prior ``source,target[,weight]``: its sources are the regulators (unless
        ``regulators`` is given) and its edges give descendants and parents.
    regulators
        Regulator (TF) names for the adjustment sets, overriding the prior's sources.
    graph
        The fitted feature graph (``edges.csv``) for ``ida``.
    model
        The fitted :class:`~cmcvae.CMCVAE` for ``propagate``.
    ridge_penalty
        Fix the ridge penalty instead of cross-validating it.
    readout_modality
        ``"rna"`` or ``"protein"``: the readouts are of this modality (needed when a gene and a
        protein share a name, e.g. ``CD274``).
    interventions, pooled
        A screen fit's trained perturbations (:func:`intervention_stats`) and the moments of its
        control and perturbed cells pooled: needed by ``adjust_iv``, ``linear``, ``mean`` and
        ``ridge_pooled``.

    Returns
    -------
    EffectEstimate
    """
    if method not in ESTIMATORS:
        raise CMCVAEInputError(f"Unknown effect estimator {method!r}; choose one of "
                               f"{', '.join(ESTIMATORS)}.")
    genes = stats.genes
    sources = [str(s) for s in (genes if sources is None else sources)]
    if readouts is None:
        readouts = stats.genes if readout_modality in (RNA_MOD, "rna") else (
            stats.proteins if readout_modality is not None else list(stats.names))
        if readout_modality is None and set(stats.genes) & set(stats.proteins):
            raise CMCVAEInputError("A gene and a protein share a name: estimate one readout "
                                   "modality at a time (readout_modality='rna' / 'protein').")
    readouts = [str(r) for r in readouts]
    not_genes = [s for s in sources if s not in set(genes)]
    if not_genes:
        raise CMCVAEInputError(f"Only genes (RNA features) can be knocked down; not genes of the "
                               f"run: {not_genes[:5]}.")
    stats.index(readouts, readout_modality)
    _check_needs(method, prior, regulators, graph, model, stats)
    if method in SCREEN_ESTIMATORS and (interventions is None or (
            method == "ridge_pooled" and pooled is None)):
        raise CMCVAEInputError(f"The {method!r} estimator learns from a screen's perturbed cells: "
                               "fit with --perturbation-key (cmcvae fit DATA --perturbation-key "
                               "perturbation --control-label control).")
    ctx = {"prior": prior, "regulators": regulators, "graph": graph, "model": model,
           "ridge_penalty": ridge_penalty, "readout_modality": readout_modality,
           "interventions": interventions, "pooled": pooled}
    beta, se, info = ESTIMATORS[method].fn(stats, sources, readouts, ctx)
    # a knockdown lowers the source: the predicted change is minus the coefficient
    mods = ["rna" if m == RNA_MOD else "protein"
            for m in stats.modality[stats.index(readouts, readout_modality)]]
    return EffectEstimate(method, pd.DataFrame(-beta, index=sources, columns=readouts) + 0.0,
                          pd.DataFrame(se, index=sources, columns=readouts), info, mods)


def default_estimator(prior: pd.DataFrame | None, regulators: Sequence[str] | None) -> str:
    """:data:`DEFAULT_ESTIMATOR`, or ``correlation`` when there is nothing to adjust for."""
    return "correlation" if prior is None and regulators is None else DEFAULT_ESTIMATOR


def _check_needs(method, prior, regulators, graph, model, stats: FeatureStats) -> None:
    if method in ("ida", "adjust_graph") and graph is None:
        raise CMCVAEInputError(f"The {method!r} estimator needs the fitted graph (edges.csv).")
    if method == "propagate" and model is None:
        raise CMCVAEInputError("The 'propagate' estimator needs the fitted model.")
    if method == "adjust_parents" and prior is None:
        raise CMCVAEInputError("The 'adjust_parents' estimator needs a GRN prior (--grn-prior).")
    if regulators is not None:
        check_regulators(list(regulators), pd.Index(stats.genes), "the regulator list")
