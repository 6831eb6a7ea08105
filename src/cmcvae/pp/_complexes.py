"""Complex nodes of prior networks and their member genes.

CollecTRI merges the AP-1 and NF-κB dimers into pseudo-TFs (:data:`COLLECTRI_COMPLEXES`);
OmniPath writes a complex as its members joined by :data:`OMNIPATH_COMPLEX_SEP`.
:func:`expand_complexes` gives every member the complex's edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["COLLECTRI_COMPLEXES", "OMNIPATH_COMPLEX_SEP", "expand_complexes"]

#: CollecTRI's complex pseudo-TFs and their subunits. decoupler's CollecTRI download
#: (``decoupler.op.collectri``) merges the AP-1 (JUN/FOS family) and NF-κB (REL family) dimers
#: into the pseudo-TFs ``AP1`` and ``NFKB``; these are the only complexes in it (decoupler's
#: ``remove_complexes`` drops exactly these two names).
COLLECTRI_COMPLEXES: dict[str, tuple[str, ...]] = {
    "AP1": ("JUN", "JUNB", "JUND", "FOS", "FOSB", "FOSL1", "FOSL2"),
    "NFKB": ("NFKB1", "NFKB2", "RELA", "RELB", "REL"),
}

#: Separator of complex members in OmniPath gene symbols (e.g. ``CDK1_CCNB1``; the web service's
#: UniProt form is ``COMPLEX:P06493_P14635``).
OMNIPATH_COMPLEX_SEP = "_"


def expand_complexes(net: pd.DataFrame, complexes: Mapping[str, Iterable[str]] | None = None,
                     sep: str | None = None) -> tuple[pd.DataFrame, dict[str, int]]:
    """Replace complex nodes by their member genes (every member inherits the complex's edges).

    Parameters
    ----------
    net
        ``source,target,weight`` network.
    complexes
        Named complexes and their members (e.g. :data:`COLLECTRI_COMPLEXES`).
    sep
        Also split node names containing ``sep`` (OmniPath's ``A_B`` complexes).

    Returns
    -------
    tuple
        The expanded network (original edges first, in order) and ``{complex: n_edges}`` for the
        complexes that occurred.
    """
    complexes = {k: tuple(v) for k, v in (complexes or {}).items()}

    def members(node: str) -> tuple[str, ...] | None:
        if node in complexes:
            return complexes[node]
        if sep and sep in node:
            parts = tuple(p for p in node.split(sep) if p)
            return parts if len(parts) > 1 else None
        return None

    nodes = pd.unique(pd.concat([net["source"], net["target"]], ignore_index=True))
    mapping = {n: m for n in nodes if (m := members(str(n))) is not None}
    if not mapping:
        return net.reset_index(drop=True), {}
    found: dict[str, int] = {}
    is_cx = net["source"].isin(mapping) | net["target"].isin(mapping)
    for name in mapping:
        found[name] = int(((net["source"] == name) | (net["target"] == name)).sum())
    plain = net[~is_cx]
    cx = net[is_cx].copy()
    cx["source"] = cx["source"].map(lambda n: list(mapping.get(n, (n,))))
    cx["target"] = cx["target"].map(lambda n: list(mapping.get(n, (n,))))
    cx = cx.explode("source").explode("target")
    out = pd.concat([plain, cx], ignore_index=True)
    out["source"] = out["source"].astype(str)
    out["target"] = out["target"].astype(str)
    return out, found
