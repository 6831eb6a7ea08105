"""Markdown tables of a benchmark record, and the README section generated from them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm._published import SACHS_PUBLISHED

__all__ = ["render_markdown", "update_readme", "README_START", "README_END"]

README_START = "<!-- cmcvae-benchmark:start -->"
README_END = "<!-- cmcvae-benchmark:end -->"

#: Baselines a model number is compared with (trivial ones and the oracle are shown, not compared).
_TRIVIAL = {"random", "empty", "always_down", "oracle", "prior"}
_OURS = ("cmcvae", "cmcvae_sem")
_LABEL = {"cmcvae": "CMC-VAE", "cmcvae_sem": "CMC-VAE (sem)", "pearson": "Pearson",
          "spearman": "Spearman", "partial_correlation": "partial corr.",
          "graphical_lasso": "graphical lasso", "genie3": "GENIE3", "grnboost2": "GRNBoost2",
          "dagma": "DAGMA", "random": "random", "empty": "empty graph",
          "correlation": "correlation", "ridge": "ridge", "totalvi": "totalVI",
          "always_down": "always down", "oracle": "oracle (truth)", "prior": "prior alone"}


def _lab(m: str) -> str:
    return _LABEL.get(m, m)


def _cell(entry: dict[str, Any] | None, metric: str, digits: int = 2) -> str:
    if entry is None:
        return "–"
    if metric not in entry:
        return "skip" if "note" in entry else "–"
    v = entry[metric]
    med, lo, hi = v["median"], v["min"], v["max"]
    if not math.isfinite(med):
        return "–"
    if hi - lo < 0.5 * 10 ** (-digits):
        return f"{med:.{digits}f}"
    return f"{med:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def _index(summary: Sequence[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["dataset"], e["method"]): e for e in summary}


def _median(entry: dict[str, Any] | None, metric: str) -> float:
    if entry is None or metric not in entry:
        return float("nan")
    return float(entry[metric]["median"])


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(r) + " |" for r in rows]]


def _grn_section(summary, methods: list[str], datasets: list[str]) -> list[str]:
    idx = _index(summary)
    lines: list[str] = []
    for metric, title in (("auroc", "AUROC (directed)"), ("auprc_ratio", "AUPRC ratio over random"),
                          ("epr", "early precision ratio")):
        rows = []
        for ds in datasets:
            best = max((_median(idx.get((ds, m)), metric) for m in methods
                        if m not in _TRIVIAL), default=float("nan"), key=_nan_low)
            row = [ds]
            for m in methods:
                txt = _cell(idx.get((ds, m)), metric)
                if math.isfinite(best) and _median(idx.get((ds, m)), metric) == best:
                    txt = f"**{txt}**"
                row.append(txt)
            rows.append(row)
        med_row = ["median over datasets"]
        for m in methods:
            vals = [_median(idx.get((ds, m)), metric) for ds in datasets]
            vals = [v for v in vals if math.isfinite(v)]
            med_row.append(f"{_np_median(vals):.2f}" if vals else "–")
        rows.append(med_row)
        lines += [f"**{title}**", "", *_table(["dataset", *map(_lab, methods)], rows), ""]
    return lines


def _nan_low(v: float) -> float:
    return v if math.isfinite(v) else -math.inf


def _np_median(vals: list[float]) -> float:
    s = sorted(vals)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _sachs_section(summary, methods: list[str]) -> list[str]:
    idx = _index(summary)
    rows = []
    for m in methods:
        e = idx.get(("sachs", m))
        if e is None:
            continue
        src = "own DAG" if m in ("dagma", "cmcvae_sem", "empty") else "top-17 acyclic"
        rows.append([_lab(m), _cell(e, "auroc"), _cell(e, "undirected_auroc"),
                     _cell(e, "dag_shd", 1), _cell(e, "dag_tpr"), _cell(e, "dag_fdr"),
                     _cell(e, "dag_n_pred", 1), src])
    for name, pub in SACHS_PUBLISHED.items():
        n_pred, n_ok = pub.get("n_edges"), pub.get("n_correct")
        tpr = f"{n_ok / 17:.2f}" if n_ok is not None else "–"
        fdr = f"{1 - n_ok / n_pred:.2f}" if n_ok is not None and n_pred else "–"
        rows.append([f"{name} (published)", "–", "–", str(pub["shd"]), tpr, fdr, str(n_pred),
                     "Zhu et al. 2020, Table 4"])
    header = ["method", "AUROC", "undirected AUROC", "SHD", "TPR", "FDR", "edges", "DAG"]
    return [*_table(header, rows), ""]


def _crossmodal_section(summary, settings: list[str], methods: list[str]) -> list[str]:
    idx = _index(summary)
    header = ["method"]
    for s in settings:
        header += [f"{s}: zero-shot AUROC", f"{s}: direction", f"{s}: GRN AUROC",
                   f"{s}: GRN AUROC, all edges"]
    rows = []
    for m in methods:
        row = [_lab(m)]
        present = False
        for s in settings:
            e = idx.get((f"simulator/{s}", m))
            present |= e is not None
            row += [_cell(e, "auroc", 3), _cell(e, "direction_accuracy"), _cell(e, "grn_auroc", 3),
                    _cell(e, "grn_auroc_all", 3)]
        if present:
            rows.append(row)
    return [*_table(header, rows), ""]


def _speed_section(speed: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    tv = speed.get("cmcvae_vs_totalvi", [])
    if tv:
        by: dict[str, list[dict[str, Any]]] = {}
        for r in tv:
            by.setdefault(r["dataset"], []).append(r)
        rows = [[ds, f"{_np_median([r['cmcvae_cells_per_second'] for r in rs]):,.0f}",
                 f"{_np_median([r['totalvi_cells_per_second'] for r in rs]):,.0f}",
                 f"{_np_median([r['ratio'] for r in rs]):.2f}× ({min(r['ratio'] for r in rs):.2f}–"
                 f"{max(r['ratio'] for r in rs):.2f})"] for ds, rs in by.items()]
        lines += ["Training throughput on the same simulated data, batch 1,024 (median over seeds):", "",
                  *_table(["data", "CMC-VAE cells/s", "totalVI cells/s", "ratio"], rows), ""]
    dg = speed.get("dagma_vs_cmcvae", [])
    if dg:
        rows = [[r["dataset"], str(r["n_features"]), f"{r['dagma_seconds']:.1f}",
                 f"{r.get('cmcvae_seconds', float('nan')):.1f}",
                 f"{r.get('dagma_over_cmcvae', float('nan')):.2f}×",
                 f"{r.get('cmcvae_sem_seconds', float('nan')):.1f}",
                 f"{r.get('dagma_over_cmcvae_sem', float('nan')):.2f}×"] for r in dg]
        lines += ["Wall time on the same feature graph (s; ratio = DAGMA / CMC-VAE):", "",
                  *_table(["dataset", "features", "DAGMA", "CMC-VAE", "ratio", "CMC-VAE (sem)",
                           "ratio (sem)"], rows), ""]
    return lines


def losses(summary: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every dataset where CMC-VAE's headline metric is below the best non-trivial baseline.

    Headline metrics: directed AUROC (``grn``/``dag``), zero-shot AUROC (``crossmodal``).
    Returns rows sorted by the gap, largest first.
    """
    out = []
    by_ds: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in summary:
        by_ds.setdefault((e["task"], e["dataset"]), []).append(e)
    for (task, ds), entries in by_ds.items():
        base = [(e["method"], _median(e, "auroc")) for e in entries
                if e["method"] not in _TRIVIAL and e["method"] not in _OURS]
        base = [(m, v) for m, v in base if math.isfinite(v)]
        if not base:
            continue
        best_m, best_v = max(base, key=lambda t: t[1])
        for ours in _OURS:
            v = _median(next((e for e in entries if e["method"] == ours), None), "auroc")
            if math.isfinite(v) and v < best_v:
                out.append({"task": task, "dataset": ds, "method": ours, "auroc": v,
                            "best_baseline": best_m, "best_auroc": best_v, "gap": best_v - v})
    return sorted(out, key=lambda r: -r["gap"])


def _header(meta: dict[str, Any]) -> str:
    """The paragraph saying how, when and with what versions the table was made."""
    v = meta["versions"]
    return (
        f"Generated by `{meta.get('command') or 'python benchmarks/run.py'}` on {meta['date']} "
        f"({'quick mode' if meta.get('quick') else 'full table'}, "
        f"{meta.get('total_seconds', float('nan')) / 60:.1f} min on {meta['machine']}); "
        f"cmcvae {v.get('cmcvae')}, Python {v.get('python')}, torch {v.get('torch')}, "
        f"scikit-learn {v.get('scikit-learn')}, dagma {v.get('dagma')}, "
        f"scvi-tools {v.get('scvi-tools')}; seeds {', '.join(map(str, meta['seeds']))}. "
        "Each cell: median (min–max) over seeds; one value where the method is deterministic. "
        "**Bold**: best non-trivial method of the row. `skip`: over the method's size cap."
    )


def _losses_section(summary: list[dict[str, Any]]) -> list[str]:
    """Where a baseline beats CMC-VAE's headline AUROC: a sentence and a table, or a line."""
    lost = losses(summary)
    if not lost:
        return ["No dataset where a baseline beats CMC-VAE's headline AUROC."]
    big = lost[0]
    lines = [f"CMC-VAE is below the best baseline on {len(lost)} dataset × architecture "
             f"cells (headline AUROC). Biggest loss: {_lab(big['method'])} on "
             f"{big['dataset']} ({big['auroc']:.3f} vs {_lab(big['best_baseline'])} "
             f"{big['best_auroc']:.3f}).", ""]
    rows = [[r["dataset"], _lab(r["method"]), f"{r['auroc']:.3f}", _lab(r["best_baseline"]),
             f"{r['best_auroc']:.3f}", f"{r['gap']:.3f}"] for r in lost]
    return lines + _table(["dataset", "ours", "AUROC", "best baseline", "its AUROC", "gap"], rows)


def render_markdown(record: dict[str, Any]) -> str:
    """The benchmark record as Markdown (the README section and ``benchmark.md``)."""
    summary = record.get("summary", [])
    lines = [_header(record["meta"]), ""]
    tasks = {e["task"] for e in summary}
    methods_order = [m for m in _LABEL if any(e["method"] == m for e in summary)]
    if "grn" in tasks:
        ds = list(dict.fromkeys(e["dataset"] for e in summary if e["task"] == "grn"))
        ms = [m for m in methods_order if any(e["method"] == m and e["task"] == "grn" for e in summary)]
        lines += ["#### RNA-only network recovery (BEELINE, SERGIO, DREAM4, krumsiek11)", "",
                  "CMC-VAE runs in single-modality mode (RNA block only, values standardised). "
                  "Candidates: all ordered gene pairs; a symmetric method scores both directions "
                  "alike, so its directed AUROC is capped below 1.", "",
                  *_grn_section(summary, ms, ds)]
    if "dag" in tasks:
        ms = [m for m in methods_order if any(e["method"] == m and e["task"] == "dag" for e in summary)]
        lines += ["#### Protein-only DAG learning: Sachs 2005 (853 cells, 11 proteins, 17-edge consensus)", "",
                  "log1p intensities. SHD counts a reversed edge once. Score-only methods are "
                  "scored on their 17 strongest edges kept acyclic (greedy).", "",
                  *_sachs_section(summary, ms)]
    if "crossmodal" in tasks:
        settings = list(dict.fromkeys(e["dataset"].split("/", 1)[1] for e in summary
                                      if e["task"] == "crossmodal"))
        ms = [m for m in [*methods_order, "partial_correlation"]
              if any(e["method"] == m and e["task"] == "crossmodal" for e in summary)]
        ms = list(dict.fromkeys(ms))
        lines += ["#### Cross-modal: zero-shot knockdown → protein on the simulator", "",
                  "Forward regime; easy / default / hard = stronger / default / weaker translation "
                  "coupling with 4 / 8 / 16 donors and 8,000 / 8,000 / 3,000 cells (halved in quick "
                  "mode). Zero-shot AUROC and gene-level direction accuracy against the simulated "
                  "screen on unseen donors; GRN AUROC = gene→gene edges vs the truth with the "
                  "training prior edges excluded (every method); \"all edges\" keeps them, the "
                  "only fair column for the prior alone.", "",
                  *_crossmodal_section(summary, settings, ms)]
    speed = _speed_section(record.get("speed", {}))
    if speed:
        lines += ["#### Speed (same run)", "", *speed]
    lines += ["#### Where CMC-VAE loses", "", *_losses_section(summary)]
    if record.get("notes"):
        lines += ["", "Notes: " + "; ".join(record["notes"])]
    return "\n".join(lines) + "\n"


def update_readme(readme: str | Path, markdown: str) -> None:
    """Replace the text between :data:`README_START` and :data:`README_END` in ``readme``.

    Nothing outside the markers is touched; without the markers the file is left alone and a
    :class:`~cmcvae._errors.CMCVAEInputError` says how to add them.
    """
    path = Path(readme)
    text = path.read_text()
    if README_START not in text or README_END not in text:
        raise CMCVAEInputError(
            f"{path} has no benchmark section: add the lines {README_START} and {README_END} "
            "where the table should go."
        )
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(f"{head}{README_START}\n{markdown}{README_END}{tail}")
