"""End to end on real CITE-seq files from ../shared/data (skipped when they are absent)."""

import json

import pandas as pd
import pytest

from tests._helpers import SHARED_DATA, run_cli_ok

DATA = SHARED_DATA
PBMC10K = DATA / "citeseq_10x_pbmc10k_totalvi_repro" / "pbmc10k_4000hvg_14adt_paired.h5ad"
SCVI = DATA / "citeseq_10x_pbmc_scvi_testsubsets"
COLLECTRI = DATA / "collectri_dorothea" / "collectri_human.csv"
pytestmark = pytest.mark.skipif(not (PBMC10K.exists() and COLLECTRI.exists()), reason="shared data absent")


def cli(args, monkeypatch, capsys):
    return run_cli_ok(args, monkeypatch, capsys)


def test_pbmc10k_prepare_and_fit(tmp_path, monkeypatch, capsys):
    atlas = tmp_path / "pbmc10k.h5mu"
    cli(["prepare", str(PBMC10K), "--out", str(atlas), "--batch-key", "none", "--grn-prior", str(COLLECTRI)],
        monkeypatch, capsys)
    report = json.loads((tmp_path / "pbmc10k.report.json").read_text())
    assert report["n_proteins"] == 14
    assert report["protein_map"]["mapped_antibodies"] >= 12  # antibodies mapped to genes in the data
    assert report["grn_prior"]["n_kept"] > 1000
    assert report["n_genes"] >= 2000
    run = tmp_path / "run"
    cli(["fit", str(atlas), "--out", str(run), "--grn-prior", str(tmp_path / "pbmc10k.grn.csv"),
         "--max-epochs", "1", "--arch", "poster"], monkeypatch, capsys)  # map from the atlas
    # (poster, one epoch: this tests the data path; a 2,000-gene SEM fit takes minutes on CPU)
    pairs = pd.read_csv(run / "matched_pairs.csv")
    assert pairs["protein"].nunique() >= 12
    assert json.loads((run / "metrics.json").read_text())["is_dag"]


@pytest.mark.skipif(not SCVI.exists(), reason="shared data absent")
def test_two_batch_panel_intersection(tmp_path, monkeypatch, capsys):
    out = tmp_path / "two.h5mu"
    cli(["prepare", str(SCVI / "pbmc_10k_protein_v3_200cells.h5ad"), str(SCVI / "pbmc_5k_protein_v3_200cells.h5ad"),
         "--out", str(out), "--batch-key", "none", "--n-top-genes", "500"], monkeypatch, capsys)
    report = json.loads((tmp_path / "two.report.json").read_text())
    assert report["cells"] > 300 and report["n_donors"] == 2
    assert 10 <= report["n_proteins"] <= 14  # the 10k panel (14) ∩ the 5k panel (29)
    assert sum(len(v) for v in report["proteins"]["dropped"].values()) >= 15


FRANGIEH_MAP = DATA / "perturb_cite_seq_frangieh2021" / "frangieh2021_adt_to_rna_genes.tsv"


@pytest.mark.skipif(not FRANGIEH_MAP.exists(), reason="shared data absent")
def test_frangieh_adt_table_reads_as_a_protein_map():
    from cmcvae.pp import read_protein_map

    pmap = read_protein_map(FRANGIEH_MAP)
    assert pmap["protein"].nunique() == 20
    assert set(pmap.loc[pmap.protein == "HLA_A", "gene"]) == {"HLA-A", "HLA-B", "HLA-C"}
    assert pmap.loc[pmap.protein == "CD279", "gene"].tolist() == ["PDCD1"]
