"""Reading back the results :func:`cmcvae.tl.write_results` wrote into a MuData's ``uns``.

Here, below the plotting and workflow layers, so that :mod:`cmcvae.pl` can draw from a MuData
without importing :mod:`cmcvae.tl`.
"""

from __future__ import annotations

import json
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

__all__ = ["JSON_ENTRIES", "RESULT_KEY", "read_results"]

#: the default ``key_added`` of :func:`cmcvae.tl.write_results`
RESULT_KEY = "cmcvae"
#: ``uns`` entries stored as JSON text (h5mu cannot store nested dicts holding ``None``)
JSON_ENTRIES = ("config", "validation")


def read_results(mdata: md.MuData | ad.AnnData, key: str = RESULT_KEY) -> dict[str, Any]:
    """The ``uns`` entry :func:`cmcvae.tl.write_results` wrote, with ``config`` and ``validation`` as dicts.

    Parameters
    ----------
    mdata
        A MuData (or AnnData) after :func:`cmcvae.tl.write_results`, in memory or read back from a file.
    key
        The ``key_added`` it was written with.

    Returns
    -------
    dict
        ``edges``, ``network``, ``latent_graph``, ``matched_pairs`` (and ``predictions``) as
        data frames; ``config``, ``info`` and ``validation`` as dicts. The matrices stay in
        ``varp`` / ``varm``.

    Raises
    ------
    CMCVAEInputError
        ``mdata.uns`` has no entry ``key``.
    """
    if key not in mdata.uns:
        raise CMCVAEInputError(f"No cmcvae results under uns[{key!r}]: call "
                               "`cmcvae.tl.write_results(model, mdata)` first.")
    out: dict[str, Any] = {}
    for name, value in mdata.uns[key].items():
        if name in JSON_ENTRIES:
            out[name] = json.loads(str(value))
        elif isinstance(value, pd.DataFrame):
            out[name] = value.copy()
        elif isinstance(value, dict):
            out[name] = {k: v.item() if isinstance(v, np.generic) else v for k, v in value.items()}
        else:
            out[name] = value
    return out
