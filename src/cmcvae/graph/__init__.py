"""Graph read-out: DAG thresholding, feature-level networks and export."""

from .networks import feature_networks, matched_pair_effects, top_edges
from .threshold import threshold_to_dag

__all__ = ["feature_networks", "matched_pair_effects", "threshold_to_dag", "top_edges"]
