"""Figures of the report: inline SVG in the page, PNG and SVG files in RUN/figures/."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from cmcvae._errors import CMCVAEInputError
from cmcvae.report._html import esc, note

#: Errors of a figure that become a note in the report instead of stopping it.
TOLERATED = (CMCVAEInputError, KeyError, ValueError, TypeError)


def svg_text(fig: Figure, salt: str) -> str:
    """The figure as SVG markup (text kept as text; ids salted so figures can share a page).

    Parameters
    ----------
    fig
        The figure.
    salt
        Unique string per figure (``svg.hashsalt``).

    Returns
    -------
    str
        A standalone SVG document.
    """
    buf = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue()


def inline_svg(svg: str, prefix: str) -> str:
    """Make an SVG document fit inside HTML next to others.

    Strips the XML prolog, DOCTYPE and metadata, and prefixes every ``id`` (and every
    reference to one) so that several figures on one page never share an id.

    Parameters
    ----------
    svg
        SVG document.
    prefix
        Unique prefix of this figure's ids.

    Returns
    -------
    str
        The ``<svg>…</svg>`` element.
    """
    body = re.sub(r"<metadata>.*?</metadata>", "", svg[svg.find("<svg"):], flags=re.S)
    body = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', body)
    body = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", body)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', body)


class FigureSink:
    """Renders figures into the report and writes them to a folder as PNG and SVG.

    Parameters
    ----------
    folder
        Where ``<name>.png`` and ``<name>.svg`` go (created on first use).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[Path] = []

    def add(self, name: str, draw: Callable[[], Figure], caption: str) -> str:
        """Draw a figure, save it and return its HTML (or a note if its input is missing).

        Parameters
        ----------
        name
            File stem, e.g. ``"roc"``.
        draw
            Builds the figure (may raise :class:`CMCVAEInputError` for a missing input).
        caption
            Plain-text caption.

        Returns
        -------
        str
            ``<figure>`` with the inline SVG, or a note saying why it is missing.
        """
        try:
            fig = draw()
        except CMCVAEInputError as err:
            return note(str(err))
        except TOLERATED as err:
            return note(f"Could not draw {name}: {type(err).__name__}: {err}")
        self.folder.mkdir(parents=True, exist_ok=True)
        svg = svg_text(fig, name)
        svg_path = self.folder / f"{name}.svg"
        svg_path.write_text(svg, encoding="utf-8")
        png_path = self.folder / f"{name}.png"
        fig.savefig(png_path, format="png", dpi=150, bbox_inches="tight")
        self.files += [png_path, svg_path]
        return (f'<figure id="fig-{esc(name)}">{inline_svg(svg, name)}'
                f"<figcaption>{esc(caption)}</figcaption></figure>")
