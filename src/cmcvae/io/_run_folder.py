"""Writing a fitted model's run folder (DESIGN §3 contract)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cmcvae._errors import CMCVAEInputError

if TYPE_CHECKING:
    import networkx as nx

RUN_FILES = ("model", "edges.csv", "latent_graph.csv", "matched_pairs.csv", "metrics.json",
             "split.csv", "priors", "run.json", "validation.json", "predictions.csv",
             "network.graphml", "analysis.json", "tf_target_edges.csv", "report.html", "figures")
MODALITIES = ("rna", "protein")


def prepare_out_dir(out: str | Path, force: bool, what: str = "run folder",
                    owned: tuple[str, ...] = RUN_FILES) -> Path:
    """Create ``out``; refuse to touch a non-empty folder unless ``force``.

    With ``force`` only the files this package writes (``owned``) are replaced: they are removed
    first, so results derived from an earlier fit (``analysis.json``, ``validation.json``, the
    report) cannot sit beside a new model. Other files in the folder are left alone.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CMCVAEInputError(f"{out} exists and is a file, not a folder; choose another --out.")
    if out.exists() and any(out.iterdir()) and not force:
        raise CMCVAEInputError(
            f"The {what} {out} already exists and is not empty. Choose another --out or pass "
            "--force to overwrite the files cmcvae writes there."
        )
    if out.exists() and force:
        for name in owned:
            path = out / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


def clean_json(obj: Any) -> Any:
    """Recursively turn numpy scalars into Python and NaN/inf into ``None``."""
    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (NaN → null)."""
    path.write_text(json.dumps(clean_json(obj), indent=2))


def write_run(model, out: str | Path, force: bool = False, run_info: dict | None = None) -> Path:
    """Write ``model/``, ``edges.csv`` (and the same edges as ``network.graphml``),
    ``latent_graph.csv``, ``matched_pairs.csv``, ``metrics.json``, ``split.csv``, the
    training/held-out priors and ``run.json``.
    """
    out = prepare_out_dir(out, force)
    model.save(out / "model", overwrite=True)
    edges = model.get_edges()
    edges.to_csv(out / "edges.csv", index=False)
    write_graphml(edges, out / "network.graphml")
    model.get_latent_graph().to_csv(out / "latent_graph.csv", index=False)
    model.get_matched_pairs().to_csv(out / "matched_pairs.csv", index=False)
    write_json(out / "metrics.json", model.metrics)
    if hasattr(model, "split"):
        pd.DataFrame({"cell": model.cell_names, "split": model.split}).to_csv(out / "split.csv", index=False)
    if model.priors:
        (out / "priors").mkdir(exist_ok=True)
        for key, parts in model.priors.items():
            for part, df in parts.items():
                df.to_csv(out / "priors" / f"{key}_{part}.csv", index=False)
    write_json(out / "run.json", run_info or {})
    return out


def node_id(name: str, modality: str) -> str:
    """GraphML node id of a feature: ``"rna:CD4"`` / ``"protein:CD4"`` (unique per modality)."""
    return f"{modality}:{name}"


def edges_to_graph(edges: pd.DataFrame, *,
                   stability: pd.DataFrame | None = None) -> nx.DiGraph:
    """Directed :class:`networkx.DiGraph` of feature-level edges (see :func:`write_graphml`).

    Parameters
    ----------
    edges
        ``source,target,source_modality,target_modality,weight`` rows (``edges.csv``).
    stability
        Optional :func:`cmcvae.graph.stability.edge_stability` table; its ``frequency`` (and
        ``sign_consistency`` when present) is attached to the matching edges (0 for edges it
        does not list).

    Returns
    -------
    networkx.DiGraph
        Nodes ``"<modality>:<name>"`` with ``label`` and ``modality``; edges with ``weight``,
        ``abs_weight``, ``sign``, ``network`` and, with ``stability``, ``frequency``.
    """
    import networkx as nx

    key = ["source", "target", "source_modality", "target_modality"]
    missing = [c for c in [*key, "weight"] if c not in edges.columns]
    if missing:
        raise CMCVAEInputError(f"Edges lack column(s) {missing}; found {list(edges.columns)}.")
    df = edges[[*key, "weight"]].copy()
    for col in key:
        df[col] = df[col].astype(str)
    bad = sorted(set(df["source_modality"]).union(df["target_modality"]) - set(MODALITIES))
    if bad:
        raise CMCVAEInputError(f"Unknown modality {bad} in edges; expected 'rna' or 'protein'.")
    extra: list[str] = []
    if stability is not None:
        extra = [c for c in ("frequency", "sign_consistency") if c in stability.columns]
        if "frequency" not in extra:
            raise CMCVAEInputError("The stability table needs a 'frequency' column.")
        stab = stability[[*key, *extra]].astype({c: str for c in key}).drop_duplicates(key)
        df = df.merge(stab, on=key, how="left")
        df[extra] = df[extra].fillna(0.0)
    graph = nx.DiGraph()
    for name, mod in pd.concat([
            df[["source", "source_modality"]].set_axis(["name", "modality"], axis=1),
            df[["target", "target_modality"]].set_axis(["name", "modality"], axis=1),
    ]).drop_duplicates().itertuples(index=False):
        graph.add_node(node_id(name, mod), label=str(name), modality=str(mod))
    for row in df.itertuples(index=False):
        w = float(row.weight)
        attrs = {"weight": w, "abs_weight": abs(w), "sign": int(np.sign(w)),
                 "network": f"{row.source_modality}_{row.target_modality}"}
        for col in extra:
            attrs[col] = float(getattr(row, col))
        graph.add_edge(node_id(row.source, row.source_modality),
                       node_id(row.target, row.target_modality), **attrs)
    return graph


def write_graphml(edges: pd.DataFrame, path: str | Path, *,
                  stability: pd.DataFrame | None = None) -> Path:
    """Write feature-level edges as GraphML (for Cytoscape, Gephi or networkx).

    Parameters
    ----------
    edges
        ``source,target,source_modality,target_modality,weight`` rows (``edges.csv``).
    path
        Output ``.graphml`` file.
    stability
        Optional :func:`cmcvae.graph.stability.edge_stability` table; adds each edge's
        ``frequency`` across runs (and ``sign_consistency``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Notes
    -----
    Node ids are ``"rna:<gene>"`` and ``"protein:<protein>"`` so a gene and a protein with the
    same name (CD4) stay two nodes; each node has ``label`` (the plain name) and ``modality``
    (``rna`` or ``protein``). Edges carry ``weight`` (signed direct effect), ``abs_weight``,
    ``sign`` (-1, 0, 1), ``network`` (``rna_rna``, ``rna_protein``, ``protein_rna`` or
    ``protein_protein``) and, with ``stability``, ``frequency``.
    """
    import networkx as nx

    path = Path(path)
    nx.write_graphml(edges_to_graph(edges, stability=stability), path)
    return path
