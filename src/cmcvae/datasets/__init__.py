"""Data to run on: public datasets, prior networks and the simulator (``cmcvae.datasets``).

Table of contents
-----------------
Public datasets (``_registry.py``, ``cmcvae data list|info|fetch``):

- :func:`list_datasets`, :func:`get_dataset`, :data:`REGISTRY` (:class:`DatasetInfo` of
  :class:`RemoteFile`).
- :func:`fetch` — checksummed download into :func:`default_data_dir`; :func:`file_digest`,
  :func:`cache_root`.

Prior networks online (``_priors.py``, ``cmcvae priors collectri|omnipath``):

- :func:`fetch_prior` — CollecTRI or OmniPath, cached under :func:`default_prior_cache`;
  :func:`omnipath_query_url`, :data:`PRIOR_NAMES`. Reading and preparing a network is
  :mod:`cmcvae.pp`'s job.

Simulated CITE-seq data with a known causal structure (the ``simulate`` subpackage):

- :func:`simulate`, :func:`simulate_atlas`, :func:`read_simulation`, :class:`SimulatedData`.
- :func:`simulate_setting`, :data:`SIM_SETTINGS`, :data:`HELDOUT_SETTINGS` — named mechanism
  settings (a simulator family; the held-out ones are never used for tuning).

``cmcvae.datasets._simulate`` is the function here; the subpackage of the same name is imported
as ``from cmcvae.datasets._simulate import ...``.
"""

from cmcvae.datasets._priors import (
    OMNIPATH_URL,
    PRIOR_NAMES,
    default_prior_cache,
    fetch_prior,
    omnipath_query_url,
)
from cmcvae.datasets._registry import (
    REGISTRY,
    DatasetInfo,
    RemoteFile,
    cache_root,
    default_data_dir,
    fetch,
    file_digest,
    get_dataset,
    list_datasets,
)
from cmcvae.datasets._simulate import (
    HELDOUT_SETTINGS,
    SIM_SETTINGS,
    SimulatedData,
    read_simulation,
    simulate,
    simulate_atlas,
    simulate_setting,
)

__all__ = [
    "OMNIPATH_URL", "PRIOR_NAMES", "REGISTRY", "DatasetInfo", "RemoteFile", "SimulatedData",
    "cache_root", "default_data_dir", "default_prior_cache", "fetch", "fetch_prior", "file_digest",
    "get_dataset", "list_datasets", "omnipath_query_url", "read_simulation", "simulate",
    "simulate_atlas", "simulate_setting", "SIM_SETTINGS", "HELDOUT_SETTINGS",
]
