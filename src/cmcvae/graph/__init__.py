"""Graph read-out: DAG thresholding, feature-level networks and export."""

from cmcvae.graph.networks import feature_networks, matched_pair_effects, top_edges
from cmcvae.graph.threshold import threshold_to_dag

__all__ = ["feature_networks", "matched_pair_effects", "threshold_to_dag", "top_edges"]
