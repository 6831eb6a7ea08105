"""Priors: reading decoupler/OmniPath layouts, preparing for a model, the real CollecTRI/OmniPath
files, and the ``cmcvae priors`` sub-app on local input (fetching: tests/datasets/test_priors.py)."""

import gzip
import logging

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cmcvae._errors import CMCVAEInputError
from cmcvae.cli._priors import priors_app
from cmcvae.pp import (
    COLLECTRI_COMPLEXES,
    expand_complexes,
    filter_network,
    prepare_grn_prior,
    prepare_ppi_prior,
    read_gene_list,
    read_network,
    split_network,
    standardise_network,
)
from tests._helpers import SHARED_DATA

SHARED = SHARED_DATA
COLLECTRI = SHARED / "collectri_dorothea" / "collectri_human.csv"
OMNIPATH = SHARED / "omnipath_signaling" / "omnipath_signed_directed_sif.tsv"
HVG = SHARED / "citeseq_10x_pbmc10k_totalvi_repro" / "pbmc10k_4000hvg_14adt_paired.h5ad"
needs_collectri = pytest.mark.skipif(not COLLECTRI.exists(), reason="shared CollecTRI file absent")
needs_omnipath = pytest.mark.skipif(not OMNIPATH.exists(), reason="shared OmniPath file absent")

SMALL = pd.DataFrame({"source": ["TF1", "TF1", "TF2"], "target": ["G1", "G2", "G1"],
                      "weight": [1.0, -1.0, 1.0]})


# ------------------------------------------------------------------------------ reading
def test_read_network_decoupler_layout_unchanged(tmp_path):
    p = tmp_path / "net.csv"
    p.write_text("source,target,weight,PMID\nA,B,1,123\nB,C,-1,\nC,D,,9\n")
    net = read_network(p)
    assert list(net.columns) == ["source", "target", "weight"]
    assert net["weight"].tolist() == [1.0, -1.0, 0.0]
    p2 = tmp_path / "mor.tsv"
    p2.write_text("source\ttarget\tmor\nA\tB\t-1\n")
    assert read_network(p2)["weight"].tolist() == [-1.0]
    p3 = tmp_path / "noweight.csv"
    p3.write_text("source,target\nA,B\n")
    assert read_network(p3)["weight"].tolist() == [1.0]


def test_read_network_errors_name_problem_and_fix(tmp_path):
    with pytest.raises(CMCVAEInputError, match="does not exist"):
        read_network(tmp_path / "missing.csv", "GRN prior")
    p = tmp_path / "bad.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(CMCVAEInputError, match="source,target"):
        read_network(p, "GRN prior")


def test_read_network_sif_and_sniffed_separator(tmp_path):
    p = tmp_path / "net.csv"  # tab-separated despite the .csv name
    p.write_text("source\tinteraction\ttarget\nA\t-1\tB\nC\t1\tD\n")
    net = read_network(p)
    assert net.values.tolist() == [["A", "B", -1.0], ["C", "D", 1.0]]


def test_read_network_omnipath_webservice_layout(tmp_path):
    table = pd.DataFrame({
        "source": ["P1", "P2", "P3", "P4", "P5"],
        "target": ["Q1", "Q2", "Q3", "Q4", "Q5"],
        "source_genesymbol": ["EGFR", "PTEN", "TP53", "A", "CDK1_CCNB1"],
        "target_genesymbol": ["GRB2", "AKT1", "MDM2", "B", "RB1"],
        "is_directed": [1, 1, 1, 0, 1],
        "is_stimulation": [1, 0, 1, 1, 0],
        "is_inhibition": [0, 1, 1, 0, 1],
        "consensus_stimulation": [1, 0, 1, 1, 0],
        "consensus_inhibition": [0, 1, 1, 0, 1],
    })
    p = tmp_path / "op.tsv.gz"
    table.to_csv(p, sep="\t", index=False)
    net = read_network(p)
    assert net["source"].tolist() == ["EGFR", "PTEN", "TP53", "CDK1_CCNB1"]  # undirected row dropped
    assert net["weight"].tolist() == [1.0, -1.0, 0.0, -1.0]  # both signs -> 0 (unknown)


def test_filter_and_split_network_unchanged():
    net = pd.DataFrame({"source": ["a", "a", "b", "c", "a"], "target": ["b", "b", "b", "a", "c"],
                        "weight": [1.0, 1.0, 1.0, -1.0, 1.0]})
    kept = filter_network(net, ["a", "b", "c"])
    assert kept[["source", "target"]].values.tolist() == [["a", "b"], ["c", "a"], ["a", "c"]]
    with pytest.raises(CMCVAEInputError, match="no edge between the model's features"):
        filter_network(net, ["x", "y"])
    train, held = split_network(kept, 0.34, seed=0)
    assert len(held) == 1 and len(train) == 2
    pd.testing.assert_frame_equal(split_network(kept, 0.34, seed=0)[1], held)


# ------------------------------------------------------------------------------ preparing
def test_prepare_grn_prior_expands_complexes_and_cleans():
    net = pd.DataFrame({
        "source": ["AP1", "JUN", "NFKB", "TF1", "TF1", "TF1", "G1", "TF2", "TF3", "G5"],
        "target": ["G1", "G1", "G2", "G3", "G3", "G3", "TF1", "TF2", "G5", "TF3"],
        "weight": [1, -1, 1, 1, -1, -1, 1, 1, 1, 1],
    })
    genes = ["JUN", "FOS", "RELA", "G1", "G2", "G3", "TF1", "TF2", "TF3", "G5"]
    kept, rep = prepare_grn_prior(net, genes)
    edges = {(s, t): w for s, t, w in kept.values.tolist()}
    assert edges[("JUN", "G1")] == -1  # tie (JUN's own -1 vs AP1's +1): the first (own) edge wins
    assert edges[("FOS", "G1")] == 1 and edges[("RELA", "G2")] == 1
    assert edges[("TF1", "G3")] == -1  # majority sign
    assert ("TF2", "TF2") not in edges  # self-loop
    assert ("TF3", "G5") not in edges and ("G5", "TF3") not in edges  # reciprocal pair
    assert rep["complexes"] == {"AP1": 1, "NFKB": 1}
    assert rep["n_after_expansion"] == 10 - 2 + len(COLLECTRI_COMPLEXES["AP1"]) + len(COLLECTRI_COMPLEXES["NFKB"])
    assert rep["n_self_loops"] == 1 and rep["n_sign_conflicts"] == 2 and rep["n_reciprocal_pairs"] == 1
    assert rep["n_kept"] == len(kept) and rep["n_genes"] == len(genes)
    assert rep["message"].startswith(f"{len(kept)} GRN edges among {len(genes)} genes")
    kept2, _ = prepare_grn_prior(net, genes, drop_reciprocal=False)
    assert len(kept2) == len(kept) + 2
    with pytest.raises(CMCVAEInputError, match="no edge between the model's features"):
        prepare_grn_prior(net, ["X", "Y"])


def test_expand_complexes_with_separator():
    net = pd.DataFrame({"source": ["CDK1_CCNB1", "A"], "target": ["RB1", "B"], "weight": [-1.0, 1.0]})
    out, found = expand_complexes(net, sep="_")
    assert found == {"CDK1_CCNB1": 1}
    assert out.values.tolist() == [["A", "B", 1.0], ["CDK1", "RB1", -1.0], ["CCNB1", "RB1", -1.0]]


def test_prepare_ppi_prior_maps_genes_to_antibodies():
    net = pd.DataFrame({
        "source": ["FCGR3A", "FCGR3B", "SYK", "FCGR3A", "CD3E_CD3D", "LCK", "CD4"],
        "target": ["SYK", "SYK", "FCGR3A", "FCGR3B", "ZAP70", "CD3D", "LCK"],
        "weight": [1, 1, -1, 1, 1, 1, 1],
    })
    pmap = pd.DataFrame({"protein": ["CD16", "CD16", "SYK_ab", "CD3", "CD3", "ZAP70_ab", "CD4", "LCK"],
                         "gene": ["FCGR3A", "FCGR3B", "SYK", "CD3E", "CD3D", "ZAP70", "CD4", "LCK"]})
    panel = ["CD16", "SYK_ab", "CD3", "ZAP70_ab", "CD4", "LCK", "CD8"]
    kept, rep = prepare_ppi_prior(net, pmap, panel)
    edges = {(s, t): w for s, t, w in kept.values.tolist()}
    # CD16 -> SYK twice (FCGR3A, FCGR3B) and SYK -> CD16 once: reciprocal, dropped
    assert ("CD16", "SYK_ab") not in edges and ("SYK_ab", "CD16") not in edges
    assert ("CD16", "CD16") not in edges  # FCGR3A -> FCGR3B is an antibody self-loop
    assert edges[("CD3", "ZAP70_ab")] == 1  # the CD3E_CD3D complex, expanded
    assert edges[("LCK", "CD3")] == 1 and edges[("CD4", "LCK")] == 1
    assert rep["unmapped_panel"] == ["CD8"] and rep["n_panel"] == 7
    assert rep["n_self_loops"] == 1 and rep["n_reciprocal_pairs"] == 1 and rep["complexes"] == 1
    with pytest.raises(CMCVAEInputError, match="PPI prior has no edge"):
        prepare_ppi_prior(net, pmap, ["CD8"])
    # without a map each antibody is its own gene symbol
    kept_id, _ = prepare_ppi_prior(net, None, ["LCK", "CD4", "CD3D"])
    assert sorted(map(tuple, kept_id[["source", "target"]].values.tolist())) == [("CD4", "LCK"), ("LCK", "CD3D")]


def test_read_gene_list_text_and_h5mu(tmp_path, tiny_mdata):
    p = tmp_path / "genes.txt"
    p.write_text("gene\n# comment\nCD3E\n\nFOS, extra\nCD3E\n")
    assert read_gene_list(p) == ["CD3E", "FOS"]
    h5 = tmp_path / "d.h5mu"
    tiny_mdata.write(h5)
    assert read_gene_list(h5) == list(tiny_mdata.mod["rna"].var_names)
    only_prot = md.MuData({"prot": ad.AnnData(np.ones((2, 2), dtype=np.float32))})
    only_prot.write(tmp_path / "p.h5mu")
    with pytest.raises(CMCVAEInputError, match="no 'rna' modality"):
        read_gene_list(tmp_path / "p.h5mu")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(CMCVAEInputError, match="empty"):
        read_gene_list(tmp_path / "empty.txt")


# ------------------------------------------------------------------------------ real files
def _hvg_genes(n):
    import h5py

    with h5py.File(HVG, "r") as fh:
        return list(ad.io.read_elem(fh["var"]).index)[:n]


@needs_collectri
def test_real_collectri_file():
    net = read_network(COLLECTRI)
    assert len(net) == 43_178 and net["source"].nunique() == 1_186
    assert net["weight"].value_counts().to_dict() == {1.0: 37_326, -1.0: 5_852}
    if HVG.exists():
        genes = _hvg_genes(2000)
    else:  # a fixed, plausible gene set from the file itself
        genes = sorted(set(net["target"]))[:2000]
    kept, rep = prepare_grn_prior(net, genes)
    assert rep["complexes"] == {"AP1": 596, "NFKB": 799}
    assert rep["n_after_expansion"] == 43_178 - 596 - 799 + 596 * 7 + 799 * 5
    assert 300 < rep["n_kept"] < 5_000 and rep["n_tfs"] > 20
    assert set(kept["source"]) | set(kept["target"]) <= set(genes)
    assert not (kept["source"] == kept["target"]).any()
    assert not kept.duplicated(["source", "target"]).any()
    assert not set(kept["source"]) & {"AP1", "NFKB"}
    if HVG.exists():
        assert rep["n_kept"] == 1_733  # pinned: first 2,000 of the pbmc10k 4,000-HVG list


@needs_omnipath
def test_real_omnipath_file_on_a_panel():
    net = read_network(OMNIPATH)
    assert len(net) == 19_807
    assert net["weight"].value_counts().to_dict() == {1.0: 14_350, -1.0: 5_457}
    pmap = pd.DataFrame(
        [("CD4", "CD4"), ("CD45RA", "PTPRC"), ("CD45RO", "PTPRC"), ("CD16", "FCGR3A"),
         ("CD16", "FCGR3B"), ("CD274", "CD274"), ("CD279", "PDCD1"), ("CD140a", "PDGFRA"),
         ("CD140b", "PDGFRB"), ("CD3", "CD3E"), ("CD3", "CD3D"), ("CD3", "CD3G")],
        columns=["protein", "gene"])
    kept, rep = prepare_ppi_prior(net, pmap, pmap["protein"].unique())
    edges = set(zip(kept["source"], kept["target"], strict=True))
    assert {("CD45RA", "CD4"), ("CD45RO", "CD4"), ("CD274", "CD279"), ("CD140a", "CD140b")} <= edges
    assert rep["complexes"] == 323 and rep["n_input"] == 19_807
    assert set(kept["source"]) | set(kept["target"]) <= set(pmap["protein"])


# ------------------------------------------------------------------------------ CLI
runner = CliRunner()
ENV = {"COLUMNS": "200"}


def test_cli_omnipath_local_input_on_panel(tmp_path):
    sif = tmp_path / "sif.tsv"
    sif.write_text("source\tinteraction\ttarget\nPTPRC\t-1\tLCK\nLCK\t1\tZAP70\nFOO\t1\tBAR\n")
    pmap = tmp_path / "map.csv"
    pmap.write_text("protein,gene\nCD45,PTPRC\nLCK_ab,LCK\n")
    out = tmp_path / "ppi.csv"
    res = runner.invoke(priors_app, ["omnipath", "--out", str(out), "--input", str(sif),
                                     "--protein-map", str(pmap)], env=ENV)
    assert res.exit_code == 0, res.output
    assert read_network(out).values.tolist() == [["CD45", "LCK_ab", -1.0]]
    assert "1 PPI edges among 2 of 2 panel proteins" in res.output


# ------------------------------------------------------------------------------ refused, not altered
@pytest.mark.parametrize("bad", ["activating", "NaN", "nan", "inf", "-Infinity", "1,5"])
def test_a_weight_that_is_not_a_number_is_refused_naming_its_line(tmp_path, bad):
    p = tmp_path / "net.tsv"
    p.write_text(f"source\ttarget\tweight\nA\tB\t1\nB\tC\t{bad}\nC\tD\t\n")
    with pytest.raises(CMCVAEInputError, match=rf"GRN prior file .* 1 weight\(s\) that are not finite numbers "
                                               rf"\(column 'weight': line 3 \({bad!r}\)\)"):
        read_network(p, "GRN prior")
    table = pd.DataFrame({"source": ["A", "B"], "target": ["B", "C"], "weight": [1.0, float("nan")]})
    assert read_network_table(table)["weight"].tolist() == [1.0, 0.0]  # a missing value: unknown sign
    with pytest.raises(CMCVAEInputError, match=r"row 1 \('x'\)"):
        read_network_table(table.assign(weight=["1", "x"]))


def read_network_table(table: pd.DataFrame) -> pd.DataFrame:
    return standardise_network(table, "GRN prior", "table")


def test_empty_and_header_only_prior_files_are_refused(tmp_path):
    empty, header = tmp_path / "empty.csv", tmp_path / "header.csv.gz"
    empty.write_bytes(b"")
    with gzip.open(header, "wt") as fh:
        fh.write("source,target,weight\n")
    with pytest.raises(CMCVAEInputError, match=r"GRN prior file .* is empty \(no header, no edges\)"):
        read_network(empty, "GRN prior")
    with pytest.raises(CMCVAEInputError, match=r"has no edges \(a header line source, target, weight"):
        read_network(header, "GRN prior")
    gz = tmp_path / "ok.csv.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("source,target,weight\nA,B,-1\n")
    assert read_network(gz)["weight"].tolist() == [-1.0]


def test_duplicate_edges_opposite_signs_refused_same_sign_merged_with_a_notice(caplog):
    genes = ["TF1", "TF2", "G1", "G2"]
    conflict = pd.DataFrame({"source": ["TF1", "TF2", "TF1", "TF1"], "target": ["G1", "G1", "G2", "G1"],
                             "weight": [1.0, 1.0, 1.0, -1.0]})
    with pytest.raises(CMCVAEInputError, match=r"lists 1 edge\(s\) both as activating and as repressing "
                                               r"\(e\.g\. TF1→G1\)"):
        filter_network(conflict, genes, what="GRN prior")
    outside = conflict.assign(source=["TF1", "TF2", "X", "X"], target=["G1", "G1", "G2", "G2"])
    assert len(filter_network(outside, genes)) == 2  # a conflict among edges not used is not an error
    repeated = conflict.assign(weight=[1.0, 1.0, 1.0, 2.0])
    with caplog.at_level(logging.WARNING, logger="cmcvae"):
        kept = filter_network(repeated, genes, what="GRN prior")
    assert kept.values.tolist() == [["TF1", "G1", 1.0], ["TF2", "G1", 1.0], ["TF1", "G2", 1.0]]
    assert "lists 1 edge(s) more than once" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cmcvae"):
        filter_network(SMALL, ["TF1", "TF2", "G1", "G2"])
    assert caplog.text == ""
