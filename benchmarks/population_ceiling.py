"""How good can a learned DAG be at zero-shot prediction when the covariance is exact?

Companion of ``structure_ceiling.py`` (issue: model quality). Instead of a covariance estimated
from counts, the SEM is fitted to the simulator's *population* latent covariance (the linear SCM
with unit latent variances, computed from the true weights; cell-state programmes and all
measurement noise left out). Nothing is then in the way except structure learning itself.
Every prediction is scored by the same ``validate`` on the simulated perturbation screen:

- ``true_dag``: least squares on the true edge set;
- ``true_mec``: the average of the total effects of 20 DAGs drawn from the true graph's
  Markov equivalence class (its CPDAG; undirected parts oriented along random LexBFS orders),
  weights refitted per DAG — what the data can identify at best;
- ``sem_nv`` / ``sem_me``: DAGMA fits (``score="nv"`` / ``"me"``) projected to a DAG;
- ``sem_me_mec``: the same average over the equivalence class of the ``sem_me`` DAG
  (edges ``|w| > 0.05``), i.e. not committing to orientations the data cannot decide;
- ``sem_nv_prior`` / ``sem_me_prior``: the fits with the simulated GRN prior orienting edges
  (``prior_orientation_mask``: a prior edge ``s → t`` forbids ``t → s``; the whole prior, i.e.
  half of the true TF→target edges plus 20 % decoys, is used).

    python benchmarks/population_ceiling.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
from pathlib import Path

import numpy as np
import pandas as pd

from cmcvae.datasets import simulate
from cmcvae.evaluate import validate
from cmcvae.graph.networks import latent_total_effects
from cmcvae.graph.threshold import project_to_dag
from cmcvae.model.sem._fit import fit_sem, prior_orientation_mask

SETTING = dict(n_cells=20_000, n_genes=500, n_proteins=40, n_donors=8)
EDGE_THRESHOLD = 0.05
N_SAMPLES = 20


def _topological(S: np.ndarray) -> list[int]:
    indeg = S.sum(axis=0).astype(int)
    order, ready = [], [int(v) for v in np.flatnonzero(indeg == 0)]
    while ready:
        u = ready.pop()
        order.append(u)
        for v in np.flatnonzero(S[u]):
            indeg[v] -= 1
            if indeg[v] == 0:
                ready.append(int(v))
    return order


def population_covariance(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Covariance of ``z = Wᵀz + e`` with every latent variance 1 (the simulator's scaling)."""
    sigma = np.zeros(S.shape)
    for j in _topological(S):
        pa = np.flatnonzero(S[:, j])
        row = sigma[:, pa] @ W[pa, j]
        sigma[:, j] = row
        sigma[j, :] = row
        sigma[j, j] = 1.0
    return sigma


def cpdag(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compelled (directed) and reversible (undirected) edges of DAG ``S`` (v-structures + Meek R1–R3)."""
    adj = S | S.T
    directed = np.zeros_like(S)
    for c in range(len(S)):
        pa = np.flatnonzero(S[:, c])
        for i, a in enumerate(pa):
            for b in pa[i + 1:]:
                if not adj[a, b]:
                    directed[a, c] = directed[b, c] = True
    und = adj & ~directed & ~directed.T
    changed = True
    while changed:
        changed = False
        for x, y in zip(*np.nonzero(und), strict=True):
            if not und[x, y]:
                continue
            pa_x = np.flatnonzero(directed[:, x])
            zs = np.flatnonzero(und[x] & directed[:, y])
            r1 = np.any(~adj[pa_x, y] & (pa_x != y))
            r2 = np.any(directed[np.flatnonzero(directed[x]), y])
            r3 = len(zs) >= 2 and bool((~adj[np.ix_(zs, zs)] & ~np.eye(len(zs), dtype=bool)).any())
            if r1 or r2 or r3:
                directed[x, y] = True
                und[x, y] = und[y, x] = False
                changed = True
    return directed, und


def sample_dag(directed: np.ndarray, und: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A DAG of the equivalence class: undirected edges oriented along a random LexBFS order."""
    d = len(und)
    labels: list[list[int]] = [[] for _ in range(d)]
    prio = rng.permutation(d)
    left, pos = set(range(d)), np.empty(d, dtype=int)
    for step in range(d):
        v = max(left, key=lambda u: (labels[u], prio[u]))
        pos[v] = step
        left.discard(v)
        for w in np.flatnonzero(und[v]):
            if w in left:
                labels[w].append(d - step)
    out = directed.copy()
    a, b = np.nonzero(und)
    keep = pos[a] < pos[b]
    out[a[keep], b[keep]] = True
    return out


def truth_matrices(truth: pd.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The true edges over ``names`` as a boolean adjacency ``S`` and their weights ``W``."""
    pos = {n: i for i, n in enumerate(names)}
    src, dst = truth.source.map(pos).to_numpy(), truth.target.map(pos).to_numpy()
    S = np.zeros((len(names), len(names)), dtype=bool)
    S[src, dst] = True
    W = np.zeros(S.shape)
    W[src, dst] = truth.weight.to_numpy()
    return S, W


def effects_frame(total: np.ndarray, genes: list[str], proteins: list[str]) -> pd.DataFrame:
    """Knockdown predictions (genes × proteins, minus the gene→protein total effects)."""
    G = len(genes)
    return pd.DataFrame(-total[:G, G:], index=genes, columns=proteins)


def least_squares(S: np.ndarray, R: np.ndarray) -> np.ndarray:
    W = np.zeros_like(R)
    for j in range(len(R)):
        pa = np.flatnonzero(S[:, j])
        if len(pa):
            W[pa, j] = np.linalg.solve(R[np.ix_(pa, pa)] + 1e-10 * np.eye(len(pa)), R[pa, j])
    return W


def mec_average(S: np.ndarray, R: np.ndarray, seed: int) -> np.ndarray:
    directed, und = cpdag(S)
    rng = np.random.default_rng(seed)
    return np.mean([latent_total_effects(least_squares(sample_dag(directed, und, rng), R))
                    for _ in range(N_SAMPLES)], axis=0)


def one(seed: int) -> dict:
    logging.disable(logging.WARNING)
    sim = simulate(**SETTING, seed=seed)
    genes = list(sim.mdata.mod["rna"].var_names)
    proteins = list(sim.mdata.mod["prot"].var_names)
    pos = {n: i for i, n in enumerate(genes + proteins)}
    d = len(pos)
    S, W = truth_matrices(sim.truth, genes + proteins)
    R = population_covariance(S, W)
    totals = {"true_dag": latent_total_effects(least_squares(S, R)),
              "true_mec": mec_average(S, R, seed)}
    prior = prior_orientation_mask(d, sim.grn_prior.source.map(pos).to_numpy(),
                                   sim.grn_prior.target.map(pos).to_numpy())
    structure = {}
    for score, allowed, name in (("nv", None, "sem_nv"), ("me", None, "sem_me"),
                                 ("nv", prior, "sem_nv_prior"), ("me", prior, "sem_me_prior")):
        fit, _ = fit_sem(R, score=score, allowed=allowed)
        W_dag = project_to_dag(fit, order_weights=latent_total_effects(fit) ** 2)[0]
        found = np.abs(W_dag) > EDGE_THRESHOLD
        tp = int((found & S).sum())
        structure[name] = {"precision": tp / max(int(found.sum()), 1),
                           "recall": tp / int(S.sum()), "reversed": int((found & S.T & ~S).sum())}
        totals[name] = latent_total_effects(W_dag)
        if name == "sem_me":
            totals["sem_me_mec"] = mec_average(found, R, seed)
    effects = {k: effects_frame(T, genes, proteins) for k, T in totals.items()}
    res, _ = validate(effects, sim.perturb, genes=genes, proteins=proteins,
                      protein_map=sim.protein_map)
    return {"seed": seed, "auroc": {k: res[k]["auroc"] for k in effects}, "structure": structure,
            "true_cpdag_undirected": int(cpdag(S)[1].sum() // 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "population_ceiling")
    args = ap.parse_args()
    results = []
    for seed in args.seeds:
        r = one(seed)
        results.append(r)
        print(seed, {k: round(v, 3) for k, v in r["auroc"].items()}, r["structure"], flush=True)
    lines = ["| method | zero-shot AUROC median [min–max] | DAG edges |w|>0.05: precision / recall / reversed |",
             "|---|---|---|"]
    for m in results[0]["auroc"]:
        vals = [r["auroc"][m] for r in results]
        st = [r["structure"].get(m) for r in results]
        st_txt = ("–" if not all(st) else
                  f"{statistics.median(s['precision'] for s in st):.2f} / "
                  f"{statistics.median(s['recall'] for s in st):.2f} / "
                  f"{statistics.median(s['reversed'] for s in st):.0f}")
        lines.append(f"| {m} | {statistics.median(vals):.3f} [{min(vals):.3f}–{max(vals):.3f}] | {st_txt} |")
    md = "\n".join(lines)
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"setting": SETTING, "results": results},
                                                        indent=2))
    args.out.with_suffix(".md").write_text(md + "\n")


if __name__ == "__main__":
    main()
