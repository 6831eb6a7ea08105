"""What every figure and the report share: headless figures, colours, labels, number formats.

Use these to make a figure of your own look like the ones of :mod:`cmcvae.pl`, or to label a
table the way the report does.

Figures
-------
- :func:`new_figure` — an empty figure outside pyplot (works headless).
- :func:`save_figure` — write a figure as ``.png``, ``.svg`` or ``.pdf``.

Colours
-------
- :data:`METHOD_COLORS` and :func:`method_color` — the model and the validation baselines.
- :data:`FORWARD_COLOR`, :data:`REVERSE_COLOR`, :data:`TIE_COLOR` — direction of a pair.
- :data:`MODE_COLORS` (with :data:`MODE_LABELS`) — mode of regulation of a TF→target edge.

Labels
------
- :data:`NETWORKS` — the four feature-level networks in display order, with their labels.
- :data:`CALLS` — the calls of an asymmetry test of ``analysis.json``.
- :data:`SPLIT_TITLES` — the splits of prior TF→target edges.

Numbers
-------
- :func:`is_number` and :func:`fmt_num` — finite numbers, and ``"–"`` for missing ones.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cmcvae._errors import CMCVAEInputError

try:  # matplotlib is needed only for figures
    from matplotlib.figure import Figure
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError("cmcvae.pl needs matplotlib: pip install matplotlib") from err

#: Formats :func:`save_figure` writes, by file suffix.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}

#: Feature-level networks in display order: key → (source modality, target modality, label).
NETWORKS: dict[str, tuple[str, str, str]] = {
    "rna_rna": ("rna", "rna", "gene→gene"),
    "protein_protein": ("protein", "protein", "protein→protein"),
    "rna_protein": ("rna", "protein", "RNA→protein"),
    "protein_rna": ("protein", "rna", "protein→RNA"),
}

#: Line colours of the model and the baselines of ``cmcvae validate``.
METHOD_COLORS = {
    "cmcvae": "#c0392b",
    "correlation": "#2471a3",
    "ridge": "#7d3c98",
    "random": "#7f8c8d",
    "always_down": "#b9770e",
    "oracle": "#1e8449",
}
OTHER_COLORS = ("#17becf", "#bcbd22", "#e377c2", "#8c564b")

#: Colours of the direction of a pair (forward stronger, reverse stronger, tie).
FORWARD_COLOR, REVERSE_COLOR, TIE_COLOR = "#c0392b", "#2471a3", "#95a5a6"
#: Colours of a TF→target edge's mode of regulation.
MODE_COLORS = {1: "#c0392b", -1: "#2471a3", 0: "#95a5a6"}
MODE_LABELS = {1: "activation", -1: "repression", 0: "unknown mode"}

#: How the ``call`` of an asymmetry test of ``analysis.json`` is written.
CALLS = {"rna_to_protein": "RNA→protein", "protein_to_rna": "protein→RNA",
         "tf_to_target": "TF→target", "target_to_tf": "target→TF",
         "none": "none (not different from random pairs)"}

#: How each split of prior TF→target edges is described (training edges are not evidence).
SPLIT_TITLES = {
    "holdout": "held-out prior edges",
    "train": "training prior edges (pushed forward in training)",
    "external": "external network (never seen in training)",
}


def new_figure(width: float, height: float) -> Figure:
    """A figure that lives outside pyplot (no global state, works headless).

    Parameters
    ----------
    width, height
        Size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        An empty figure with the constrained layout engine.
    """
    return Figure(figsize=(width, height), layout="constrained")


def method_color(method: str, index: int = 0) -> str:
    """Colour of a validation method (a fixed palette; unknown names cycle extra colours).

    Parameters
    ----------
    method
        Method name, e.g. ``"correlation"``.
    index
        Position of the method, used for names outside the palette.

    Returns
    -------
    str
        A hex colour.
    """
    return METHOD_COLORS.get(method, OTHER_COLORS[index % len(OTHER_COLORS)])


def save_figure(fig: Figure, save: str | Path | None, **kwargs: Any) -> Figure:
    """Write ``fig`` to ``save`` (format from the suffix) and return it.

    Parameters
    ----------
    fig
        The figure.
    save
        Output path ending in ``.png``, ``.svg`` or ``.pdf``; ``None`` writes nothing.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig`.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``.

    Raises
    ------
    CMCVAEInputError
        The suffix is not one of the supported formats.
    """
    if save is None:
        return fig
    path = Path(save)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise CMCVAEInputError(
            f"Cannot save a figure as {path.name!r}: use a .png, .svg or .pdf file name."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("dpi", 150)
    kwargs.setdefault("bbox_inches", "tight")
    fig.savefig(path, format=fmt, **kwargs)
    return fig


def is_number(x: Any) -> bool:
    """True for a finite real number (``None``, NaN and non-numbers are False).

    Parameters
    ----------
    x
        Any value read from a JSON file.

    Returns
    -------
    bool
        Whether ``x`` can be formatted as a number.
    """
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def fmt_num(x: Any, spec: str = ".3f") -> str:
    """Format a number, or ``"–"`` when it is missing or not finite.

    Parameters
    ----------
    x
        Value (``None`` and NaN allowed).
    spec
        Format specification, e.g. ``".3f"``, ``".2g"``, ``".0%"``.

    Returns
    -------
    str
        The formatted value.
    """
    return format(x, spec) if is_number(x) else "–"
