"""Two DDP processes on one device: the smoke test for data-parallel training on a one-GPU machine.

    python benchmarks/ddp_smoke.py OUT --accelerator gpu     # launches rank 0 and rank 1 itself

Two NCCL ranks cannot share one GPU, so the ranks talk through gloo (which takes CUDA tensors),
each launched as its own "node" (``NODE_RANK`` 0/1, one device each) on the same machine. Each
rank trains the same small model on its shard and saves its graph; the check is that both ranks
end with the same weights (DDP keeps replicas identical) and finite losses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def _rank(out: Path, accelerator: str) -> None:
    import numpy as np
    from lightning.pytorch.strategies import DDPStrategy

    from cmcvae import CMCVAE
    from cmcvae.datasets import simulate

    sim = simulate(n_cells=4000, n_genes=200, n_proteins=20, n_donors=4, n_perturbations=5, seed=0)
    CMCVAE.setup_mudata(sim.mdata, batch_key="donor")
    model = CMCVAE(sim.mdata, max_epochs=4, dag_stages=2, epochs_per_stage=2, batch_size=256, seed=0)
    t0 = time.perf_counter()
    model.train(accelerator=accelerator, devices=1, num_nodes=2,
                strategy=DDPStrategy(process_group_backend="gloo"), progress_bar=False)
    rank = int(os.environ["NODE_RANK"])
    np.save(out / f"A_{rank}.npy", model.get_adjacency(thresholded=False))
    (out / f"history_{rank}.json").write_text(json.dumps(
        {"seconds": time.perf_counter() - t0, "history": model.history}))


def main() -> None:
    out, accelerator = Path(sys.argv[1]), sys.argv[sys.argv.index("--accelerator") + 1]
    if os.environ.get("NODE_RANK") is not None:
        _rank(out, accelerator)
        return
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29533", "WORLD_SIZE": "2",
           "LOCAL_RANK": "0", "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, __file__, *sys.argv[1:]], env={**env, "NODE_RANK": str(r)})
             for r in (0, 1)]
    codes = [p.wait(timeout=600) for p in procs]
    A0, A1 = (np.load(out / f"A_{r}.npy") for r in (0, 1))
    h0, h1 = (json.loads((out / f"history_{r}.json").read_text()) for r in (0, 1))
    result = {"exit_codes": codes, "identical_graphs": bool(np.array_equal(A0, A1)),
              "identical_histories": h0["history"] == h1["history"],
              "finite": all(np.isfinite(e["train_loss"]) for e in h0["history"]),
              "epochs": len(h0["history"]), "seconds": [h0["seconds"], h1["seconds"]]}
    print(json.dumps(result))
    (out / "ddp_smoke.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
