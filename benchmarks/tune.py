"""Quick model-variant sweep on simulated data (development tool behind the ablation table).

For each simulation seed, simulates the default data once, fits the baselines once, then
trains each config variant and scores zero-shot AUROC / direction accuracy and matched-pair
direction against the truth. Prints a table and writes JSON.

    python benchmarks/tune.py --seeds 0 1 --variants '{}' '{"likelihood": "nb"}'
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cmcvae import CMCVAE
from cmcvae.datasets import simulate
from cmcvae.evaluate import (
    correlation_effects,
    observed_effects,
    ridge_effects,
    score_predictions,
)
from cmcvae.tl import direction_accuracy_vs_truth, knockdown_truth_matrix


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--regime", default="forward")
    p.add_argument("--variants", nargs="+", default=["{}"])
    p.add_argument("--sim", default="{}", help="JSON of simulate() overrides")
    p.add_argument("--out", type=Path, default=Path("benchmarks/results/tune.json"))
    args = p.parse_args()
    rows = []
    for seed in args.seeds:
        sim = simulate(seed=seed, regime=args.regime, **json.loads(args.sim))
        rna, prot = sim.mdata.mod["rna"], sim.mdata.mod["prot"]
        genes, proteins = list(rna.var_names), list(prot.var_names)
        obs = observed_effects(sim.perturb, genes=genes, proteins=proteins, protein_map=sim.protein_map)
        base = {
            "correlation": correlation_effects(rna.X, prot.X, genes, proteins),
            "ridge": ridge_effects(rna.X, prot.X, genes, proteins),
            "oracle": knockdown_truth_matrix(sim.knockdown_effects).reindex(index=genes, columns=proteins).fillna(0),
        }
        for name, eff in base.items():
            s = score_predictions(eff, obs)
            rows.append({"seed": seed, "variant": name, "auroc": s["auroc"], "dir": s["direction_accuracy"]})
        for v in args.variants:
            kw = json.loads(v)
            CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
            t0 = time.perf_counter()
            model = CMCVAE(sim.mdata, grn_prior=sim.grn_prior, ppi_prior=sim.ppi_prior,
                           protein_map=sim.protein_map, seed=seed, **kw)
            model.train(progress_bar=False)
            s = score_predictions(model.predict_knockdown(), obs)
            d = direction_accuracy_vs_truth(model.get_matched_pairs(), sim.matched_pairs)
            rows.append({"seed": seed, "variant": v, "auroc": s["auroc"], "dir": s["direction_accuracy"],
                         "pair_dir": d["direct"], "pair_dir_total": d.get("total"),
                         "epochs": model.metrics["epochs"], "sec": time.perf_counter() - t0,
                         "is_dag": model.metrics["is_dag"], "guard": model.metrics["guard_events"]})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(df.to_string())
    print(df.groupby("variant")[["auroc", "dir"] + [c for c in ("pair_dir", "pair_dir_total", "sec") if c in df]].median())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(df.to_json(orient="records", indent=1))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
