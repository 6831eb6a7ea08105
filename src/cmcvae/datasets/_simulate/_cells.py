"""Cells: donors, cell states, negative-binomial sampling and MuData assembly."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae.datasets._simulate._constants import _CONSTANTS
from cmcvae.datasets._simulate._csr import _CSRBuilder
from cmcvae.datasets._simulate._graph import _Model, _propagate
from cmcvae.datasets._simulate._spec import _S_CELLS, _S_DONORS

# Cells × features entries of one sampling block (bounds the memory of one block).
_BLOCK_ENTRIES = 1 << 23


@dataclass
class _Donors:
    """Donor names and their technical effects."""

    names: list[str]
    rna: np.ndarray  # D × G log-mean offsets
    prot: np.ndarray  # D × P
    rna_lib: np.ndarray  # D
    prot_lib: np.ndarray  # D
    state_probs: np.ndarray  # D × n_states


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
