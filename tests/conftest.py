"""Fixtures shared by every test folder."""

import pandas as pd
import pytest

from tests._helpers import make_mudata


@pytest.fixture
def tiny_mdata():
    return make_mudata()


@pytest.fixture
def tiny_map():
    return pd.DataFrame({"protein": [f"ADT_G{i}" for i in range(6)], "gene": [f"G{i}" for i in range(6)]})
