"""Graph read-out: pure functions of learned matrices and edge tables (``cmcvae.graph``).

Nothing here trains or reads files; the model (:mod:`cmcvae.model`) and the workflows
(:mod:`cmcvae.tl`) call these on matrices they hold.

Table of contents
-----------------
:mod:`cmcvae.graph.threshold` — from a weighted adjacency to an exact DAG
    :func:`is_dag`, :func:`threshold_to_dag` (raise the cut until acyclic),
    :func:`dag_order` and :func:`project_to_dag` (keep the edges forward in a node order).
:mod:`cmcvae.graph.networks` — the four feature-level networks of a latent graph
    :data:`NETWORKS`, :func:`feature_networks`, :func:`latent_total_effects`,
    :func:`top_edges` (the ``edges.csv`` table), :func:`matched_pair_effects`.
:mod:`cmcvae.graph.stability` — agreement across the seeds of an ensemble
    :func:`edge_stability`, :func:`matched_pair_stability`, :func:`aggregate_numbers`,
    :func:`aggregate_rows`.
"""

from cmcvae.graph.networks import (
    NETWORKS,
    feature_networks,
    latent_total_effects,
    matched_pair_effects,
    top_edges,
)
from cmcvae.graph.stability import (
    aggregate_numbers,
    aggregate_rows,
    edge_stability,
    matched_pair_stability,
)
from cmcvae.graph.threshold import dag_order, is_dag, project_to_dag, threshold_to_dag

__all__ = [
    "NETWORKS",
    "aggregate_numbers",
    "aggregate_rows",
    "dag_order",
    "edge_stability",
    "feature_networks",
    "is_dag",
    "latent_total_effects",
    "matched_pair_effects",
    "matched_pair_stability",
    "project_to_dag",
    "threshold_to_dag",
    "top_edges",
]
