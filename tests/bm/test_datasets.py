"""Benchmark dataset loaders: tiny fake folders in the real file formats, the real files in
../shared/data when present (skipped otherwise), and the errors users hit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.bm import (
    BEELINE_NAMES,
    DREAM4_NETWORKS,
    SACHS_PUBLISHED,
    GraphDataset,
    load_beeline,
    load_dream4,
    load_krumsiek11,
    load_sachs,
    load_sergio,
)
from cmcvae.bm._dream4 import DREAM4_EDGE_COUNTS
from cmcvae.bm._krumsiek11 import parse_boolean_rule
from cmcvae.bm._published import SACHS_EMPTY_GRAPH_SHD
from tests._helpers import SHARED_DATA

DATA = SHARED_DATA


def edges(ds: GraphDataset) -> dict[tuple[str, str], int]:
    return {(s, t): w for s, t, w in ds.truth.itertuples(index=False)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# GraphDataset
# ---------------------------------------------------------------------------------------------


def make(**kw) -> GraphDataset:
    args = dict(
        name="t",
        family="beeline",
        X=np.arange(6.0).reshape(3, 2),
        features=["a", "b"],
        truth=pd.DataFrame({"source": ["a"], "target": ["b"], "weight": [-1]}),
        modality="rna",
        counts=False,
        meta={},
    )
    args.update(kw)
    return GraphDataset(**args)


def test_graph_dataset_truth_matrix():
    ds = make(
        features=["a", "b", "c"],
        X=np.zeros((2, 3)),
        truth=pd.DataFrame({"source": ["c", "a"], "target": ["a", "b"], "weight": [1, -1]}),
    )
    A = ds.truth_matrix()
    assert A.tolist() == [[0, 1, 0], [0, 0, 0], [1, 0, 0]]  # rows = source
    assert ds.truth_matrix(signed=True)[0, 1] == -1 and ds.X.dtype == np.float64
    assert ds.n_edges == 2


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"X": np.array([[1.0, np.nan]])}, "NaN"),
        ({"X": np.zeros(2)}, "2-D"),
        ({"features": ["a"]}, "1 feature names for 2 columns"),
        ({"features": ["a", "a"]}, "not unique"),
        ({"truth": pd.DataFrame({"source": ["a"], "target": ["z"], "weight": [1]})}, "'z'"),
        ({"truth": pd.DataFrame({"source": ["a"], "target": ["a"], "weight": [1]})}, "self-loop"),
        (
            {"truth": pd.DataFrame({"source": ["a", "a"], "target": ["b", "b"], "weight": [1, 1]})},
            "duplicated",
        ),
        (
            {"truth": pd.DataFrame({"source": ["a"], "target": ["b"], "weight": [2]})},
            r"-1, 0 or \+1",
        ),
        ({"truth": pd.DataFrame({"from": ["a"], "to": ["b"]})}, "columns"),
        ({"family": "other"}, "family"),
        ({"modality": "atac"}, "modality"),
    ],
)
def test_graph_dataset_validation(kw, msg):
    with pytest.raises(CMCVAEInputError, match=msg):
        make(**kw)


# ---------------------------------------------------------------------------------------------
# BEELINE
# ---------------------------------------------------------------------------------------------


def fake_beeline(root: Path, folder: str = "Synthetic/dyn-LI_2000_0") -> Path:
    d = root / folder
    write(
        d / "ExpressionData.csv",
        ",E1_0_1,E2_0_5,E3_1_0\ng1,0.1,0.2,0.3\ng2,1.0,1.5,2.0\ng3,0.0,0.5,0.25\n",
    )
    # self-loop, exact duplicate, duplicate with the other sign (first kept)
    write(
        d / "refNetwork.csv",
        "Gene1,Gene2,Type\ng1,g2,+\ng3,g3,+\ng2,g3,-\ng1,g2,+\ng2,g3,+\ng3,g1,-\n",
    )
    write(d / "PseudoTime.csv", ",Time\nE3_1_0,1.0\nE1_0_1,0.1\nE2_0_5,0.5\n")
    return root


def test_beeline_fake(tmp_path):
    ds = load_beeline(fake_beeline(tmp_path), "dyn-LI")
    assert ds.name == "beeline/dyn-LI" and ds.family == "beeline" and ds.modality == "rna"
    assert ds.features == ["g1", "g2", "g3"]
    assert ds.X.shape == (3, 3)  # transposed to cells × genes
    assert ds.X[:, 1].tolist() == [1.0, 1.5, 2.0] and not ds.counts
    assert edges(ds) == {("g1", "g2"): 1, ("g2", "g3"): -1, ("g3", "g1"): -1}
    assert ds.meta["self_loops_dropped"] == 1 and ds.meta["duplicates_dropped"] == 2
    assert ds.meta["duplicates_with_conflicting_sign"] == [("g2", "g3")]
    assert ds.meta["pseudotime"]["Time"].tolist() == [0.1, 0.5, 1.0]  # aligned to X rows


def test_beeline_upstream_layout_and_unnamed_index(tmp_path):
    fake_beeline(tmp_path, "Curated/GSD/GSD_2000_3")
    # curated PseudoTime.csv headers have no index column name (as in GSD)
    write(
        tmp_path / "Curated/GSD/GSD_2000_3/PseudoTime.csv",
        "PseudoTime1,PseudoTime2\nE1_0_1,1.0,NA\nE2_0_5,NA,2.0\nE3_1_0,3.0,NA\n",
    )
    ds = load_beeline(tmp_path, "GSD", replicate=3)
    assert ds.name == "beeline/GSD" and ds.meta["group"] == "curated"
    pt = ds.meta["pseudotime"]
    assert list(pt.columns) == ["PseudoTime1", "PseudoTime2"] and np.isnan(pt.iloc[1, 0])


def test_beeline_errors(tmp_path):
    with pytest.raises(CMCVAEInputError, match="valid names: GSD, HSC, VSC, mCAD, dyn-LI"):
        load_beeline(tmp_path, "dyn-XX")
    with pytest.raises(CMCVAEInputError, match="is not a folder.*Murali-group/Beeline"):
        load_beeline(tmp_path / "nowhere", "dyn-LI")
    with pytest.raises(
        CMCVAEInputError,
        match=r"expected Synthetic/dyn-LI_2000_0/ExpressionData\.csv.*Murali-group",
    ):
        load_beeline(tmp_path, "dyn-LI")
    fake_beeline(tmp_path)
    (tmp_path / "Synthetic/dyn-LI_2000_0/refNetwork.csv").unlink()
    with pytest.raises(CMCVAEInputError, match="refNetwork.csv"):
        load_beeline(tmp_path, "dyn-LI")
    write(tmp_path / "Synthetic/dyn-LI_2000_0/refNetwork.csv", "Gene1,Gene2,Type\ng1,g2,x\n")
    with pytest.raises(CMCVAEInputError, match="Type must be"):
        load_beeline(tmp_path, "dyn-LI")
    write(tmp_path / "Synthetic/dyn-LI_2000_0/ExpressionData.csv", ",c1,c2\ng1,0.1,abc\n")
    with pytest.raises(CMCVAEInputError, match="non-numeric value 'abc'"):
        load_beeline(tmp_path, "dyn-LI")


# ---------------------------------------------------------------------------------------------
# SERGIO
# ---------------------------------------------------------------------------------------------


def fake_sergio(root: Path) -> Path:
    d = root / "De-noised_4G_2T_3cPerT_dynamics_9_DS4"
    rows = "\n".join(f"{g}," + ",".join(str(g + 0.1 * c) for c in range(6)) for g in range(4))
    write(d / "simulated_noNoise_T_0.csv", ",0,0,0,1,1,1\n" + rows + "\n")  # header = cell type
    write(d / "simulated_noNoise_S_0.csv", ",0,1,2,3,4,5\n" + rows + "\n")
    write(d / "gt_GRN.csv", "0,1\n1,2\n3,2\n")
    # target, n regulators, regulator ids, K (sign), hill coefficients
    write(d / "Interaction_cID_9.txt", "1.0,1.0,0.0,2.5,2.0\n2.0,2.0,1.0,3.0,-1.3,0.5,2.0,2.0\n")
    return root


def test_sergio_fake(tmp_path):
    ds = load_sergio(fake_sergio(tmp_path))
    assert ds.name == "sergio/DS4" and ds.X.shape == (6, 4)
    assert ds.features == ["G0", "G1", "G2", "G3"] and ds.X[2, 1] == pytest.approx(1.2)
    assert edges(ds) == {("G0", "G1"): 1, ("G1", "G2"): -1, ("G3", "G2"): 1}
    assert ds.meta["cell_type"].tolist() == [0, 0, 0, 1, 1, 1]
    assert load_sergio(tmp_path, which="S").meta["obs_names"] == [str(i) for i in range(6)]


def test_sergio_signs_unknown_when_interactions_disagree(tmp_path):
    fake_sergio(tmp_path)
    write(
        tmp_path / "De-noised_4G_2T_3cPerT_dynamics_9_DS4/Interaction_cID_9.txt",
        "1.0,1.0,0.0,2.5,2.0\n",
    )
    ds = load_sergio(tmp_path)
    assert set(ds.truth["weight"]) == {0} and "unknown" in ds.meta["sign_source"]


def test_sergio_errors(tmp_path):
    with pytest.raises(CMCVAEInputError, match="valid names: DS1, DS2, DS3, DS4"):
        load_sergio(tmp_path, "DS9")
    with pytest.raises(CMCVAEInputError, match="which="):
        load_sergio(tmp_path, which="X")
    with pytest.raises(CMCVAEInputError, match="De-noised_100G_3T_300cPerT_dynamics_9_DS4"):
        load_sergio(tmp_path)
    write(tmp_path / "De-noised_100G_9T_300cPerT_4_DS1/gt_GRN.csv", "0,1\n")
    with pytest.raises(CMCVAEInputError, match="sergio-scsim"):
        load_sergio(tmp_path, "DS1")
    fake_sergio(tmp_path)
    with pytest.raises(CMCVAEInputError, match="simulated_noNoise_U_0.csv"):
        load_sergio(tmp_path, which="U")


# ---------------------------------------------------------------------------------------------
# DREAM4
# ---------------------------------------------------------------------------------------------


def fake_dream4(root: Path, i: int = 2) -> Path:
    genes = ["G1", "G2", "G3", "G4"]
    write(
        root / f"multifactorial_kboost/insilico_size100_{i}_multifactorial.tsv",
        "\t".join(genes) + "\n0.1\t0.2\t0.3\t0.4\n0.5\t0.6\t0.7\t0.8\n0.9\t1\t0\t0.25\n",
    )
    true = {("G2", "G1"), ("G1", "G3"), ("G4", "G3")}
    lines = [f"{a}\t{b}\t{int((a, b) in true)}" for a in genes for b in genes if a != b]
    lines.sort(key=lambda s: -int(s[-1]))  # positives first, as in the official files
    write(
        root / "goldstandards_dreamtools/100_multifactorial/"
        f"DREAM4_GoldStandard_InSilico_Size100_multifactorial_{i}.tsv",
        "\n".join(lines) + "\n",
    )
    return root


def test_dream4_fake(tmp_path):
    ds = load_dream4(fake_dream4(tmp_path), 2)
    assert (
        ds.name == "dream4/2" and ds.X.shape == (3, 4) and ds.features == ["G1", "G2", "G3", "G4"]
    )
    assert edges(ds) == {("G2", "G1"): 0, ("G1", "G3"): 0, ("G4", "G3"): 0}
    assert ds.meta["expected_n_edges"] == 249


def test_dream4_cdt_fallback(tmp_path):
    fake_dream4(tmp_path, 1)
    for p in (tmp_path / "goldstandards_dreamtools").rglob("*.tsv"):
        p.unlink()
    write(
        tmp_path / "cdt_goldstandards/goldstandard_insilico100_multifactorial_1.csv",
        "Source,Target\nG2,G1\nG1,G1\n",
    )
    ds = load_dream4(tmp_path, 1)
    assert edges(ds) == {("G2", "G1"): 0} and ds.meta["self_loops_dropped"] == 1


def test_dream4_errors(tmp_path):
    for bad in (0, 6, True, "1"):
        with pytest.raises(CMCVAEInputError, match=r"\(1, 2, 3, 4, 5\)"):
            load_dream4(tmp_path, bad)
    with pytest.raises(CMCVAEInputError, match="insilico_size100_3_multifactorial.tsv.*KBoost"):
        load_dream4(tmp_path, 3)
    fake_dream4(tmp_path, 3)
    gs = next((tmp_path / "goldstandards_dreamtools").rglob("*_3.tsv"))
    gs.write_text("G1\tG2\n")
    with pytest.raises(CMCVAEInputError, match="3 tab-separated columns"):
        load_dream4(tmp_path, 3)


# ---------------------------------------------------------------------------------------------
# krumsiek11
# ---------------------------------------------------------------------------------------------

FAKE_MODEL = """# comment line
# boolean update rules:
A = A and not (B and C.1) and not D
B = (B or A) and not D
C.1 = B
D =
# coupling list:
A          A                 1.0
A          B                -0.1
A          C.1              -1.0
A          D                -1.0
B          B                 1.0
B          A                 1.0
B          D                -1.0
C.1        B                 1.0
"""
FAKE_DATA = """# model = x.txt
# nrRealizations = 2
# it   A   B   C.1   D
   0  0.8 -0.0005 0.1 0.0
   1  0.7  0.0016 0.2 0.1
   2  0.6  0.0013 0.3 0.2
   0  0.8  0.0    0.1 0.0
   1  0.9  0.1    0.0 0.3
"""


def test_krumsiek11_fake(tmp_path):
    write(tmp_path / "krumsiek11_boolean_model.txt", FAKE_MODEL)
    write(tmp_path / "krumsiek11_simulated_data.txt", FAKE_DATA)
    ds = load_krumsiek11(tmp_path)
    assert ds.features == ["A", "B", "C.1", "D"] and ds.X.shape == (5, 4)
    assert edges(ds) == {
        ("B", "A"): -1,
        ("C.1", "A"): -1,
        ("D", "A"): -1,
        ("A", "B"): 1,
        ("D", "B"): -1,
        ("B", "C.1"): 1,
    }
    assert ds.meta["self_loop_features"] == ["A", "B"]
    assert ds.meta["realization"].tolist() == [0, 0, 0, 1, 1]
    assert ds.meta["coupling_sign_agreement"] == "6/6"
    assert ds.meta["simulation_settings"]["nrRealizations"] == "2"


def test_boolean_rule_parser():
    assert parse_boolean_rule("(Cebpa or Pu.1) and not (Gata1 or Gata2)") == {
        "Cebpa": 1,
        "Pu.1": 1,
        "Gata1": -1,
        "Gata2": -1,
    }
    assert parse_boolean_rule("not (a and not b)") == {"a": -1, "b": 1}
    assert parse_boolean_rule("a and not a") == {"a": 0}  # both signs: unknown
    assert parse_boolean_rule("") == {}
    for bad in ("a and", "(a or b", "a b", "a and or b", "a $ b"):
        with pytest.raises(CMCVAEInputError):
            parse_boolean_rule(bad)


def test_krumsiek11_errors(tmp_path):
    with pytest.raises(CMCVAEInputError, match="krumsiek11_simulated_data.txt.*scanpy"):
        load_krumsiek11(tmp_path)
    write(tmp_path / "krumsiek11_simulated_data.txt", FAKE_DATA)
    write(tmp_path / "krumsiek11_boolean_model.txt", "A = B and not Z\n")
    with pytest.raises(CMCVAEInputError, match=r"\['Z'\]"):
        load_krumsiek11(tmp_path)
    write(tmp_path / "krumsiek11_simulated_data.txt", "# it A B\n 0 0.1\n")
    with pytest.raises(CMCVAEInputError, match="2 values for 3 header columns"):
        load_krumsiek11(tmp_path)


# ---------------------------------------------------------------------------------------------
# Sachs
# ---------------------------------------------------------------------------------------------


def fake_sachs(root: Path) -> Path:
    d = root / "benchpress_9_conditions"
    write(d / "1_cd3cd28_n4.csv", "Akt,Erk,Mek\n17,6.61,13.2\n22.1,16.1,22.3\n1,1,1\n")
    write(d / "2_cd3cd28icam2_n3.csv", "Erk,Akt,Mek\n3,4,5\n6,7,8\n")  # other column order
    write(d / "3_cd3cd28_aktinhib_n2.csv", "Akt,Erk,Mek\n9,9,9\n")
    write(root / "sachs_consensus_adjmat_benchpress.csv", "Akt,Erk,Mek\n0,0,0\n1,0,0\n0,1,0\n")
    write(
        root / "conditions_interventions.tsv",
        "file\tcondition\treagent\tintervention_type\ttarget_node\tnotes\n"
        "3_cd3cd28_aktinhib_n2.csv\tx\tAKT inhibitor\tinhibition (activity)\tAkt\t\n",
    )
    return root


def test_sachs_fake(tmp_path):
    fake_sachs(tmp_path)
    ds = load_sachs(tmp_path)
    assert ds.name == "sachs" and ds.modality == "protein" and ds.X.shape == (3, 3)
    assert ds.features == ["Akt", "Erk", "Mek"] and ds.X[0].tolist() == [17, 6.61, 13.2]
    assert edges(ds) == {("Erk", "Akt"): 0, ("Mek", "Erk"): 0}  # row = parent
    obs = load_sachs(tmp_path, "observational", log=True)
    assert obs.X.shape == (5, 3) and obs.meta["condition"].tolist() == ["1"] * 3 + ["2"] * 2
    assert obs.X[3].tolist() == pytest.approx(np.log1p([4, 3, 5]).tolist())  # columns realigned
    mixed = load_sachs(tmp_path, [3, "1"])
    assert mixed.meta["condition"].tolist() == ["3", "1", "1", "1"]
    assert mixed.meta["interventions"] == {
        "3": {"reagent": "AKT inhibitor", "type": "inhibition (activity)", "target_node": "Akt"}
    }


def test_sachs_errors(tmp_path):
    with pytest.raises(CMCVAEInputError, match="benchpress_9_conditions.*benchpress"):
        load_sachs(tmp_path)
    fake_sachs(tmp_path)
    with pytest.raises(CMCVAEInputError, match="'observational'"):
        load_sachs(tmp_path, "10")
    with pytest.raises(CMCVAEInputError, match=r"condition 4: no file matching"):
        load_sachs(tmp_path, "all")
    write(tmp_path / "benchpress_9_conditions/2_cd3cd28icam2_n3.csv", "Akt,Erk,Raf\n1,2,3\n")
    with pytest.raises(CMCVAEInputError, match="differ"):
        load_sachs(tmp_path, "observational")
    (tmp_path / "sachs_consensus_adjmat_benchpress.csv").unlink()
    with pytest.raises(CMCVAEInputError, match="sachs_consensus_adjmat_benchpress.csv"):
        load_sachs(tmp_path)


def test_sachs_published_figures_are_consistent():
    assert SACHS_EMPTY_GRAPH_SHD == 17
    for method, row in SACHS_PUBLISHED.items():
        assert row["source"] and "853" in row["data"] and "17 edges" in row["truth"], method
        missing, extra = 17 - row["n_correct"], row["n_edges"] - row["n_correct"]
        # SHD counts a reversed edge once: it lies between max(missing, extra) and their sum
        assert max(missing, extra) <= row["shd"] <= missing + extra, method


# ---------------------------------------------------------------------------------------------
# real files (../shared/data); skipped when absent
# ---------------------------------------------------------------------------------------------


def need(folder: str) -> Path:
    path = DATA / folder
    if not path.is_dir():
        pytest.skip(f"{path} not available")
    return path


# genes, cells, rows of refNetwork.csv (PROVENANCE), edges after dropping self-loops/duplicates
BEELINE_SIZES = {
    "GSD": (19, 86, 76),
    "HSC": (11, 30, 26),
    "VSC": (8, 15, 15),
    "mCAD": (5, 14, 13),
    "dyn-LI": (7, 8, 7),
    "dyn-LL": (18, 19, 18),
    "dyn-CY": (6, 6, 6),
    "dyn-BF": (7, 12, 10),
    "dyn-BFC": (10, 18, 15),
    "dyn-TF": (8, 20, 17),
}


@pytest.mark.parametrize("name", BEELINE_NAMES)
def test_real_beeline(name):
    ds = load_beeline(need("beeline_boolode"), name)
    genes, raw, kept = BEELINE_SIZES[name]
    assert ds.X.shape == (2000, genes) and ds.meta["n_edges_raw"] == raw and ds.n_edges == kept
    assert raw - kept == ds.meta["self_loops_dropped"] + ds.meta["duplicates_dropped"]
    assert ds.meta["duplicates_with_conflicting_sign"] == [] and ds.meta["unknown_dropped"] == []
    assert ds.meta["pseudotime"].shape[0] == 2000


def test_real_beeline_gsd_duplicates():
    ds = load_beeline(need("beeline_boolode"), "GSD")
    assert ds.meta["self_loops_dropped"] == 3 and ds.meta["duplicates_dropped"] == 7
    assert (ds.truth["weight"] == 1).sum() == 49 and (ds.truth["weight"] == -1).sum() == 27


def test_real_sergio_ds4():
    root = need("sergio")
    ds = load_sergio(root, "DS4", "T")
    assert ds.X.shape == (900, 100) and ds.features[:2] == ["G0", "G1"] and ds.n_edges == 137
    assert (ds.truth["weight"] == -1).sum() == 69 and (ds.truth["weight"] == 1).sum() == 68
    assert np.bincount(ds.meta["cell_type"]).tolist() == [300, 300, 300]
    assert (ds.meta["header_labels"].astype(int) == ds.meta["cell_type"]).all()
    s, u = load_sergio(root, "DS4", "S"), load_sergio(root, "DS4", "U")
    assert np.allclose(s.X + u.X, ds.X, atol=1e-6)  # total = spliced + unspliced
    with pytest.raises(CMCVAEInputError, match="sergio-scsim"):
        load_sergio(root, "DS3")


@pytest.mark.parametrize("network", DREAM4_NETWORKS)
def test_real_dream4(network):
    ds = load_dream4(need("dream4"), network)
    assert ds.X.shape == (100, 100) and ds.features[0] == "G1" and ds.features[-1] == "G100"
    assert ds.n_edges == DREAM4_EDGE_COUNTS[network]
    cdt = pd.read_csv(
        DATA
        / "dream4"
        / "cdt_goldstandards"
        / f"goldstandard_insilico100_multifactorial_{network}.csv"
    )
    assert set(edges(ds)) == set(zip(cdt["Source"], cdt["Target"], strict=True))


def test_real_krumsiek11():
    ds = load_krumsiek11(need("krumsiek11_scanpy"))
    assert ds.X.shape == (640, 11) and ds.features[:3] == ["Gata2", "Gata1", "Fog1"]
    assert ds.meta["n_edges_raw"] == 30 and ds.n_edges == 26
    assert ds.meta["self_loop_features"] == ["Cebpa", "Gata1", "Gata2", "Pu.1"]
    assert ds.meta["coupling_sign_agreement"] == "26/26"
    e = edges(ds)
    assert e[("Pu.1", "Gata1")] == -1 and e[("Gata1", "Fog1")] == 1 and e[("Gfi1", "EgrNab")] == -1
    assert np.bincount(ds.meta["realization"]).tolist() == [160] * 4


def test_real_sachs():
    root = need("sachs2005")
    ds = load_sachs(root)
    assert ds.X.shape == (853, 11) and ds.n_edges == 17 and ds.modality == "protein"
    assert set(edges(ds)) >= {("Raf", "Mek"), ("Mek", "Erk"), ("Plcg", "PIP2"), ("PKC", "PKA")}
    full = load_sachs(root, "all")
    assert full.X.shape == (7466, 11)
    assert list(full.meta["n_cells_per_condition"].values()) == [
        853,
        902,
        911,
        723,
        810,
        799,
        848,
        913,
        707,
    ]
    assert load_sachs(root, "observational").X.shape == (1755, 11)
    cdt = pd.read_csv(root / "cdt_observational" / "cyto_full_data.csv").rename(
        columns={
            "praf": "Raf",
            "pmek": "Mek",
            "plcg": "Plcg",
            "p44/42": "Erk",
            "pakts473": "Akt",
            "pjnk": "Jnk",
        }
    )
    assert np.allclose(cdt[full.features].to_numpy(), full.X)  # cdt's pooled file, same order
