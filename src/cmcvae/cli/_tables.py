"""The rich tables the commands print: built from a workflow's result, printed by the command."""

from __future__ import annotations

from pathlib import Path

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
    for col in ("method", "AUROC", "AUPRC", "median per-perturbation AUROC", "direction accuracy"):
        table.add_column(col)
    for method in res.get("methods", []):
        r = res[method]
        table.add_row(method, fmt(r.get("auroc")), fmt(r.get("auprc")),
                      fmt(r.get("median_perturbation_auroc")), fmt(r.get("direction_accuracy")))
    return table


def aggregate_table(res: dict, title: str) -> Table:
    """Mean ± sd [min–max] across seeds of the headline numbers of an ensemble's analyses."""
    table = Table(title=f"{title} ({res['ensemble']['n_seeds']} seeds)")
    for col in ("analysis", "statistic", "mean ± sd [min–max] / per seed"):
        table.add_column(col)
    for row in aggregate_rows(res["aggregate"], AGG_KEYS, skip_none=False):
        table.add_row(*row)
    return table


def asymmetry_table(title: str, rows: dict) -> Table:
    """``cmcvae analyze``: forward vs reverse effects per row (a kind of effect or a prior split)."""
    table = Table(title=title)
    for col in ("effects", "n", "fwd>rev", "random", "Wilcoxon p", "p vs random", "r_rb [95% CI]",
                "sign (null)", "call", "vs truth"):
        table.add_column(col)
    for name, r in rows.items():
        if "fraction_forward" not in r:
            table.add_row(name, str(r.get("n_pairs", r.get("n_edges", 0))), *["–"] * 6,
                          r.get("call", "none"), r.get("message", "–"))
            continue
        ci = r["rank_biserial_ci"]
        sign = "–"
        if r.get("sign_agreement") is not None:
            sign = f"{r['sign_agreement']:.2f} ({r['null_sign_agreement']:.2f})"
        table.add_row(name, str(r["n_pairs"]), fmt(r["fraction_forward"]), fmt(r["null_fraction_forward"]),
                      f"{r['wilcoxon_p']:.2g}", "–" if r["p_vs_null"] is None else f"{r['p_vs_null']:.2g}",
                      f"{r['rank_biserial']:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]", sign, r["call"],
                      fmt(r.get("direction_accuracy_vs_truth")))
    return table


def recovery_table(rec: dict) -> Table:
    """``cmcvae analyze --truth``: AUROC / AUPRC per network of the model and the baselines."""
    table = Table(title="Recovery of the true networks (training prior edges excluded): AUROC / AUPRC (random)")
    table.add_column("network")
    methods = [m for m in ("direct", "total", "correlation", "partial_correlation") if m in rec]
    for m in methods:
        table.add_column("cmcvae " + m if m in ("direct", "total") else m)
    table.add_column("direction acc. (direct)")
    for key in ("rna_rna", "rna_protein", "protein_protein", "protein_rna"):
        cells = []
        for m in methods:
            r = rec[m].get(key, {})
            cells.append(f"{fmt(r.get('auroc'))} / {fmt(r.get('auprc'))} ({fmt(r.get('auprc_random'))})")
        table.add_row(key.replace("_", "→"), *cells, fmt(rec["direct"].get(key, {}).get("direction_accuracy")))
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
