"""The central figures drawn in a notebook: from a fitted model, or from a MuData holding the
results ``cmcvae.tl.write_results`` wrote, the same as from the run folder."""

from __future__ import annotations

import mudata as md
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

import cmcvae
import cmcvae.pl as pl
from cmcvae import CMCVAE, CMCVAEInputError


@pytest.fixture(scope="module")
def notebook(tmp_path_factory):
    """A tiny simulation, a validated SEM run folder, its model and a MuData with its results."""
    root = tmp_path_factory.mktemp("notebook")
    sim = cmcvae.simulate(n_cells=600, n_genes=40, n_proteins=8, n_donors=2, n_perturbations=6,
                          cells_per_perturbation=40, n_control_cells=200, seed=1)
    run = root / "run"
    model = cmcvae.tl.fit_run(sim.mdata, run, batch_key="donor", grn_prior=sim.grn_prior,
                              protein_map=sim.protein_map, arch="sem", progress_bar=False)
    cmcvae.tl.validate_run(run, sim.perturb, data=sim.mdata)
    with_results = md.MuData({name: mod.copy() for name, mod in sim.mdata.mod.items()})
    cmcvae.tl.write_results(run, with_results)
    return {"run": run, "model": model, "mdata": with_results, "sim": sim}


def _n_lines(fig: Figure) -> int:
    return sum(len(c.get_segments()) for c in fig.axes[0].collections if isinstance(c, LineCollection))


def test_central_dogma_from_model_and_mudata(notebook):
    from_run = pl.central_dogma(notebook["run"])
    n_pairs = len(notebook["model"].get_matched_pairs())
    for source in (notebook["model"], notebook["mdata"]):
        fig = pl.central_dogma(source)
        assert isinstance(fig, Figure) and _n_lines(fig) == _n_lines(from_run) == n_pairs


def test_roc_and_perturbation_auroc_from_mudata(notebook):
    for draw in (pl.roc, pl.perturbation_auroc):
        from_run, from_data = draw(notebook["run"]), draw(notebook["mdata"])
        assert len(from_data.axes[0].lines) == len(from_run.axes[0].lines)
        assert len(from_data.axes[0].patches) == len(from_run.axes[0].patches)
        assert from_data.axes[0].get_title() == from_run.axes[0].get_title()


def test_training_curves_from_model(notebook):
    sim = notebook["sim"]
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, n_latent_rna=4, n_latent_protein=2, max_epochs=2)
    model.train()
    fig = pl.training_curves(model)
    assert len(fig.axes) == 2 and fig.axes[0].lines


def test_mudata_without_validation_names_what_writes_it(notebook):
    data = md.MuData({name: mod.copy() for name, mod in notebook["sim"].mdata.mod.items()})
    cmcvae.tl.write_results(notebook["model"], data, knockdown=False)
    with pytest.raises(CMCVAEInputError, match="validate"):
        pl.roc(data)
    with pytest.raises(CMCVAEInputError, match="validate"):
        pl.perturbation_auroc(data)
    with pytest.raises(CMCVAEInputError, match="write_results"):
        pl.central_dogma(notebook["sim"].mdata)
