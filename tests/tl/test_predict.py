"""``predict_run``: a fitted run's predicted knockdown effects, by gene or by readout.

The runs (``predict_folders`` in ``tests/conftest.py``) are fitted for one epoch: the numbers are
checked against the effect layer they come from (:class:`RunEffects`), not against the
simulation's truth (at one epoch and 600 cells a TF's strongest true target is not reliably
among its top rows).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cmcvae import CMCVAEInputError
from cmcvae.effects import DEFAULT_ESTIMATOR
from cmcvae.effects import read_regulators as read_regulator_list
from cmcvae.tl import PREDICT_COLUMNS, predict_run
from cmcvae.tl._effects import RunEffects
from cmcvae.tl._predict import resolve_names


@pytest.fixture(scope="module")
def effects(predict_folders) -> RunEffects:
    return RunEffects(predict_folders["run"])


def _sorted_by_abs(values: pd.Series) -> bool:
    a = values.abs().to_numpy()
    return bool(np.all(a[:-1] >= a[1:] - 1e-12))


def test_knockdown_matches_the_effect_layer(predict_folders, effects):
    table = predict_run(predict_folders["run"], knockdown="TF001")
    assert tuple(table.columns) == PREDICT_COLUMNS
    assert (table["estimator"] == DEFAULT_ESTIMATOR).all()
    # every readout of the run but the gene itself: genes and proteins
    assert set(table["readout"]) == set(effects.stats.names) - {"TF001"}
    assert set(table["modality"]) == {"rna", "protein"}
    ref = effects.estimate(DEFAULT_ESTIMATOR, sources=["TF001"]).to_frame()
    merged = table.merge(ref, on=["perturbation", "readout", "modality"], suffixes=("", "_ref"))
    assert len(merged) == len(table)
    for col in ("predicted_effect", "se", "z", "pvalue"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_ref"])
    assert (table["se"] > 0).all()
    assert table["pvalue"].between(0, 1).all()
    assert _sorted_by_abs(table["predicted_effect"])


def test_top_rows_per_knockdown_in_the_order_given(predict_folders):
    table = predict_run(predict_folders["run"], knockdown="G0009, TF001,G0009", top=5)
    assert table["perturbation"].tolist() == ["G0009"] * 5 + ["TF001"] * 5
    for _, rows in table.groupby("perturbation"):
        assert _sorted_by_abs(rows["predicted_effect"])
    by_z = predict_run(predict_folders["run"], knockdown=["TF001"], top=5, sort_by="z")
    assert _sorted_by_abs(by_z["z"])


def test_readout_ranks_every_gene_as_source(predict_folders, effects):
    table = predict_run(predict_folders["run"], readout="ADT_G0009")
    assert set(table["perturbation"]) == set(effects.stats.genes)
    assert (table["readout"] == "ADT_G0009").all() and (table["modality"] == "protein").all()
    assert _sorted_by_abs(table["predicted_effect"])
    ref = effects.estimate(DEFAULT_ESTIMATOR, readouts=["ADT_G0009"]).effect["ADT_G0009"]
    np.testing.assert_allclose(table.set_index("perturbation")["predicted_effect"],
                               ref.loc[table["perturbation"]])
    # a gene readout leaves itself out; names match ignoring case
    gene = predict_run(predict_folders["run"], readout="g0009", top=3)
    assert len(gene) == 3 and "G0009" not in set(gene["perturbation"])


def test_estimator_without_standard_errors(predict_folders):
    table = predict_run(predict_folders["run"], knockdown="TF001", estimator="ridge", top=4)
    assert table["se"].isna().all() and table["pvalue"].isna().all()
    assert len(table) == 4 and _sorted_by_abs(table["predicted_effect"])


def test_out_writes_the_full_table_and_records_it(predict_folders, tmp_path):
    out = tmp_path / "res" / "kd.csv"
    top = predict_run(predict_folders["run"], knockdown="TF001", top=3, out=out)
    written = pd.read_csv(out)
    assert list(written.columns) == list(PREDICT_COLUMNS)
    assert len(top) == 3 and len(written) > 3
    manifest = json.loads((out.parent / ".cmcvae-manifest.json").read_text())
    assert manifest["files"]["kd.csv"]["command"] == "predict"
    with pytest.raises(CMCVAEInputError, match="already exists"):
        predict_run(predict_folders["run"], knockdown="TF002", out=out)
    predict_run(predict_folders["run"], knockdown="TF002", out=out, force=True)
    assert set(pd.read_csv(out)["perturbation"]) == {"TF002"}


def test_rna_only_run_predicts_gene_readouts(predict_folders, tmp_path):
    run = predict_folders["rna"]
    with pytest.raises(CMCVAEInputError, match="--regulators"):
        predict_run(run, knockdown="TF001")  # fitted without a GRN prior
    tfs = tmp_path / "tfs.txt"
    tfs.write_text("TF001\nTF002\nTF003\nTF004\n")
    table = predict_run(run, knockdown="TF001", regulators=tfs)
    assert (table["modality"] == "rna").all() and table["readout"].str.startswith(("G", "TF")).all()
    assert len(table) == 39
    corr = predict_run(run, readout="G0009", estimator="correlation", top=2)
    assert len(corr) == 2 and (corr["modality"] == "rna").all()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({}, "neither was given"),
    ({"knockdown": "TF001", "readout": "G0009"}, "both were given"),
    ({"knockdown": " , "}, "names no feature"),
    ({"knockdown": "TF01"}, r"'TF01' \(did you mean 'TF001'"),
    ({"knockdown": "ADT_G0009"}, "only genes can be knocked down.*encoded by G0009"),
    ({"readout": "ADT_G009"}, "not genes or proteins of the run.*'ADT_G0009'"),
    ({"knockdown": "TF001", "top": 0}, "--top 0 is out of range"),
    ({"knockdown": "TF001", "estimator": "nope"}, "Unknown --estimator"),
])
def test_refusals(predict_folders, kwargs, message):
    with pytest.raises(CMCVAEInputError, match=message):
        predict_run(predict_folders["run"], **kwargs)


def test_ensemble_folder_is_refused(tmp_path):
    (tmp_path / "seed_0").mkdir()
    (tmp_path / "ensemble.json").write_text(json.dumps({"runs": ["seed_0"]}))
    with pytest.raises(CMCVAEInputError, match="seeds ensemble.*one seed's folder"):
        predict_run(tmp_path, knockdown="TF001")


def test_resolve_names_by_antigen():
    features = ["CD4", "G1", "ADT_CD8", "CD3_TotalSeqB", "ADT_CD4"]
    proteins = ["ADT_CD8", "CD3_TotalSeqB", "ADT_CD4"]
    # an exact name wins (the gene CD4); otherwise case, then a unique antigen
    assert resolve_names(["CD4", "g1", "CD8", "cd3"], features, proteins, "--readout") == [
        "CD4", "G1", "ADT_CD8", "CD3_TotalSeqB"]
    with pytest.raises(CMCVAEInputError, match="CD7"):
        resolve_names(["CD7"], features, proteins, "--readout")


def test_regulator_list_one_name_a_line(tmp_path):
    # once read with a sniffed delimiter, which cut these to G, CEBP, TF
    path = tmp_path / "tfs.txt"
    path.write_text("GATA1\nSPI1\nCEBPA\n")
    assert read_regulator_list(path) == ["GATA1", "SPI1", "CEBPA"]
    path.write_text("source,target\nTF001,G1\n# note\n\"TF002\",G2\n")
    assert read_regulator_list(path) == ["TF001", "TF002"]
