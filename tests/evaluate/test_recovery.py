"""Recovery on simulated data with a known answer.

A small forward-regime simulation: the model's predicted knockdown effects must rank the truly
affected (gene, protein) pairs above the unaffected ones and get the sign of strong effects right.
These bars are modest on purpose (the faithful design is weak, see README), but a model that
learned nothing — or the wrong sign — fails them.
"""

import numpy as np
import pytest

from cmcvae import CMCVAE
from cmcvae.datasets import simulate
from cmcvae.evaluate import auroc


@pytest.fixture(scope="module")
def fitted():
    sim = simulate(n_cells=8000, n_genes=150, n_proteins=15, n_donors=3, n_perturbations=10,
                   cells_per_perturbation=20, n_control_cells=50, seed=7)
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, grn_prior=sim.grn_prior, ppi_prior=sim.ppi_prior,
                   protein_map=sim.protein_map, arch="poster", n_latent_rna=32, n_latent_protein=8,
                   n_hidden=64, epochs_per_stage=3, max_epochs=30, batch_size=256, seed=0)
    model.train(progress_bar=False)
    return sim, model


def test_knockdown_effects_recovered(fitted):
    sim, model = fitted
    pred = model.predict_knockdown()
    truth = sim.knockdown_effects.pivot(index="perturbation", columns="protein", values="true_effect")
    genes = [g for g in truth.index if g in pred.index]
    p = pred.loc[genes, truth.columns].to_numpy().ravel()
    t = truth.loc[genes].to_numpy().ravel()
    assert model.metrics["is_dag"]
    score = auroc(np.abs(p), np.abs(t) > 0.05)
    assert score > 0.57, score
    strong = np.abs(t) > 0.5
    sign_acc = np.mean(np.sign(p[strong]) == np.sign(t[strong]))
    assert sign_acc > 0.75, sign_acc


def test_training_prior_edges_ranked_forward(fitted):
    """The margin prior works: training TF→target edges get a larger forward than reverse effect."""
    _, model = fitted
    rr = model.get_feature_networks("direct")["rna_rna"]
    train = model.priors["grn"]["train"]
    fwd = np.abs([rr.at[s, t] for s, t in zip(train.source, train.target, strict=True)])
    rev = np.abs([rr.at[t, s] for s, t in zip(train.source, train.target, strict=True)])
    assert np.mean(fwd > rev) > 0.9
