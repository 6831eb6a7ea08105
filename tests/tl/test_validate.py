"""Zero-shot validation on real-layout Perturb-CITE-seq data (scPerturb RNA/protein .h5ad pair).

The screen is built with a known answer, in the layout of scPerturb's Frangieh et al. 2021 files:
RNA counts (CSR, integer) with ``obs["perturbation"]`` (controls labelled ``control`` or ``NT``)
and ``obs["condition"]`` (``Control`` / ``IFNγ``), and a protein file whose antibody names are
spelled differently from the model's (``HLA_A``, ``PD-1``, ``CD3-1``).

- B2M knockdown halves HLA_A (a trans effect), CD274 knockdown halves CD274 (cis); each also
  doubles the isotype control, which is not scored, so the per-cell CLR of the other proteins
  does not move.
- IFNγ triples every scored protein. IRF1 is knocked down in IFNγ cells only and changes no
  protein: compared with all controls it shows a fake IFNγ "effect", which condition matching
  removes.
"""

from __future__ import annotations

import json
import sys
import warnings

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    auroc,
    match_proteins,
    observed_effects,
    validate,
    write_validation,
)
from cmcvae.io import read_input
from tests._helpers import run_cli_ok

MODEL_GENES = ["B2M", "CD274", "IRF1", "HLA-A", "PDCD1", "CD3E", "CD58"] + [f"G{i}" for i in range(13)]
MODEL_PROTEINS = ["HLA-A", "CD279", "CD3", "CD274", "CD58"]
MODEL_MAP = pd.DataFrame(
    {"protein": MODEL_PROTEINS, "gene": ["HLA-A", "PDCD1", "CD3E", "CD274", "CD58"]}
)
PANEL = ["HLA_A", "PD-1", "CD3-1", "CD274", "CD44", "Mouse_IgG1"]
SCORED_PANEL = ["HLA_A", "PD-1", "CD3-1", "CD274"]
IFNG = "IFNγ"
TRUE_EFFECTS = {("B2M", "HLA-A"), ("CD274", "CD274")}


def _screen(seed: int = 0) -> tuple[ad.AnnData, ad.AnnData]:
    """RNA and protein AnnData of the screen described in the module docstring."""
    rng = np.random.default_rng(seed)
    groups = [
        ("control", "Control", 150), ("control", IFNG, 100), ("NT", IFNG, 50),
        ("B2M", "Control", 60), ("B2M", IFNG, 60),
        ("CD274", "Control", 60), ("CD274", IFNG, 60),
        ("IRF1", IFNG, 120),
        ("NOTAGENE", "Control", 30),
    ]
    pert = np.concatenate([[g] * n for g, _, n in groups])
    cond = np.concatenate([[c] * n for _, c, n in groups])
    n = pert.size
    genes = MODEL_GENES + ["EXTRA1", "EXTRA2"]
    rna_rate = np.full((n, len(genes)), 6.0)
    for gene in ("B2M", "CD274", "IRF1"):
        rna_rate[pert == gene, genes.index(gene)] *= 0.1
    prot_rate = np.full((n, len(PANEL)), 150.0)
    scored = [PANEL.index(p) for p in SCORED_PANEL]
    prot_rate[np.ix_(cond == IFNG, scored)] *= 3.0
    iso = PANEL.index("Mouse_IgG1")
    for gene, protein in (("B2M", "HLA_A"), ("CD274", "CD274")):
        prot_rate[pert == gene, PANEL.index(protein)] *= 0.5
        prot_rate[pert == gene, iso] *= 2.0
    cells = [f"AAAC{i:05d}-1" for i in range(n)]
    obs = pd.DataFrame({"perturbation": pert, "condition": cond, "celltype": "melanoma"}, index=cells)
    rna = ad.AnnData(
        X=sp.csr_matrix(rng.poisson(rna_rate).astype(np.int64)), obs=obs,
        var=pd.DataFrame(index=genes),
    )
    prot = ad.AnnData(
        X=rng.poisson(prot_rate).astype(np.float32), obs=pd.DataFrame(index=cells),
        var=pd.DataFrame(index=PANEL),
    )
    return rna, prot


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple:
    """scPerturb-style files ``Screen_RNA.h5ad`` and ``Screen_protein.h5ad``."""
    folder = tmp_path_factory.mktemp("screen")
    rna, prot = _screen()
    rna_path, prot_path = folder / "Screen_RNA.h5ad", folder / "Screen_protein.h5ad"
    rna.write_h5ad(rna_path)
    prot.write_h5ad(prot_path)
    return rna_path, prot_path


@pytest.fixture(scope="module")
def screen(pair) -> md.MuData:
    return read_input(*pair)


@pytest.fixture(scope="module")
def observed(screen) -> pd.DataFrame:
    return observed_effects(
        screen, control_label=["control", "NT"], condition_key="condition", genes=MODEL_GENES,
        proteins=MODEL_PROTEINS, protein_map=MODEL_MAP,
    )


@pytest.fixture(scope="module")
def fitted_run(tmp_path_factory) -> tuple:
    """A one-epoch run on tiny training data with the model's gene and protein names."""
    from cmcvae.tl import fit_run

    folder = tmp_path_factory.mktemp("fit")
    rng = np.random.default_rng(1)
    n = 400
    z = rng.normal(size=(n, 3))
    rna = rng.poisson(np.exp(1.5 + 0.4 * z @ rng.normal(size=(3, len(MODEL_GENES)))))
    prot = rng.poisson(np.exp(4.0 + 0.4 * z @ rng.normal(size=(3, len(MODEL_PROTEINS)))))
    obs = pd.DataFrame({"donor": rng.choice(["D1", "D2"], n)}, index=[f"t{i}" for i in range(n)])
    with warnings.catch_warnings():  # genes and proteins share names (CD274): fine per modality
        warnings.filterwarnings("ignore", message="var_names are not unique")
        mdata = md.MuData({
            "rna": ad.AnnData(sp.csr_matrix(rna.astype(np.float32)), obs=obs.copy(),
                              var=pd.DataFrame(index=MODEL_GENES)),
            "prot": ad.AnnData(prot.astype(np.float32), obs=obs.copy(),
                               var=pd.DataFrame(index=MODEL_PROTEINS)),
        })
    mdata.obs["donor"] = obs["donor"].to_numpy()
    train = folder / "train.h5mu"
    mdata.write(train)
    MODEL_MAP.to_csv(folder / "map.csv", index=False)
    run = folder / "run"
    fit_run(train, run, batch_key="donor", protein_map=folder / "map.csv", max_epochs=1,
            progress_bar=False)
    return run


# --------------------------------------------------------------------------- helpers


def _num(x) -> float:
    return float("nan") if x is None else float(x)


def _same(a, b) -> bool:
    a, b = _num(a), _num(b)
    return (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-15)


def _direction(pred: np.ndarray, obs: np.ndarray, pert: np.ndarray, rows: np.ndarray) -> float:
    """The documented definition, written out: per perturbation, then the mean."""
    per = []
    for lab in pd.unique(pert[rows]):
        m = rows & (pert == lab)
        right = (np.sign(pred[m]) == np.sign(obs[m])) & (pred[m] != 0)
        per.append(right.mean())
    return float(np.mean(per)) if per else float("nan")


def _assert_consistent(val: dict, pred: pd.DataFrame) -> None:
    """Every number of validation.json recomputed from predictions.csv."""
    sig = pred["significant"].to_numpy(dtype=bool)
    obs = pred["observed_effect"].to_numpy(dtype=np.float64)
    pert = pred["perturbation"].astype(str).to_numpy()
    cis = pred["cis"].to_numpy(dtype=bool)
    assert val["n_pairs"] == len(pred)
    assert val["n_significant"] == int(sig.sum())
    assert _same(val["fraction_significant_cis"], (sig & cis).sum() / sig.sum())
    for method in val["methods"]:
        col = "predicted_effect" if method == val["method"] else f"predicted_{method}"
        x = pred[col].to_numpy(dtype=np.float64)
        fin = np.isfinite(x)
        res = val[method]
        a = auroc(np.abs(x), sig)
        assert (np.isnan(a) and res["auroc"] is None) or res["auroc"] == a, method
        assert res["n_pairs"] == int(fin.sum()) and res["n_missing"] == int((~fin).sum())
        per = {}
        for lab in pd.unique(pert):
            m = pert == lab
            v = auroc(np.abs(x[m]), sig[m])
            if not np.isnan(v):
                per[str(lab)] = v
        assert res["per_perturbation_auroc"] == per, method
        assert _same(res["direction_accuracy"], _direction(x, obs, pert, fin & sig)), method
        assert _same(res["direction_accuracy_cis"], _direction(x, obs, pert, fin & sig & cis))
        assert _same(res["direction_accuracy_trans"], _direction(x, obs, pert, fin & sig & ~cis))
        right = (np.sign(x) == np.sign(obs)) & (x != 0)
        assert _same(res["pair_direction_accuracy"], right[fin & sig].mean())
    top = val[val["method"]]
    for key in ("auroc", "direction_accuracy", "pair_direction_accuracy", "direction_accuracy_cis",
                "n_pairs"):
        assert _same(val[key], top[key])


def _cli_fails(args, monkeypatch, capsys) -> str:
    """Run ``cmcvae ARGS``; assert exit code 2 without a traceback and return stderr."""
    from cmcvae.cli import main

    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    assert exc.value.code == 2, out.out + out.err
    assert "Traceback" not in out.err + out.out
    return " ".join(out.err.split())


# --------------------------------------------------------------------------- observed effects


def test_pair_reads_like_scperturb(screen):
    assert set(screen.mod) == {"rna", "prot"}
    assert {"perturbation", "condition"} <= set(screen.obs.columns)
    assert list(screen.mod["prot"].var_names) == PANEL


def test_observed_effects_find_exactly_the_planted_effects(observed):
    assert set(observed["perturbation"]) == {"B2M", "CD274", "IRF1"}
    sig = observed[observed["significant"]]
    assert set(zip(sig["perturbation"], sig["protein"], strict=True)) == TRUE_EFFECTS
    eff = observed.set_index(["perturbation", "protein"])["observed_effect"]
    assert eff[("B2M", "HLA-A")] == pytest.approx(-np.log(2), abs=0.06)
    assert eff[("CD274", "CD274")] == pytest.approx(-np.log(2), abs=0.06)
    irf1 = observed[observed["perturbation"] == "IRF1"]
    assert irf1["observed_effect"].abs().max() < 0.05
    # controls of both labels; IRF1 (IFNγ only) is compared with the IFNγ controls only
    assert observed.loc[observed["perturbation"] == "B2M", "n_control"].eq(300).all()
    assert irf1["n_control"].eq(150).all() and irf1["n_cells"].eq(120).all()
    cis = observed.set_index(["perturbation", "protein"])["cis"]
    assert cis[("CD274", "CD274")] and not cis[("B2M", "HLA-A")]
    assert int(observed["cis"].sum()) == 1


def test_condition_report(observed):
    summary = observed.attrs["summary"]
    assert summary["condition_key"] == "condition"
    assert summary["conditions"] == {
        "Control": {"n_control": 150, "n_perturbed": 120, "used": True},
        IFNG: {"n_control": 150, "n_perturbed": 240, "used": True},
    }
    assert summary["control_label"] == ["control", "NT"]
    kd = {r["perturbation"]: r for r in observed.attrs["knockdown"]}
    assert kd["IRF1"]["n_cells_by_condition"] == {IFNG: 120}
    assert kd["B2M"]["n_cells_by_condition"] == {"Control": 60, IFNG: 60}
    assert kd["B2M"]["target_log_fc"] < -1
    dropped = {d["perturbation"]: d["reason"] for d in observed.attrs["dropped"]}
    assert dropped == {"NOTAGENE": "target not among the model's genes"}
    json.dumps(summary)


def test_condition_matching_removes_a_fake_effect(screen, observed):
    pooled = observed_effects(
        screen, control_label=["control", "NT"], genes=MODEL_GENES, proteins=MODEL_PROTEINS
    )
    sig = pooled[pooled["significant"]]
    fake = set(zip(sig["perturbation"], sig["protein"], strict=True)) - TRUE_EFFECTS
    assert ("IRF1", "HLA-A") in fake  # the IFNγ shift, read as an IRF1 knockdown effect
    irf1 = pooled.set_index(["perturbation", "protein"]).loc["IRF1", "observed_effect"]
    assert irf1["HLA-A"] == pytest.approx(np.log(3) / 6, abs=0.05)  # half the CLR shift
    matched = observed[observed["significant"]]
    assert not (matched["perturbation"] == "IRF1").any()
    assert pooled.attrs["summary"]["condition_key"] is None
    assert "conditions" not in pooled.attrs["summary"]


def test_condition_effect_is_weighted_mean_of_matched_differences(screen, observed):
    clr_all = observed_effects(
        screen, control_label=["control", "NT"], condition_key="condition", genes=MODEL_GENES,
        proteins=MODEL_PROTEINS, knockdown_filter=False,
    ).set_index(["perturbation", "protein"])["observed_effect"]
    from cmcvae.pp import clr

    prot = screen.mod["prot"]
    values = pd.DataFrame(clr(prot.X).astype(np.float64), columns=PANEL)
    pert, cond = screen.obs["perturbation"].to_numpy(), screen.obs["condition"].to_numpy()
    ctrl = np.isin(pert, ["control", "NT"])
    n = {c: ((pert == "B2M") & (cond == c)).sum() for c in ("Control", IFNG)}
    expected = sum(
        n[c] / sum(n.values())
        * (values.loc[(pert == "B2M") & (cond == c), "HLA_A"].mean()
           - values.loc[ctrl & (cond == c), "HLA_A"].mean())
        for c in n
    )
    assert clr_all[("B2M", "HLA-A")] == pytest.approx(expected, rel=1e-10)


def test_proteins_matched_through_the_antibody_map(observed):
    report = observed.attrs["summary"]["protein_matching"]
    assert report["exact"] == ["CD274"]
    assert report["canonical"] == {"HLA-A": "HLA_A", "CD279": "PD-1", "CD3": "CD3-1"}
    assert report["model_not_in_panel"] == ["CD58"]
    assert report["panel_not_in_model"] == ["CD44", "Mouse_IgG1"]
    assert report["n_matched"] == 4
    table = observed.drop_duplicates("protein").set_index("protein")["panel_protein"]
    assert table.to_dict() == {"HLA-A": "HLA_A", "CD279": "PD-1", "CD3": "CD3-1", "CD274": "CD274"}


def test_match_proteins_two_clones_and_no_cross_match():
    mapping, report = match_proteins(["CD3", "CD31"], ["CD3-1", "CD3-2", "CD4"])
    assert mapping == {"CD3": "CD3-1"}  # CD3-1 is a second CD3 antibody, never CD31
    assert report["ambiguous"] == {"CD3": ["CD3-1", "CD3-2"]}
    assert report["panel_not_in_model"] == ["CD3-2", "CD4"]
    mapping, _ = match_proteins(None, ["A", "B"])
    assert mapping == {"A": "A", "B": "B"}


def test_bad_condition_key_names_the_columns(screen):
    with pytest.raises(CMCVAEInputError, match="no obs column 'treatment'") as err:
        observed_effects(screen, control_label="control", condition_key="treatment",
                         genes=MODEL_GENES, proteins=MODEL_PROTEINS)
    assert "'condition'" in str(err.value) and "'celltype'" in str(err.value)


# --------------------------------------------------------------------------- scoring


def _hand_made_methods() -> dict[str, pd.DataFrame]:
    genes = ["B2M", "CD274", "IRF1"]
    oracle = pd.DataFrame(0.0, index=genes, columns=MODEL_PROTEINS)
    oracle.loc["B2M", "HLA-A"] = -1.0
    oracle.loc["CD274", "CD274"] = -0.8
    oracle.loc["IRF1", "CD3"] = np.nan  # the primary method predicts nothing for this pair
    partial = pd.DataFrame(0.5, index=genes, columns=MODEL_PROTEINS)
    partial.loc["B2M", "HLA-A"] = np.nan  # a baseline without a prediction for a true effect
    partial.loc["IRF1", "CD3"] = 9.0  # not scored: the primary method has no prediction
    always_down = pd.DataFrame(-1.0, index=genes, columns=MODEL_PROTEINS)
    return {"cmcvae": oracle, "partial": partial, "always_down": always_down}


def test_validate_pure_function_is_consistent_with_its_table(screen, tmp_path):
    results, table = validate(
        _hand_made_methods(), screen, control_label=["control", "NT"], condition_key="condition",
        genes=MODEL_GENES, proteins=MODEL_PROTEINS, protein_map=MODEL_MAP,
    )
    assert len(table) == 3 * 4 - 1  # the primary's NaN pair is not scored (for any method)
    assert results["filtering"]["n_pairs_without_prediction"] == 1
    assert results["auroc"] == 1.0 and results["direction_accuracy"] == 1.0
    assert results["partial"]["n_pairs"] == 10 and results["partial"]["n_missing"] == 1
    assert results["always_down"]["direction_accuracy"] == 1.0
    assert results["always_down"]["direction_accuracy_cis"] == 1.0
    assert results["always_down"]["direction_accuracy_trans"] == 1.0
    assert results["fraction_significant_cis"] == 0.5
    assert set(results["definitions"]) >= {
        "auroc", "direction_accuracy", "pair_direction_accuracy", "observed_effect",
    }
    json_path, csv_path = write_validation(results, table, tmp_path)
    _assert_consistent(json.loads(json_path.read_text()), pd.read_csv(csv_path))


# --------------------------------------------------------------------------- command line


def test_cli_validate_scperturb_pair(fitted_run, pair, monkeypatch, capsys):
    rna_path, prot_path = pair
    text = run_cli_ok(
        ["validate", str(fitted_run), "--perturb", str(rna_path), "--perturb-protein",
         str(prot_path), "--control-label", "control,NT", "--condition-key", "condition"],
        monkeypatch, capsys,
    )
    assert "CD279=PD-1" in text and "cis" in text
    val = json.loads((fitted_run / "validation.json").read_text())
    pred = pd.read_csv(fitted_run / "predictions.csv")
    assert val["methods"][0] == "cmcvae"
    assert val["methods"][-4:] == ["correlation", "ridge", "random", "always_down"]
    assert set(val["methods"][1:-4]) <= {"adjust", "adjust_all", "adjust_parents", "ida", "propagate"}
    assert val["estimator"] in {"adjust", "correlation"} and "regulators" in val["effects"]
    assert set(val["definitions"]) >= {"auroc", "direction_accuracy", "pair_direction_accuracy",
                                       "observed_effect"}
    assert "condition" in val["definitions"]["observed_effect"]
    filt = val["filtering"]
    assert filt["conditions"][IFNG] == {"n_control": 150, "n_perturbed": 240, "used": True}
    assert filt["protein_matching"]["canonical"]["CD3"] == "CD3-1"
    sig = pred[pred["significant"]]
    assert set(zip(sig["perturbation"], sig["protein"], strict=True)) == TRUE_EFFECTS
    assert val["fraction_significant_cis"] == 0.5
    assert val["always_down"]["direction_accuracy_cis"] == 1.0
    _assert_consistent(val, pred)


def test_cli_validate_clean_errors(fitted_run, pair, monkeypatch, capsys):
    rna_path, prot_path = pair
    base = ["validate", str(fitted_run), "--perturb", str(rna_path), "--perturb-protein",
            str(prot_path)]
    err = _cli_fails([*base, "--control-label", "NTC,non-targeting"], monkeypatch, capsys)
    assert "No control cells" in err and "'NTC'" in err and "'control'" in err
    err = _cli_fails([*base, "--condition-key", "treatment"], monkeypatch, capsys)
    assert "no obs column 'treatment'" in err and "'condition'" in err
