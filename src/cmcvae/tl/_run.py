"""``cmcvae run``: the whole pipeline on the built-in default (simulate → fit → validate → analyze →
report → summary)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae.datasets import SimulatedData, simulate
from cmcvae.io import prepare_out_dir, prepare_output, record_files, write_json
from cmcvae.report import write_report_files
from cmcvae.tl._analyze import analyze_run
from cmcvae.tl._fit import fit_run
from cmcvae.tl._validate import direction_accuracy_vs_truth, validate_run

#: The architecture whose matched-pair direction is fixed by construction: the latent graph
#: orders the RNA block before the protein block, so every gene–protein pair gets one direction.
FIXED_DIRECTION_ARCHS = ("latent",)
#: Scores of each method copied from ``validation.json`` into ``summary.json``.
ZERO_SHOT_KEYS = ("auroc", "auprc", "direction_accuracy", "median_perturbation_auroc")
#: Statistics of the central-dogma test copied from ``analysis.json`` into ``summary.json``.
DOGMA_KEYS = ("n_pairs", "fraction_forward", "null_fraction_forward", "p_vs_null", "call")


@fill_docs
def run_default(out: str | Path = "cmcvae_run", *, seed: int = 0, force: bool = False,
                max_epochs: int | None = None, progress_bar: bool = True,
                sim_kwargs: dict | None = None, **overrides: Any) -> dict:
    """Simulate the default dataset, fit, validate, analyze, report and summarise (``cmcvae run``).

    Writes ``out/data/`` (the simulation), ``out/run/`` (the run folder: validated against the
    simulated screen with the oracle, analysed against the simulation's truth, with its
    ``report.html`` and ``figures/``) and ``out/summary.json``.

    Parameters
    ----------
    out
        Output folder.
    {seed}
    {force}
    max_epochs
        Maximum training epochs (default: the config's).
    progress_bar
        Show Lightning's progress bar.
    sim_kwargs
        Arguments of :func:`cmcvae.simulate` (e.g. ``n_cells``, ``regime``).
    **overrides
        Passed to :func:`fit_run`: config fields, or ``config`` (a :class:`~cmcvae.CMCVAEConfig`
        or a YAML/JSON file).

    Returns
    -------
    dict
        The content of ``summary.json``: seed, regime, architecture, estimator, matched-pair
        direction accuracy (and whether the architecture can identify it), zero-shot scores per
        method, the central-dogma test of ``analysis.json``, counts, ``is_dag``, the paths of
        the run folder, report and data, an example knockdown, and seconds per step.
    """
    out = _prepare(Path(out), force, overrides.get("config"))
    seconds: dict[str, float] = {}
    clock = _Clock(seconds)
    sim = simulate(seed=seed, **(sim_kwargs or {}))
    data_dir = sim.write(out / "data", force=True)
    clock.lap("simulate")
    run = out / "run"
    model = fit_run(data_dir / "train.h5mu", run, batch_key="donor",
                    grn_prior=data_dir / "priors" / "grn.csv", ppi_prior=data_dir / "priors" / "ppi.csv",
                    protein_map=data_dir / "protein_map.csv", seed=seed, max_epochs=max_epochs,
                    force=True, progress_bar=progress_bar, **overrides)
    clock.lap("fit")
    val = validate_run(run, data_dir / "perturb.h5mu",
                       truth_effects=data_dir / "truth" / "knockdown_effects.csv", seed=seed)
    clock.lap("validate")
    analysis = analyze_run(run, truth=data_dir / "truth", seed=seed)
    clock.lap("analyze")
    report, _ = write_report_files(run, force=True)
    clock.lap("report")
    truth_pairs = pd.read_csv(data_dir / "truth" / "matched_pairs.csv")
    arch = str(model.config.arch)
    summary = {
        "seed": seed,
        "regime": sim.params.get("regime"),
        "arch": arch,
        "estimator": val.get("estimator"),
        "matched_pair_direction_accuracy": direction_accuracy_vs_truth(model.get_matched_pairs(),
                                                                       truth_pairs),
        "matched_pair_direction_identifiable": arch not in FIXED_DIRECTION_ARCHS,
        "zero_shot": {m: {k: val[m].get(k) for k in ZERO_SHOT_KEYS}
                      for m in val.get("methods", []) if isinstance(val.get(m), dict)},
        "central_dogma": {kind: {k: r.get(k) for k in DOGMA_KEYS}
                          for kind, r in (analysis.get("central_dogma") or {}).items()},
        "n_perturbations": val.get("n_perturbations"),
        "n_pairs": val.get("n_pairs"),
        "is_dag": model.metrics.get("is_dag"),
        "paths": {"out": str(out), "run": str(run), "data": str(data_dir),
                  "report": str(report), "truth": str(data_dir / "truth")},
        "example_knockdown": _example_knockdown(run),
        "seconds": {**seconds, "total": clock.total()},
    }
    record_files(out, ["summary.json"], "run")
    write_json(out / "summary.json", summary)
    return summary


class _Clock:
    """Seconds per step of ``run_default`` (each lap since the previous one)."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.start = self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = now - self.last
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.start


def _example_knockdown(run: Path) -> str | None:
    """A knockdown of the screen to show ``cmcvae predict`` with (the first by name)."""
    try:
        names = pd.read_csv(run / "predictions.csv", usecols=["perturbation"])["perturbation"]
    except (OSError, ValueError, pd.errors.ParserError):
        return None
    return str(sorted(names.astype(str).unique())[0]) if len(names) else None


def _prepare(out: Path, force: bool, config: Any) -> Path:
    """Check ``out``, its ``data/`` (a simulation) and ``run/`` (a run folder) before anything runs.

    With ``force`` each of them keeps everything but the files cmcvae recorded writing there
    (``--force`` of ``simulate``, ``fit`` and ``run``); a file cmcvae would write but did not
    record, or the ``--config`` among the files replaced, is a refusal.
    """
    inputs = {"--config": config} if isinstance(config, (str, Path)) else {}
    summary = {"force": force, "owned": ("summary.json",), "writes": ("summary.json",),
               "command": "run", "inputs": inputs, "what": "output folder"}
    prepare_output(out, **summary, check_only=True)
    SimulatedData.prepare_folder(out / "data", force, inputs=inputs, check_only=True)
    prepare_out_dir(out / "run", force, inputs=inputs, check_only=True)
    return prepare_output(out, **summary)
