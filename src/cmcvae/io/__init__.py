"""Reading data and writing results (``cmcvae.io``).

Table of contents
-----------------
Reading CITE-seq data (every reader returns one :class:`mudata.MuData` with ``rna`` and ``prot``):

- :func:`read_dataset` — any supported file or folder (format sniffed from the content).
- :func:`read_h5mu`, :func:`read_h5ad`, :func:`from_anndata` — scverse files and objects.
- :func:`read_10x_h5`, :func:`read_10x_mtx` — Cell Ranger outputs with Antibody Capture features.
- :func:`read_pair`, :func:`read_csv_pair`, :func:`read_mtx_pair` — separate RNA and ADT tables.
- :func:`read_backed` — RNA kept on disk (out-of-core training).

The model-input contract (``docs/design.md`` §2):

- :func:`read_input`, :func:`check_mudata`, :func:`check_counts`, :func:`get_counts`.

The run folder (``docs/design.md`` §3; its layout is defined once, in ``_run_folder.py``):

- :data:`RUN_FILES`, :data:`CHECKPOINTS`, :data:`ENSEMBLE_FILE`, :data:`PRODUCERS`, :func:`producer`.
- :func:`prepare_out_dir`, :func:`write_run`, :func:`write_json`, :func:`clean_json`.
- :func:`run_dir`, :func:`read_json`, :func:`read_csv`, :func:`require_columns`, :func:`missing_message`.
- :func:`write_graphml`, :func:`edges_to_graph` — the edges as GraphML for Cytoscape / Gephi.
"""

from cmcvae.io._backed import read_backed
from cmcvae.io._contract import check_counts, check_mudata, get_counts, read_input
from cmcvae.io._graphml import edges_to_graph, write_graphml
from cmcvae.io._readers import (
    SUPPORTED_FORMATS,
    from_anndata,
    read_10x_h5,
    read_10x_mtx,
    read_csv_pair,
    read_dataset,
    read_h5ad,
    read_h5mu,
    read_mtx_pair,
    read_pair,
    sniff_format,
)
from cmcvae.io._run_folder import (
    CHECKPOINTS,
    ENSEMBLE_FILE,
    PRODUCERS,
    RUN_FILES,
    clean_json,
    is_pathlike,
    missing_message,
    prepare_out_dir,
    producer,
    read_csv,
    read_json,
    require_columns,
    run_dir,
    write_json,
    write_run,
)

__all__ = [
    "CHECKPOINTS", "ENSEMBLE_FILE", "PRODUCERS", "RUN_FILES", "SUPPORTED_FORMATS", "check_counts",
    "check_mudata", "clean_json", "edges_to_graph", "from_anndata", "get_counts", "is_pathlike",
    "missing_message", "prepare_out_dir", "producer", "read_10x_h5", "read_10x_mtx", "read_backed",
    "read_csv", "read_csv_pair", "read_dataset", "read_h5ad", "read_h5mu", "read_input", "read_json",
    "read_mtx_pair", "read_pair", "require_columns", "run_dir", "sniff_format", "write_graphml",
    "write_json", "write_run",
]
