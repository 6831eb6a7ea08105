"""The causal graph: drawing the SCM (:class:`_Model`), propagation and total effects.

:func:`_build_model` draws the model in named steps, each from the graph stream in a fixed
order (changing the order changes every simulation of a seed): the gene regulatory network,
the panel proteins and their matched-pair directions, the global node order, the matched-pair,
protein → protein and protein → RNA feedback edges, the rescaling of incoming weights to unit
latent variance, and the cell-state programmes. The measurement parameters come from their own
stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae.datasets._simulate._constants import _CONSTANTS
from cmcvae.datasets._simulate._spec import _Spec


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
    regulation: str = "linear"
    saturation_scale: float = 1.0
    translation_efficiency: np.ndarray | None = None  # per protein; None = all 1

    @property
    def n_genes(self) -> int:
        return len(self.gene_names)

    @property
    def n_proteins(self) -> int:
        return len(self.protein_names)

    @property
    def n_nodes(self) -> int:
        return self.n_genes + self.n_proteins + self.n_hidden


@dataclass(frozen=True)
class _Sizes:
    """Node counts; nodes are genes ``0…G−1``, proteins ``G…G+P−1``, then hidden factors."""

    G: int  # genes
    P: int  # panel proteins
    n_tf: int  # TFs: genes 0…n_tf−1
    n_hidden: int  # hidden factors (one per protein in the confounded regime)

    @property
    def n_non_tf(self) -> int:
        return self.G - self.n_tf

    @property
    def N(self) -> int:
        return self.G + self.P + self.n_hidden


@dataclass
class _EdgeList:
    """Edges in the order they are drawn: source and target node, raw weight and kind."""

    src: list[int] = field(default_factory=list)
    tgt: list[int] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)

    def add(self, a: np.ndarray | list[int], b: int, w: np.ndarray | list[float], k: str) -> None:
        """Add the edges ``a[i] → b`` with raw weights ``w[i]`` and kind ``k``."""
        for a_i, w_i in zip(a, w, strict=True):
            self.src.append(int(a_i))
            self.tgt.append(int(b))
            self.raw.append(float(w_i))
            self.kind.append(k)


def _signs(rng: np.random.Generator, n: int, positive_fraction: float) -> np.ndarray:
    return np.where(rng.random(n) < positive_fraction, 1.0, -1.0)


def _raw_weights(rng: np.random.Generator, n: int, positive_fraction: float) -> np.ndarray:
    lo, hi = _CONSTANTS["raw_weight_magnitude"]
    return _signs(rng, n, positive_fraction) * rng.uniform(lo, hi, n)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def _sizes(spec: _Spec) -> _Sizes:
    G, P = spec.n_genes, spec.n_proteins
    n_tf = int(min(max(round(spec.tf_fraction * G), 1), G - 1))
    return _Sizes(G, P, n_tf, P if spec.regime == "confounded" else 0)


def _gene_names(n: _Sizes) -> list[str]:
    """``TF001``… for the TFs, then ``G0001``… (zero-padded to the count's width)."""
    tf_w = max(3, len(str(n.n_tf)))
    g_w = max(4, len(str(n.n_non_tf)))
    return ([f"TF{i + 1:0{tf_w}d}" for i in range(n.n_tf)]
            + [f"G{i + 1:0{g_w}d}" for i in range(n.n_non_tf)])


def _draw_grn(spec: _Spec, rng: np.random.Generator, n: _Sizes,
              edges: _EdgeList) -> tuple[np.ndarray, np.ndarray, int]:
    """TF → TF and TF → target edges; returns the TF order, the target order and ``n_master``.

    TFs come first in the global order, shuffled within their block, and so do the targets.
    The first ``n_master`` TFs in that order have no TF parent; later TFs get 1–2 earlier TF
    parents; targets get 1–3 TF parents drawn with hub weights.
    """
    c = _CONSTANTS
    n_tf = n.n_tf
    tf_order = rng.permutation(n_tf)
    target_order = n_tf + rng.permutation(n.n_non_tf)
    n_master = min(n_tf, max(1, math.ceil(c["master_tf_fraction"] * n_tf)))
    for i in range(n_master, n_tf):
        k = min(i, 1 + int(rng.random() < 0.4))
        parents = rng.choice(tf_order[:i], size=k, replace=False)
        edges.add(parents, tf_order[i], _raw_weights(rng, k, spec.positive_fraction), "tf_target")
    hub = np.exp(rng.normal(0.0, c["tf_hub_log_sd"], n_tf))
    hub /= hub.sum()
    n_par = rng.choice(c["tf_parent_counts"], size=n.n_non_tf, p=c["tf_parent_probs"])
    for g, k in zip(target_order, np.minimum(n_par, n_tf), strict=True):
        parents = rng.choice(n_tf, size=int(k), replace=False, p=hub)
        edges.add(parents, g, _raw_weights(rng, int(k), spec.positive_fraction), "tf_target")
    return tf_order, target_order, n_master


def _draw_panel(spec: _Spec, rng: np.random.Generator, n: _Sizes, tf_order: np.ndarray,
                n_master: int) -> tuple[np.ndarray, list[str]]:
    """The gene of each panel protein (sorted) and each matched pair's direction.

    The panel is mostly TF targets plus a few TFs that have TF parents themselves.
    """
    G, P, n_tf = n.G, n.P, n.n_tf
    n_panel_tf = max(min(n_tf, round(_CONSTANTS["panel_tf_fraction"] * P)), P - n.n_non_tf)
    tf_cands = tf_order[n_master:] if n_tf - n_master >= n_panel_tf else tf_order
    panel_tf = rng.choice(tf_cands, size=n_panel_tf, replace=False)
    panel_target = rng.choice(np.arange(n_tf, G), size=P - n_panel_tf, replace=False)
    panel_genes = np.sort(np.concatenate([panel_tf, panel_target])).astype(np.int64)
    if spec.regime == "mixed":
        directions = list(rng.permutation(
            ["forward"] * math.ceil(P / 2) + ["reversed"] * (P // 2)))
    else:
        directions = [spec.regime] * P
    return panel_genes, [str(d) for d in directions]


def _global_order(n: _Sizes, gene_order: np.ndarray, panel_genes: np.ndarray,
                  directions: list[str]) -> tuple[list[int], np.ndarray]:
    """Hidden factors first, then the genes in ``gene_order`` with each protein next to its gene.

    A protein comes right after its gene, or right before it in a reversed pair. Returns the
    order and each node's position in it.
    """
    G = n.G
    protein_of_gene = {int(g): G + j for j, g in enumerate(panel_genes)}
    order: list[int] = list(range(G + n.P, n.N))
    for g in gene_order:
        p = protein_of_gene.get(int(g))
        if p is None:
            order.append(int(g))
        elif directions[p - G] == "reversed":
            order += [p, int(g)]
        else:
            order += [int(g), p]
    position = np.empty(n.N, dtype=np.int64)
    position[np.asarray(order)] = np.arange(n.N)
    return order, position


def _add_matched_pairs(n: _Sizes, panel_genes: np.ndarray, directions: list[str],
                       edges: _EdgeList) -> dict[int, int]:
    """The edges of each matched pair; returns each node's "main" parent (explains ``ts``)."""
    G, P = n.G, n.P
    main: dict[int, int] = {}
    for j, g in enumerate(panel_genes):
        p = G + j
        if directions[j] == "forward":
            edges.add([g], p, [1.0], "translation")
            main[p] = int(g)
        elif directions[j] == "reversed":
            edges.add([p], int(g), [1.0], "reverse_translation")
            main[int(g)] = p
        else:
            h = G + P + j
            edges.add([h], int(g), [1.0], "confounder")
            edges.add([h], p, [1.0], "confounder")
            main[int(g)] = h
            main[p] = h
    return main


def _draw_protein_edges(spec: _Spec, rng: np.random.Generator, n: _Sizes, position: np.ndarray,
                        edges: _EdgeList) -> None:
    """Sparse protein → protein edges, each from an earlier to a later protein in the order."""
    G, P = n.G, n.P
    prot_by_pos = G + np.argsort(position[G:G + P], kind="stable")
    iu, ju = np.triu_indices(P, 1)
    n_ppi = int(min(round(spec.ppi_per_protein * P), len(iu)))
    if n_ppi:
        sel = rng.choice(len(iu), size=n_ppi, replace=False)
        w = _raw_weights(rng, n_ppi, spec.positive_fraction)
        for s, t, w_i in zip(prot_by_pos[iu[sel]], prot_by_pos[ju[sel]], w, strict=True):
            edges.add([s], int(t), [w_i], "protein_protein")


def _draw_feedback(spec: _Spec, rng: np.random.Generator, n: _Sizes, position: np.ndarray,
                   panel_genes: np.ndarray, edges: _EdgeList) -> int:
    """Protein → RNA feedback edges to a later gene (not the protein's own); returns how many."""
    G, P = n.G, n.P
    n_fb_req = P // 5 if spec.n_feedback is None else spec.n_feedback
    ok = position[None, :G] > position[G:G + P, None]
    ok[np.arange(P), panel_genes] = False
    cand = np.flatnonzero(ok)
    n_fb = int(min(n_fb_req, len(cand)))
    if n_fb:
        sel = np.sort(rng.choice(cand, size=n_fb, replace=False))
        w = _raw_weights(rng, n_fb, spec.positive_fraction)
        for f, w_i in zip(sel, w, strict=True):
            edges.add([G + f // G], int(f % G), [w_i], "protein_rna_feedback")
    return n_fb


def _rescale_weights(spec: _Spec, rng: np.random.Generator, n: _Sizes, src: np.ndarray,
                     raw: np.ndarray, incoming: list[list[int]], order: list[int],
                     main: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Rescale every node's incoming weights, in topological order, to unit latent variance.

    The parents explain a fraction ``r`` of the node's variance (see the package docstring);
    ``sigma`` is the analytic covariance of the nodes rescaled so far.

    Returns
    -------
    The final edge weights and the explained fraction ``r`` of every node (0 for roots).
    """
    weights = raw.copy()
    sigma = np.zeros((n.N, n.N))
    explained = np.zeros(n.N)
    for j in order:
        edges = incoming[j]
        if not edges:
            sigma[j, j] = 1.0
            continue
        key = "tf_target_explained" if j < n.G else "protein_parents_explained"
        r = _rescale_node(spec.translation_strength, _CONSTANTS[key], rng, edges, main.get(j),
                          src, weights, sigma)
        pa_all = src[edges]
        row = weights[edges] @ sigma[pa_all]
        sigma[j] = row
        sigma[:, j] = row
        sigma[j, j] = 1.0
        explained[j] = r
    return weights, explained


def _rescale_node(ts: float, explained_range: list[float], rng: np.random.Generator,
                  edges: list[int], m: int | None, src: np.ndarray, weights: np.ndarray,
                  sigma: np.ndarray) -> float:
    """Rescale the incoming ``edges`` of one node in place; returns the fraction explained.

    Without a main parent ``m`` the parents explain ``r ~ U(explained_range)``. With one, its
    edge gets weight ``√ts`` and the other parents are scaled so that all together explain
    ``ts + (1 − ts)·U(explained_range)`` (the root of a quadratic in the common scale).
    """
    rng_lo, rng_hi = explained_range
    other = [e for e in edges if src[e] != m]
    if m is None:
        r = rng.uniform(rng_lo, rng_hi)
        pa = src[other]
        u = weights[other]
        var = u @ sigma[np.ix_(pa, pa)] @ u
        weights[other] = u * math.sqrt(r / var)
        return r
    m_edge = next(e for e in edges if src[e] == m)
    weights[m_edge] = math.sqrt(ts)
    if not other:
        return ts
    r = ts + (1.0 - ts) * rng.uniform(rng_lo, rng_hi)
    pa = src[other]
    u = weights[other]
    a = u @ sigma[np.ix_(pa, pa)] @ u
    b = 2.0 * math.sqrt(ts) * (sigma[m, pa] @ u)
    scale = (-b + math.sqrt(b * b + 4.0 * a * (r - ts))) / (2.0 * a)
    weights[other] = u * scale
    return r


def _depth_levels(B: sp.csr_matrix, order: list[int], incoming: list[list[int]],
                  src: np.ndarray) -> list[tuple[np.ndarray, sp.csr_matrix]]:
    """``(nodes, B[:, nodes].T)`` for each depth ≥ 1 of the DAG (what :func:`_propagate` uses)."""
    depth = np.zeros(B.shape[0], dtype=np.int64)
    for j in order:
        if incoming[j]:
            depth[j] = 1 + depth[src[incoming[j]]].max()
    Bt = B.T.tocsr()
    levels = []
    for d in range(1, int(depth.max()) + 1):
        nodes = np.flatnonzero(depth == d)
        levels.append((nodes, Bt[nodes]))
    return levels


def _truth_table(n: _Sizes, feature_names: list[str], src: np.ndarray, tgt: np.ndarray,
                 weights: np.ndarray, kind: list[str]) -> pd.DataFrame:
    """The visible true edges (hidden-factor edges left out) as ``truth/edges.csv`` holds them."""
    visible = np.asarray([k != "confounder" for k in kind])
    names = np.asarray(feature_names, dtype=object)
    modality = np.where(np.arange(n.G + n.P) < n.G, "rna", "protein")
    truth = pd.DataFrame({
        "source": names[src[visible]],
        "target": names[tgt[visible]],
        "source_modality": modality[src[visible]],
        "target_modality": modality[tgt[visible]],
        "weight": weights[visible],
        "kind": np.asarray(kind, dtype=object)[visible],
    })
    return truth.astype({"source": str, "target": str, "source_modality": str,
                         "target_modality": str, "kind": str})


def _draw_cell_states(spec: _Spec, rng: np.random.Generator,
                      n: _Sizes) -> tuple[np.ndarray, np.ndarray]:
    """Cell-state probabilities and programmes (soft interventions on exogenous means).

    Each state shifts a subset of TFs and a few proteins; the shifts are centred so that their
    mean over the state probabilities is zero.
    """
    c = _CONSTANTS
    K = spec.n_cell_states
    state_probs = rng.dirichlet(np.full(K, c["state_prob_concentration"]))
    state_shift = np.zeros((K, n.N))
    lo, hi = c["state_shift_magnitude"]
    n_state_tf = max(1, round(c["state_tf_fraction"] * n.n_tf))
    n_state_prot = max(1, round(c["state_protein_fraction"] * n.P))
    for k in range(K):
        for nodes in (rng.choice(n.n_tf, n_state_tf, replace=False),
                      n.G + rng.choice(n.P, n_state_prot, replace=False)):
            state_shift[k, nodes] = (_signs(rng, len(nodes), 0.5) * rng.uniform(lo, hi, len(nodes))
                                     * spec.cell_state_shift)
    state_shift -= state_probs @ state_shift
    return state_probs, state_shift


def _draw_measurement(spec: _Spec, rng_meas: np.random.Generator, n: _Sizes) -> dict[str, Any]:
    """The measurement fields of :class:`_Model` (baselines, scales, dispersions, libraries)."""
    c = _CONSTANTS
    G, P = n.G, n.P
    prot_median = (spec.protein_library_median if spec.protein_library_median is not None
                   else c["protein_counts_per_protein"] * P)
    # One statement per draw: the order of the draws on rng_meas is part of the seed's output.
    rna_base = _log_softmax(rng_meas.normal(0.0, c["rna_base_log_sd"], G))
    rna_scale = rng_meas.uniform(*c["rna_scale"], G)
    rna_theta = rng_meas.uniform(*c["rna_theta"], G)
    prot_base = _log_softmax(rng_meas.normal(0.0, c["protein_base_log_sd"], P))
    prot_scale = rng_meas.uniform(*c["protein_scale"], P)
    prot_theta = rng_meas.uniform(*c["protein_theta"], P)
    ambient_profile = np.exp(_log_softmax(rng_meas.normal(0.0, c["ambient_profile_log_sd"], P)))
    return {
        "rna_base": rna_base,
        "rna_scale": rna_scale,
        "rna_theta": rna_theta,
        "prot_base": prot_base,
        "prot_scale": prot_scale,
        "prot_theta": prot_theta,
        "ambient_profile": ambient_profile,
        "rna_log_lib": math.log(spec.rna_library_median),
        "prot_log_lib": math.log(prot_median),
        "prot_library_median": float(prot_median),
        "ambient_fraction": spec.ambient_fraction,
        "donor_sd": spec.donor_sd,
    }


def _translation_efficiency(spec: _Spec, rng_mech: np.random.Generator | None, n: _Sizes,
                            tgt: np.ndarray, kind: list[str], weights: np.ndarray) -> np.ndarray:
    """Per-protein translation efficiencies (lognormal, median 1), applied in place.

    Each forward gene → protein (``"translation"``) edge weight is multiplied by its protein's
    efficiency after the unit-variance rescaling, so the protein's latent variance becomes
    ``eff²·ts + (rest)``. With ``translation_efficiency_sd == 0`` nothing is drawn.
    """
    if spec.translation_efficiency_sd == 0.0 or rng_mech is None:
        return np.ones(n.P)
    eff = np.exp(rng_mech.normal(0.0, spec.translation_efficiency_sd, n.P))
    is_tl = np.asarray([k == "translation" for k in kind], dtype=bool)
    weights[is_tl] *= eff[tgt[is_tl] - n.G]
    return eff


def _build_model(spec: _Spec, rng: np.random.Generator, rng_meas: np.random.Generator,
                 rng_mech: np.random.Generator | None = None) -> _Model:
    """Draw the causal graph, rescale it to unit latent variances and draw the measurement.

    Every step draws from ``rng`` in this order; ``rng_meas`` serves only the measurement and
    ``rng_mech`` only the optional mechanism settings (translation efficiencies), so switching
    those on leaves the graph and the measurement of a seed as they were.
    """
    n = _sizes(spec)
    gene_names = _gene_names(n)
    edges = _EdgeList()
    tf_order, target_order, n_master = _draw_grn(spec, rng, n, edges)
    panel_genes, directions = _draw_panel(spec, rng, n, tf_order, n_master)
    protein_names = [f"ADT_{gene_names[g]}" for g in panel_genes]
    order, position = _global_order(n, np.concatenate([tf_order, target_order]), panel_genes,
                                    directions)
    main = _add_matched_pairs(n, panel_genes, directions, edges)
    _draw_protein_edges(spec, rng, n, position, edges)
    n_fb = _draw_feedback(spec, rng, n, position, panel_genes, edges)

    src = np.asarray(edges.src, dtype=np.int64)
    tgt = np.asarray(edges.tgt, dtype=np.int64)
    if not np.all(position[src] < position[tgt]):  # pragma: no cover - construction bug
        raise AssertionError("simulated graph is not acyclic along its global order")
    incoming: list[list[int]] = [[] for _ in range(n.N)]
    for e, t in enumerate(tgt):
        incoming[t].append(e)
    weights, explained = _rescale_weights(spec, rng, n, src,
                                          np.asarray(edges.raw, dtype=np.float64), incoming,
                                          order, main)
    efficiency = _translation_efficiency(spec, rng_mech, n, tgt, edges.kind, weights)
    B = sp.csr_matrix((weights, (src, tgt)), shape=(n.N, n.N))
    state_probs, state_shift = _draw_cell_states(spec, rng, n)
    return _Model(
        gene_names=gene_names,
        protein_names=protein_names,
        n_tf=n.n_tf,
        n_hidden=n.n_hidden,
        panel_genes=panel_genes,
        directions=directions,
        B=B,
        position=position,
        levels=_depth_levels(B, order, incoming, src),
        exog_sd=np.sqrt(1.0 - explained),
        state_probs=state_probs,
        state_shift=state_shift,
        truth=_truth_table(n, gene_names + protein_names, src, tgt, weights, edges.kind),
        n_feedback=n_fb,
        regulation=spec.regulation,
        saturation_scale=spec.saturation_scale,
        translation_efficiency=efficiency,
        **_draw_measurement(spec, rng_meas, n),
    )


def _propagate(model: _Model, Et: np.ndarray, *, linear: bool = False) -> np.ndarray:
    """Latent levels ``Vᵀ`` (nodes × cells) from exogenous terms ``Eᵀ`` (nodes × cells).

    Solves ``v = Bᵀv + e`` level by level (depth in the DAG), costing ``nnz(B)`` per cell.
    Under saturating regulation (unless ``linear``) each node's parent contribution ``u`` is
    passed through ``s·tanh(u / s)`` (``s = saturation_scale``: slope 1 at 0, bounded by ±s)
    before its exogenous term is added: ``v = s·tanh(Bᵀv / s) + e``.
    """
    Vt = Et.copy()
    saturate = model.regulation == "saturating" and not linear
    s = model.saturation_scale
    for nodes, Bt_rows in model.levels:
        u = Bt_rows @ Vt
        if saturate:
            u = s * np.tanh(u / s)
        Vt[nodes] += u
    return Vt


def _total_effects(model: _Model, nodes: np.ndarray) -> np.ndarray:
    """Rows ``T[nodes, :]`` of ``T = (I − B)^{-1}`` (len(nodes) × N)."""
    Et = np.zeros((model.n_nodes, len(nodes)))
    Et[nodes, np.arange(len(nodes))] = 1.0
    return _propagate(model, Et, linear=True).T
