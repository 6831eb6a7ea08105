"""Seeds ensembles: edge stability, numeric summaries and `cmcvae fit --seeds` end to end."""

import json
import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.cli import main
from cmcvae.graph.stability import aggregate_numbers, edge_stability, matched_pair_stability
from cmcvae.tl import fit_seeds, is_ensemble, parse_seeds, seed_runs
from tests._helpers import make_mudata, run_cli_ok


def _edges(rows):
    return pd.DataFrame(rows, columns=["source", "target", "source_modality", "target_modality",
                                       "weight"])


def test_edge_stability_known_answer():
    t1 = _edges([("A", "B", "rna", "rna", 0.3), ("CD4", "CD4", "rna", "protein", 0.2),
                 ("X", "Y", "rna", "rna", 0.9)])
    t2 = _edges([("A", "B", "rna", "rna", 0.5), ("CD4", "CD4", "protein", "rna", 0.4)])
    t3 = _edges([("A", "B", "rna", "rna", -0.1), ("CD4", "CD4", "rna", "protein", 0.4)])
    s = edge_stability([t1, t2, t3])
    assert list(s.columns) == ["source", "target", "source_modality", "target_modality",
                               "frequency", "mean_weight", "sd_weight", "sign_consistency", "n_runs"]
    assert len(s) == 4 and (s["n_runs"] == 3).all()
    ab = s[(s.source == "A") & (s.target == "B")].iloc[0]
    assert ab.frequency == pytest.approx(1.0)
    assert ab.mean_weight == pytest.approx(0.7 / 3)
    assert ab.sd_weight == pytest.approx(np.std([0.3, 0.5, -0.1], ddof=1))
    assert ab.sign_consistency == pytest.approx(2 / 3)
    # the same names in the other direction / modality are a different edge
    fwd = s[(s.source == "CD4") & (s.source_modality == "rna")].iloc[0]
    assert fwd.frequency == pytest.approx(2 / 3) and fwd.mean_weight == pytest.approx(0.3)
    assert fwd.sign_consistency == 1.0
    rev = s[(s.source == "CD4") & (s.source_modality == "protein")].iloc[0]
    assert rev.frequency == pytest.approx(1 / 3) and rev.sd_weight == 0.0
    # sorted by frequency, then |mean weight| (X→Y 0.9 before protein CD4→rna CD4 0.4)
    assert s.frequency.tolist() == pytest.approx([1, 2 / 3, 1 / 3, 1 / 3])
    assert s.iloc[2].source == "X"


def test_edge_stability_edge_cases():
    empty = edge_stability([_edges([]), _edges([])])
    assert empty.empty and "frequency" in empty.columns
    with pytest.raises(CMCVAEInputError):
        edge_stability([])
    with pytest.raises(CMCVAEInputError, match="weight"):
        edge_stability([_edges([]).drop(columns="weight")])


def test_matched_pair_stability():
    cols = ["protein", "gene", "rna_to_protein", "protein_to_rna"]
    a = pd.DataFrame([("P1", "G1", 0.4, 0.1), ("P2", "G2", 0.1, 0.3)], columns=cols)
    b = pd.DataFrame([("P1", "G1", 0.2, 0.3), ("P2", "G2", 0.1, 0.2)], columns=cols)
    s = matched_pair_stability([a, b]).set_index("protein")
    assert s.loc["P1", "rna_to_protein_mean"] == pytest.approx(0.3)
    assert s.loc["P1", "rna_to_protein_sd"] == pytest.approx(np.std([0.4, 0.2], ddof=1))
    assert s.loc["P1", "fraction_rna_to_protein_stronger"] == 0.5
    assert s.loc["P2", "fraction_rna_to_protein_stronger"] == 0.0
    assert (s["n_runs"] == 2).all()


def test_aggregate_numbers():
    runs = [{"auroc": 0.6, "n": 10, "call": "none", "ok": True, "p": None,
             "nested": {"x": 1.0, "tag": "a"}, "only_here": 3},
            {"auroc": 0.8, "n": 10, "call": "none", "ok": True, "p": 0.01,
             "nested": {"x": 3.0, "tag": "b"}},
            {"auroc": 0.7, "n": 10, "call": "none", "ok": False, "p": float("nan"),
             "nested": {"x": 2.0, "tag": "a"}}]
    agg = aggregate_numbers(runs)
    assert agg["auroc"]["mean"] == pytest.approx(0.7)
    assert agg["auroc"]["sd"] == pytest.approx(0.1)
    assert (agg["auroc"]["min"], agg["auroc"]["max"]) == (0.6, 0.8)
    assert agg["auroc"]["values"] == [0.6, 0.8, 0.7]
    assert agg["n"]["mean"] == 10 and agg["n"]["sd"] == 0.0
    assert agg["call"] == "none"
    assert agg["ok"] == [True, True, False]  # bools are categories, not numbers
    assert agg["p"]["mean"] == pytest.approx(0.01) and agg["p"]["values"] == [None, 0.01, None]
    assert agg["nested"]["x"]["mean"] == pytest.approx(2.0)
    assert agg["nested"]["tag"] == ["a", "b", "a"]
    assert "only_here" not in agg
    assert aggregate_numbers([{"x": 5}])["x"] == {"mean": 5.0, "sd": 0.0, "min": 5.0, "max": 5.0,
                                                  "values": [5]}


def test_parse_seeds():
    assert parse_seeds("0,1,2") == [0, 1, 2]
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds(" 3 , 0-1 ") == [3, 0, 1]
    assert parse_seeds([2, 5]) == [2, 5]
    for bad in ("", "a", "3-1", "0,0", "1,-2", "0-1,1"):
        with pytest.raises(CMCVAEInputError):
            parse_seeds(bad)


@pytest.fixture
def tiny_inputs(tmp_path):
    data = tmp_path / "train.h5mu"
    make_mudata(n=400, G=30, P=5).write(data)
    pmap = tmp_path / "map.csv"
    pd.DataFrame({"protein": [f"ADT_G{i}" for i in range(5)],
                  "gene": [f"G{i}" for i in range(5)]}).to_csv(pmap, index=False)
    config = tmp_path / "cfg.yaml"
    # a tiny model with no edge threshold so that two epochs already give edges that differ by seed
    config.write_text("arch: poster\nn_latent_rna: 4\nn_latent_protein: 2\nn_hidden: 32\nthreshold: 0.0\n"
                      "edge_top_k: 200\n")
    return ["fit", str(data), "--batch-key", "donor", "--protein-map", str(pmap),
            "--config", str(config), "--max-epochs", "2"]


def _cli_code(args, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["cmcvae", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


def test_fit_seeds_cli_end_to_end(tmp_path, tiny_inputs, monkeypatch, capsys):
    ens = tmp_path / "ens"
    text = run_cli_ok([*tiny_inputs, "--out", str(ens), "--seeds", "0,1"], monkeypatch, capsys)
    assert "Ensemble of 2 seeds" in text
    assert is_ensemble(ens) and not is_ensemble(ens / "seed_0")
    assert seed_runs(ens) == [ens / "seed_0", ens / "seed_1"]
    for run in seed_runs(ens):  # each seed folder is a complete ordinary run
        for f in ("model/model.pt", "edges.csv", "latent_graph.csv", "matched_pairs.csv",
                  "metrics.json", "run.json", "split.csv", "network.graphml"):
            assert (run / f).exists(), (run, f)
        info = json.loads((run / "run.json").read_text())
        assert info["data"] == str((tmp_path / "train.h5mu").resolve())
        assert info["protein_map"] == str((tmp_path / "map.csv").resolve())
        assert info["config"]["seed"] == int(run.name.split("_")[1])
        g = nx.read_graphml(run / "network.graphml")
        assert g.number_of_edges() == len(pd.read_csv(run / "edges.csv"))

    meta = json.loads((ens / "ensemble.json").read_text())
    assert meta["seeds"] == [0, 1] and meta["runs"] == ["seed_0", "seed_1"]
    assert set(meta["fit_seconds"]) == {"seed_0", "seed_1"}
    assert set(meta["metrics"]["seed_0"]) >= {"epochs", "is_dag", "n_latent_edges", "val_elbo"}
    assert meta["metrics_summary"]["epochs"]["mean"] == 2

    e0, e1 = (pd.read_csv(ens / f"seed_{k}" / "edges.csv") for k in (0, 1))
    assert len(e0) and len(e1)
    stab = pd.read_csv(ens / "stability.csv")
    assert set(stab["frequency"].round(6)) == {0.5, 1.0}
    key = ["source", "target", "source_modality", "target_modality"]
    both = e0.merge(e1, on=key, suffixes=("_0", "_1"))
    merged = both.merge(stab, on=key)
    assert len(both) > 0 and len(both) < len(e0)  # some edges shared, some not
    assert len(merged) == len(both)
    assert (merged["frequency"] == 1.0).all()
    assert np.allclose(merged["mean_weight"], (merged["weight_0"] + merged["weight_1"]) / 2)
    assert (stab["frequency"] == 1.0).sum() == len(both)
    assert len(stab) == len(e0) + len(e1) - len(both)
    g = nx.read_graphml(ens / "network.graphml")
    assert g.number_of_edges() == len(stab)  # with 2 seeds every edge is kept in >= 50 %
    assert all(d["frequency"] in (0.5, 1.0) for *_, d in g.edges(data=True))

    pairs = pd.read_csv(ens / "matched_pairs.csv")
    assert len(pairs) == 5
    assert set(pairs["fraction_rna_to_protein_stronger"]) <= {0.0, 0.5, 1.0}
    p0 = pd.read_csv(ens / "seed_0" / "matched_pairs.csv").set_index("protein")
    p1 = pd.read_csv(ens / "seed_1" / "matched_pairs.csv").set_index("protein")
    pm = pairs.set_index("protein")
    assert np.allclose(pm["rna_to_protein_mean"], (p0["rna_to_protein"] + p1["rna_to_protein"]
                                                   ).reindex(pm.index) / 2)

    # analyses over the seeds: one analysis.json per seed, the ensemble's holds mean ± spread
    run_cli_ok(["analyze", str(ens)], monkeypatch, capsys)
    per_seed = [json.loads((r / "analysis.json").read_text()) for r in seed_runs(ens)]
    agg = json.loads((ens / "analysis.json").read_text())
    assert agg["ensemble"]["n_seeds"] == 2
    frac = agg["aggregate"]["central_dogma"]["direct"]["fraction_forward"]
    values = [a["central_dogma"]["direct"]["fraction_forward"] for a in per_seed]
    assert frac["values"] == values and frac["mean"] == pytest.approx(np.mean(values))
    assert frac["min"] == min(values) and frac["max"] == max(values)

    # no overwrite without --force
    code, msg = _cli_code([*tiny_inputs, "--out", str(ens), "--seeds", "0,1"], monkeypatch, capsys)
    assert code == 2 and "--force" in msg and "Traceback" not in msg

    # determinism: seed 0 again (now trained after seed 1 on the reused data) gives the same edges
    run_cli_ok([*tiny_inputs, "--out", str(ens), "--seeds", "1,0", "--force"], monkeypatch, capsys)
    again = pd.read_csv(ens / "seed_0" / "edges.csv")
    pd.testing.assert_frame_equal(again, e0)
    assert json.loads((ens / "ensemble.json").read_text())["seeds"] == [1, 0]


def test_seed_and_seeds_is_a_clean_error(tmp_path, tiny_inputs, monkeypatch, capsys):
    out = tmp_path / "ens"
    code, msg = _cli_code([*tiny_inputs, "--out", str(out), "--seeds", "0,1", "--seed", "3"],
                          monkeypatch, capsys)
    assert code == 2 and "--seeds" in msg and "Traceback" not in msg
    assert not out.exists()
    code, msg = _cli_code([*tiny_inputs, "--out", str(out), "--seeds", "0-x"], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in msg
    with pytest.raises(CMCVAEInputError, match="not both"):
        fit_seeds(tmp_path / "train.h5mu", out, [0, 1], seed=0)


def test_seed_runs_not_an_ensemble(tmp_path):
    assert not is_ensemble(tmp_path)
    with pytest.raises(CMCVAEInputError, match="not a seeds ensemble"):
        seed_runs(tmp_path)


def test_single_runs_and_ensembles_do_not_mix(tmp_path, tiny_inputs, monkeypatch, capsys):
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    code, msg = _cli_code([*tiny_inputs, "--out", str(run), "--seeds", "0,1", "--force"],
                          monkeypatch, capsys)
    assert code == 2 and "single run" in msg
    ens = tmp_path / "ens"
    ens.mkdir()
    (ens / "ensemble.json").write_text('{"seeds": [], "runs": []}')
    code, msg = _cli_code([*tiny_inputs, "--out", str(ens), "--force"], monkeypatch, capsys)
    assert code == 2 and "seeds ensemble" in msg
