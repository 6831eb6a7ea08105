"""GraphML export for Cytoscape: node ids per modality, edge attributes, stability frequencies."""

import networkx as nx
import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import write_graphml


@pytest.fixture
def edges():
    return pd.DataFrame({
        "source": ["CD4", "CD4", "TF1", "CD8A", "CD4"],
        "target": ["CD4", "IL7R", "CD4", "CD4", "CD8A"],
        "source_modality": ["rna", "rna", "rna", "protein", "protein"],
        "target_modality": ["protein", "rna", "rna", "protein", "rna"],
        "weight": [0.5, -0.25, 0.1, -0.3, 0.0],
    })


def test_graphml_round_trip(tmp_path, edges):
    path = write_graphml(edges, tmp_path / "net.graphml")
    g = nx.read_graphml(path)
    assert g.is_directed()
    # rna:CD4, protein:CD4, rna:IL7R, rna:TF1, protein:CD8A, rna:CD8A
    assert g.number_of_nodes() == 6 and g.number_of_edges() == 5
    assert g.nodes["rna:CD4"] == {"label": "CD4", "modality": "rna"}
    assert g.nodes["protein:CD4"] == {"label": "CD4", "modality": "protein"}
    e = g.edges["rna:CD4", "protein:CD4"]
    assert e["weight"] == pytest.approx(0.5) and e["abs_weight"] == pytest.approx(0.5)
    assert e["sign"] == 1 and e["network"] == "rna_protein"
    e = g.edges["rna:CD4", "rna:IL7R"]
    assert e["sign"] == -1 and e["abs_weight"] == pytest.approx(0.25) and e["network"] == "rna_rna"
    assert g.edges["protein:CD8A", "protein:CD4"]["network"] == "protein_protein"
    assert g.edges["protein:CD4", "rna:CD8A"]["network"] == "protein_rna"
    assert g.edges["protein:CD4", "rna:CD8A"]["sign"] == 0
    assert "frequency" not in e


def test_graphml_with_stability(tmp_path, edges):
    stab = edges.iloc[:3].assign(frequency=[1.0, 2 / 3, 1 / 3], sign_consistency=1.0)
    g = nx.read_graphml(write_graphml(edges, tmp_path / "net.graphml", stability=stab))
    assert g.edges["rna:CD4", "protein:CD4"]["frequency"] == pytest.approx(1.0)
    assert g.edges["rna:CD4", "rna:IL7R"]["frequency"] == pytest.approx(2 / 3)
    assert g.edges["protein:CD8A", "protein:CD4"]["frequency"] == 0.0  # not in the table


def test_graphml_empty_and_bad_input(tmp_path, edges):
    empty = edges.iloc[:0]
    g = nx.read_graphml(write_graphml(empty, tmp_path / "empty.graphml"))
    assert g.number_of_nodes() == 0
    with pytest.raises(CMCVAEInputError, match="modality"):
        write_graphml(edges.assign(source_modality="adt"), tmp_path / "bad.graphml")
    with pytest.raises(CMCVAEInputError, match="weight"):
        write_graphml(edges.drop(columns="weight"), tmp_path / "bad.graphml")
