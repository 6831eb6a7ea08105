"""Helpers shared by the tests: tiny CITE-seq data, an in-process CLI runner, the shared data path."""

from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import scipy.sparse as sp

#: Real public data beside the checkout (``../shared/data``); tests that need it skip when absent.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_mudata(n=600, G=40, P=6, n_donors=3, seed=0):
    """Tiny CITE-seq-like MuData: genes 0..P-1 encode proteins 0..P-1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    gene_level = z @ rng.normal(0, 0.6, size=(4, G))
    rna = rng.poisson(np.exp(1.0 + gene_level * 0.5))
    prot = rng.poisson(np.exp(3.0 + 0.6 * gene_level[:, :P]))
    cells = [f"cell{i}" for i in range(n)]
    obs = pd.DataFrame({"donor": rng.choice([f"D{i}" for i in range(n_donors)], n)}, index=cells)
    r = ad.AnnData(sp.csr_matrix(rna.astype(np.float32)), obs=obs.copy())
    r.var_names = [f"G{i}" for i in range(G)]
    p = ad.AnnData(prot.astype(np.float32), obs=obs.copy())
    p.var_names = [f"ADT_G{i}" for i in range(P)]
    m = md.MuData({"rna": r, "prot": p})
    m.obs["donor"] = obs["donor"].values
    return m


def run_cli_ok(args, monkeypatch, capsys) -> str:
    """Run ``cmcvae ARGS`` in-process; assert exit code 0 and return stdout."""
    import sys

    from cmcvae.cli import main

    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    code = 0
    try:
        main()
    except SystemExit as err:
        code = err.code or 0
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    return out.out


def run_cli(args) -> tuple[int, str]:
    """Run ``cmcvae ARGS`` in-process outside a test function; return the exit code and the
    captured stdout + stderr (for fixtures of a wider scope than ``capsys``)."""
    import io
    import sys

    from _pytest.monkeypatch import MonkeyPatch

    from cmcvae.cli import main

    mp, buf = MonkeyPatch(), io.StringIO()
    mp.setattr(sys, "argv", ["cmcvae", *[str(a) for a in args]])
    mp.setattr(sys, "stdout", buf)
    mp.setattr(sys, "stderr", buf)
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        mp.undo()
    return code, buf.getvalue()


def predict_runs(root: Path) -> dict[str, Path]:
    """A small simulation, a run fitted on it with its GRN prior and protein map, and an RNA-only
    run fitted without a prior (``cmcvae predict`` tests): ``{"sim", "run", "rna"}``."""
    sim, run, rna = root / "sim", root / "run", root / "rna"
    for args in (["simulate", "--out", sim, "--cells", "600", "--genes", "40", "--proteins", "8",
                  "--perturbations", "5", "--seed", "0"],
                 ["fit", sim / "train.h5mu", "--out", run, "--grn-prior", sim / "priors" / "grn.csv",
                  "--protein-map", sim / "protein_map.csv", "--max-epochs", "1"],
                 ["fit", sim / "train.h5mu", "--out", rna, "--modality", "rna", "--max-epochs", "1"]):
        code, text = run_cli(args)
        assert code == 0, text
    return {"sim": sim, "run": run, "rna": rna}


#: the perturbations of the simulated screen a screen fit trains on (3 of the simulation's 6)
SCREEN_TRAINED = ("G0009", "G0017", "G0018")


def screen_h5mu(sim: Path, out: Path, perturbations=SCREEN_TRAINED,
                screen_controls: bool = False) -> Path:
    """A screen for ``cmcvae fit --perturbation-key perturbation``: the simulation's
    ``train.h5mu`` (labelled ``control``) and the cells of ``perturbations`` from its
    ``perturb.h5mu`` (with ``screen_controls``, its control cells too: the perturbed cells'
    donors then have controls), one ``.h5mu`` with obs columns ``perturbation`` and ``donor``."""
    train, pert = md.read_h5mu(sim / "train.h5mu"), md.read_h5mu(sim / "perturb.h5mu")
    chosen = [*perturbations, *(["control"] if screen_controls else [])]
    keep = pert.obs["perturbation"].isin(chosen).to_numpy()
    mods = {}
    for name in ("rna", "prot"):
        ctrl = train.mod[name].copy()
        ctrl.obs = ctrl.obs[["donor"]].astype(str).assign(perturbation="control")
        hit = pert.mod[name][keep].copy()
        hit.obs = hit.obs[["donor", "perturbation"]].astype(str)
        mods[name] = ad.concat([ctrl, hit], join="outer", merge="same")
    screen = md.MuData(mods)
    for col in ("perturbation", "donor"):
        screen.obs[col] = mods["rna"].obs[col].astype(str).to_numpy()
    screen.write(out)
    return out


def screen_folders(root: Path) -> dict[str, Path]:
    """A simulated screen and the runs fitted on it (``fit --perturbation-key perturbation``):
    ``{"sim", "screen", "run", "rna_screen", "rna_run"}``; the RNA-only screen is the
    ``.h5ad`` of the screen's RNA (``--modality rna``)."""
    sim, run, rna_run = root / "sim", root / "run", root / "rna_run"
    code, text = run_cli(["simulate", "--out", sim, "--cells", "600", "--genes", "40",
                          "--proteins", "8", "--perturbations", "6", "--seed", "0"])
    assert code == 0, text
    screen = screen_h5mu(sim, root / "screen.h5mu")
    rna_screen = root / "rna_screen.h5ad"
    rna = md.read_h5mu(screen).mod["rna"].copy()
    rna.write_h5ad(rna_screen)
    texts = []
    for args in (["fit", screen, "--out", run, "--perturbation-key", "perturbation",
                  "--control-label", "control", "--max-epochs", "1"],
                 ["fit", rna_screen, "--modality", "rna", "--out", rna_run,
                  "--perturbation-key", "perturbation", "--max-epochs", "1"]):
        code, text = run_cli(args)
        assert code == 0, text
        texts.append(text)
    return {"sim": sim, "screen": screen, "run": run, "rna_screen": rna_screen, "rna_run": rna_run,
            "fit_output": texts[0]}
