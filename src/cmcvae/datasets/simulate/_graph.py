"""The causal graph: drawing the SCM (:class:`_Model`), propagation and total effects."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae.datasets.simulate._constants import _CONSTANTS
from cmcvae.datasets.simulate._spec import _Spec


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


def _total_effects(model: _Model, nodes: np.ndarray) -> np.ndarray:
    """Rows ``T[nodes, :]`` of ``T = (I − B)^{-1}`` (len(nodes) × N)."""
    Et = np.zeros((model.n_nodes, len(nodes)))
    Et[nodes, np.arange(len(nodes))] = 1.0
    return _propagate(model, Et).T
