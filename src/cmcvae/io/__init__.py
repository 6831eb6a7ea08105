"""Reading data and writing results (``cmcvae.io``).

Table of contents
-----------------
Reading CITE-seq data (every reader returns one :class:`mudata.MuData` with ``rna`` and ``prot``;
``_read.py`` describes the layout they share):

- :func:`read_dataset` — any supported file or folder (format sniffed from the content).
- :func:`sniff_format`, :func:`is_hdf5`, :data:`SUPPORTED_FORMATS` — what a file holds.
- :func:`read_h5mu`, :func:`read_h5ad`, :func:`from_anndata` — scverse files and objects;
  :func:`read_anndata` (an ``.h5ad`` as it is), :func:`modality_matches`, :func:`hdf5_keys` and
  :func:`h5ad_has_proteins` (a file's modalities / proteins from its headers), :data:`RNA_ALIASES`, :data:`PROT_ALIASES`,
  :data:`PROTEIN_OBSM_KEYS` (the names the readers recognise).
- :func:`read_10x_h5`, :func:`read_10x_mtx` — Cell Ranger outputs with Antibody Capture features.
- :func:`read_pair`, :func:`read_csv_pair`, :func:`read_mtx_pair` — separate RNA and ADT tables.

The model-input contract (``docs/design.md`` §2; checked only here):

- :func:`read_input` — read any supported input (:func:`read_dataset`).
- :func:`check_input` — the whole contract: :func:`check_layout` (modalities, cells, names,
  batch key; returns the donor label per cell) and the values (:func:`check_values`,
  :func:`check_counts`); :func:`check_mudata` is the layout check of a two-modality MuData.
- :func:`get_counts`, :func:`input_modalities` — where the values of registered data are.

Out-of-core RNA (a backed ``.h5mu``, rows read on demand):

- :func:`read_backed`, :class:`BackedRows`, :func:`as_rows`, :func:`is_backed_sparse`,
  :func:`row_blocks`, :func:`stored_values`.

The run folder (``docs/design.md`` §3; its layout is defined once, in ``_run_folder.py``):

- :data:`RUN_FILES`, :data:`CHECKPOINTS`, :data:`CHECKPOINT_FILES`, :data:`MODEL_FILES`,
  :data:`PRIOR_FILES`, :data:`FIGURES`, :data:`ENSEMBLE_FILE`, :data:`ENSEMBLE_FILES`,
  :data:`RUN_COMMANDS`, :data:`ENSEMBLE_COMMANDS`, :func:`run_folder_files`, :func:`report_files`,
  :data:`PRODUCERS`, :func:`producer`.
- :func:`prepare_out_dir`, :func:`write_run`, :func:`write_json`, :func:`clean_json`.
- :func:`run_dir`, :func:`read_json`, :func:`read_csv`, :func:`require_columns`, :func:`missing_message`.
- :func:`write_graphml`, :func:`edges_to_graph` — the edges as GraphML for Cytoscape / Gephi.

What cmcvae wrote in a folder, and the only code that removes or overwrites with ``--force``
(``_manifest.py``):

- :data:`MANIFEST` (``.cmcvae-manifest.json``), :func:`read_manifest`, :func:`record_files`,
  :func:`forget_files`, :func:`replaceable`.
- :func:`prepare_output` (a folder a command writes), :func:`check_files` and
  :func:`claim_files` (files a command adds to a folder).
"""

from cmcvae.io._10x import read_10x_h5, read_10x_mtx
from cmcvae.io._backed import (
    BackedRows,
    as_rows,
    is_backed_sparse,
    read_backed,
    row_blocks,
    stored_values,
)
from cmcvae.io._contract import (
    check_counts,
    check_input,
    check_layout,
    check_mudata,
    check_values,
    get_counts,
    input_modalities,
    read_input,
)
from cmcvae.io._graphml import edges_to_graph, write_graphml
from cmcvae.io._h5 import (
    PROT_ALIASES,
    PROTEIN_OBSM_KEYS,
    RNA_ALIASES,
    from_anndata,
    h5ad_has_proteins,
    modality_matches,
    read_anndata,
    read_h5ad,
    read_h5mu,
)
from cmcvae.io._manifest import (
    MANIFEST,
    check_files,
    claim_files,
    forget_files,
    prepare_output,
    read_manifest,
    record_files,
    replaceable,
)
from cmcvae.io._read import read_dataset
from cmcvae.io._results import JSON_ENTRIES, RESULT_KEY, read_results
from cmcvae.io._run_folder import (
    CHECKPOINT_FILES,
    CHECKPOINTS,
    ENSEMBLE_COMMANDS,
    ENSEMBLE_FILE,
    ENSEMBLE_FILES,
    FIGURES,
    MODEL_FILES,
    PRIOR_FILES,
    PRODUCERS,
    RUN_COMMANDS,
    RUN_FILES,
    clean_json,
    is_pathlike,
    missing_message,
    prepare_out_dir,
    producer,
    read_csv,
    read_json,
    report_files,
    require_columns,
    run_dir,
    run_folder_files,
    write_json,
    write_run,
)
from cmcvae.io._sniff import SUPPORTED_FORMATS, hdf5_keys, is_hdf5, sniff_format
from cmcvae.io._tables import read_csv_pair, read_mtx_pair, read_pair

__all__ = [
    "JSON_ENTRIES", "RESULT_KEY", "read_results",
    "CHECKPOINTS", "CHECKPOINT_FILES", "ENSEMBLE_COMMANDS", "ENSEMBLE_FILE", "ENSEMBLE_FILES",
    "FIGURES", "MANIFEST", "MODEL_FILES", "PRIOR_FILES", "PROT_ALIASES", "PROTEIN_OBSM_KEYS",
    "RNA_ALIASES", "PRODUCERS", "RUN_COMMANDS", "RUN_FILES",
    "SUPPORTED_FORMATS", "BackedRows",
    "as_rows", "check_counts", "check_files", "check_input", "check_layout", "check_mudata",
    "check_values", "claim_files", "clean_json", "edges_to_graph", "forget_files", "from_anndata",
    "get_counts", "h5ad_has_proteins", "hdf5_keys", "input_modalities", "modality_matches",
    "is_backed_sparse", "is_hdf5", "is_pathlike", "missing_message", "prepare_out_dir",
    "prepare_output", "producer",
    "read_10x_h5", "read_10x_mtx", "read_anndata", "read_backed", "read_csv", "read_csv_pair", "read_dataset",
    "read_h5ad", "read_h5mu", "read_input", "read_json", "read_manifest", "read_mtx_pair",
    "read_pair", "record_files", "replaceable", "report_files",
    "require_columns", "row_blocks", "run_dir", "run_folder_files", "sniff_format",
    "stored_values", "write_graphml", "write_json", "write_run",
]
