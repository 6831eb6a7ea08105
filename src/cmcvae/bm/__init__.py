"""Benchmarks against baselines and peers on data with a known answer (``cmcvae.bm``).

Datasets (``load_*``) return a :class:`GraphDataset`; every network method takes
``(X, features, *, seed)`` and returns ``source,target,weight`` over all ordered pairs;
:func:`run_benchmark` runs them all and :func:`render_markdown` makes the tables. The scripts
that run it live in ``benchmarks/`` at the repository root.

Table of contents
-----------------
Datasets
    :class:`GraphDataset` — expression, feature names and the true network of one dataset.
    :func:`load_beeline` (:data:`BEELINE_NAMES`), :func:`load_sergio`, :func:`load_dream4`
    (:data:`DREAM4_NETWORKS`), :func:`load_krumsiek11`, :func:`load_sachs` (with
    :data:`SACHS_PUBLISHED`, published scores on it).
Network methods
    :func:`cmcvae_network`, :func:`pearson`, :func:`spearman`, :func:`partial_correlation`,
    :func:`graphical_lasso`, :func:`genie3`, :func:`grnboost2`, :func:`dagma_linear`, and the
    references :func:`empty_graph`, :func:`random_scores`, :func:`prior_only`.
Cross-modal task
    :func:`crossmodal_task` on the simulator's :data:`SIM_SETTINGS` with
    :data:`CROSSMODAL_METHODS`; :func:`totalvi_effects` (needs scvi-tools).
Scores
    :func:`grn_scores`, :func:`undirected_scores`, :func:`dag_scores`, :func:`top_k_dag`.
Running and reporting
    :func:`grn_datasets`, :func:`run_benchmark` (:data:`GRN_METHODS`, :data:`DETERMINISTIC`),
    :func:`summarize`, :func:`losses`, :func:`render_markdown`, :func:`update_readme`,
    :func:`check_out_dir`, :func:`write_results`.
"""

from cmcvae.bm._beeline import BEELINE_NAMES, load_beeline
from cmcvae.bm._cmcvae import cmcvae_network
from cmcvae.bm._correlation import pearson, spearman
from cmcvae.bm._crossmodal import CROSSMODAL_METHODS, SIM_SETTINGS, crossmodal_task
from cmcvae.bm._dagma import dagma_linear
from cmcvae.bm._dataset import GraphDataset
from cmcvae.bm._dream4 import DREAM4_NETWORKS, load_dream4
from cmcvae.bm._krumsiek11 import load_krumsiek11
from cmcvae.bm._partial import graphical_lasso, partial_correlation
from cmcvae.bm._published import SACHS_PUBLISHED
from cmcvae.bm._run import DETERMINISTIC, GRN_METHODS, grn_datasets, run_benchmark, summarize
from cmcvae.bm._sachs import load_sachs
from cmcvae.bm._scores import dag_scores, grn_scores, top_k_dag, undirected_scores
from cmcvae.bm._sergio import load_sergio
from cmcvae.bm._table import losses, render_markdown, update_readme
from cmcvae.bm._totalvi import totalvi_effects
from cmcvae.bm._trees import genie3, grnboost2
from cmcvae.bm._trivial import empty_graph, prior_only, random_scores
from cmcvae.bm._write import check_out_dir, write_results

__all__ = [
    "BEELINE_NAMES", "CROSSMODAL_METHODS", "DETERMINISTIC", "DREAM4_NETWORKS", "GRN_METHODS",
    "GraphDataset", "SACHS_PUBLISHED", "SIM_SETTINGS", "check_out_dir", "cmcvae_network",
    "crossmodal_task", "dag_scores", "dagma_linear", "empty_graph", "genie3", "graphical_lasso",
    "grn_datasets", "grn_scores", "grnboost2", "load_beeline", "load_dream4", "load_krumsiek11",
    "load_sachs", "load_sergio", "losses", "partial_correlation", "pearson", "prior_only",
    "random_scores", "render_markdown", "run_benchmark", "spearman", "summarize",
    "top_k_dag", "totalvi_effects", "undirected_scores", "update_readme", "write_results",
]
