"""The rich tables the commands print: built from a workflow's result, printed by the command."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from cmcvae.graph.stability import aggregate_rows

#: headline numbers of an ensemble's validation / analyses shown across seeds
AGG_KEYS = ("fraction_forward", "null_fraction_forward", "wilcoxon_p", "p_vs_null", "rank_biserial",
            "sign_agreement", "null_sign_agreement", "direction_accuracy_vs_truth", "call", "auroc",
            "direction_accuracy", "auprc")


def fmt(x) -> str:
    """A score with three decimals; ``–`` for a missing or NaN one."""
    return "–" if x is None or x != x else f"{x:.3f}"


def prepared_table(out: Path, rep: dict) -> Table:
    """``cmcvae prepare``: cells, donors, features and priors of the atlas."""
    table = Table(title=f"Prepared {out}")
    table.add_column("item")
    table.add_column("value")
    table.add_row("cells (after QC)", f"{rep['cells']:,} of {rep['qc']['cells_in']:,}")
    table.add_row("donors", str(rep["n_donors"]))
    table.add_row("genes", f"{rep['n_genes']:,} ({rep['hvg']['selected']:,} HVG + {rep['hvg']['panel_genes_added']} panel genes)")
    table.add_row("proteins", f"{rep['n_proteins']} (dropped: {sum(len(v) for v in rep['proteins']['dropped'].values())})")
    table.add_row("matched protein–gene pairs", str(rep["protein_map"]["pairs"]))
    for key in ("grn_prior", "ppi_prior"):
        if key in rep:
            table.add_row(key.replace("_", " "), str(rep[key].get("message", rep[key])))
    table.add_row("seconds", f"{rep['seconds']:.1f}")
    return table


def validation_table(res: dict) -> Table:
    """``cmcvae validate``: the scores of every method."""
    table = Table(title=f"Zero-shot validation: {res.get('n_perturbations')} perturbations, {res.get('n_pairs')} pairs")
    table.add_column("method", no_wrap=True)  # never cut; the headers wrap instead
    for col in ("AUROC", "AUPRC", "median per-perturbation AUROC", "direction accuracy"):
        table.add_column(col, overflow="fold")
    for method in res.get("methods", []):
        r = res[method]
        table.add_row(method, fmt(r.get("auroc")), fmt(r.get("auprc")),
                      fmt(r.get("median_perturbation_auroc")), fmt(r.get("direction_accuracy")))
    return table


def aggregate_table(res: dict, title: str) -> Table:
    """Mean ± sd [min–max] across seeds of the headline numbers of an ensemble's analyses."""
    table = Table(title=f"{title} ({res['ensemble']['n_seeds']} seeds)")
    # long names wrap at " / " and "_"-joined names fold rather than being cut to "…"
    table.add_column("analysis", overflow="fold")
    table.add_column("statistic", overflow="fold")
    # escaped: rich would read "[min–max]" as a markup tag and drop it
    table.add_column(escape("mean ± sd [min–max] / per seed"), overflow="fold")
    for row in aggregate_rows(res["aggregate"], AGG_KEYS, skip_none=False):
        table.add_row(row[0], row[1].replace("_", " "), row[2])
    return table


def fits(table: Table, width: int | None) -> bool:
    """Whether ``table`` shows every cell on one line in ``width`` columns (``None``: any width)."""
    if width is None:
        return True
    console = Console(width=10_000)
    return Measurement.get(console, console.options, table).maximum <= width


#: the statistics of :func:`asymmetry_table`, in the order of its columns (wide) or rows (narrow)
ASYMMETRY_STATS = ("n", "fwd>rev", "random", "Wilcoxon p", "p vs random", "r_rb [95% CI]",
                   "sign (null)", "call", "vs truth")


def _asymmetry_cells(r: dict) -> list[str]:
    """One row of an :func:`asymmetry_table` (its statistics, see :data:`ASYMMETRY_STATS`)."""
    if "fraction_forward" not in r:
        return [str(r.get("n_pairs", r.get("n_edges", 0))), *["–"] * 6, r.get("call", "none"),
                r.get("message", "–")]
    ci = r["rank_biserial_ci"]
    sign = "–"
    if r.get("sign_agreement") is not None:
        sign = f"{r['sign_agreement']:.2f} ({r['null_sign_agreement']:.2f})"
    return [str(r["n_pairs"]), fmt(r["fraction_forward"]), fmt(r["null_fraction_forward"]),
            f"{r['wilcoxon_p']:.2g}", "–" if r["p_vs_null"] is None else f"{r['p_vs_null']:.2g}",
            f"{r['rank_biserial']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]", sign, r["call"],
            fmt(r.get("direction_accuracy_vs_truth"))]


def asymmetry_table(title: str, rows: dict, width: int | None = None) -> Table:
    """``cmcvae analyze``: forward vs reverse effects per row (a kind of effect or a prior split).

    One row per kind and one column per statistic when that fits in ``width`` columns; else (a
    terminal of 80 columns) the transpose, one column per kind, so that no number is cut."""
    cells = {name: _asymmetry_cells(r) for name, r in rows.items()}
    table = Table(title=title)
    for col in ("effects", *ASYMMETRY_STATS):
        table.add_column(col)
    for name, row in cells.items():
        table.add_row(name, *row)
    if fits(table, width):
        return table
    table = Table(title=title)
    table.add_column("", overflow="fold")  # the statistics name themselves
    for name in cells:
        table.add_column(name, overflow="fold")
    for i, stat in enumerate(ASYMMETRY_STATS):
        # calls are words joined by "_" (rna_to_protein): spaces let them wrap between words
        table.add_row(stat, *(row[i].replace("_", " ") for row in cells.values()))
    return table


_NETWORKS = ("rna_rna", "rna_protein", "protein_protein", "protein_rna")


def recovery_table(rec: dict, width: int | None = None) -> Table:
    """``cmcvae analyze --truth``: AUROC / AUPRC per network of the model and the baselines.

    One row per network and one column per method when that fits in ``width`` columns; else one
    row per network and method, with AUROC, AUPRC and its random baseline in columns of their own."""
    title = "Recovery of the true networks (training prior edges excluded): AUROC / AUPRC (random)"
    methods = [m for m in ("direct", "total", "correlation", "partial_correlation") if m in rec]
    names = {m: "cmcvae " + m if m in ("direct", "total") else m for m in methods}
    table = Table(title=title)
    table.add_column("network")
    for m in methods:
        table.add_column(names[m])
    table.add_column("direction acc. (direct)")
    for key in _NETWORKS:
        cells = []
        for m in methods:
            r = rec[m].get(key, {})
            cells.append(f"{fmt(r.get('auroc'))} / {fmt(r.get('auprc'))} ({fmt(r.get('auprc_random'))})")
        table.add_row(key.replace("_", "→"), *cells, fmt(rec["direct"].get(key, {}).get("direction_accuracy")))
    if fits(table, width):
        return table
    table = Table(title=title.replace(": AUROC / AUPRC (random)", ""))
    for col in ("network", "method", "AUROC", "AUPRC", "random AUPRC", "direction acc."):
        # names are never cut (protein→protein, partial correlation); the other columns wrap
        table.add_column(col, overflow="fold", justify="left" if col in ("network", "method") else "right",
                         no_wrap=col in ("network", "method"))
    for key in _NETWORKS:
        for i, m in enumerate(methods):
            r = rec[m].get(key, {})
            direction = fmt(r.get("direction_accuracy")) if m == "direct" else "–"
            table.add_row(key.replace("_", "→") if i == 0 else "", names[m].replace("_", " "),
                          fmt(r.get("auroc")), fmt(r.get("auprc")), fmt(r.get("auprc_random")), direction,
                          end_section=i == len(methods) - 1)
    return table


def prior_report_table(title: str, report: dict) -> Table:
    """``cmcvae priors … --genes``: what filtering a prior kept and dropped."""
    table = Table(title=title)
    table.add_column("item")
    table.add_column("value")
    for key, value in report.items():
        if key == "message":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} ({v:,} edges)" for k, v in value.items()) or "none"
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "none"
        elif isinstance(value, int):
            value = f"{value:,}"
        table.add_row(key.replace("_", " "), str(value))
    return table


def size(n: int | None) -> str:
    """A byte count for people (``1.2 MB``)."""
    if n is None:
        return "unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def datasets_table(datasets) -> Table:
    """``cmcvae data list``: one row per registered dataset."""
    table = Table(title="cmcvae datasets (`cmcvae data info NAME` for files, URLs and manual steps)")
    for col in ("name", "dataset", "cells", "files", "size", "checksums", "license"):
        table.add_column(col, overflow="fold")
    for d in datasets:
        table.add_row(d.name, d.title, d.cells, str(len(d.files)), size(d.total_size),
                      d.checksums_known, d.license)
    return table


def dataset_files_table(files) -> Table:
    """``cmcvae data info``: URL, size and checksum of each file of a dataset."""
    table = Table(title="files")
    for col in ("file", "size", "checksum", "url"):
        table.add_column(col, overflow="fold")
    for f in files:
        check = f"{f.checksum[0]} {f.checksum[1]}" if f.checksum else "unknown"
        table.add_row(f.name, size(f.size), check, f.url)
    return table


def fetched_table(title: str, results: dict) -> Table:
    """``cmcvae data fetch``: status, verification and sha256 of each downloaded file."""
    table = Table(title=title)
    for col in ("file", "status", "verified", "sha256"):
        table.add_column(col, overflow="fold")
    for file_name, r in results.items():
        table.add_row(file_name, r["status"], "yes" if r["verified"] else "no (no published checksum)",
                      r["sha256"])
    return table


def _signed(x) -> str:
    return "–" if x is None or x != x else f"{x:+.3f}"


def _p(x) -> str:
    return "–" if x is None or x != x else f"{x:.2g}"


def predict_table(rows, title: str, first: str) -> Table:
    """``cmcvae predict``: ranked effects with their uncertainty; ``first`` is the column that
    varies (``readout`` for a knockdown, ``perturbation`` for a readout)."""
    table = Table(title=title)
    by_readout = first == "readout"  # one readout's modality is in the title
    cols = ("readout", "modality") if by_readout else ("knockdown",)
    for col in (*cols, "effect", "se", "z", "p"):
        table.add_column(col, justify="left" if col in cols else "right")
    for r in rows.itertuples(index=False):
        z = "–" if r.z != r.z else f"{r.z:+.1f}"
        lead = (str(r.readout), r.modality) if by_readout else (str(r.perturbation),)
        table.add_row(*lead, _signed(r.predicted_effect), fmt(r.se), z, _p(r.pvalue))
    return table
