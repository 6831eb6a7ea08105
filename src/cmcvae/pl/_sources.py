"""What a figure may be drawn from besides a run folder: a fitted model, or a MuData holding the
results :func:`cmcvae.tl.write_results` wrote (for notebooks)."""

from __future__ import annotations

from typing import Any

import anndata as ad
import mudata as md

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import RESULT_KEY, read_results
from cmcvae.model import CMCVAE


def is_results_data(obj: Any) -> bool:
    """True for a MuData or AnnData (a figure then reads ``uns["cmcvae"]``)."""
    return isinstance(obj, (md.MuData, ad.AnnData))


def is_model(obj: Any) -> bool:
    """True for a :class:`~cmcvae.CMCVAE`."""
    return isinstance(obj, CMCVAE)


def stored_result(data: md.MuData | ad.AnnData, name: str, producer: str) -> Any:
    """The entry ``name`` of ``data.uns["cmcvae"]`` (:func:`cmcvae.tl.read_results`).

    Raises
    ------
    CMCVAEInputError
        No results, or none named ``name`` (with what writes it: ``producer``).
    """
    results = read_results(data, RESULT_KEY)
    if name not in results:
        raise CMCVAEInputError(
            f"The results in uns[{RESULT_KEY!r}] have no {name!r}: {producer}, then "
            "`cmcvae.tl.write_results(RUN, mdata)` with that run folder."
        )
    return results[name]
