"""Seeded ground-truth simulator of CITE-seq data with a known causal structure.

The simulator draws one linear structural causal model (SCM) over genes, panel proteins and,
in the ``"confounded"`` regime, hidden factors, and then measures it the way CITE-seq does
(DESIGN §2–3):

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
true effect on protein ``p`` is ``−knockdown_strength · T[g, p]`` with ``T = (I − B)^{-1}``.
Screen cells come from new donors (``P00``, ``P01``…) with their own donor effects.

Everything is drawn from :class:`numpy.random.Generator` streams spawned from one
:class:`numpy.random.SeedSequence`, so the same seed gives bit-identical output.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError

__all__ = [
    "REGIMES",
    "CONTROL_LABEL",
    "OUTPUT_FILES",
    "SimulatedData",
    "simulate",
    "simulate_atlas",
    "read_simulation",
]

REGIMES = ("forward", "reversed", "mixed", "confounded")
"""Matched-pair regimes understood by :func:`simulate`."""

CONTROL_LABEL = "control"
"""``obs["perturbation"]`` label of the control cells of the perturbation screen."""

OUTPUT_FILES = (
    "train.h5mu",
    "perturb.h5mu",
    "priors/grn.csv",
    "priors/ppi.csv",
    "protein_map.csv",
    "truth/edges.csv",
    "truth/matched_pairs.csv",
    "truth/knockdown_effects.csv",
    "params.json",
)
"""Files :meth:`SimulatedData.write` creates, relative to the output folder (DESIGN §3)."""

# Fixed constants of the generative model (recorded in ``params["constants"]``).
_CONSTANTS: dict[str, Any] = {
    "tf_target_explained": [0.4, 0.8],
    "protein_parents_explained": [0.3, 0.6],
    "raw_weight_magnitude": [0.5, 1.5],
    "master_tf_fraction": 0.2,
    "tf_parent_counts": [1, 2, 3],
    "tf_parent_probs": [0.4, 0.35, 0.25],
    "tf_hub_log_sd": 1.0,
    "panel_tf_fraction": 0.15,
    "state_tf_fraction": 0.3,
    "state_protein_fraction": 0.1,
    "state_shift_magnitude": [0.5, 1.5],
    "state_prob_concentration": 4.0,
    "donor_state_concentration": 20.0,
    "donor_size_concentration": 10.0,
    "rna_base_log_sd": 1.0,
    "rna_scale": [0.5, 1.0],
    "rna_theta": [5.0, 20.0],
    "rna_library_log_sd": 0.4,
    "protein_base_log_sd": 0.8,
    "protein_scale": [0.5, 1.0],
    "protein_theta": [20.0, 50.0],
    "protein_library_log_sd": 0.4,
    "protein_counts_per_protein": 60.0,
    "ambient_profile_log_sd": 0.5,
    "donor_library_log_sd": 0.2,
}

# Cells × features entries of one sampling block (bounds the memory of one block).
_BLOCK_ENTRIES = 1 << 23

# Stream indices of the SeedSequence children.
_S_GRAPH, _S_MEASURE, _S_DONORS, _S_CELLS, _S_PERTURB, _S_PRIORS = range(6)


# --------------------------------------------------------------------------------------------
# Public result
# --------------------------------------------------------------------------------------------


@dataclass
class SimulatedData:
    """A simulated CITE-seq dataset with its ground truth.

    Attributes
    ----------
    mdata
        Training cells: modalities ``"rna"`` and ``"prot"``, raw integer counts in ``.X``
        (RNA as float32 CSR, protein dense float32); ``obs`` columns ``donor`` and
        ``cell_state`` (categorical) in the MuData and in each modality.
    perturb
        Perturbation screen with the same features plus ``obs["perturbation"]`` (target gene
        symbol or ``"control"``), on donors not in the training set.
    grn_prior
        ``source,target,weight`` TF → target prior (true edges plus decoys; weight = sign).
    ppi_prior
        ``source,target,weight`` protein → protein prior (true edges plus decoys).
    protein_map
        ``protein,gene``: one row per panel protein.
    truth
        True direct edges ``source,target,source_modality,target_modality,weight,kind``
        (modality ``rna`` or ``protein``; kind ``tf_target``, ``translation``,
        ``reverse_translation``, ``protein_protein`` or ``protein_rna_feedback``).
    matched_pairs
        ``protein,gene,direction`` with direction ``forward``, ``reversed`` or ``confounded``.
    knockdown_effects
        ``perturbation,protein,true_effect`` for every perturbation × every protein, in latent
        standard-deviation units of the protein.
    params
        Every parameter used (arguments, derived values and model constants), JSON-serialisable.
    """

    mdata: md.MuData
    perturb: md.MuData
    grn_prior: pd.DataFrame
    ppi_prior: pd.DataFrame
    protein_map: pd.DataFrame
    truth: pd.DataFrame
    matched_pairs: pd.DataFrame
    knockdown_effects: pd.DataFrame
    params: dict = field(default_factory=dict)

    def write(self, out: str | Path, force: bool = False) -> Path:
        """Write the dataset into folder ``out`` (layout in :data:`OUTPUT_FILES`).

        Parameters
        ----------
        out
            Output folder; created if missing.
        force
            Overwrite the simulator's files in an existing non-empty folder. Other files in
            the folder are left alone.

        Returns
        -------
        The output folder as a :class:`~pathlib.Path`.

        Raises
        ------
        CMCVAEInputError
            If ``out`` is a file, or a non-empty folder and ``force`` is false.
        """
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise CMCVAEInputError(
                f"Output path {out} exists and is a file; choose a folder path for --out."
            )
        if out.is_dir() and any(out.iterdir()) and not force:
            raise CMCVAEInputError(
                f"Output folder {out} exists and is not empty; pass --force (force=True) to "
                "overwrite the simulation files in it, or choose another --out."
            )
        (out / "priors").mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(parents=True, exist_ok=True)
        for name, mdata in (("train.h5mu", self.mdata), ("perturb.h5mu", self.perturb)):
            path = out / name
            if path.exists():
                path.unlink()
            mdata.write(path)
        self.grn_prior.to_csv(out / "priors" / "grn.csv", index=False)
        self.ppi_prior.to_csv(out / "priors" / "ppi.csv", index=False)
        self.protein_map.to_csv(out / "protein_map.csv", index=False)
        self.truth.to_csv(out / "truth" / "edges.csv", index=False)
        self.matched_pairs.to_csv(out / "truth" / "matched_pairs.csv", index=False)
        self.knockdown_effects.to_csv(out / "truth" / "knockdown_effects.csv", index=False)
        (out / "params.json").write_text(json.dumps(self.params, indent=2) + "\n")
        return out


def read_simulation(folder: str | Path) -> SimulatedData:
    """Read a dataset written by :meth:`SimulatedData.write`.

    Parameters
    ----------
    folder
        Folder holding the files listed in :data:`OUTPUT_FILES`.

    Returns
    -------
    The :class:`SimulatedData` (global ``obs`` columns are read as written, without pulling
    modality columns).

    Raises
    ------
    CMCVAEInputError
        If a file is missing.
    """
    folder = Path(folder)
    missing = [f for f in OUTPUT_FILES if not (folder / f).is_file()]
    if missing:
        raise CMCVAEInputError(
            f"{folder} is not a complete simulation folder (missing {', '.join(missing)}); "
            "write one with `cmcvae simulate --out DIR`."
        )
    with md.set_options(pull_on_update=False):
        train = md.read_h5mu(folder / "train.h5mu")
        perturb = md.read_h5mu(folder / "perturb.h5mu")
    prior_dtypes = {"source": str, "target": str, "weight": float}
    return SimulatedData(
        mdata=train,
        perturb=perturb,
        grn_prior=pd.read_csv(folder / "priors" / "grn.csv", dtype=prior_dtypes),
        ppi_prior=pd.read_csv(folder / "priors" / "ppi.csv", dtype=prior_dtypes),
        protein_map=pd.read_csv(folder / "protein_map.csv", dtype=str),
        truth=pd.read_csv(folder / "truth" / "edges.csv"),
        matched_pairs=pd.read_csv(folder / "truth" / "matched_pairs.csv", dtype=str),
        knockdown_effects=pd.read_csv(folder / "truth" / "knockdown_effects.csv"),
        params=json.loads((folder / "params.json").read_text()),
    )


# --------------------------------------------------------------------------------------------
# Internal model
# --------------------------------------------------------------------------------------------


@dataclass
class _Spec:
    """Validated knobs of the graph and the measurement model."""

    n_genes: int
    n_proteins: int
    regime: str
    n_cell_states: int
    tf_fraction: float
    translation_strength: float
    n_feedback: int | None
    ppi_per_protein: float
    positive_fraction: float
    cell_state_shift: float
    rna_library_median: float
    protein_library_median: float | None
    donor_sd: float
    ambient_fraction: float


@dataclass
class _Model:
    """One drawn SCM plus its measurement parameters."""

    gene_names: list[str]
    protein_names: list[str]
    n_tf: int
    n_hidden: int
    panel_genes: np.ndarray  # gene index of each protein
    directions: list[str]
    B: sp.csr_matrix  # N × N final weights, B[a, c] = a → c
    position: np.ndarray  # position of each node in the global order
    levels: list[tuple[np.ndarray, sp.csr_matrix]]  # (nodes, B[:, nodes].T) by depth ≥ 1
    exog_sd: np.ndarray
    state_probs: np.ndarray
    state_shift: np.ndarray  # n_states × N
    truth: pd.DataFrame
    n_feedback: int
    rna_base: np.ndarray
    rna_scale: np.ndarray
    rna_theta: np.ndarray
    prot_base: np.ndarray
    prot_scale: np.ndarray
    prot_theta: np.ndarray
    ambient_profile: np.ndarray
    rna_log_lib: float
    prot_log_lib: float
    prot_library_median: float
    ambient_fraction: float
    donor_sd: float

    @property
    def n_genes(self) -> int:
        return len(self.gene_names)

    @property
    def n_proteins(self) -> int:
        return len(self.protein_names)

    @property
    def n_nodes(self) -> int:
        return self.n_genes + self.n_proteins + self.n_hidden


@dataclass
class _Donors:
    """Donor names and their technical effects."""

    names: list[str]
    rna: np.ndarray  # D × G log-mean offsets
    prot: np.ndarray  # D × P
    rna_lib: np.ndarray  # D
    prot_lib: np.ndarray  # D
    state_probs: np.ndarray  # D × n_states


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise CMCVAEInputError(
            f"{name} must be an integer ≥ {minimum}, got {value!r}; pass a valid {name}."
        )
    return int(value)


def _check_float(name: str, value: Any, low: float, high: float, *, open_low: bool = False,
                 open_high: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = math.isfinite(v) and (v > low if open_low else v >= low) and (
        v < high if open_high else v <= high)
    if not ok:
        lo = "(" if open_low else "["
        hi = ")" if open_high else "]"
        raise CMCVAEInputError(
            f"{name} must be a number in {lo}{low}, {high}{hi}, got {value!r}; pass a value in "
            "that range."
        )
    return v


def _make_spec(n_genes: int, n_proteins: int, regime: str, n_cell_states: int,
               tf_fraction: float, translation_strength: float, n_feedback: int | None,
               ppi_per_protein: float, positive_fraction: float, cell_state_shift: float,
               rna_library_median: float, protein_library_median: float | None,
               donor_sd: float, ambient_fraction: float) -> _Spec:
    n_genes = _check_int("n_genes", n_genes, 3)
    n_proteins = _check_int("n_proteins", n_proteins, 1)
    if n_proteins > n_genes - 2:
        raise CMCVAEInputError(
            f"n_proteins ({n_proteins}) must be at most n_genes − 2 ({n_genes - 2}) because each "
            "protein is encoded by its own gene; raise n_genes or lower n_proteins."
        )
    if regime not in REGIMES:
        raise CMCVAEInputError(
            f"Unknown regime {regime!r}; choose one of {', '.join(REGIMES)}."
        )
    if n_feedback is not None:
        n_feedback = _check_int("n_feedback", n_feedback, 0)
    return _Spec(
        n_genes=n_genes,
        n_proteins=n_proteins,
        regime=regime,
        n_cell_states=_check_int("n_cell_states", n_cell_states, 1),
        tf_fraction=_check_float("tf_fraction", tf_fraction, 0.0, 1.0, open_low=True,
                                 open_high=True),
        translation_strength=_check_float("translation_strength", translation_strength, 0.0,
                                          1.0, open_low=True, open_high=True),
        n_feedback=n_feedback,
        ppi_per_protein=_check_float("ppi_per_protein", ppi_per_protein, 0.0, 1e6),
        positive_fraction=_check_float("positive_fraction", positive_fraction, 0.0, 1.0),
        cell_state_shift=_check_float("cell_state_shift", cell_state_shift, 0.0, 1e3),
        rna_library_median=_check_float("rna_library_median", rna_library_median, 0.0, 1e9,
                                        open_low=True),
        protein_library_median=None if protein_library_median is None else _check_float(
            "protein_library_median", protein_library_median, 0.0, 1e9, open_low=True),
        donor_sd=_check_float("donor_sd", donor_sd, 0.0, 10.0),
        ambient_fraction=_check_float("ambient_fraction", ambient_fraction, 0.0, 100.0),
    )


def _seed_sequences(seed: Any) -> list[np.random.SeedSequence]:
    seed = _check_int("seed", seed, 0)
    return np.random.SeedSequence(seed).spawn(6)


def _signs(rng: np.random.Generator, n: int, positive_fraction: float) -> np.ndarray:
    return np.where(rng.random(n) < positive_fraction, 1.0, -1.0)


def _raw_weights(rng: np.random.Generator, n: int, positive_fraction: float) -> np.ndarray:
    lo, hi = _CONSTANTS["raw_weight_magnitude"]
    return _signs(rng, n, positive_fraction) * rng.uniform(lo, hi, n)


def _build_model(spec: _Spec, rng: np.random.Generator, rng_meas: np.random.Generator) -> _Model:
    """Draw the causal graph, rescale it to unit latent variances and draw the measurement."""
    c = _CONSTANTS
    G, P = spec.n_genes, spec.n_proteins
    n_tf = int(min(max(round(spec.tf_fraction * G), 1), G - 1))
    n_non_tf = G - n_tf
    n_panel_tf = max(min(n_tf, round(c["panel_tf_fraction"] * P)), P - n_non_tf)
    n_hidden = P if spec.regime == "confounded" else 0
    N = G + P + n_hidden
    tf_w = max(3, len(str(n_tf)))
    g_w = max(4, len(str(n_non_tf)))
    gene_names = [f"TF{i + 1:0{tf_w}d}" for i in range(n_tf)] + [
        f"G{i + 1:0{g_w}d}" for i in range(n_non_tf)
    ]

    src: list[int] = []
    tgt: list[int] = []
    raw: list[float] = []
    kind: list[str] = []

    def add(a: np.ndarray | list[int], b: int, w: np.ndarray | list[float], k: str) -> None:
        for a_i, w_i in zip(a, w, strict=True):
            src.append(int(a_i))
            tgt.append(int(b))
            raw.append(float(w_i))
            kind.append(k)

    # --- gene regulatory network (TFs first in the global order, shuffled within blocks)
    tf_order = rng.permutation(n_tf)
    target_order = n_tf + rng.permutation(n_non_tf)
    n_master = min(n_tf, max(1, math.ceil(c["master_tf_fraction"] * n_tf)))
    for i in range(n_master, n_tf):
        k = min(i, 1 + int(rng.random() < 0.4))
        parents = rng.choice(tf_order[:i], size=k, replace=False)
        add(parents, tf_order[i], _raw_weights(rng, k, spec.positive_fraction), "tf_target")
    hub = np.exp(rng.normal(0.0, c["tf_hub_log_sd"], n_tf))
    hub /= hub.sum()
    n_par = rng.choice(c["tf_parent_counts"], size=n_non_tf, p=c["tf_parent_probs"])
    for g, k in zip(target_order, np.minimum(n_par, n_tf), strict=True):
        parents = rng.choice(n_tf, size=int(k), replace=False, p=hub)
        add(parents, g, _raw_weights(rng, int(k), spec.positive_fraction), "tf_target")

    # --- panel: mostly TF targets, a few TFs that have TF parents themselves
    tf_cands = tf_order[n_master:] if n_tf - n_master >= n_panel_tf else tf_order
    panel_tf = rng.choice(tf_cands, size=n_panel_tf, replace=False)
    panel_target = rng.choice(np.arange(n_tf, G), size=P - n_panel_tf, replace=False)
    panel_genes = np.sort(np.concatenate([panel_tf, panel_target])).astype(np.int64)
    protein_names = [f"ADT_{gene_names[g]}" for g in panel_genes]
    if spec.regime == "mixed":
        directions = list(rng.permutation(
            ["forward"] * math.ceil(P / 2) + ["reversed"] * (P // 2)))
    else:
        directions = [spec.regime] * P
    directions = [str(d) for d in directions]
    protein_of_gene = {int(g): G + j for j, g in enumerate(panel_genes)}

    # --- global order: hidden factors, then genes with each protein next to its gene
    order: list[int] = list(range(G + P, N))
    for g in np.concatenate([tf_order, target_order]):
        p = protein_of_gene.get(int(g))
        if p is None:
            order.append(int(g))
        elif directions[p - G] == "reversed":
            order += [p, int(g)]
        else:
            order += [int(g), p]
    position = np.empty(N, dtype=np.int64)
    position[np.asarray(order)] = np.arange(N)

    # --- matched-pair edges; "main" parent of a node explains translation_strength
    main: dict[int, int] = {}
    for j, g in enumerate(panel_genes):
        p = G + j
        if directions[j] == "forward":
            add([g], p, [1.0], "translation")
            main[p] = int(g)
        elif directions[j] == "reversed":
            add([p], int(g), [1.0], "reverse_translation")
            main[int(g)] = p
        else:
            h = G + P + j
            add([h], int(g), [1.0], "confounder")
            add([h], p, [1.0], "confounder")
            main[int(g)] = h
            main[p] = h

    # --- protein → protein edges along the global order
    prot_by_pos = G + np.argsort(position[G:G + P], kind="stable")
    iu, ju = np.triu_indices(P, 1)
    n_ppi = int(min(round(spec.ppi_per_protein * P), len(iu)))
    if n_ppi:
        sel = rng.choice(len(iu), size=n_ppi, replace=False)
        w = _raw_weights(rng, n_ppi, spec.positive_fraction)
        for s, t, w_i in zip(prot_by_pos[iu[sel]], prot_by_pos[ju[sel]], w, strict=True):
            add([s], int(t), [w_i], "protein_protein")

    # --- protein → RNA feedback to a later gene (not the protein's own gene)
    n_fb_req = P // 5 if spec.n_feedback is None else spec.n_feedback
    ok = position[None, :G] > position[G:G + P, None]
    ok[np.arange(P), panel_genes] = False
    cand = np.flatnonzero(ok)
    n_fb = int(min(n_fb_req, len(cand)))
    if n_fb:
        sel = np.sort(rng.choice(cand, size=n_fb, replace=False))
        w = _raw_weights(rng, n_fb, spec.positive_fraction)
        for f, w_i in zip(sel, w, strict=True):
            add([G + f // G], int(f % G), [w_i], "protein_rna_feedback")

    src_a = np.asarray(src, dtype=np.int64)
    tgt_a = np.asarray(tgt, dtype=np.int64)
    if not np.all(position[src_a] < position[tgt_a]):  # pragma: no cover - construction bug
        raise AssertionError("simulated graph is not acyclic along its global order")

    # --- rescale incoming weights in topological order to unit latent variance
    weights = np.asarray(raw, dtype=np.float64)
    incoming: list[list[int]] = [[] for _ in range(N)]
    for e, t in enumerate(tgt_a):
        incoming[t].append(e)
    sigma = np.zeros((N, N))
    explained = np.zeros(N)
    ts = spec.translation_strength
    for j in order:
        edges = incoming[j]
        if not edges:
            sigma[j, j] = 1.0
            continue
        rng_lo, rng_hi = c["tf_target_explained"] if j < G else c["protein_parents_explained"]
        m = main.get(j)
        other = [e for e in edges if src_a[e] != m]
        if m is None:
            r = rng.uniform(rng_lo, rng_hi)
            pa = src_a[other]
            u = weights[other]
            var = u @ sigma[np.ix_(pa, pa)] @ u
            weights[other] = u * math.sqrt(r / var)
        else:
            m_edge = next(e for e in edges if src_a[e] == m)
            weights[m_edge] = math.sqrt(ts)
            if other:
                r = ts + (1.0 - ts) * rng.uniform(rng_lo, rng_hi)
                pa = src_a[other]
                u = weights[other]
                a = u @ sigma[np.ix_(pa, pa)] @ u
                b = 2.0 * math.sqrt(ts) * (sigma[m, pa] @ u)
                scale = (-b + math.sqrt(b * b + 4.0 * a * (r - ts))) / (2.0 * a)
                weights[other] = u * scale
            else:
                r = ts
        pa_all = src_a[edges]
        row = weights[edges] @ sigma[pa_all]
        sigma[j] = row
        sigma[:, j] = row
        sigma[j, j] = 1.0
        explained[j] = r
    exog_sd = np.sqrt(1.0 - explained)

    B = sp.csr_matrix((weights, (src_a, tgt_a)), shape=(N, N))
    depth = np.zeros(N, dtype=np.int64)
    for j in order:
        if incoming[j]:
            depth[j] = 1 + depth[src_a[incoming[j]]].max()
    Bt = B.T.tocsr()
    levels = []
    for d in range(1, int(depth.max()) + 1):
        nodes = np.flatnonzero(depth == d)
        levels.append((nodes, Bt[nodes]))

    visible = np.asarray([k != "confounder" for k in kind])
    names = np.asarray(gene_names + protein_names, dtype=object)
    modality = np.where(np.arange(G + P) < G, "rna", "protein")
    truth = pd.DataFrame({
        "source": names[src_a[visible]],
        "target": names[tgt_a[visible]],
        "source_modality": modality[src_a[visible]],
        "target_modality": modality[tgt_a[visible]],
        "weight": weights[visible],
        "kind": np.asarray(kind, dtype=object)[visible],
    })
    truth = truth.astype({"source": str, "target": str, "source_modality": str,
                          "target_modality": str, "kind": str})

    # --- cell-state programmes (soft interventions on exogenous means)
    K = spec.n_cell_states
    state_probs = rng.dirichlet(np.full(K, c["state_prob_concentration"]))
    state_shift = np.zeros((K, N))
    lo, hi = c["state_shift_magnitude"]
    n_state_tf = max(1, round(c["state_tf_fraction"] * n_tf))
    n_state_prot = max(1, round(c["state_protein_fraction"] * P))
    for k in range(K):
        for nodes in (rng.choice(n_tf, n_state_tf, replace=False),
                      G + rng.choice(P, n_state_prot, replace=False)):
            state_shift[k, nodes] = (_signs(rng, len(nodes), 0.5) * rng.uniform(lo, hi, len(nodes))
                                     * spec.cell_state_shift)
    state_shift -= state_probs @ state_shift

    # --- measurement parameters
    def log_softmax(x: np.ndarray) -> np.ndarray:
        x = x - x.max()
        return x - np.log(np.exp(x).sum())

    prot_median = (spec.protein_library_median if spec.protein_library_median is not None
                   else c["protein_counts_per_protein"] * P)
    return _Model(
        gene_names=gene_names,
        protein_names=protein_names,
        n_tf=n_tf,
        n_hidden=n_hidden,
        panel_genes=panel_genes,
        directions=directions,
        B=B,
        position=position,
        levels=levels,
        exog_sd=exog_sd,
        state_probs=state_probs,
        state_shift=state_shift,
        truth=truth,
        n_feedback=n_fb,
        rna_base=log_softmax(rng_meas.normal(0.0, c["rna_base_log_sd"], G)),
        rna_scale=rng_meas.uniform(*c["rna_scale"], G),
        rna_theta=rng_meas.uniform(*c["rna_theta"], G),
        prot_base=log_softmax(rng_meas.normal(0.0, c["protein_base_log_sd"], P)),
        prot_scale=rng_meas.uniform(*c["protein_scale"], P),
        prot_theta=rng_meas.uniform(*c["protein_theta"], P),
        ambient_profile=np.exp(log_softmax(rng_meas.normal(0.0, c["ambient_profile_log_sd"], P))),
        rna_log_lib=math.log(spec.rna_library_median),
        prot_log_lib=math.log(prot_median),
        prot_library_median=float(prot_median),
        ambient_fraction=spec.ambient_fraction,
        donor_sd=spec.donor_sd,
    )


def _propagate(model: _Model, Et: np.ndarray) -> np.ndarray:
    """Latent levels ``Vᵀ`` (nodes × cells) from exogenous terms ``Eᵀ`` (nodes × cells).

    Solves ``v = Bᵀv + e`` level by level (depth in the DAG), costing ``nnz(B)`` per cell.
    """
    Vt = Et.copy()
    for nodes, Bt_rows in model.levels:
        Vt[nodes] += Bt_rows @ Vt
    return Vt


def _draw_donors(model: _Model, names: list[str], rng: np.random.Generator) -> _Donors:
    c = _CONSTANTS
    D = len(names)
    return _Donors(
        names=names,
        rna=rng.normal(0.0, model.donor_sd, (D, model.n_genes)),
        prot=rng.normal(0.0, model.donor_sd, (D, model.n_proteins)),
        rna_lib=rng.normal(0.0, c["donor_library_log_sd"], D),
        prot_lib=rng.normal(0.0, c["donor_library_log_sd"], D),
        state_probs=rng.dirichlet(c["donor_state_concentration"] * model.state_probs + 1e-3,
                                  size=D),
    )


def _donor_names(prefix: str, n: int) -> list[str]:
    width = max(2, len(str(n - 1)))
    return [f"{prefix}{i:0{width}d}" for i in range(n)]


def _draw_states(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of ``probs`` (cells × states)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0]) * cum[:, -1]
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1)


def _nb(mu: np.ndarray, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Negative-binomial (gamma–Poisson) counts with mean ``mu`` (modified in place)."""
    mu /= theta
    lam = rng.standard_gamma(theta, size=mu.shape, dtype=np.float32)
    mu *= lam
    del lam
    return rng.poisson(mu)


class _CSRBuilder:
    """Row-wise CSR assembly from dense count blocks without a dense full matrix.

    The buffers are sized from the density of the first block (plus 10%), grown by 25% if
    needed and shrunk in place at the end, so peak memory stays close to the final matrix.
    """

    def __init__(self, n_rows: int, n_cols: int) -> None:
        self.n_rows, self.n_cols = n_rows, n_cols
        big = n_rows * n_cols >= np.iinfo(np.int32).max
        self.idx_dtype = np.int64 if big else np.int32
        self.indptr = np.zeros(n_rows + 1, dtype=self.idx_dtype)
        self.data = np.empty(0, dtype=np.float32)
        self.indices = np.empty(0, dtype=self.idx_dtype)
        self.nnz = 0
        self.row = 0

    def _reserve(self, needed: int, rows: int) -> None:
        cap = len(self.data)
        if needed <= cap:
            return
        if cap == 0:
            per_row = needed / max(rows, 1)
            new_cap = int(per_row * self.n_rows * 1.1) + 1024
        else:
            new_cap = int(cap * 1.25) + 1024
        new_cap = min(max(new_cap, needed), self.n_rows * self.n_cols)
        self.data.resize(new_cap, refcheck=False)
        self.indices.resize(new_cap, refcheck=False)

    def add(self, counts: np.ndarray) -> None:
        """Append a dense block of rows (cells × ``n_cols``)."""
        rows = counts.shape[0]
        flat = np.flatnonzero(counts)
        k = len(flat)
        self._reserve(self.nnz + k, rows)
        self.data[self.nnz:self.nnz + k] = counts.ravel()[flat]
        self.indices[self.nnz:self.nnz + k] = flat % self.n_cols
        per_row = np.count_nonzero(counts, axis=1)
        self.indptr[self.row + 1:self.row + 1 + rows] = self.nnz + np.cumsum(per_row)
        self.nnz += k
        self.row += rows

    def finish(self) -> sp.csr_matrix:
        """The assembled CSR matrix (float32)."""
        if self.row != self.n_rows:  # pragma: no cover - internal bug
            raise AssertionError("CSR builder received the wrong number of rows")
        self.data.resize(self.nnz, refcheck=False)
        self.indices.resize(self.nnz, refcheck=False)
        return sp.csr_matrix((self.data, self.indices, self.indptr),
                             shape=(self.n_rows, self.n_cols), copy=False)


def _sample_cells(model: _Model, donors: _Donors, donor_idx: np.ndarray,
                  state_idx: np.ndarray, rng: np.random.Generator, rna_out: _CSRBuilder,
                  prot_out: np.ndarray, knock_node: np.ndarray | None = None,
                  knockdown_strength: float = 0.0) -> None:
    """Sample RNA counts (appended to ``rna_out``) and protein counts (into ``prot_out``).

    Works in row blocks of about :data:`_BLOCK_ENTRIES` entries so memory stays bounded.
    """
    c = _CONSTANTS
    n = len(donor_idx)
    G, P, N = model.n_genes, model.n_proteins, model.n_nodes
    block = max(1, _BLOCK_ENTRIES // max(N, 1))
    rna_off = model.rna_base - 0.5 * model.rna_scale**2
    prot_off = model.prot_base - 0.5 * model.prot_scale**2
    for start in range(0, n, block):
        sl = slice(start, min(n, start + block))
        d = donor_idx[sl]
        nb = len(d)
        Et = rng.standard_normal((N, nb))
        Et *= model.exog_sd[:, None]
        Et += model.state_shift[state_idx[sl]].T
        if knock_node is not None:
            kn = knock_node[sl]
            hit = np.flatnonzero(kn >= 0)
            Et[kn[hit], hit] -= knockdown_strength
        Vt = _propagate(model, Et)
        del Et
        # RNA: cells × genes log-means, negative-binomial counts
        log_lib = (model.rna_log_lib + donors.rna_lib[d]
                   + c["rna_library_log_sd"] * rng.standard_normal(nb))
        lm = np.ascontiguousarray(Vt[:G].T)
        lm *= model.rna_scale
        lm += rna_off
        lm += donors.rna[d]
        lm += log_lib[:, None]
        np.exp(lm, out=lm)
        counts = _nb(lm, model.rna_theta, rng)
        del lm
        rna_out.add(counts)
        del counts
        # protein: NB around the specific signal plus Poisson ambient background
        log_plib = (model.prot_log_lib + donors.prot_lib[d]
                    + c["protein_library_log_sd"] * rng.standard_normal(nb))
        lm = np.ascontiguousarray(Vt[G:G + P].T)
        del Vt
        lm *= model.prot_scale
        lm += prot_off
        lm += donors.prot[d]
        lm += log_plib[:, None]
        np.exp(lm, out=lm)
        counts = _nb(lm, model.prot_theta, rng)
        ambient = (model.ambient_fraction * np.exp(log_plib))[:, None] * model.ambient_profile
        counts += rng.poisson(ambient)
        prot_out[sl] = counts


def _to_mudata(model: _Model, rna: sp.csr_matrix, prot: np.ndarray, obs: pd.DataFrame) -> md.MuData:
    gene_var = pd.DataFrame(index=pd.Index(model.gene_names, dtype=str))
    prot_var = pd.DataFrame(
        {"gene": [model.gene_names[g] for g in model.panel_genes]},
        index=pd.Index(model.protein_names, dtype=str),
    )
    rna_obs = obs.copy()
    rna_obs["n_counts"] = np.asarray(rna.sum(axis=1), dtype=np.float64).ravel()
    prot_obs = obs.copy()
    prot_obs["n_counts"] = prot.sum(axis=1, dtype=np.float64)
    a_rna = ad.AnnData(X=rna, obs=rna_obs, var=gene_var)
    a_prot = ad.AnnData(X=prot, obs=prot_obs, var=prot_var)
    with md.set_options(pull_on_update=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        mdata = md.MuData({"rna": a_rna, "prot": a_prot})
    for col in obs.columns:
        mdata.obs[col] = obs[col].values
    return mdata


def _obs(prefix: str, donors: _Donors, donor_idx: np.ndarray, state_idx: np.ndarray,
         n_states: int) -> pd.DataFrame:
    n = len(donor_idx)
    width = max(1, len(str(max(n - 1, 0))))
    states = [f"S{k}" for k in range(n_states)]
    return pd.DataFrame(
        {
            "donor": pd.Categorical.from_codes(donor_idx, categories=donors.names),
            "cell_state": pd.Categorical.from_codes(state_idx, categories=states),
        },
        index=pd.Index([f"{prefix}{i:0{width}d}" for i in range(n)], dtype=str),
    )


def _train_cells(model: _Model, n_cells: int, n_donors: int, chunk_size: int,
                 ss: list[np.random.SeedSequence]) -> md.MuData:
    """Training cells on donors ``D00``…, generated chunk by chunk."""
    rng_d = np.random.default_rng(ss[_S_DONORS])
    donors = _draw_donors(model, _donor_names("D", n_donors), rng_d)
    sizes = rng_d.dirichlet(np.full(n_donors, _CONSTANTS["donor_size_concentration"]))
    donor_idx = rng_d.choice(n_donors, size=n_cells, p=sizes)
    state_idx = _draw_states(donors.state_probs[donor_idx], rng_d)
    n_chunks = max(1, math.ceil(n_cells / chunk_size))
    chunk_ss = ss[_S_CELLS].spawn(n_chunks)
    rna = _CSRBuilder(n_cells, model.n_genes)
    prot = np.empty((n_cells, model.n_proteins), dtype=np.float32)
    for i in range(n_chunks):
        sl = slice(i * chunk_size, min(n_cells, (i + 1) * chunk_size))
        _sample_cells(model, donors, donor_idx[sl], state_idx[sl],
                      np.random.default_rng(chunk_ss[i]), rna, prot[sl])
    obs = _obs("c", donors, donor_idx, state_idx, len(model.state_probs))
    return _to_mudata(model, rna.finish(), prot, obs)


def _total_effects(model: _Model, nodes: np.ndarray) -> np.ndarray:
    """Rows ``T[nodes, :]`` of ``T = (I − B)^{-1}`` (len(nodes) × N)."""
    Et = np.zeros((model.n_nodes, len(nodes)))
    Et[nodes, np.arange(len(nodes))] = 1.0
    return _propagate(model, Et).T


def _choose_targets(model: _Model, n_perturbations: int, rng: np.random.Generator) -> np.ndarray:
    """Half panel genes, the rest other TFs or genes with protein descendants.

    If there are too few of those, the remaining targets are any genes not yet chosen.
    """
    G, P = model.n_genes, model.n_proteins
    n_panel = min(P, math.ceil(n_perturbations / 2))
    chosen = list(rng.choice(model.panel_genes, size=n_panel, replace=False))
    T = _total_effects(model, np.arange(G))
    has_desc = np.abs(T[:, G:G + P]).max(axis=1) > 1e-12
    is_cand = has_desc | (np.arange(G) < model.n_tf)
    rest = np.setdiff1d(np.flatnonzero(is_cand), model.panel_genes)
    k = min(n_perturbations - n_panel, len(rest))
    chosen += list(rng.choice(rest, size=k, replace=False))
    if len(chosen) < n_perturbations:
        rest = np.setdiff1d(np.arange(G), chosen)
        chosen += list(rng.choice(rest, size=n_perturbations - len(chosen), replace=False))
    return np.asarray(chosen, dtype=np.int64)


def _perturb_screen(model: _Model, targets: np.ndarray, n_perturb_donors: int,
                    cells_per_perturbation: int, n_control_cells: int,
                    knockdown_strength: float, rng: np.random.Generator) -> md.MuData:
    donors = _draw_donors(model, _donor_names("P", n_perturb_donors), rng)
    labels = np.concatenate([np.full(n_control_cells, -1, dtype=np.int64),
                             np.repeat(np.arange(len(targets)), cells_per_perturbation)])
    n = len(labels)
    donor_idx = rng.integers(0, n_perturb_donors, size=n)
    state_idx = _draw_states(np.broadcast_to(model.state_probs, (n, len(model.state_probs))), rng)
    knock = np.full(n, -1, dtype=np.int64)
    knock[labels >= 0] = targets[labels[labels >= 0]]
    rna = _CSRBuilder(n, model.n_genes)
    prot = np.empty((n, model.n_proteins), dtype=np.float32)
    _sample_cells(model, donors, donor_idx, state_idx, rng, rna, prot, knock_node=knock,
                  knockdown_strength=knockdown_strength)
    obs = _obs("p", donors, donor_idx, state_idx, len(model.state_probs))
    target_names = [model.gene_names[g] for g in targets]
    obs["perturbation"] = pd.Categorical.from_codes(labels + 1,
                                                    categories=[CONTROL_LABEL] + target_names)
    return _to_mudata(model, rna.finish(), prot, obs)


def _prior(true_edges: pd.DataFrame, sources: list[str], targets: list[str], fraction: float,
           decoy_fraction: float, positive_fraction: float,
           rng: np.random.Generator) -> pd.DataFrame:
    """A prior: ``fraction`` of the true edges (weight = sign) plus random non-edge decoys."""
    n_true = len(true_edges)
    n_keep = int(round(fraction * n_true))
    keep = np.sort(rng.choice(n_true, size=n_keep, replace=False)) if n_keep else np.array([], int)
    kept = true_edges.iloc[keep]
    rows = {
        "source": list(kept["source"]),
        "target": list(kept["target"]),
        "weight": list(np.sign(kept["weight"]).astype(float)),
    }
    taken = set(zip(true_edges["source"], true_edges["target"], strict=True))
    taken |= {(t, s) for s, t in taken}
    n_decoy = int(round(decoy_fraction * n_keep))
    attempts = 0
    while n_decoy > 0 and attempts < 100 * n_decoy + 1000:
        attempts += 1
        s = sources[int(rng.integers(len(sources)))]
        t = targets[int(rng.integers(len(targets)))]
        if s == t or (s, t) in taken:
            continue
        taken.add((s, t))
        taken.add((t, s))
        rows["source"].append(s)
        rows["target"].append(t)
        rows["weight"].append(1.0 if rng.random() < positive_fraction else -1.0)
        n_decoy -= 1
    out = pd.DataFrame(rows).astype({"source": str, "target": str, "weight": float})
    return out.sort_values(["source", "target"], kind="stable").reset_index(drop=True)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, Path):
        return str(x)
    return x


def _model_params(spec: _Spec, model: _Model) -> dict[str, Any]:
    p = asdict(spec)
    p.update(
        n_tf=model.n_tf,
        n_hidden=model.n_hidden,
        n_feedback=model.n_feedback,
        protein_library_median=model.prot_library_median,
        n_edges={k: int(v) for k, v in model.truth["kind"].value_counts().sort_index().items()},
        cell_state_probs=model.state_probs,
        constants=_CONSTANTS,
    )
    return p


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def simulate(
    n_cells: int = 20_000,
    n_genes: int = 500,
    n_proteins: int = 40,
    n_donors: int = 8,
    *,
    regime: str = "forward",
    seed: int = 0,
    n_perturbations: int = 30,
    n_perturb_donors: int = 2,
    cells_per_perturbation: int = 100,
    n_control_cells: int = 1500,
    n_cell_states: int = 4,
    tf_fraction: float = 0.1,
    translation_strength: float = 0.7,
    n_feedback: int | None = None,
    prior_fraction: float = 0.5,
    prior_decoy_fraction: float = 0.2,
    knockdown_strength: float = 2.0,
    ppi_per_protein: float = 1.0,
    positive_fraction: float = 0.7,
    cell_state_shift: float = 1.0,
    rna_library_median: float = 2500.0,
    protein_library_median: float | None = None,
    donor_sd: float = 0.25,
    ambient_fraction: float = 0.1,
    chunk_size: int = 50_000,
) -> SimulatedData:
    """Simulate CITE-seq training data and a perturbation screen with a known causal graph.

    Parameters
    ----------
    n_cells
        Training cells.
    n_genes
        Genes (TFs ``TF001``… first, then ``G0001``…).
    n_proteins
        Panel proteins ``ADT_<gene>``, each encoded by a distinct gene (≤ ``n_genes − 2``).
    n_donors
        Training donors ``D00``, ``D01``… (unequal sizes, own cell-state mixtures).
    regime
        Matched-pair direction, one of :data:`REGIMES`.
    seed
        Seed of every random draw; the same seed gives bit-identical output.
    n_perturbations
        Knocked-down genes in the screen (about half encode panel proteins, the rest are TFs
        or genes with protein descendants); at most ``n_genes``.
    n_perturb_donors
        Donors of the screen (``P00``, ``P01``…), none of them in the training set.
    cells_per_perturbation
        Screen cells per knocked-down gene.
    n_control_cells
        Control cells of the screen (``obs["perturbation"] == "control"``).
    n_cell_states
        Cell-state programmes (soft interventions on TFs and a few proteins).
    tf_fraction
        Fraction of genes that are TFs.
    translation_strength
        Fraction of a protein's latent variance explained by its gene (forward), of the gene's
        variance explained by its protein (reversed), or of both explained by their hidden
        factor (confounded); in (0, 1).
    n_feedback
        Protein → RNA feedback edges; default ``n_proteins // 5``.
    prior_fraction
        Fraction of the true TF → target and protein → protein edges put in the priors.
    prior_decoy_fraction
        Decoy (non-)edges added to each prior, as a fraction of its true edges.
    knockdown_strength
        Shift of a knocked-down gene's exogenous term, in latent standard deviations.
    ppi_per_protein
        Protein → protein edges per protein (on average).
    positive_fraction
        Fraction of activating (positive) regulatory edges.
    cell_state_shift
        Scale of the cell-state shifts of exogenous means (0 switches states off).
    rna_library_median
        Median RNA UMIs per cell over the simulated genes.
    protein_library_median
        Median protein counts per cell before ambient background; default ``60 · n_proteins``.
    donor_sd
        Standard deviation of the per-donor log-mean offsets of every gene and protein.
    ambient_fraction
        Expected ambient protein counts per cell as a fraction of its protein library.
    chunk_size
        Cells generated per random stream (see :func:`simulate_atlas`).

    Returns
    -------
    The :class:`SimulatedData`; ``.write(out)`` saves it in the DESIGN §3 layout.

    Raises
    ------
    CMCVAEInputError
        If an argument is out of range.
    """
    spec = _make_spec(n_genes, n_proteins, regime, n_cell_states, tf_fraction,
                      translation_strength, n_feedback, ppi_per_protein, positive_fraction,
                      cell_state_shift, rna_library_median, protein_library_median, donor_sd,
                      ambient_fraction)
    n_cells = _check_int("n_cells", n_cells, 1)
    n_donors = _check_int("n_donors", n_donors, 1)
    n_perturbations = _check_int("n_perturbations", n_perturbations, 0)
    if n_perturbations > spec.n_genes:
        raise CMCVAEInputError(
            f"n_perturbations ({n_perturbations}) exceeds n_genes ({spec.n_genes}); lower it."
        )
    n_perturb_donors = _check_int("n_perturb_donors", n_perturb_donors, 1)
    cells_per_perturbation = _check_int("cells_per_perturbation", cells_per_perturbation, 1)
    n_control_cells = _check_int("n_control_cells", n_control_cells, 0)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    prior_fraction = _check_float("prior_fraction", prior_fraction, 0.0, 1.0)
    prior_decoy_fraction = _check_float("prior_decoy_fraction", prior_decoy_fraction, 0.0, 10.0)
    knockdown_strength = _check_float("knockdown_strength", knockdown_strength, 0.0, 1e3)
    ss = _seed_sequences(seed)

    model = _build_model(spec, np.random.default_rng(ss[_S_GRAPH]),
                         np.random.default_rng(ss[_S_MEASURE]))
    train = _train_cells(model, n_cells, n_donors, chunk_size, ss)

    rng_p = np.random.default_rng(ss[_S_PERTURB])
    targets = _choose_targets(model, n_perturbations, rng_p)
    perturb = _perturb_screen(model, targets, n_perturb_donors, cells_per_perturbation,
                              n_control_cells, knockdown_strength, rng_p)

    G, P = model.n_genes, model.n_proteins
    T = _total_effects(model, targets)[:, G:G + P] if len(targets) else np.zeros((0, P))
    target_names = [model.gene_names[g] for g in targets]
    knockdown_effects = pd.DataFrame({
        "perturbation": np.repeat(np.asarray(target_names, dtype=object), P).astype(str),
        "protein": np.tile(np.asarray(model.protein_names, dtype=object), len(targets)).astype(str),
        "true_effect": (-knockdown_strength * T).ravel() + 0.0,
    })

    rng_pr = np.random.default_rng(ss[_S_PRIORS])
    truth = model.truth
    grn_prior = _prior(truth[truth["kind"] == "tf_target"], model.gene_names[:model.n_tf],
                       model.gene_names, prior_fraction, prior_decoy_fraction,
                       spec.positive_fraction, rng_pr)
    ppi_prior = _prior(truth[truth["kind"] == "protein_protein"], model.protein_names,
                       model.protein_names, prior_fraction, prior_decoy_fraction,
                       spec.positive_fraction, rng_pr)
    panel = [model.gene_names[g] for g in model.panel_genes]
    protein_map = pd.DataFrame({"protein": model.protein_names, "gene": panel})
    matched_pairs = pd.DataFrame({"protein": model.protein_names, "gene": panel,
                                  "direction": model.directions})

    params = _model_params(spec, model)
    params.update(
        n_cells=n_cells,
        n_donors=n_donors,
        seed=int(seed),
        n_perturbations=n_perturbations,
        n_perturb_donors=n_perturb_donors,
        cells_per_perturbation=cells_per_perturbation,
        n_control_cells=n_control_cells,
        prior_fraction=prior_fraction,
        prior_decoy_fraction=prior_decoy_fraction,
        knockdown_strength=knockdown_strength,
        chunk_size=chunk_size,
        control_label=CONTROL_LABEL,
        perturbation_targets=target_names,
    )
    return SimulatedData(
        mdata=train,
        perturb=perturb,
        grn_prior=grn_prior,
        ppi_prior=ppi_prior,
        protein_map=protein_map,
        truth=truth.reset_index(drop=True),
        matched_pairs=matched_pairs,
        knockdown_effects=knockdown_effects,
        params=_jsonable(params),
    )


def simulate_atlas(
    n_cells: int = 809_130,
    n_genes: int = 2000,
    n_proteins: int = 144,
    n_donors: int = 138,
    *,
    chunk_size: int = 50_000,
    seed: int = 0,
    regime: str = "forward",
    n_cell_states: int = 4,
    tf_fraction: float = 0.1,
    translation_strength: float = 0.7,
    n_feedback: int | None = None,
    ppi_per_protein: float = 1.0,
    positive_fraction: float = 0.7,
    cell_state_shift: float = 1.0,
    rna_library_median: float = 2500.0,
    protein_library_median: float | None = None,
    donor_sd: float = 0.25,
    ambient_fraction: float = 0.1,
) -> md.MuData:
    """Atlas-scale training data (no perturbation screen), generated chunk by chunk.

    The graph is drawn once; cells are generated ``chunk_size`` at a time (each chunk from its
    own seeded stream, internally in row blocks of bounded size) and the RNA is assembled as a
    CSR matrix from per-chunk CSR blocks, so no dense cells × genes matrix is ever held. With
    the same seed, sizes, chunk size and model arguments, the cells equal the training cells
    of :func:`simulate`.

    Parameters
    ----------
    n_cells, n_genes, n_proteins, n_donors
        Sizes (defaults: 809,130 cells × 2,000 genes × 144 proteins, 138 donors).
    chunk_size
        Cells per chunk.
    seed
        Random seed.
    regime, n_cell_states, tf_fraction, translation_strength, n_feedback, ppi_per_protein, \
positive_fraction, cell_state_shift, rna_library_median, protein_library_median, donor_sd, \
ambient_fraction
        As in :func:`simulate`.

    Returns
    -------
    MuData with modalities ``"rna"`` (CSR float32 counts) and ``"prot"`` (dense float32
    counts); ``uns["simulation_params"]`` (JSON string), ``uns["truth_edges"]`` and
    ``uns["matched_pairs"]`` (DataFrames) record the ground truth.

    Raises
    ------
    CMCVAEInputError
        If an argument is out of range.
    """
    spec = _make_spec(n_genes, n_proteins, regime, n_cell_states, tf_fraction,
                      translation_strength, n_feedback, ppi_per_protein, positive_fraction,
                      cell_state_shift, rna_library_median, protein_library_median, donor_sd,
                      ambient_fraction)
    n_cells = _check_int("n_cells", n_cells, 1)
    n_donors = _check_int("n_donors", n_donors, 1)
    chunk_size = _check_int("chunk_size", chunk_size, 1)
    ss = _seed_sequences(seed)
    model = _build_model(spec, np.random.default_rng(ss[_S_GRAPH]),
                         np.random.default_rng(ss[_S_MEASURE]))
    mdata = _train_cells(model, n_cells, n_donors, chunk_size, ss)
    params = _model_params(spec, model)
    params.update(n_cells=n_cells, n_donors=n_donors, seed=int(seed), chunk_size=chunk_size)
    panel = [model.gene_names[g] for g in model.panel_genes]
    mdata.uns["simulation_params"] = json.dumps(_jsonable(params))
    mdata.uns["truth_edges"] = model.truth.reset_index(drop=True)
    mdata.uns["matched_pairs"] = pd.DataFrame({"protein": model.protein_names, "gene": panel,
                                               "direction": model.directions})
    return mdata
