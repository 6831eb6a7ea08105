"""Benchmark of the evidence (issue: evidence): zero-shot validation and asymmetry tests by regime.

For every simulator regime and seed: ``cmcvae run`` (simulate → fit → validate with the
correlation, ridge, random, always-down and oracle baselines) then ``cmcvae analyze --truth``
(central dogma, TF→target on held-out/training prior edges, recovery per network next to
correlation and partial correlation). Prints tables, writes JSON and Markdown.

Calibration of the central-dogma test: the truth of a regime says which call is correct
(forward → ``rna_to_protein``; mixed and confounded → no single direction, so ``none``). The
table counts how often the calibrated test (with the random-pair null) and the naive paired
Wilcoxon test alone (p < 0.05, direction from the rank-biserial sign) claim RNA→protein.

    python benchmarks/evidence.py --regimes forward mixed confounded --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

METHODS = ("cmcvae", "correlation", "ridge", "random", "always_down", "oracle")
NETWORKS = ("rna_rna", "rna_protein", "protein_protein", "protein_rna")
RECOVERY = ("direct", "correlation", "partial_correlation")
CORRECT_CALL = {"forward": "rna_to_protein", "reversed": "protein_to_rna", "mixed": "none",
                "confounded": "none"}


def _cmd(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def one(regime: str, seed: int, work: Path, extra: list[str], reuse: bool) -> dict:
    out = work / f"{regime}_{seed}"
    done = out / "result.json"
    if reuse and done.exists() and json.loads(done.read_text()).get("extra") == extra:
        return json.loads(done.read_text())
    wall_run = _cmd(["cmcvae", "run", "--out", str(out), "--seed", str(seed), "--regime", regime,
                     "--force", *extra])
    wall_an = _cmd(["cmcvae", "analyze", str(out / "run"), "--truth", str(out / "data" / "truth"),
                    "--seed", str(seed)])
    summary = json.loads((out / "summary.json").read_text())
    analysis = json.loads((out / "run" / "analysis.json").read_text())
    cd = analysis["central_dogma"]
    naive = {}
    for kind, r in cd.items():
        if "wilcoxon_p" in r:
            naive[kind] = ("none" if r["wilcoxon_p"] >= 0.05 else
                           "rna_to_protein" if r["rank_biserial"] > 0 else "protein_to_rna")
    result = {"regime": regime, "seed": seed, "extra": extra,
              "seconds": {"run": wall_run, "analyze": wall_an},
              "zero_shot": summary["zero_shot"], "n_perturbations": summary["n_perturbations"],
              "matched_pair_direction": summary["matched_pair_direction_accuracy"],
              "central_dogma": cd, "naive_call": naive, "tf_target": analysis.get("tf_target", {}),
              "recovery": analysis.get("recovery", {})}
    done.write_text(json.dumps(result, indent=2))
    return result


def _med(values) -> float:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else float("nan")


def _f(x) -> str:
    return "–" if x is None or x != x else f"{x:.3f}"


def _spread(values) -> str:
    vals = [v for v in values if v is not None]
    if not vals:
        return "–"
    return f"{statistics.median(vals):.3f} [{min(vals):.3f}–{max(vals):.3f}]"


def render_markdown(result: dict) -> str:
    runs = result["runs"]
    regimes = list(dict.fromkeys(r["regime"] for r in runs))
    seeds = result["seeds"]
    extra = " ".join(result.get("extra") or [])
    head = (f"{result['machine']}, Python {result['python']}, {result['date']}, seeds "
            f"{', '.join(map(str, seeds))}; `" + f"cmcvae run {extra}".rstrip() + "` (defaults: 20,000 "
            "cells × 500 genes + 40 proteins, 8 donors; 30 knockdowns on unseen donors). Median "
            "[min–max] over seeds.")
    out = [head, "", "**Zero-shot knockdown → protein prediction** (AUROC of |predicted| for "
           "significant observed effects / gene-level direction accuracy)", "",
           "| regime | " + " | ".join(METHODS) + " |", "|---" * (1 + len(METHODS)) + "|"]
    for g in regimes:
        rs = [r for r in runs if r["regime"] == g]
        cells = []
        for m in METHODS:
            a = [r["zero_shot"].get(m, {}).get("auroc") for r in rs]
            d = [r["zero_shot"].get(m, {}).get("direction_accuracy") for r in rs]
            cells.append(f"{_spread(a)} / {_f(_med(d))}")
        out.append(f"| {g} | " + " | ".join(cells) + " |")
    out += ["", "**Central-dogma asymmetry** (matched pairs, direct effects): fraction of pairs with "
            "RNA→protein stronger (median), random-pair null, per-pair direction accuracy vs truth, "
            "and how often each test calls a direction (calls / seeds).", "",
            "| regime | correct call | fraction forward | random pairs | accuracy vs truth | "
            "calibrated test: RNA→protein / protein→RNA / none | naive Wilcoxon: RNA→protein / "
            "protein→RNA / none |", "|---" * 7 + "|"]
    for g in regimes:
        rs = [r for r in runs if r["regime"] == g]
        cd = [r["central_dogma"]["direct"] for r in rs]
        calls = [c.get("call", "none") for c in cd]
        naive = [r["naive_call"].get("direct", "none") for r in rs]

        def count(xs):
            return " / ".join(str(xs.count(k)) for k in ("rna_to_protein", "protein_to_rna", "none"))

        out.append(f"| {g} | {CORRECT_CALL.get(g, '?')} | {_spread([c.get('fraction_forward') for c in cd])} | "
                   f"{_spread([c.get('null_fraction_forward') for c in cd])} | "
                   f"{_spread([c.get('direction_accuracy_vs_truth') for c in cd])} | {count(calls)} | "
                   f"{count(naive)} |")
    out += ["", "**TF→target asymmetry** (direct effects; held-out prior edges vs training edges): "
            "fraction forward (random TF–gene pairs) / sign agreement (mode-permuted null) / calls "
            "tf_to_target of seeds", "", "| regime | held-out | training edges |", "|---|---|---|"]
    for g in regimes:
        rs = [r for r in runs if r["regime"] == g]
        cells = []
        for split in ("holdout", "train"):
            t = [r["tf_target"].get(split, {}).get("direct", {}) for r in rs]
            n_called = sum(x.get("call") == "tf_to_target" for x in t)
            cells.append(f"{_med([x.get('fraction_forward') for x in t]):.2f} "
                         f"({_med([x.get('null_fraction_forward') for x in t]):.2f}) / "
                         f"{_med([x.get('sign_agreement') for x in t]):.2f} "
                         f"({_med([x.get('null_sign_agreement') for x in t]):.2f}) / {n_called} of {len(t)}")
        out.append(f"| {g} | " + " | ".join(cells) + " |")
    out += ["", "**Recovery of the true networks** (AUROC, training prior edges excluded; "
            "model direct effects vs correlation vs partial correlation) and the model's direction "
            "accuracy on true edges", "",
            "| regime | network | cmcvae | correlation | partial correlation | cmcvae direction |",
            "|---" * 6 + "|"]
    for g in regimes:
        rs = [r for r in runs if r["regime"] == g]
        for net in NETWORKS:
            cells = [_spread([r["recovery"].get(m, {}).get(net, {}).get("auroc") for r in rs])
                     for m in RECOVERY]
            d = _spread([r["recovery"].get("direct", {}).get(net, {}).get("direction_accuracy") for r in rs])
            out.append(f"| {g} | {net.replace('_', '→')} | " + " | ".join(cells) + f" | {d} |")
    return "\n".join(out) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--regimes", nargs="+", default=["forward", "mixed", "confounded"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/evidence.json"))
    p.add_argument("--render", action="store_true", help="only re-render the Markdown from --out")
    p.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cmcvae_evidence",
                   help="run folders (kept; finished runs with the same --extra are reused)")
    p.add_argument("--rerun", action="store_true", help="do not reuse finished runs in --workdir")
    p.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="extra args for cmcvae run")
    args = p.parse_args()
    if args.render:
        args.out.with_suffix(".md").write_text(render_markdown(json.loads(args.out.read_text())))
        return
    runs = []
    args.workdir.mkdir(parents=True, exist_ok=True)
    for g in args.regimes:
        for s in args.seeds:
            r = one(g, s, args.workdir, args.extra, not args.rerun)
            runs.append(r)
            cd = r["central_dogma"]["direct"]
            zs = r["zero_shot"]
            print(f"{g:>10} seed {s}: AUROC cmcvae {_f(zs['cmcvae']['auroc'])} corr "
                  f"{_f(zs['correlation']['auroc'])} ridge {_f(zs['ridge']['auroc'])}; central dogma "
                  f"{_f(cd.get('fraction_forward'))} fwd, call {cd.get('call')} "
                  f"(naive {r['naive_call'].get('direct')}); {r['seconds']['run']:.0f}+"
                  f"{r['seconds']['analyze']:.0f} s", flush=True)
    result = {"benchmark": "evidence by regime", "date": time.strftime("%Y-%m-%d"),
              "python": platform.python_version(),
              "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
              "seeds": args.seeds, "regimes": args.regimes, "extra": args.extra, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    md = render_markdown(result)
    args.out.with_suffix(".md").write_text(md)
    print(md)
    print(f"wrote {args.out} and {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
