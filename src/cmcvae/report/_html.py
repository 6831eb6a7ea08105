"""HTML building blocks of the report: page shell, tables, notes (all text escaped)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;
margin-top:2em}h3{font-size:1.05em;margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.model td{font-weight:600;background:#fdf2f0}
.missing{background:#fff8e1;border-left:4px solid #f0b429;padding:.5em .8em}
.meta{color:#666;font-size:.9em}figure{margin:1em 0}figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.85em}nav a{margin-right:1em}
.tables{display:flex;flex-wrap:wrap;gap:1.5em}code{background:#f4f4f4;padding:0 .25em}
"""


def esc(text: object) -> str:
    """HTML-escape any value (quotes included).

    Parameters
    ----------
    text
        Value to show; converted with :func:`str`.

    Returns
    -------
    str
        Escaped text.
    """
    return html.escape(str(text), quote=True)


@dataclass
class Section:
    """One section of the report.

    Attributes
    ----------
    anchor
        HTML id (link target).
    title
        Heading (plain text, escaped when rendered).
    body
        HTML of the content (already escaped where needed).
    """

    anchor: str
    title: str
    body: str


def _code_spans(message: str) -> str:
    parts = esc(message).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def note(message: str) -> str:
    """A highlighted paragraph saying what is missing and which command produces it.

    Parameters
    ----------
    message
        Plain text; backquoted spans become ``<code>``.

    Returns
    -------
    str
        HTML paragraph.
    """
    return f'<p class="missing">{_code_spans(message)}</p>'


def aside(message: str) -> str:
    """A plain paragraph on an optional extra the run does not have (nothing is missing).

    Parameters
    ----------
    message
        Plain text; backquoted spans become ``<code>``.

    Returns
    -------
    str
        HTML paragraph.
    """
    return f'<p class="meta">{_code_spans(message)}</p>'


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *,
          numeric: Sequence[bool] | None = None, highlight: Sequence[bool] | None = None,
          caption: str | None = None) -> str:
    """An HTML table; every cell is escaped.

    Parameters
    ----------
    header
        Column titles.
    rows
        Cell values (already formatted as text or numbers).
    numeric
        Per column: right-align (numbers).
    highlight
        Per row: mark as the model's row.
    caption
        Optional caption above the table.

    Returns
    -------
    str
        HTML table.
    """
    numeric = list(numeric or [False] * len(header))
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = ' class="model"' if highlight is not None and highlight[i] else ""
        cells = "".join(
            f'<td class="num">{esc(v)}</td>' if j < len(numeric) and numeric[j] else f"<td>{esc(v)}</td>"
            for j, v in enumerate(row)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole self-contained HTML document (inline CSS, no scripts, no external files).

    Parameters
    ----------
    title
        Page title (plain text).
    subtitle
        Line under the title (plain text).
    sections
        Sections in order.

    Returns
    -------
    str
        The HTML document.
    """
    nav = "".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections)
    body = "\n".join(f'<section id="{esc(s.anchor)}">\n<h2>{esc(s.title)}</h2>\n{s.body}\n</section>'
                     for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n<p class=\"meta\">{esc(subtitle)}</p>\n<nav>{nav}</nav>\n"
        f"{body}\n</body>\n</html>\n"
    )
