"""The antibody → gene map: canonical names, the packaged table, map_panel, real panels."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.pp import (
    MAP_COLUMNS,
    PANEL_COLUMNS,
    STATUSES,
    canonical_antigen,
    default_protein_map,
    isotype_controls,
    map_panel,
    matched_pairs,
    read_protein_map,
)
from cmcvae.pp._antigen import _key
from tests._helpers import SHARED_DATA

SHARED = SHARED_DATA


def _genes(table: pd.DataFrame, protein: str, status: str = "mapped") -> list[str]:
    sel = table[(table["protein"] == protein) & (table["status"] == status)]
    return sorted(sel["gene"])


# ----------------------------------------------------------------------------- canonical names


@pytest.mark.parametrize(
    "name",
    ["CD3-1", "CD3_TotalSeqB", "CD3", "ADT-CD3", "CD3-TotalSeq-C", "anti-human CD3", "CD3.1",
     "Hu.CD3", "CD3_ADT", "CD3 (UCHT1)", "cd3", "CD3_PROT", "CD3 _PROT", "CD3.2", "CD3_TSB",
     "anti-human/mouse CD3", "CD3_UCHT1", "CD3e"],
)
def test_canonical_cd3_variants(name):
    assert canonical_antigen(name) == "CD3"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CD45RA", "CD45RA"), ("CD45RA_HI100", "CD45RA"), ("CD45RA_TotalSeqB", "CD45RA"),
        ("cd45ra", "CD45RA"), ("CD45 RA", "CD45RA"), ("CD45RO", "CD45RO"),
        ("HLA-DR", "HLA-DR"), ("HLA.DR", "HLA-DR"), ("HLA_DR", "HLA-DR"), ("MHCII (HLA-DR)", "HLA-DR"),
        ("HLA-A,B,C", "HLA-ABC"), ("HLA-A2", "HLA-A2"), ("HLA_A", "HLA-A"),
        ("TCR-V-alpha-7.2", "TCR Va7.2"), ("TCR Vα7.2", "TCR Va7.2"), ("TCRVa7.2", "TCR Va7.2"),
        ("TCR Va7-2", "TCR Va7.2"),
        ("CD279-PD-1", "CD279"), ("PD-1", "CD279"), ("PD-1_TotalSeqB", "CD279"), ("PD1 (CD279)", "CD279"),
        ("CD4-RPA-T4", "CD4"), ("CD8a_TotalSeqB", "CD8"), ("CD31", "CD31"), ("PECAM (CD31)", "CD31"),
        ("B220 (CD45R)", "CD45R"), ("B7-H1 (PD-L1)", "CD274"), ("IL7Ralpha (CD127)", "CD127"),
        ("CD127_IL7Ra", "CD127"), ("KLRG1 (MAFA)", "KLRG1"), ("4-1BB", "CD137"), ("4.1BB", "CD137"),
        ("CD56 (NCAM) Recombinant", "CD56"), ("CD11a_CD18 (LFA-1)", "CD11a/CD18"),
        ("CD123/IL-3R", "CD123"), ("Ig_light_chain_k", "Ig kappa"), ("TIM-3", "CD366"),
        ("IgG", "IgG"), ("IgG Fc", "IgG"), ("IgM", "IgM"), ("Protein C receptor", "CD201"),
    ],
)
def test_canonical_names(name, expected):
    assert canonical_antigen(name) == expected


def test_canonical_never_cuts_to_another_antigen():
    # "CD3-1" is a second CD3 antibody, never CD31; "CD3-CD28" is not CD3.
    assert canonical_antigen("CD3-1") != "CD31"
    assert canonical_antigen("CD3-CD28") == "CD3-CD28"
    assert canonical_antigen("TCR Vb5.3") == "TCR Vb5.3"  # unknown, left as is
    assert canonical_antigen("FOO_TotalSeqB") == "FOO"
    assert canonical_antigen("Bar (clone 12)") == "Bar"


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Mouse IgG1, k Isotype Ctrl", "Mouse IgG1 kappa"), ("IgG1_control_TotalSeqB", "Mouse IgG1 kappa"),
        ("IgG1", "Mouse IgG1 kappa"), ("MouseIgG1kappaisotype_PROT", "Mouse IgG1 kappa"),
        ("Mouse IgG2bkIsotype_PROT", "Mouse IgG2b kappa"), ("RatIgG2bkIsotype_PROT", "Rat IgG2b kappa"),
        ("IgG1_Rat_l", "Rat IgG1 lambda"), ("Rat IgG1, lambda Isotype Control", "Rat IgG1 lambda"),
        ("IsoIgG2A", "Mouse IgG2a kappa"), ("control_mIgG1_2", "Mouse IgG1 kappa"),
        ("Arm.ham.IgG.iso", "Armenian Hamster IgG"), ("IgG_Hamster", "Armenian Hamster IgG"),
        ("Mouse.IgG2a.iso", "Mouse IgG2a kappa"), ("IgG2c_Rat_k", "Rat IgG2c kappa"),
    ],
)
def test_canonical_isotypes(name, label):
    assert canonical_antigen(name) == label


@pytest.mark.parametrize("bad", ["", "   ", None, 3])
def test_canonical_rejects_non_names(bad):
    with pytest.raises(CMCVAEInputError, match="non-empty string"):
        canonical_antigen(bad)


def test_key_keeps_digit_separators():
    assert _key("CD3-1") == _key("CD3.1") == "cd3.1" != _key("CD31")
    assert _key("TCR Vα7.2") == _key("TCR-V-alpha-7-2") == _key("TCRVa7.2")
    assert _key("HLA-A,B,C") == _key("HLA.A.B.C") == _key("HLA_ABC")


# ----------------------------------------------------------------------------- packaged table


def test_default_map_shape_and_content():
    m = default_protein_map()
    assert tuple(m.columns) == MAP_COLUMNS
    assert m["isotype_control"].dtype == bool
    assert m["antigen"].nunique() >= 400
    assert not m.duplicated(["antigen", "gene"]).any()
    iso = m[m["isotype_control"]]
    assert len(iso) >= 10 and (iso["gene"] == "").all()
    genes = m.loc[~m["isotype_control"] & (m["gene"] != ""), "gene"]
    assert genes.map(lambda g: bool(re.fullmatch(r"[A-Z0-9][A-Z0-9\-.]*", g))).all()
    no_gene = set(m.loc[~m["isotype_control"] & (m["gene"] == ""), "antigen"])
    assert no_gene == {"Annexin V", "Anti-PE", "Anti-FITC", "Anti-APC", "Anti-biotin"}
    # a fresh copy each call
    m.loc[0, "gene"] = "XXX"
    assert default_protein_map().loc[0, "gene"] != "XXX"


def test_default_map_aliases_do_not_collide():
    m = default_protein_map().drop_duplicates("antigen")
    owner: dict[str, str] = {}
    for antigen, aliases in zip(m["antigen"], m["aliases"], strict=True):
        for name in [antigen, *filter(None, aliases.split(";"))]:
            assert owner.setdefault(_key(name), antigen) == antigen, (name, antigen, owner[_key(name)])


@pytest.mark.parametrize(
    ("antigen", "genes"),
    [
        ("CD16", ["FCGR3A", "FCGR3B"]), ("HLA-DR", ["HLA-DRA", "HLA-DRB1"]),
        ("HLA-ABC", ["HLA-A", "HLA-B", "HLA-C"]), ("HLA-A2", ["HLA-A"]), ("CD3", ["CD3D", "CD3E", "CD3G"]),
        ("CD8", ["CD8A"]), ("CD8b", ["CD8B"]), ("CD45RA", ["PTPRC"]), ("CD45RO", ["PTPRC"]),
        ("CD56", ["NCAM1"]), ("CD11b", ["ITGAM"]), ("CD49f", ["ITGA6"]), ("CD29", ["ITGB1"]),
        ("CD103", ["ITGAE"]), ("CD279", ["PDCD1"]), ("CD366", ["HAVCR2"]), ("CD223", ["LAG3"]),
        ("CD152", ["CTLA4"]), ("CD25", ["IL2RA"]), ("CD127", ["IL7R"]), ("CD197", ["CCR7"]),
        ("CD183", ["CXCR3"]), ("CD122", ["IL2RB"]), ("TCR Va7.2", ["TRAV1-2"]),
        ("TCRgd", ["TRDC", "TRGC1", "TRGC2"]), ("IgD", ["IGHD"]), ("IgM", ["IGHM"]),
        ("Ig kappa", ["IGKC"]), ("CD11a/CD18", ["ITGAL", "ITGB2"]),
    ],
)
def test_default_map_entries(antigen, genes):
    m = default_protein_map()
    assert sorted(m.loc[m["antigen"] == antigen, "gene"]) == genes


# ----------------------------------------------------------------------------- map_panel


def test_map_panel_multi_gene_and_isotypes():
    panel = ["CD16_TotalSeqB", "HLA-DR_TotalSeqB", "HLA-ABC", "CD3_TotalSeqB", "IgG1",
             "Mouse IgG2a, k isotype Ctrl", "Annexin V", "Mystery-Ab"]
    t = map_panel(panel)
    assert tuple(t.columns) == PANEL_COLUMNS
    assert set(t["status"]) <= set(STATUSES)
    assert list(t["protein"].unique()) == panel  # panel order, original names
    assert _genes(t, "CD16_TotalSeqB") == ["FCGR3A", "FCGR3B"]
    assert _genes(t, "HLA-DR_TotalSeqB") == ["HLA-DRA", "HLA-DRB1"]
    assert _genes(t, "HLA-ABC") == ["HLA-A", "HLA-B", "HLA-C"]
    assert _genes(t, "CD3_TotalSeqB") == ["CD3D", "CD3E", "CD3G"]
    iso = t[t["status"] == "isotype_control"]
    assert list(iso["protein"]) == ["IgG1", "Mouse IgG2a, k isotype Ctrl"]
    assert (iso["gene"] == "").all()
    mapped = t[t["status"] == "mapped"]
    assert not mapped["protein"].isin(iso["protein"]).any()
    assert t.loc[t["protein"] == "Annexin V", "status"].tolist() == ["unmapped"]
    assert t.loc[t["protein"] == "Mystery-Ab", ["gene", "antigen", "status"]].values.tolist() == [
        ["", "Mystery", "unmapped"]]  # "-Ab" is a decoration


def test_map_panel_genes_filter_and_case():
    t = map_panel(["CD16", "CD4", "ADT_G0"], genes=["FCGR3A", "cd4", "G0"])
    assert t[["protein", "gene", "status"]].values.tolist() == [
        ["CD16", "FCGR3A", "mapped"], ["CD16", "FCGR3B", "gene_not_in_data"],
        ["CD4", "cd4", "mapped"],  # the data's spelling
        ["ADT_G0", "G0", "mapped"],  # unknown antibody named after a gene of the data
    ]


def test_map_panel_user_map_overrides(tmp_path):
    user = pd.DataFrame({"protein": ["HLA_A", "HLA_A", "HLA_A", "CD3", "CD3", "CD56"],
                         "gene": ["HLA-A", "HLA-B", "HLA-C", "CD3E", "CD3D", ""]})
    panel = ["HLA_A", "CD3_TotalSeqB", "CD56", "CD4"]
    t = map_panel(panel, protein_map=user)
    assert _genes(t, "HLA_A") == ["HLA-A", "HLA-B", "HLA-C"]  # by exact name
    assert _genes(t, "CD3_TotalSeqB") == ["CD3D", "CD3E"]  # by canonical antigen
    assert t.loc[t["protein"] == "CD56", "status"].tolist() == ["unmapped"]  # left out on purpose
    assert _genes(t, "CD4") == ["CD4"]  # default for the rest
    path = tmp_path / "map.csv"
    user.to_csv(path, index=False)
    pd.testing.assert_frame_equal(map_panel(panel, protein_map=read_protein_map(path)), t)
    pd.testing.assert_frame_equal(map_panel(panel, protein_map=path), t)


def test_map_panel_bad_input():
    with pytest.raises(CMCVAEInputError, match="more than once"):
        map_panel(["CD3", "CD4", "CD3"])
    with pytest.raises(CMCVAEInputError, match="single string"):
        map_panel("CD3")
    with pytest.raises(CMCVAEInputError, match="empty or non-text"):
        map_panel(["CD3", ""])
    with pytest.raises(CMCVAEInputError, match="lacks column"):
        map_panel(["CD3"], protein_map=pd.DataFrame({"antibody": ["CD3"], "target": ["CD3E"]}))
    with pytest.raises(CMCVAEInputError, match="DataFrame"):
        map_panel(["CD3"], protein_map={"CD3": "CD3E"})


def test_isotype_controls():
    names = ["CD3", "IgG1", "IgG2a_TotalSeqB", "Mouse IgG2b isotype control", "Rat.IgG2b.iso",
             "IgM", "IgG", "IgD", "IgG Fc", "CD29 (mouse)", "control_rIgG2a", "Hamster IgG"]
    assert isotype_controls(names) == ["IgG1", "IgG2a_TotalSeqB", "Mouse IgG2b isotype control",
                                       "Rat.IgG2b.iso", "control_rIgG2a", "Hamster IgG"]


# ----------------------------------------------------------------------------- reading maps


def test_read_protein_map(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("Antigen,Gene,comment\nCD16,FCGR3A;FCGR3B,x\nIgG1,,isotype\n CD4 , CD4 ,\n")
    df = read_protein_map(f)
    assert df.values.tolist() == [["CD16", "FCGR3A"], ["CD16", "FCGR3B"], ["IgG1", ""], ["CD4", "CD4"]]
    t = tmp_path / "m.tsv"
    t.write_text("protein\tgene\nCD3\tCD3E\n")
    assert read_protein_map(t).values.tolist() == [["CD3", "CD3E"]]


@pytest.mark.parametrize(
    ("text", "match"),
    [("a,b\n1,2\n", "lacks column"), ("protein,gene\n,CD3E\n", "without a protein"), ("", "could not be read")],
)
def test_read_protein_map_errors(tmp_path, text, match):
    f = tmp_path / "m.csv"
    f.write_text(text)
    with pytest.raises(CMCVAEInputError, match=match):
        read_protein_map(f)
    with pytest.raises(CMCVAEInputError, match="does not exist"):
        read_protein_map(tmp_path / "absent.csv")


def test_matched_pairs_unchanged():
    pm = pd.DataFrame({"protein": ["A", "A", "B"], "gene": ["g1", "g2", "g3"]})
    assert matched_pairs(pm, ["A", "B"], ["g1", "g3"]).values.tolist() == [["A", "g1"], ["B", "g3"]]
    assert matched_pairs(None, ["X", "Y"], ["X"]).values.tolist() == [["X", "X"]]


# ----------------------------------------------------------------------------- real panels

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not available")


def _h5ad_proteins(path: Path) -> tuple[list[str], list[str]]:
    anndata = pytest.importorskip("anndata")
    a = anndata.read_h5ad(path, backed="r")
    obsm = a.obsm.get("protein_expression")
    names = list(obsm.columns) if isinstance(obsm, pd.DataFrame) else list(a.uns["protein_names"])
    return names, list(a.var_names)


def _mapped_antibodies(table: pd.DataFrame) -> set[str]:
    return set(table.loc[table["status"] == "mapped", "protein"])


@needs_shared
@pytest.mark.filterwarnings("ignore:.*without encoding metadata")
@pytest.mark.parametrize(("stem", "n", "min_mapped"), [("pbmc_10k_protein_v3", 14, 12), ("pbmc_5k_protein_v3", 29, 27)])
def test_10x_pbmc_panels(stem, n, min_mapped):
    path = SHARED / "citeseq_10x_pbmc_scvi_testsubsets" / f"{stem}_200cells.h5ad"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    proteins, genes = _h5ad_proteins(path)
    assert len(proteins) == n
    t = map_panel(proteins)
    assert len(_mapped_antibodies(t)) == n  # every antibody has a known gene
    assert len(_mapped_antibodies(map_panel(proteins, genes))) >= min_mapped  # ... present in the RNA
    assert _genes(t, "CD16_TotalSeqB") == ["FCGR3A", "FCGR3B"]
    assert _genes(t, "CD8a_TotalSeqB") == ["CD8A"]
    assert _genes(t, "PD-1_TotalSeqB") == ["PDCD1"]


@needs_shared
def test_eccite_panel():
    folder = SHARED / "citeseq_eccite_mimitou2019_citefuse"
    if not (folder / "adt_counts_features_x_cells.csv").exists():
        pytest.skip("ECCITE data not available")
    proteins = list(pd.read_csv(folder / "adt_counts_features_x_cells.csv", index_col=0, usecols=[0, 1]).index)
    genes = [g.strip().removeprefix("hg19_") for g in (folder / "rna_genes.tsv").read_text().split()]
    assert len(proteins) == 49
    t = map_panel(proteins)
    assert isotype_controls(proteins) == ["IgG1", "IgG2a"]
    assert set(t.loc[t["status"] == "isotype_control", "protein"]) == {"IgG1", "IgG2a"}
    assert len(_mapped_antibodies(t)) == 47
    assert len(_mapped_antibodies(map_panel(proteins, genes))) >= 40
    assert _genes(t, "MHCII (HLA-DR)") == ["HLA-DRA", "HLA-DRB1"]
    assert _genes(t, "HLA-A,B,C") == ["HLA-A", "HLA-B", "HLA-C"]
    assert _genes(t, "PD1 (CD279)") == _genes(t, "PD-1 (CD279)") == ["PDCD1"]


@needs_shared
def test_coverage_of_shared_antigen_table():
    """706 antigens of 52 panels: resolution, isotype flags and gene-set agreement.

    Measured: 706/706 resolved (628 to genes, 76 isotype controls, Annexin V and anti-PE without
    a gene); all 73 reference isotype controls flagged; exact gene-set agreement on 580/617
    antigens with a reference HGNC symbol (94.0 %), overlap on 589 (95.5 %). The rest are
    deliberate (constant-region genes for TCR/Ig, full complexes, bare IgG1/IgG2a/IgG2b as
    isotype controls) or errors in the reference (GARP → CNGB1, HLA_A2 → ATP6V0A2, IgA → CD79A,
    Ig_light_chain_k → TNFSF14, TCR Vb13.1 → TRBV13).
    """
    path = SHARED / "adt_antibody_to_gene" / "derived_antigen_to_gene.tsv"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    ref = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    t = map_panel(list(ref["Antigen"]))
    status = t.groupby("protein", sort=False)["status"].agg(
        lambda s: "mapped" if (s == "mapped").any() else s.iloc[0])
    resolved = (status != "unmapped").mean()
    assert resolved >= 0.98
    iso = ref.loc[ref["isotype_control"] == "TRUE", "Antigen"]
    assert (status[iso] == "isotype_control").all()
    mine = t[t["status"] == "mapped"].groupby("protein")["gene"].agg(set)
    with_gene = ref[(ref["HGNC_SYMBOL"] != "") & (ref["isotype_control"] == "FALSE")]
    theirs = [({g.strip() for g in s.split(",")}, mine.get(a, set()))
              for a, s in zip(with_gene["Antigen"], with_gene["HGNC_SYMBOL"], strict=True)]
    exact = sum(r == m for r, m in theirs) / len(theirs)
    overlap = sum(bool(r & m) for r, m in theirs) / len(theirs)
    assert exact >= 0.92
    assert overlap >= 0.94


def test_read_protein_map_accepts_published_column_names(tmp_path):
    """The Frangieh 2021 table layout: adt_feature<TAB>rna_genes with ';'-joined genes."""
    path = tmp_path / "adt_to_rna.tsv"
    path.write_text("adt_feature\trna_genes\nCD274\tCD274\nHLA_A\tHLA-A;HLA-B;HLA-C\n")
    pmap = read_protein_map(path)
    assert list(pmap.columns) == ["protein", "gene"]
    assert sorted(pmap.loc[pmap.protein == "HLA_A", "gene"]) == ["HLA-A", "HLA-B", "HLA-C"]
    assert pmap.loc[pmap.protein == "CD274", "gene"].tolist() == ["CD274"]


def test_a_map_without_a_protein_of_the_data_is_refused_like_a_prior_without_overlap(tmp_path):
    pm = pd.DataFrame({"protein": ["CD999", "CD998"], "gene": ["g1", "g2"]})
    with pytest.raises(CMCVAEInputError, match=r"protein map has no protein of the data .*CD999"):
        matched_pairs(pm, ["A", "B"], ["g1", "g2"])
    # proteins of the data that encode none of the model's genes: no pairs, but no error
    assert len(matched_pairs(pd.DataFrame({"protein": ["A"], "gene": ["other"]}), ["A"], ["g1"])) == 0
    assert len(matched_pairs(pm, [], ["g1"])) == 0  # RNA-only data: the map is not used
    f = tmp_path / "m.csv"
    f.write_text("protein,gene\n")
    with pytest.raises(CMCVAEInputError, match="has a header but no rows"):
        read_protein_map(f)
