"""``cmcvae run``: the whole pipeline on the built-in default (simulate → fit → validate → summary)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from cmcvae._docs import fill_docs
from cmcvae.datasets import SimulatedData, simulate
from cmcvae.io import prepare_out_dir, prepare_output, record_files, write_json
from cmcvae.tl._fit import fit_run
from cmcvae.tl._validate import direction_accuracy_vs_truth, validate_run


@fill_docs
def run_default(out: str | Path = "cmcvae_run", *, seed: int = 0, force: bool = False,
                max_epochs: int | None = None, progress_bar: bool = True,
                sim_kwargs: dict | None = None, **overrides: Any) -> dict:
    """Simulate the default dataset, fit, validate zero-shot and summarise (``cmcvae run``).

    Writes ``out/data/`` (the simulation), ``out/run/`` (the run folder, validated against the
    simulated screen with the oracle) and ``out/summary.json``.

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
        The content of ``summary.json``: seed, regime, matched-pair direction accuracy,
        zero-shot scores per method, counts, ``is_dag`` and seconds per step.
    """
    out = _prepare(Path(out), force, overrides.get("config"))
    t0 = time.perf_counter()
    sim = simulate(seed=seed, **(sim_kwargs or {}))
    data_dir = sim.write(out / "data", force=True)
    t_sim = time.perf_counter() - t0
    model = fit_run(data_dir / "train.h5mu", out / "run", batch_key="donor",
                    grn_prior=data_dir / "priors" / "grn.csv", ppi_prior=data_dir / "priors" / "ppi.csv",
                    protein_map=data_dir / "protein_map.csv", seed=seed, max_epochs=max_epochs,
                    force=True, progress_bar=progress_bar, **overrides)
    t_fit = time.perf_counter() - t0 - t_sim
    val = validate_run(out / "run", data_dir / "perturb.h5mu",
                       truth_effects=data_dir / "truth" / "knockdown_effects.csv", seed=seed)
    truth_pairs = pd.read_csv(data_dir / "truth" / "matched_pairs.csv")
    direction = direction_accuracy_vs_truth(model.get_matched_pairs(), truth_pairs)
    summary = {
        "seed": seed,
        "regime": sim.params.get("regime"),
        "matched_pair_direction_accuracy": direction,
        "zero_shot": {m: {k: val[m].get(k) for k in ("auroc", "auprc", "direction_accuracy",
                                                       "median_perturbation_auroc")}
                      for m in val.get("methods", [])},
        "n_perturbations": val.get("n_perturbations"),
        "n_pairs": val.get("n_pairs"),
        "is_dag": model.metrics.get("is_dag"),
        "seconds": {"simulate": t_sim, "fit": t_fit, "total": time.perf_counter() - t0},
    }
    record_files(out, ["summary.json"], "run")
    write_json(out / "summary.json", summary)
    return summary


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
