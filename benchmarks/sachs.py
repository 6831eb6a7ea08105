"""Zero-shot intervention prediction on Sachs et al. 2005 phospho-flow data (real data).

What it measures: fit the effect estimators of :mod:`cmcvae.effects` on the *observational*
cells only (conditions 1 and 2 pooled, anti-CD3/CD28 ± ICAM-2; and condition 1 alone as a
variant), then predict for each intervention condition with a known target T (3-9) how every
other protein shifts, and score the predictions against the shifts actually observed in the
interventional cells (never seen by the fit).

- Transform: ``log1p`` of the raw intensities (``--transform asinh`` gives ``arcsinh(x/5)``).
- Moments: :func:`cmcvae.effects.stats_from_matrix` (every protein a "source").
- Estimators: ``correlation``, ``ridge``, ``adjust_all`` (regulators = all 11 proteins, i.e.
  OLS on everything; and regulators = the 8 kinases), ``adjust`` / ``adjust_parents`` with the
  17-edge *consensus graph* as prior (knowledge, not learned), ``ida`` with a DAGMA-linear graph
  learned from the observational cells only (standardised, |W| ≥ 0.3, no knowledge), and the
  references: random scores (median of 200 seeds), "every protein moves" (constant score) and
  the consensus graph's "readout is a descendant of T" indicator (knowledge-only reference).
- Observed shifts: Welch t-test per (condition, protein) on the transformed values against
  the observational cells, Benjamini-Hochberg over all 77 pairs; significant at q < 0.05; also
  a stricter label, q < 0.05 and |mean shift| > 0.5 observational SD. The target's own protein
  is not scored (its own shift is reported separately).
- Direction: the estimators predict the change when the source *drops* by one SD; the sign is
  flipped for the activations (8 PMA → PKC, 9 β2cAMP → PKA). Inhibitors of *activity* (3, 4,
  6) need not lower the measured phospho level of their target; the table of own shifts says
  what happened.
- Scores: pooled AUROC and AUPRC of |predicted| for the significant pairs, direction accuracy
  on the significant pairs, Spearman of the signed prediction with the observed shift (all
  pairs), and per-condition AUROC. The consensus reference has no sign (no direction scores).
  Condition 4 (G06976) shifts almost every protein by 1.4-5 SD, its target PKC *up*; a global
  shift more like a staining/instrument difference than a pathway effect, so the strict AUROC
  is also given without condition 4. Conditions 8 and 9 lack the CD3/CD28 stimulation of the
  observational cells, so their shifts mix the activator with the missing stimulation.

    python benchmarks/sachs.py                       # log1p; writes benchmarks/results/sachs.*
    python benchmarks/sachs.py --data /path/to/sachs2005 --transform asinh --out /tmp/sachs
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as sps

from cmcvae.bm import dagma_linear, load_sachs
from cmcvae.effects import estimate_effects, stats_from_matrix
from cmcvae.evaluate import auprc, auroc, bh_fdr

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "sachs2005"
OUT = Path(__file__).resolve().parent / "results" / "sachs"

#: condition -> (target node, kind, +1 if the target is raised / -1 if lowered or inhibited)
#: 7: LY294002 inhibits PI3K, which is not measured; PIP3 (its product) stands in as target.
TARGETS = {
    "3": ("Akt", "inhibition (activity)", -1),
    "4": ("PKC", "inhibition (activity)", -1),
    "5": ("PIP2", "inhibition", -1),
    "6": ("Mek", "inhibition (activity)", -1),
    "7": ("PIP3", "inhibition (PI3K, unmeasured; PIP3 as target)", -1),
    "8": ("PKC", "activation (no CD3/CD28)", 1),
    "9": ("PKA", "activation (no CD3/CD28)", 1),
}
KINASES = ["Raf", "Mek", "Erk", "Akt", "PKA", "PKC", "P38", "Jnk"]
STRICT_SD = 0.5
#: text in OUT.md from this marker on is written by hand and kept when the script reruns
NOTES = "<!-- interpretation (hand-written; kept on rerun) -->"
Q_LEVEL = 0.05


def transform(x: np.ndarray, how: str) -> np.ndarray:
    """``log1p(x)`` or ``arcsinh(x / 5)`` of raw intensities."""
    return np.log1p(np.clip(x, 0.0, None)) if how == "log1p" else np.arcsinh(x / 5.0)


def read_conditions(root: Path, how: str = "log1p") -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict]:
    """Transformed cells per condition ("1"…"9"), the consensus edges and the intervention table."""
    ds = load_sachs(root, "all", log=False)
    x = pd.DataFrame(transform(ds.X, how), columns=ds.features)
    labels = np.asarray(ds.meta["condition"])
    per = {c: x[labels == c].reset_index(drop=True) for c in dict.fromkeys(labels)}
    return per, ds.truth[["source", "target"]].copy(), ds.meta.get("interventions", {})


def observed_shifts(per: dict[str, pd.DataFrame], obs_ids: list[str]) -> pd.DataFrame:
    """Welch t-test of every protein in every intervention condition against the observational cells.

    Returns one row per (condition, protein): ``delta`` (mean shift in observational SDs),
    ``t``, ``p``, ``q`` (BH over all rows), ``sig`` (q < 0.05), ``strict`` (also |delta| > 0.5)
    and ``is_target``.
    """
    obs = pd.concat([per[c] for c in obs_ids], ignore_index=True)
    rows = []
    for cond, (target, _, _) in TARGETS.items():
        cells = per[cond]
        for prot in obs.columns:
            t, p = sps.ttest_ind(cells[prot], obs[prot], equal_var=False)
            delta = (cells[prot].mean() - obs[prot].mean()) / obs[prot].std(ddof=1)
            rows.append({"condition": cond, "target": target, "readout": prot, "delta": delta,
                         "t": float(t), "p": float(p), "is_target": prot == target})
    table = pd.DataFrame(rows)
    table["q"] = bh_fdr(table["p"].to_numpy())
    table["sig"] = table["q"] < Q_LEVEL
    table["strict"] = table["sig"] & (table["delta"].abs() > STRICT_SD)
    return table


def learned_graph(obs: pd.DataFrame) -> pd.DataFrame:
    """DAGMA-linear DAG of the standardised observational cells (|W| ≥ 0.3) as source,target,weight."""
    feats = list(obs.columns)
    dag = dagma_linear(obs.to_numpy(), feats, seed=0, w_threshold=0.3).attrs["dag"]
    r, c = np.nonzero(dag)
    return pd.DataFrame({"source": [feats[i] for i in r], "target": [feats[j] for j in c],
                         "weight": dag[r, c]})


def _methods(names: list[str], consensus: pd.DataFrame, graph: pd.DataFrame) -> dict[str, tuple]:
    """Label -> (estimator, keyword options, what it knows)."""
    return {
        "correlation": ("correlation", {}, "data only"),
        "ridge": ("ridge", {}, "data only"),
        "adjust_all (all 11 = OLS)": ("adjust_all", {"regulators": names}, "data only"),
        "adjust_all (8 kinases)": ("adjust_all", {"regulators": KINASES}, "kinase list"),
        "ida (DAGMA graph)": ("ida", {"graph": graph}, "learned graph (obs. only)"),
        "adjust (consensus)": ("adjust", {"regulators": names, "prior": consensus},
                               "CONSENSUS GRAPH"),
        "adjust_parents (consensus)": ("adjust_parents", {"prior": consensus}, "CONSENSUS GRAPH"),
    }


def predict(stats, shifts: pd.DataFrame, consensus: pd.DataFrame, graph: pd.DataFrame) -> dict:
    """Label -> predicted change of each scored pair (shifts' row order) when T drops by 1 SD."""
    names = list(stats.names)
    out = {}
    for label, (method, kw, _) in _methods(names, consensus, graph).items():
        col = np.full(len(shifts), np.nan)
        for target in shifts["target"].unique():
            est = estimate_effects(stats, method, sources=[target], readouts=names, **kw)
            rows = np.flatnonzero(shifts["target"].to_numpy() == target)
            col[rows] = est.effect.loc[target, shifts["readout"].to_numpy()[rows]].to_numpy()
        out[label] = col
    desc = {t: _descendants(consensus, t) for t in shifts["target"].unique()}
    out["consensus descendant of T (reference)"] = np.array(
        [float(r in desc[t]) for t, r in zip(shifts["target"], shifts["readout"], strict=True)])
    return out


def _descendants(edges: pd.DataFrame, node: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for s, t in zip(edges["source"], edges["target"], strict=True):
        children.setdefault(s, []).append(t)
    seen, stack = set(), [node]
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in seen:
                seen.add(c)
                stack.append(c)
    return seen


def _direction(signed: np.ndarray, delta: np.ndarray, mask: np.ndarray) -> float:
    keep = mask & np.isfinite(signed) & (signed != 0)
    return float(np.mean(np.sign(signed[keep]) == np.sign(delta[keep]))) if keep.any() else float("nan")


def score(pred: np.ndarray, scored: pd.DataFrame) -> dict:
    """Pooled and per-condition scores of one prediction on the non-target pairs."""
    factor = np.where(scored["sign"].to_numpy() > 0, -1.0, 1.0)  # activation: T rises
    signed, delta = pred * factor, scored["delta"].to_numpy()
    out: dict = {}
    # the same with T's direction taken from its own observed shift (a linear SEM's reading)
    signed_obs = -pred * np.sign(scored["own_delta"].to_numpy())
    for lab in ("sig", "strict"):
        y = scored[lab].to_numpy()
        out[lab] = {"auroc": auroc(np.abs(pred), y), "auprc": auprc(np.abs(pred), y),
                    "direction": _direction(signed, delta, y),
                    "direction_by_own_shift": _direction(signed_obs, delta, y),
                    "auroc_per_condition": {
                        c: auroc(np.abs(pred)[m], y[m]) for c in TARGETS
                        if (m := scored["condition"].to_numpy() == c).any()}}
    keep = scored["condition"].to_numpy() != "4"  # 4 shifts almost every protein up (see the docs)
    out["strict"]["auroc_without_4"] = auroc(np.abs(pred)[keep], scored["strict"].to_numpy()[keep])
    ok = np.isfinite(signed)
    out["spearman"] = float(sps.spearmanr(signed[ok], delta[ok])[0]) if ok.sum() > 2 else float("nan")
    return out


def random_reference(scored: pd.DataFrame, n_seeds: int = 200) -> dict:
    """Medians over seeds of the scores of uniform random |scores| with random signs."""
    runs = []
    for seed in range(n_seeds):
        rng = np.random.default_rng(seed)
        runs.append(score(rng.uniform(-1, 1, len(scored)), scored))
    med = lambda get: float(np.nanmedian([get(r) for r in runs]))  # noqa: E731
    keys = ("auroc", "auprc", "direction", "direction_by_own_shift")
    out: dict = {lab: {k: med(lambda r, lab=lab, k=k: r[lab][k]) for k in keys}
                 for lab in ("sig", "strict")}
    for lab in ("sig", "strict"):
        out[lab]["auroc_per_condition"] = {c: med(lambda r, lab=lab, c=c: r[lab]["auroc_per_condition"][c])
                                           for c in TARGETS}
    out["strict"]["auroc_without_4"] = med(lambda r: r["strict"]["auroc_without_4"])
    out["spearman"] = med(lambda r: r["spearman"])
    return out


def unsigned_score(pred: np.ndarray, scored: pd.DataFrame) -> dict:
    """:func:`score` of a score without a sign (no direction, no Spearman)."""
    out = score(pred, scored)
    for lab in ("sig", "strict"):
        out[lab]["direction"] = out[lab]["direction_by_own_shift"] = float("nan")
    out["spearman"] = float("nan")
    return out


def run_variant(per: dict, obs_ids: list[str], consensus: pd.DataFrame) -> dict:
    """Fit on ``obs_ids``, predict every intervention, score; everything as plain data."""
    obs = pd.concat([per[c] for c in obs_ids], ignore_index=True)
    stats = stats_from_matrix(obs.to_numpy(), list(obs.columns))
    shifts = observed_shifts(per, obs_ids)
    shifts["sign"] = shifts["condition"].map({c: v[2] for c, v in TARGETS.items()})
    own = shifts[shifts["is_target"]].set_index("condition")["delta"]
    shifts["own_delta"] = shifts["condition"].map(own)
    scored = shifts[~shifts["is_target"]].reset_index(drop=True)
    graph = learned_graph(obs)
    preds = predict(stats, scored, consensus, graph)
    knows = {k: v[2] for k, v in _methods(list(obs.columns), consensus, graph).items()}
    knows["consensus descendant of T (reference)"] = "CONSENSUS GRAPH only"
    results = {k: {"knowledge": knows[k], **(unsigned_score if "reference" in k else score)(v, scored)}
               for k, v in preds.items()}
    results["random (median of 200 seeds)"] = {"knowledge": "none", **random_reference(scored)}
    results["every protein moves"] = {"knowledge": "none",
                                      **unsigned_score(np.ones(len(scored)), scored)}
    for k, v in preds.items():
        scored[f"pred::{k}"] = v
    return {"observational_conditions": obs_ids, "n_obs_cells": len(obs),
            "n_pairs": len(scored), "n_sig": int(scored["sig"].sum()),
            "n_strict": int(scored["strict"].sum()),
            "learned_graph": graph.to_dict(orient="records"), "results": results,
            "own_shift": shifts[shifts["is_target"]].drop(columns=["is_target"]).to_dict(orient="records"),
            "pairs": scored.to_dict(orient="records")}


def _fmt(x: float) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.2f}"


def _shift_matrix(variant: dict) -> str:
    """Observed shifts (observational SDs) per condition × protein; * strict, [] the target."""
    pairs = pd.DataFrame(variant["pairs"])
    own = {o["condition"]: o for o in variant["own_shift"]}
    prots = sorted(set(pairs["readout"]))
    lines = ["Observed shift per condition (obs. SDs; * = strict, [x] = the target, not scored):",
             "", "| condition | " + " | ".join(prots) + " |", "|---|" + "---|" * len(prots)]
    for c in TARGETS:
        cells = {r.readout: f"{r.delta:+.2f}{'*' if r.strict else ''}"
                 for r in pairs[pairs["condition"] == c].itertuples()}
        cells[own[c]["target"]] = f"[{own[c]['delta']:+.2f}]"
        lines.append(f"| {c} ({TARGETS[c][0]}) | " + " | ".join(cells[p] for p in prots) + " |")
    return "\n".join(lines)


def render(variant: dict, interventions: dict) -> str:
    """Markdown for one variant: the main table, per-condition AUROC, own shifts, learned graph."""
    v, n = variant, variant["n_pairs"]
    lines = [f"### Fit on condition(s) {' + '.join(v['observational_conditions'])} "
             f"({v['n_obs_cells']} cells)", "",
             f"{n} scored (condition, readout) pairs; significant (q < {Q_LEVEL}): {v['n_sig']} "
             f"({v['n_sig'] / n:.0%}); strict (q < {Q_LEVEL} and |shift| > {STRICT_SD} SD): "
             f"{v['n_strict']} ({v['n_strict'] / n:.0%}).", "",
             "| method | knowledge | AUROC q<.05 | AUPRC q<.05 | dir. q<.05 | AUROC strict "
             "| AUPRC strict | AUROC strict w/o 4 | dir. strict | dir. strict (T's own sign) "
             "| Spearman (signed) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in v["results"].items():
        s, t = r["sig"], r["strict"]
        lines.append(f"| {name} | {r['knowledge']} | {_fmt(s['auroc'])} | {_fmt(s['auprc'])} | "
                     f"{_fmt(s['direction'])} | {_fmt(t['auroc'])} | {_fmt(t['auprc'])} | "
                     f"{_fmt(t['auroc_without_4'])} | {_fmt(t['direction'])} | {_fmt(t['direction_by_own_shift'])} | "
                     f"{_fmt(r['spearman'])} |")
    lines += ["", "Per-condition AUROC (strict labels; – = one class only):", "",
              "| method | " + " | ".join(f"{c} ({TARGETS[c][0]})" for c in TARGETS) + " |",
              "|---|" + "---|" * len(TARGETS)]
    for name, r in v["results"].items():
        per = r["strict"]["auroc_per_condition"]
        lines.append(f"| {name} | " + " | ".join(_fmt(per.get(c)) for c in TARGETS) + " |")
    lines += ["", "The target's own shift (not scored):", "",
              "| condition | reagent | target | kind | expected | shift (SD) | q |",
              "|---|---|---|---|---|---|---|"]
    for o in v["own_shift"]:
        c = o["condition"]
        reagent = interventions.get(c, {}).get("reagent", "")
        lines.append(f"| {c} | {reagent} | {o['target']} | {TARGETS[c][1]} | "
                     f"{'up' if TARGETS[c][2] > 0 else 'down'} | {o['delta']:+.2f} | {o['q']:.1e} |")
    lines += ["", _shift_matrix(v)]
    edges = ", ".join(f"{e['source']}→{e['target']}" for e in v["learned_graph"])
    lines += ["", f"DAGMA graph (observational cells only, |W| ≥ 0.3): {edges or 'empty'}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the Sachs files")
    parser.add_argument("--transform", choices=["log1p", "asinh"], default="log1p")
    parser.add_argument("--out", type=Path, default=OUT, help="writes OUT.json and OUT.md")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    per, consensus, interventions = read_conditions(args.data, args.transform)
    variants = {"1+2": run_variant(per, ["1", "2"], consensus),
                "1": run_variant(per, ["1"], consensus)}
    md = [f"## Sachs 2005: zero-shot intervention effects ({args.transform})", ""]
    md += [render(v, interventions) for v in variants.values()]
    text = "\n".join(md)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"transform": args.transform, "data": str(args.data), "q_level": Q_LEVEL,
               "strict_sd": STRICT_SD, "targets": TARGETS, "interventions": interventions,
               "variants": variants}
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=float))
    md_path = args.out.with_suffix(".md")
    old = md_path.read_text() if md_path.is_file() else ""
    kept = old[old.index(NOTES):] if NOTES in old else ""  # the hand-written interpretation
    md_path.write_text(text + "\n" + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    main()
