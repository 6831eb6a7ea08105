"""The perturbation screen (targets and knocked-down cells) and the noisy priors."""

from __future__ import annotations

import math

import mudata as md
import numpy as np
import pandas as pd

from cmcvae.datasets._simulate._cells import (
    _donor_names,
    _draw_donors,
    _draw_states,
    _obs,
    _sample_cells,
    _to_mudata,
)
from cmcvae.datasets._simulate._constants import CONTROL_LABEL
from cmcvae.datasets._simulate._csr import _CSRBuilder
from cmcvae.datasets._simulate._graph import _Model, _propagate, _total_effects


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


# Latent draws of the Monte Carlo true effects under saturating regulation.
_EFFECT_DRAWS = 4000


def _simulated_effects(model: _Model, targets: np.ndarray, knockdown_strength: float,
                       rng: np.random.Generator, n_draws: int = _EFFECT_DRAWS) -> np.ndarray:
    """True knockdown effects by simulating the intervention (targets × (genes + proteins)).

    ``n_draws`` latent cells (exogenous noise plus cell states drawn from the population state
    probabilities) are propagated through the model twice — as they are and with the target's
    exogenous term shifted by ``−knockdown_strength`` (the same noise: common random numbers) —
    and the effect on each gene and protein is the mean difference of its latent level.
    Columns ``[:G]`` are the genes, ``[G:G + P]`` the proteins (hidden factors are left out).
    Under linear regulation this equals ``−knockdown_strength · T[g, :G + P]`` exactly (up to
    rounding).
    """
    G, P, N = model.n_genes, model.n_proteins, model.n_nodes
    state_idx = _draw_states(np.broadcast_to(model.state_probs, (n_draws, len(model.state_probs))),
                             rng)
    Et = rng.standard_normal((N, n_draws))
    Et *= model.exog_sd[:, None]
    Et += model.state_shift[state_idx].T
    base = _propagate(model, Et)[:G + P]
    out = np.zeros((len(targets), G + P))
    for i, g in enumerate(targets):
        Ek = Et.copy()
        Ek[g] -= knockdown_strength
        out[i] = (_propagate(model, Ek)[:G + P] - base).mean(axis=1)
    return out
