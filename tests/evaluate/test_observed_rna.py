"""Gene read-outs of a screen (``validate --readout rna``) on a screen with a known answer.

Knocking A down drops A (the target, 10×) and B (4×) and nothing else; knocking C down drops C
only. So (A, B) is the one significant pair, the targets' own transcripts are not pairs, and the
knockdown efficiency reports A and C dropping. The other 296 genes keep the CP10k library shift
of these drops (compositional: log-normalised values rise when other genes fall) too small to be
significant.
"""

from __future__ import annotations

import json

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from cmcvae._errors import CMCVAEInputError
from cmcvae.evaluate import (
    OBSERVED_RNA_COLUMNS,
    PREDICTION_COLUMNS_RNA,
    check_perturbation_data,
    observed_rna_effects,
    validate,
    write_validation,
)
from cmcvae.evaluate._screen import log_normalized_blocks

GENES = ["A", "B", "C", "D"] + [f"G{i}" for i in range(296)]


def _screen(seed: int = 0) -> ad.AnnData:
    """RNA-only AnnData of the screen described in the module docstring (sparse counts)."""
    rng = np.random.default_rng(seed)
    pert = np.array(["control"] * 300 + ["A"] * 100 + ["C"] * 100)
    rate = np.full((pert.size, len(GENES)), 20.0)
    rate[pert == "A", GENES.index("A")] /= 10
    rate[pert == "A", GENES.index("B")] /= 4
    rate[pert == "C", GENES.index("C")] /= 10
    obs = pd.DataFrame({"perturbation": pert}, index=[f"c{i}" for i in range(pert.size)])
    return ad.AnnData(sp.csr_matrix(rng.poisson(rate).astype(np.float32)), obs=obs,
                      var=pd.DataFrame(index=GENES))


@pytest.fixture(scope="module")
def screen() -> ad.AnnData:
    return _screen()


@pytest.fixture(scope="module")
def observed(screen) -> pd.DataFrame:
    return observed_rna_effects(screen, genes=GENES)


def test_only_the_known_pair_is_significant_and_targets_are_not_pairs(observed):
    assert list(observed.columns) == OBSERVED_RNA_COLUMNS
    assert not (observed["perturbation"] == observed["gene"]).any()
    assert len(observed) == 2 * (len(GENES) - 1)
    sig = observed.loc[observed["significant"], ["perturbation", "gene"]]
    assert [tuple(r) for r in sig.to_numpy()] == [("A", "B")]
    ab = observed.set_index(["perturbation", "gene"]).loc[("A", "B")]
    assert ab["observed_effect"] < -0.8  # ~log(4) with the CP10k library shift
    assert ab["n_cells"] == 100 and ab["n_control"] == 300


def test_knockdown_efficiency_reports_each_target(observed):
    eff = observed.attrs["knockdown_efficiency"]
    per = {p["perturbation"]: p for p in eff["per_perturbation"]}
    assert set(per) == {"A", "C"} and all(p["scored"] for p in per.values())
    assert all(p["target_log_fc"] < -1.5 and p["pvalue"] < 1e-10 for p in per.values())
    assert eff["n_measured"] == eff["n_knocked_down"] == 2
    assert eff["median_target_log_fc"] == pytest.approx(
        np.median([p["target_log_fc"] for p in per.values()]))


def test_mudata_dense_and_small_blocks_give_the_same_table(screen, observed):
    dense = screen.copy()
    dense.X = dense.X.toarray()
    mdata = md.MuData({"rna": dense})
    again = observed_rna_effects(mdata, genes=GENES)
    pd.testing.assert_frame_equal(again, observed, check_exact=False, rtol=1e-10)
    idx = np.arange(len(GENES))
    whole = np.concatenate([b for _, b in log_normalized_blocks(screen.X, idx)], axis=1)
    pieces = np.concatenate([b for _, b in log_normalized_blocks(screen.X, idx, max_values=700)],
                            axis=1)
    assert np.array_equal(whole, pieces)


def test_protein_readout_needs_proteins(screen):
    check_perturbation_data(screen, readout="rna")
    with pytest.raises(CMCVAEInputError, match="protein"):
        check_perturbation_data(md.MuData({"rna": screen}))


def test_validate_rna_table_json_and_files(screen, tmp_path):
    truth = pd.DataFrame(0.0, index=GENES, columns=GENES)
    truth.loc["A", "B"] = -1.0  # the only nonzero prediction: a perfect ranking
    noise = pd.DataFrame(np.random.default_rng(1).normal(size=truth.shape), index=GENES,
                         columns=GENES)
    results, table = validate({"model": truth, "noise": noise}, screen, readout="rna")
    assert list(table.columns) == [*PREDICTION_COLUMNS_RNA, "pvalue", "qvalue", "n_cells",
                                   "n_control", "predicted_noise"]
    assert results["auroc"] == 1.0 and results["n_pairs"] == len(table) == 2 * 299
    assert results["knockdown_efficiency"]["n_measured"] == 2
    assert "knockdown_efficiency" in results["definitions"]
    json_path, csv_path = write_validation(results, table, tmp_path, readout="rna")
    assert (json_path.name, csv_path.name) == ("validation_rna.json", "predictions_rna.csv")
    assert json.loads(json_path.read_text())["n_perturbations"] == 2
    with pytest.raises(CMCVAEInputError, match="readout"):
        validate({"model": truth}, screen, readout="genes")
