"""Seeded ground-truth simulator of CITE-seq data with a known causal structure.

The simulator draws one linear structural causal model (SCM) over genes, panel proteins and,
in the ``"confounded"`` regime, hidden factors, and then measures it the way CITE-seq does
(docs/design.md §2–3):

**Graph.** The first ``tf_fraction`` of the genes are transcription factors (``TF001``…); the
others (``G0001``…) get 1–3 TF parents each (hub TFs are preferred) and TFs may regulate
later TFs. Every panel protein (``ADT_<gene>``) is encoded by one distinct gene (mostly TF
targets, a few TFs). The matched pair of a protein and its gene is, by ``regime``:

- ``"forward"``: gene → protein (translation); the protein sits right after its gene;
- ``"reversed"``: protein → gene; the protein sits right before its gene;
- ``"mixed"``: half of the pairs forward, half reversed (assigned at random);
- ``"confounded"``: a hidden factor drives both, with no edge between them.

Sparse protein → protein edges and a few protein → RNA feedback edges point forward in one
global node order, so the graph is acyclic by construction (and checked).

**SCM.** Latent levels of a cell are ``v = Bᵀv + e`` (row vectors: ``V = E (I − B)^{-1}``),
``B[a, c]`` the weight of edge ``a → c``. In topological order every node's incoming weights
are rescaled on the analytic covariance so that its latent variance is 1: the parents explain
a fraction ``r`` (TF targets ``U(0.4, 0.8)``; a protein's own gene, or in the reversed regime
a gene's own protein, or a hidden factor, ``translation_strength``; further parents add
``(1 − strength)·U(0.3, 0.6)`` for proteins or ``(1 − strength)·U(0.4, 0.8)`` for genes) and the
exogenous noise ``1 − r``. The final weights are what ``truth`` records. Cell states are soft
interventions: each state shifts the exogenous means of a subset of TFs and a few proteins,
and the shifts propagate through the graph.

**Measurement.** RNA: per-cell library size (lognormal, median ``rna_library_median``),
per-gene baseline abundance (lognormal), log-mean
``log(lib) + base_g + scale_g·v_g + donor_g`` (``scale_g ~ U(0.5, 1.0)``, donor offsets
``N(0, donor_sd)``), negative-binomial counts (gamma–Poisson, ``theta_g ~ U(5, 20)``).
Proteins: the same with their own library (median ``protein_library_median``, default 60 per
protein), ``theta_p ~ U(20, 50)``, plus Poisson ambient background with an expected total of
``ambient_fraction`` of the protein library.

**Perturbation screen.** Knocking gene ``g`` down shifts its exogenous term by
``−knockdown_strength`` latent standard deviations, which propagates to all descendants; the
true effect on protein ``p`` is ``−knockdown_strength · T[g, p]`` with ``T = (I − B)^{-1}``,
and on every other gene likewise (``SimulatedData.knockdown_effects_rna``).
Screen cells come from new donors (``P00``, ``P01``…) with their own donor effects.

**Mechanism settings** (off by default; docs/model.md "Simulator settings"):
``regulation="saturating"`` passes every node's parent contribution through
``s·tanh(u / s)`` (``saturation_scale``) in training cells and screen alike, and the true
effects are then the simulated mean latent shift of the intervention (common random numbers,
:func:`_screen._simulated_effects`) instead of ``(I − B)^{-1}``;
``translation_efficiency_sd`` multiplies each forward gene → protein weight by a lognormal
per-protein efficiency. Both draw from their own streams, so the default output is unchanged.
Named combinations live in :data:`SIM_SETTINGS` (``heldout_*`` are never used for tuning).

Everything is drawn from :class:`numpy.random.Generator` streams spawned from one
:class:`numpy.random.SeedSequence`, so the same seed gives bit-identical output.
"""

# The private names are re-exported (redundant aliases) under their old module-level names:
# tests drive the SCM directly through them.
from cmcvae.datasets._simulate._api import simulate, simulate_atlas
from cmcvae.datasets._simulate._constants import CONTROL_LABEL, REGIMES, REGULATIONS
from cmcvae.datasets._simulate._graph import _build_model as _build_model
from cmcvae.datasets._simulate._graph import _propagate as _propagate
from cmcvae.datasets._simulate._result import OUTPUT_FILES, SimulatedData, read_simulation
from cmcvae.datasets._simulate._settings import HELDOUT_SETTINGS, SIM_SETTINGS, simulate_setting
from cmcvae.datasets._simulate._spec import _make_spec as _make_spec
from cmcvae.datasets._simulate._spec import _seed_sequences as _seed_sequences

__all__ = [
    "REGIMES",
    "REGULATIONS",
    "SIM_SETTINGS",
    "HELDOUT_SETTINGS",
    "CONTROL_LABEL",
    "OUTPUT_FILES",
    "SimulatedData",
    "simulate",
    "simulate_atlas",
    "simulate_setting",
    "read_simulation",
]
