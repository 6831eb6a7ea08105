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
from cmcvae.effects._ida import ida_effects
from cmcvae.effects._ridge import ridge_coefficients
from cmcvae.effects._sets import check_regulators, parent_sets, prior_graph, regulator_sets
from cmcvae.effects._stats import FeatureStats

__all__ = ["DEFAULT_ESTIMATOR", "ESTIMATORS", "EffectEstimate", "Estimator", "estimate_effects"]


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
    """

    method: str
    effect: pd.DataFrame
    se: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def to_frame(self, modality: pd.Series | None = None) -> pd.DataFrame:
        """Long table ``perturbation,readout,predicted_effect,se,z,pvalue`` (+ ``modality``)."""
        long = self.effect.stack(future_stack=True).rename("predicted_effect").reset_index()
        long.columns = ["perturbation", "readout", "predicted_effect"]
        long["se"] = self.se.to_numpy().ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            long["z"] = long["predicted_effect"] / long["se"]
        long["pvalue"] = 2.0 * sps.norm.sf(np.abs(long["z"]))
        if modality is not None:
            long.insert(2, "modality", long["readout"].map(modality).to_numpy())
        return long.dropna(subset=["predicted_effect"]).reset_index(drop=True)


def _regulators(ctx: dict) -> list[str]:
    regs = ctx.get("regulators")
    if regs is None:
        prior = ctx.get("prior")
        regs = [] if prior is None else list(dict.fromkeys(prior["source"].astype(str)))
    return [str(r) for r in regs]


def _adjust(stats, sources, readouts, ctx, exclude_descendants=True):
    regs = _regulators(ctx)
    graph = prior_graph(ctx.get("prior"))
    sets = regulator_sets(sources, regs, stats.names, graph, exclude_descendants)
    beta, se = adjusted_effects(stats.corr, stats.index(sources), stats.index(readouts), sets,
                                stats.n_cells)
    sizes = [len(s) for s in sets]
    return beta, se, {"n_regulators": int(sum(r in stats.names for r in set(regs))),
                      "median_set_size": float(np.median(sizes)) if sizes else 0.0}


def _adjust_all(stats, sources, readouts, ctx):
    return _adjust(stats, sources, readouts, ctx, exclude_descendants=False)


def _adjust_parents(stats, sources, readouts, ctx):
    sets = parent_sets(sources, prior_graph(ctx.get("prior")), stats.names)
    beta, se = adjusted_effects(stats.corr, stats.index(sources), stats.index(readouts), sets,
                                stats.n_cells)
    return beta, se, {"n_sources_with_parents": int(sum(len(s) > 0 for s in sets))}


def _correlation(stats, sources, readouts, ctx):
    sets = [np.array([], dtype=int)] * len(sources)
    beta, se = adjusted_effects(stats.corr, stats.index(sources), stats.index(readouts), sets,
                                stats.n_cells)
    return beta, se, {}


def _ridge(stats, sources, readouts, ctx):
    genes = stats.index(stats.genes)
    coef, lam = ridge_coefficients(stats, genes, stats.index(readouts), ctx.get("ridge_penalty"))
    rows = pd.Index(stats.genes).get_indexer([str(s) for s in sources])
    beta = coef[rows]
    beta[np.asarray(sources, dtype=object)[:, None] == np.asarray(readouts, dtype=object)[None, :]] = np.nan
    return beta, np.full_like(beta, np.nan), {"penalty": lam}


def _ida(stats, sources, readouts, ctx):
    graph = ctx.get("graph")
    regs = set(_regulators(ctx))
    beta, se, n_sets = ida_effects(stats, sources, readouts, graph, prior_graph(ctx.get("prior")), regs)
    return beta, se, {"median_parent_sets": float(np.median(n_sets)) if len(n_sets) else 0.0}


def _propagate(stats, sources, readouts, ctx):
    nets = ctx["model"].get_feature_networks("total")
    total = pd.concat([pd.concat([nets["rna_rna"], nets["rna_protein"]], axis=1)]) if (
        "rna_protein" in nets and nets["rna_protein"].size) else nets["rna_rna"]
    beta = total.reindex(index=[str(s) for s in sources], columns=[str(r) for r in readouts])
    beta = beta.to_numpy(dtype=float)
    return beta, np.full_like(beta, np.nan), {}


ESTIMATORS: dict[str, Estimator] = {e.name: e for e in (
    Estimator("adjust", "regression on the gene and the regulators (prior TFs) that are not its "
              "descendants in the prior", ("prior or regulators",),
              "back-door adjustment; Maathuis et al. 2009 (IDA) with a knowledge-based set",
              _adjust),
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
)}

#: the estimator ``cmcvae validate`` / ``predict`` use unless told otherwise (chosen by the
#: benchmark across simulator settings; docs/model.md)
DEFAULT_ESTIMATOR = "adjust"


def estimate_effects(stats: FeatureStats, method: str = DEFAULT_ESTIMATOR, *,
                     sources: Sequence[str] | None = None, readouts: Sequence[str] | None = None,
                     prior: pd.DataFrame | None = None, regulators: Sequence[str] | None = None,
                     graph: pd.DataFrame | None = None, model: Any = None,
                     ridge_penalty: float | None = None) -> EffectEstimate:
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

    Returns
    -------
    EffectEstimate
    """
    if method not in ESTIMATORS:
        raise CMCVAEInputError(f"Unknown effect estimator {method!r}; choose one of "
                               f"{', '.join(ESTIMATORS)}.")
    genes = stats.genes
    sources = [str(s) for s in (genes if sources is None else sources)]
    readouts = [str(r) for r in (list(stats.names) if readouts is None else readouts)]
    not_genes = [s for s in sources if s not in set(genes)]
    if not_genes:
        raise CMCVAEInputError(f"Only genes (RNA features) can be knocked down; not genes of the "
                               f"run: {not_genes[:5]}.")
    stats.index(readouts)
    _check_needs(method, prior, regulators, graph, model, stats)
    ctx = {"prior": prior, "regulators": regulators, "graph": graph, "model": model,
           "ridge_penalty": ridge_penalty}
    beta, se, info = ESTIMATORS[method].fn(stats, sources, readouts, ctx)
    # a knockdown lowers the source: the predicted change is minus the coefficient
    return EffectEstimate(method, pd.DataFrame(-beta, index=sources, columns=readouts) + 0.0,
                          pd.DataFrame(se, index=sources, columns=readouts), info)


def _check_needs(method, prior, regulators, graph, model, stats: FeatureStats) -> None:
    if method == "ida" and graph is None:
        raise CMCVAEInputError("The 'ida' estimator needs the fitted graph (edges.csv).")
    if method == "propagate" and model is None:
        raise CMCVAEInputError("The 'propagate' estimator needs the fitted model.")
    if method == "adjust_parents" and prior is None:
        raise CMCVAEInputError("The 'adjust_parents' estimator needs a GRN prior (--grn-prior).")
    if regulators is not None:
        check_regulators(list(regulators), stats.names, "the regulator list")


def modality_of(stats: FeatureStats) -> pd.Series:
    """``rna`` / ``protein`` per feature name (for tables)."""
    return pd.Series(np.where(stats.modality == RNA_MOD, "rna", "protein"), index=stats.names)
