"""Fixtures shared by every test folder."""

import pandas as pd
import pytest

from tests._helpers import make_mudata, predict_runs, screen_folders


@pytest.fixture
def tiny_mdata():
    return make_mudata()


@pytest.fixture
def tiny_map():
    return pd.DataFrame({"protein": [f"ADT_G{i}" for i in range(6)], "gene": [f"G{i}" for i in range(6)]})


@pytest.fixture(scope="session")
def predict_folders(tmp_path_factory):
    """Runs for ``cmcvae predict`` (made once, shared by tests/tl and tests/cli; read-only)."""
    return predict_runs(tmp_path_factory.mktemp("predict"))


@pytest.fixture(scope="session")
def screen_runs(tmp_path_factory):
    """A simulated screen and runs fitted on it with --perturbation-key (tests/tl, tests/cli)."""
    return screen_folders(tmp_path_factory.mktemp("screen"))
