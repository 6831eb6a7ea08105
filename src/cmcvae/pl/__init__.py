"""Figures of a run folder (``cmcvae.pl``).

Every function takes a run folder (or the already loaded table / dict), returns a
:class:`matplotlib.figure.Figure` made without pyplot (works headless) and writes it when
``save`` names a ``.png``, ``.svg`` or ``.pdf`` file. A missing input raises
:class:`~cmcvae.CMCVAEInputError` naming the command that writes it.

In a notebook (``_sources.py``): :func:`central_dogma` and :func:`training_curves` also take a
fitted :class:`~cmcvae.CMCVAE`; :func:`central_dogma`, :func:`roc` and
:func:`perturbation_auroc` also take a MuData holding the results
:func:`cmcvae.tl.write_results` wrote (the last two need a validated run folder's results).

Table of contents
-----------------
- :func:`training_curves` — losses, −ELBO and h(A) per epoch, DAGMA stages shaded.
- :func:`roc` — zero-shot ROC curves of the model and every baseline (poster Fig. 2, left).
- :func:`perturbation_auroc` — AUROC per knockdown, model vs correlation (poster Fig. 2, right).
- :func:`tf_target` — TF→target vs reverse effects of prior edges by mode (poster Fig. 3).
- :func:`central_dogma` — RNA→protein vs protein→RNA of matched pairs (poster Fig. 4).
- :func:`recovery` — AUROC / AUPRC per network against a simulated truth, vs random.
- :func:`edge_stability` — how often each edge is kept across an ensemble's seeds.

Behind the figures
------------------
- :func:`recovery_table` — the recovery scores :func:`recovery` draws, per method and network.
- :mod:`cmcvae.pl.style` — figure plumbing, colours, labels and number formats shared by the
  figures and :mod:`cmcvae.report`.
"""

from __future__ import annotations

from cmcvae.pl._central_dogma import central_dogma
from cmcvae.pl._edge_stability import edge_stability
from cmcvae.pl._perturbation_auroc import perturbation_auroc
from cmcvae.pl._recovery import recovery, recovery_table
from cmcvae.pl._roc import roc
from cmcvae.pl._tf_target import tf_target
from cmcvae.pl._training_curves import training_curves

__all__ = [
    "central_dogma",
    "edge_stability",
    "perturbation_auroc",
    "recovery",
    "recovery_table",
    "roc",
    "tf_target",
    "training_curves",
]
