"""Bad-input cases: data (see tests/cli/_cases.py)."""

from tests.cli._cases import Case

CASES: list[Case] = []
