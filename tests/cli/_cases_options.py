"""Bad-input cases: options and config fields (see tests/cli/_cases.py)."""

from tests.cli._cases import Case

CASES: list[Case] = [
    Case("fit-missing-data", ("fit", "{tmp}/missing.h5mu", "--out", "{tmp}/r"), r"not found|does not exist"),
]
