"""One self-contained HTML report of a run folder (``cmcvae.report``).

Table of contents
-----------------
- :func:`write_report` — write ``RUN/report.html`` (figures inline; no external files).
- :func:`write_report_files` — the same, also returning the figure files in ``RUN/figures/``.
"""

from __future__ import annotations

from cmcvae.report._write import write_report, write_report_files

__all__ = ["write_report", "write_report_files"]
