"""Atlas harmonisation: several CITE-seq datasets → one model-ready MuData (``cmcvae prepare``).

Steps (each reported in ``uns["cmcvae_prepare"]``):

1. donor key per dataset (labels prefixed with the dataset name so donors never collide);
2. gene intersection; protein panel intersection after mapping antibody names to canonical
   antigens (so "CD3-1", "CD3_TotalSeqB" and "CD3" match); isotype controls dropped;
3. QC: minimum detected genes, maximum mitochondrial fraction, minimum protein library size;
4. HVG selection (``seurat_v3`` on counts, batch-aware), always keeping genes that encode panel
   proteins;
5. protein normalisation kept beside the counts: CLR in ``layers["clr"]`` (DSB's ambient
   normalisation in ``layers["dsb"]`` when empty droplets are given).

Raw counts stay in ``.X`` (the model's likelihood needs them); RNA stays sparse throughout.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cmcvae._constants import PROT_MOD, RNA_MOD
from cmcvae._errors import CMCVAEInputError
from cmcvae.io import check_counts, clean_json
from cmcvae.pp._antigen import canonical_antigen, isotype_controls
from cmcvae.pp._normalize import clr
from cmcvae.pp._priors import prepare_grn_prior, prepare_ppi_prior
from cmcvae.pp._protein_map import map_panel


def _donors(mdata: md.MuData, name: str, batch_key: str | None) -> pd.Series:
    rna = mdata.mod[RNA_MOD]
    if batch_key is None:
        return pd.Series(name, index=rna.obs_names)
    for frame in (mdata.obs, rna.obs, mdata.mod[PROT_MOD].obs):
        if batch_key in frame.columns:
            values = frame[batch_key].reindex(rna.obs_names)
            if values.isna().any():
                raise CMCVAEInputError(
                    f"Dataset {name!r}: the donor column {batch_key!r} is empty for "
                    f"{int(values.isna().sum())} cells. Fill it, or pass --batch-key none to use one "
                    "batch per dataset."
                )
            return name + ":" + values.astype(str)
    cols = sorted(set(mdata.obs.columns) | set(rna.obs.columns))
    raise CMCVAEInputError(
        f"Dataset {name!r} has no donor column {batch_key!r} (its obs columns: {cols}). Every dataset "
        f"needs the same donor column: add it (e.g. mdata.obs[{batch_key!r}] = 'donor1' for a "
        "single-donor dataset) or pass --batch-key none to treat each dataset as one batch."
    )


def _canonical_panel(prot: ad.AnnData, name: str, duplicates: list[str] | None = None) -> dict[str, str]:
    """canonical antigen → original name (isotype controls dropped).

    When two antibodies (clones) target the same antigen the first is kept and the others are
    appended to ``duplicates`` for the report.
    """
    iso = set(isotype_controls(list(prot.var_names)))
    out: dict[str, str] = {}
    for p in prot.var_names:
        if p in iso:
            continue
        key = canonical_antigen(str(p))
        if key in out and duplicates is not None:
            duplicates.append(f"{p} (same antigen as {out[key]})")
        out.setdefault(key, str(p))
    if not out:
        raise CMCVAEInputError(f"Dataset {name!r} has no protein other than isotype controls.")
    return out


def _stored_nonzero_csr(X) -> sp.csr_matrix:
    """CSR without explicit zeros (copied only when it has any), so stored entries = detections."""
    X = sp.csr_matrix(X) if X.format != "csr" else X
    if X.nnz and (X.data == 0).any():
        X = X.copy()
        X.eliminate_zeros()
    return X


def _detected_per_cell(X) -> np.ndarray:
    """Genes with a non-zero count per cell, without building a boolean copy of ``X``."""
    if sp.issparse(X):
        return np.diff(_stored_nonzero_csr(X).indptr)
    return (np.asarray(X) > 0).sum(axis=1)


def _detected_per_gene(X) -> np.ndarray:
    """Cells with a non-zero count per gene (``bincount`` over the stored column indices)."""
    if sp.issparse(X):
        X = _stored_nonzero_csr(X)
        return np.bincount(X.indices, minlength=X.shape[1])
    return (np.asarray(X) > 0).sum(axis=0)


def harmonise(datasets: dict[str, md.MuData], batch_key: str | None = "donor",
              report: dict | None = None) -> md.MuData:
    """Intersect genes and canonical protein panels and concatenate the datasets (counts only).

    ``datasets`` is consumed (emptied) so each input's memory is released once extracted.
    """
    report = {} if report is None else report
    _check_datasets(datasets)
    genes = _shared_genes(datasets)
    dups: dict[str, list[str]] = {name: [] for name in datasets}
    panels = {name: _canonical_panel(m.mod[PROT_MOD], name, dups[name]) for name, m in datasets.items()}
    antigens = _shared_antigens(panels)
    report["genes"] = {"kept": len(genes), "per_dataset": {n: int(m.mod[RNA_MOD].n_vars) for n, m in datasets.items()}}
    report["proteins"] = {
        "kept": antigens,
        "dropped": {n: sorted(set(p) - set(antigens)) for n, p in panels.items()},
        "isotype_controls": {n: isotype_controls(list(m.mod[PROT_MOD].var_names)) for n, m in datasets.items()},
        "second_clones_dropped": dups,
    }
    rnas, prots = [], []
    same_genes = {n: list(m.mod[RNA_MOD].var_names) == genes for n, m in datasets.items()}
    for name in list(datasets):
        m = datasets.pop(name)  # release each input as soon as its counts are extracted
        rna, prot = _extract(m, name, batch_key, genes, not same_genes[name],
                             [panels[name][a] for a in antigens], antigens)
        rnas.append(rna)
        prots.append(prot)
        del m, rna, prot
    rna = ad.concat(rnas, join="outer", merge="same") if len(rnas) > 1 else rnas[0]
    del rnas
    prot = ad.concat(prots, join="outer", merge="same") if len(prots) > 1 else prots[0]
    out = md.MuData({RNA_MOD: rna, PROT_MOD: prot})
    out.obs = rna.obs[["dataset", "donor"]].copy()
    return out


def _check_datasets(datasets: dict[str, md.MuData]) -> None:
    """At least one dataset; each with ``rna`` and ``prot`` and unique gene names."""
    if not datasets:
        raise CMCVAEInputError("No dataset given to prepare.")
    for name, m in datasets.items():
        for mod in (RNA_MOD, PROT_MOD):
            if mod not in m.mod:
                raise CMCVAEInputError(
                    f"Dataset {name!r} lacks the {mod!r} modality (has {list(m.mod)}); every dataset needs "
                    "RNA and protein counts of the same cells."
                )
        if not m.mod[RNA_MOD].var_names.is_unique:
            dup = m.mod[RNA_MOD].var_names[m.mod[RNA_MOD].var_names.duplicated()][:3].tolist()
            raise CMCVAEInputError(
                f"Dataset {name!r} has duplicate gene names (e.g. {dup}); call "
                "`adata.var_names_make_unique()` or aggregate duplicates before preparing."
            )


def _shared_genes(datasets: dict[str, md.MuData]) -> list[str]:
    """The genes of every dataset, in the first dataset's order."""
    genes = None
    for m in datasets.values():
        names = list(m.mod[RNA_MOD].var_names)
        genes = names if genes is None else [g for g in genes if g in set(names)]
    if not genes:
        raise CMCVAEInputError("The datasets share no gene name; check that all use gene symbols.")
    return genes


def _shared_antigens(panels: dict[str, dict[str, str]]) -> list[str]:
    """The canonical antigens of every panel, in the first panel's order."""
    antigens = None
    for p in panels.values():
        antigens = list(p) if antigens is None else [a for a in antigens if a in p]
    if not antigens:
        raise CMCVAEInputError(
            "The protein panels share no antigen after name harmonisation: "
            + "; ".join(f"{n}: {sorted(p)[:5]}…" for n, p in panels.items())
            + ". Pass a --protein-map naming each antibody's antigen, or prepare the datasets separately."
        )
    return antigens


def _extract(m: md.MuData, name: str, batch_key: str | None, genes: list[str], subset: bool,
             cols: list[str], antigens: list[str]) -> tuple[ad.AnnData, ad.AnnData]:
    """One dataset's RNA (CSR float32 over ``genes``; ``subset``: select them, else they are all
    its genes already) and protein (dense, ``cols`` named as ``antigens``) counts, with
    ``dataset`` and ``donor`` in ``obs``.
    """
    rna, prot = m.mod[RNA_MOD], m.mod[PROT_MOD]
    if rna.n_obs != prot.n_obs or not np.array_equal(rna.obs_names, prot.obs_names):
        raise CMCVAEInputError(f"Dataset {name!r}: RNA and protein do not hold the same cells in the same order.")
    donors = _donors(m, name, batch_key)
    obs = pd.DataFrame({"dataset": name, "donor": donors.to_numpy()}, index=name + ":" + rna.obs_names.astype(str))
    X = rna[:, genes].X if subset else rna.X
    X = sp.csr_matrix(X, dtype=np.float32) if not sp.issparse(X) or X.format != "csr" else X.astype(np.float32, copy=False)
    check_counts(X, f"RNA of {name!r}")
    out_rna = ad.AnnData(X, obs=obs, var=pd.DataFrame(index=genes))
    P = prot[:, cols].X
    P = np.asarray(P.toarray() if sp.issparse(P) else P, dtype=np.float32)
    check_counts(P, f"protein of {name!r}")
    return out_rna, ad.AnnData(P, obs=obs.copy(), var=pd.DataFrame(index=antigens))


def qc(mdata: md.MuData, min_genes: int = 200, max_mito: float = 0.2, min_protein_counts: float = 10,
       report: dict | None = None) -> md.MuData:
    """Drop cells with few detected genes, a high mitochondrial fraction or few protein counts."""
    report = {} if report is None else report
    rna, prot = mdata.mod[RNA_MOD], mdata.mod[PROT_MOD]
    X = rna.X
    n_genes = _detected_per_cell(X)
    lib = np.asarray(X.sum(axis=1)).ravel()
    mito = np.asarray(rna.var_names.str.upper().str.startswith("MT-"))
    mito_frac = (np.asarray(X[:, mito].sum(axis=1)).ravel() / np.maximum(lib, 1)) if mito.any() else np.zeros(rna.n_obs)
    prot_lib = np.asarray(prot.X.sum(axis=1)).ravel()
    keep = (n_genes >= min_genes) & (mito_frac <= max_mito) & (prot_lib >= min_protein_counts)
    report["qc"] = {
        "cells_in": int(rna.n_obs),
        "low_genes": int((n_genes < min_genes).sum()),
        "high_mito": int((mito_frac > max_mito).sum()),
        "low_protein": int((prot_lib < min_protein_counts).sum()),
        "cells_kept": int(keep.sum()),
        "thresholds": {"min_genes": min_genes, "max_mito": max_mito, "min_protein_counts": min_protein_counts},
    }
    if keep.sum() == 0:
        raise CMCVAEInputError(
            f"QC removed every cell (min_genes={min_genes}, max_mito={max_mito}, "
            f"min_protein_counts={min_protein_counts}); lower the thresholds (--min-genes, --max-mito, "
            "--min-protein-counts)."
        )
    if keep.all():
        return mdata
    cells = rna.obs_names[keep]
    out = md.MuData({RNA_MOD: rna[cells].copy(), PROT_MOD: prot[cells].copy()})
    out.obs = mdata.obs.loc[cells].copy()
    return out


def select_genes(mdata: md.MuData, n_top_genes: int = 2000, keep: list[str] | None = None,
                 batch_key: str | None = "donor", report: dict | None = None) -> md.MuData:
    """seurat_v3 HVGs on counts (batch-aware), plus ``keep`` genes (those encoding panel proteins)."""
    import scanpy as sc

    report = {} if report is None else report
    rna = mdata.mod[RNA_MOD]
    keep = [g for g in (keep or []) if g in set(rna.var_names)]
    expressed = _detected_per_gene(rna.X) > 0
    if n_top_genes >= int(expressed.sum()):
        chosen = list(rna.var_names[expressed])
        used_key = None
    else:
        X = rna.X if expressed.all() else rna.X[:, expressed]  # no copy when every gene is expressed
        tmp = ad.AnnData(X, obs=mdata.obs[["dataset", "donor"]].copy(),
                         var=pd.DataFrame(index=rna.var_names[expressed]))
        used_key = batch_key if batch_key in tmp.obs else None
        counts = tmp.obs[used_key].value_counts() if used_key else None
        if used_key and (len(counts) < 2 or counts.min() < 30):
            # seurat_v3's per-batch loess needs a few dozen cells per batch
            used_key = "dataset" if tmp.obs["dataset"].nunique() > 1 else None
        try:
            sc.pp.highly_variable_genes(tmp, flavor="seurat_v3", n_top_genes=n_top_genes, batch_key=used_key)
        except (ValueError, ImportError) as err:  # loess failures on tiny batches; missing skmisc
            if used_key is None:
                raise CMCVAEInputError(f"HVG selection failed: {err}.") from err
            used_key = None
            sc.pp.highly_variable_genes(tmp, flavor="seurat_v3", n_top_genes=n_top_genes)
        chosen = list(tmp.var_names[tmp.var["highly_variable"].to_numpy()])
    added = [g for g in keep if g not in set(chosen)]
    final = [g for g in rna.var_names if g in set(chosen) | set(added)]
    report["hvg"] = {"n_top_genes": n_top_genes, "batch_key": used_key, "selected": len(chosen),
                     "panel_genes_added": len(added), "genes_kept": len(final)}
    if len(final) == rna.n_vars:
        return mdata
    out = md.MuData({RNA_MOD: rna[:, final].copy(), PROT_MOD: mdata.mod[PROT_MOD]})
    out.obs = mdata.obs
    return out


def dsb_normalise(counts: np.ndarray, empty_counts: np.ndarray, pseudocount: float = 10.0) -> np.ndarray:
    """DSB step I (Mulè et al. 2022): ``log(y + p)`` standardised by the empty droplets' mean and sd."""
    cells = np.log(np.asarray(counts, dtype=np.float64) + pseudocount)
    empty = np.log(np.asarray(empty_counts, dtype=np.float64) + pseudocount)
    sd = empty.std(axis=0)
    return ((cells - empty.mean(axis=0)) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


def prepare(datasets: dict[str, md.MuData], *, batch_key: str | None = "donor", n_top_genes: int = 2000,
            protein_map: pd.DataFrame | None = None, min_genes: int = 200, max_mito: float = 0.2,
            min_protein_counts: float = 10, empty_droplets: np.ndarray | None = None,
            grn_prior: pd.DataFrame | None = None, ppi_prior: pd.DataFrame | None = None,
            ) -> tuple[md.MuData, dict[str, Any]]:
    """Harmonise, QC, select genes and normalise proteins; return the atlas and a report.

    Parameters
    ----------
    datasets
        ``{name: MuData}`` with ``rna`` and ``prot`` raw counts; consumed (emptied) to free memory.
    batch_key
        Donor column present in every dataset (``None``: one batch per dataset).
    n_top_genes
        Number of highly variable genes (genes encoding panel proteins are added on top).
    protein_map
        ``protein,gene`` table overriding the packaged antibody → gene map.
    min_genes, max_mito, min_protein_counts
        Cell QC thresholds.
    empty_droplets
        Protein counts of empty droplets (droplets × panel, in the harmonised panel order) for DSB.
    grn_prior, ppi_prior
        Optional priors; the report says how many edges survive among the prepared features.
    """
    t0 = time.perf_counter()
    report: dict[str, Any] = {"datasets": {n: {"cells": int(m.n_obs)} for n, m in datasets.items()}}
    atlas = harmonise(datasets, batch_key, report)
    atlas = qc(atlas, min_genes, max_mito, min_protein_counts, report)
    panel = list(atlas.mod[PROT_MOD].var_names)
    pmap = map_panel(panel, list(atlas.mod[RNA_MOD].var_names), protein_map=protein_map)
    mapped = pmap[pmap["status"] == "mapped"]
    atlas = select_genes(atlas, n_top_genes, keep=list(mapped["gene"]), batch_key="donor", report=report)
    genes = list(atlas.mod[RNA_MOD].var_names)
    pairs = mapped[mapped["gene"].isin(set(genes))][["protein", "gene"]].reset_index(drop=True)
    prot = atlas.mod[PROT_MOD]
    prot.layers["clr"] = clr(prot.X)
    if empty_droplets is not None:
        if empty_droplets.shape[1] != prot.n_vars:
            raise CMCVAEInputError(
                f"Empty droplets have {empty_droplets.shape[1]} proteins but the prepared panel has "
                f"{prot.n_vars}; give them in the prepared panel's order."
            )
        prot.layers["dsb"] = dsb_normalise(prot.X, empty_droplets)
    report["protein_map"] = {
        "panel": len(panel), "mapped_antibodies": int(pairs["protein"].nunique()), "pairs": int(len(pairs)),
        "unmapped": sorted(set(panel) - set(pairs["protein"])),
    }
    for key, net, fn, args in (("grn_prior", grn_prior, prepare_grn_prior, (genes,)),
                                ("ppi_prior", ppi_prior, prepare_ppi_prior, (pairs, panel))):
        if net is None:
            continue
        try:
            kept, rep = fn(net, *args)
        except CMCVAEInputError as err:  # no overlap: report it, the atlas is still usable
            report[key] = {"n_kept": 0, "message": f"0 edges kept: {err}"}
            continue
        report[key] = rep
        atlas.uns[key] = kept
    atlas.uns["protein_map"] = pairs
    report["cells"], report["n_genes"], report["n_proteins"] = int(atlas.n_obs), len(genes), len(panel)
    report["n_donors"] = int(atlas.obs["donor"].nunique())
    report["seconds"] = time.perf_counter() - t0
    atlas.uns["cmcvae_prepare"] = _flat_report(report)
    return atlas, report


def _flat_report(report: dict) -> str:
    return json.dumps(clean_json(report))
