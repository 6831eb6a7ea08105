"""Preprocessing: normalisation, atlas preparation, antibody names and prior networks (``cmcvae.pp``).

Table of contents
-----------------
Normalisation (``_normalize.py``; RNA log-CP10k, protein CLR; blockwise on backed data):

- :data:`TARGET_SUM`, :func:`library_size`, :func:`column_totals`, :func:`log_normalize`,
  :func:`clr`, :func:`mean_std`, :func:`log_normalized_mean_std`.

Atlas preparation (``_atlas.py``, ``cmcvae prepare``):

- :func:`prepare` — harmonise, QC, select genes and normalise proteins of several datasets.
- :func:`harmonise`, :func:`qc`, :func:`select_genes`, :func:`dsb_normalise` — its steps.

Antibody names (``_antigen.py``) and the protein ↔ gene map (``_protein_map.py``):

- :func:`canonical_antigen`, :func:`isotype_controls`, :func:`default_protein_map`.
- :func:`map_panel`, :func:`read_protein_map`, :func:`matched_pairs`;
  :data:`MAP_COLUMNS`, :data:`PANEL_COLUMNS`, :data:`STATUSES`.

Prior networks in decoupler's ``source,target,weight`` convention (``_priors.py``,
``_complexes.py``; downloading them is :func:`cmcvae.datasets.fetch_prior`):

- :func:`read_network`, :func:`standardise_network`, :func:`read_gene_list`.
- :func:`filter_network`, :func:`split_network` — what the model calls on a prior.
- :func:`prepare_grn_prior`, :func:`prepare_ppi_prior`, :func:`expand_complexes`;
  :data:`COLLECTRI_COMPLEXES`, :data:`OMNIPATH_COMPLEX_SEP`.
"""

from cmcvae.pp._antigen import (
    MAP_COLUMNS,
    canonical_antigen,
    default_protein_map,
    isotype_controls,
)
from cmcvae.pp._atlas import dsb_normalise, harmonise, prepare, qc, select_genes
from cmcvae.pp._complexes import COLLECTRI_COMPLEXES, OMNIPATH_COMPLEX_SEP, expand_complexes
from cmcvae.pp._normalize import (
    TARGET_SUM,
    clr,
    column_totals,
    library_size,
    log_normalize,
    log_normalized_mean_std,
    mean_std,
)
from cmcvae.pp._priors import (
    filter_network,
    prepare_grn_prior,
    prepare_ppi_prior,
    read_gene_list,
    read_network,
    split_network,
    standardise_network,
)
from cmcvae.pp._protein_map import (
    PANEL_COLUMNS,
    STATUSES,
    map_panel,
    matched_pairs,
    read_protein_map,
)

__all__ = [
    "COLLECTRI_COMPLEXES", "MAP_COLUMNS", "OMNIPATH_COMPLEX_SEP", "PANEL_COLUMNS", "STATUSES",
    "TARGET_SUM", "canonical_antigen", "clr", "column_totals", "default_protein_map",
    "dsb_normalise", "expand_complexes", "filter_network", "harmonise", "isotype_controls",
    "library_size", "log_normalize", "log_normalized_mean_std", "map_panel", "matched_pairs",
    "mean_std", "prepare", "prepare_grn_prior", "prepare_ppi_prior", "qc", "read_gene_list",
    "read_network", "read_protein_map", "select_genes", "split_network", "standardise_network",
]
