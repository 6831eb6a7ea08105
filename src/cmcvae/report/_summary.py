"""Report sections: data, settings, training and versions; training curves."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from cmcvae import pl
from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__
from cmcvae.io import read_manifest
from cmcvae.pl.style import fmt_num, is_number
from cmcvae.report._context import RunContext
from cmcvae.report._figures import FigureSink
from cmcvae.report._html import Section, esc, note, table

DATA_TITLE = "Data and training"
CURVES_TITLE = "Training curves"


def _count(x: object) -> str:
    return f"{int(x):,}" if is_number(x) else "–"


def _name(path: object) -> str:
    return Path(str(path)).name if path else "–"


#: Config fields shown under "Settings", per architecture (the whole config is in run.json).
KEY_CONFIG = {
    "latent": ("n_latent_rna", "n_latent_protein", "likelihood", "max_epochs", "lr", "batch_size",
               "beta", "lambda_dag", "lambda_prior", "lambda_sparse", "dag_stages",
               "epochs_per_stage", "threshold", "prior_holdout", "seed"),
    "sem": ("sem_score", "sem_l1", "sem_floor", "sem_lr", "sem_stages", "sem_thinning",
            "sem_lambda_prior", "sem_prior_orient", "threshold", "prior_holdout", "seed"),
}


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _data_rows(metrics: dict, info: dict) -> list[tuple[str, str]]:
    """The training data: file, cells, genes, proteins, donors, batch key, priors."""
    return [
        ("data file", info.get("data") or "–"),
        ("cells", _count(metrics.get("n_cells"))),
        ("genes", _count(metrics.get("n_genes"))),
        ("proteins", _count(metrics.get("n_proteins"))),
        ("donors", _count(metrics.get("n_donors"))),
        ("modalities", str(info.get("modality") or "both")),
        ("batch key", info.get("batch_key") or "–"),
        ("GRN prior", _name(info.get("grn_prior"))),
        ("PPI prior", _name(info.get("ppi_prior"))),
        ("protein map", _name(info.get("protein_map"))),
    ]


def _settings_rows(info: dict) -> list[tuple[str, str]]:
    """The architecture and the key config values of the fit."""
    config = info.get("config") or {}
    arch = str(config.get("arch", "–"))
    rows = [("architecture", {"latent": "latent (the published latent VAE)",
                              "sem": "sem (feature-level SEM)"}.get(arch, arch))]
    rows += [(key, str(config[key])) for key in KEY_CONFIG.get(arch, ()) if key in config]
    return rows


def _training_rows(metrics: dict) -> list[tuple[str, str]]:
    """Epochs, DAG, latent edges, h(A), fit time and speed, final losses."""
    timings = metrics.get("timings") or {}
    dag = metrics.get("is_dag")
    return [
        ("epochs", _count(metrics.get("epochs"))),
        ("latent graph is a DAG", "yes" if dag is True else "no" if dag is False else "–"),
        ("latent edges", _count(metrics.get("n_latent_edges"))),
        ("h(A) at the end", fmt_num(metrics.get("h_final"), ".3g")),
        ("fit seconds", fmt_num(timings.get("fit_seconds"), ".1f")),
        ("cells per second", fmt_num(timings.get("cells_per_second"), ",.0f")),
        ("final train loss / validation loss",
         f"{fmt_num(metrics.get('train_loss'), '.2f')} / {fmt_num(metrics.get('val_loss'), '.2f')}"),
        *_intervention_rows(metrics.get("interventions")),
    ]


def _intervention_rows(used: dict | None) -> list[tuple[str, str]]:
    """A screen fit: whether its perturbed cells entered the structure model's likelihood."""
    if not used:
        return []
    if not used.get("in_likelihood"):
        return [("perturbed cells in the likelihood",
                 f"no ({used.get('reason') or 'not used by this fit'})")]
    return [("perturbed cells in the likelihood",
             f"yes: {_count(used.get('n_cells'))} cells of {_count(used.get('n_regimes'))} "
             f"perturbations ({_count(used.get('n_targets_in_model'))} on modelled genes, "
             f"{_count(used.get('n_targets_outside_model'))} outside the model)")]


def _version_rows(ctx: RunContext) -> list[tuple[str, str]]:
    """The cmcvae that fitted the run (its manifest) and the software writing this report."""
    try:
        fitted = (read_manifest(ctx.run).get("metrics.json") or {}).get("version")
    except CMCVAEInputError:
        fitted = None
    return [("cmcvae that fitted the run", str(fitted or "unknown (no manifest entry)")),
            ("cmcvae (this report)", __version__), ("torch", _package("torch")),
            ("python", platform.python_version())]


def data_section(ctx: RunContext) -> Section:
    """The data, the settings, the training and the software versions of the run.

    Parameters
    ----------
    ctx
        The run.

    Returns
    -------
    Section
        Four small tables (or a note naming ``cmcvae fit``).
    """
    metrics = ctx.read_json("metrics.json")
    if metrics is None:
        return Section("data", DATA_TITLE, note(ctx.missing("metrics.json")))
    info = ctx.read_json("run.json") or {}
    blocks = (("Data", _data_rows(metrics, info)),
              ("Settings (all of them: run.json)", _settings_rows(info)),
              ("Training", _training_rows(metrics)), ("Versions", _version_rows(ctx)))
    body = "".join(f"<div><h3>{esc(title)}</h3>{table(('item', 'value'), rows)}</div>"
                   for title, rows in blocks)
    return Section("data", DATA_TITLE, f'<div class="tables">{body}</div>')


def curves_section(ctx: RunContext, sink: FigureSink) -> Section:
    """Training curves figure.

    Parameters
    ----------
    ctx
        The run.
    sink
        Figure renderer.

    Returns
    -------
    Section
        The figure (or a note).
    """
    if not (ctx.run / "metrics.json").is_file():
        return Section("training", CURVES_TITLE, note(ctx.missing("metrics.json")))
    body = sink.add("training_curves", lambda: pl.training_curves(ctx.run),
                    "How training went: loss and −ELBO per epoch (train solid, validation "
                    "dashed), DAGMA stages shaded; acyclicity h(A) on a log axis below.")
    return Section("training", CURVES_TITLE, body)
