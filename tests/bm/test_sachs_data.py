"""benchmarks/sachs.py on the real Sachs et al. 2005 files (skipped when ../shared/data lacks them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests._helpers import SHARED_DATA

DATA = SHARED_DATA / "sachs2005"
SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sachs.py"


def _script():
    spec = importlib.util.spec_from_file_location("bench_sachs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (DATA / "benchpress_9_conditions").is_dir(),
                    reason="Sachs 2005 data not in ../shared/data/sachs2005")
def test_u0126_lowers_erk_and_every_pair_is_tested():
    sachs = _script()
    per, consensus, _ = sachs.read_conditions(DATA, "log1p")
    assert sorted(per) == [str(c) for c in range(1, 10)] and len(consensus) == 17
    shifts = sachs.observed_shifts(per, ["1", "2"])
    assert len(shifts) == 7 * 11 and shifts["is_target"].sum() == 7
    assert np.isfinite(shifts["q"]).all()
    erk = shifts[(shifts["condition"] == "6") & (shifts["readout"] == "Erk")].iloc[0]
    assert erk["sig"] and erk["strict"] and erk["delta"] < -1.0  # MEK inhibitor → pErk down
    # the MEK inhibitor raises the measured phospho-Mek (loss of feedback), recorded as is
    mek = shifts[(shifts["condition"] == "6") & shifts["is_target"]].iloc[0]
    assert mek["readout"] == "Mek" and mek["delta"] > 1.0
