"""Bad and unusual inputs through the command line, one table row per case (``_cases_*.py``).

A refusal is exit code 2 with one paragraph naming the problem and the fix, never a traceback,
and nothing the user owns is deleted or changed; a valid-but-unusual input still works.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from tests._helpers import run_cli
from tests.cli import _cases_data, _cases_force, _cases_modality, _cases_options, _cases_predict
from tests.cli._cases import Case

CASES: list[Case] = [*_cases_force.CASES, *_cases_options.CASES, *_cases_data.CASES,
                     *_cases_modality.CASES, *_cases_predict.CASES]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> Path:
    """A small simulation and a run fitted and validated on it (made once for the table)."""
    root = tmp_path_factory.mktemp("fitted")
    sim, run = root / "sim", root / "run"
    for args in (["simulate", "--out", str(sim), "--cells", "600", "--genes", "40", "--proteins", "6",
                  "--donors", "3", "--perturbations", "5", "--seed", "0"],
                 ["fit", str(sim / "train.h5mu"), "--out", str(run), "--max-epochs", "2",
                  "--protein-map", str(sim / "protein_map.csv")],
                 ["validate", str(run), "--perturb", str(sim / "perturb.h5mu")]):
        code, text = run_cli(args)
        assert code == 0, text
    return root


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _fill(text: str, root: Path) -> str:
    return text.format(sim=root / "sim", run=root / "run", tmp=root / "tmp", root=root)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, fitted: Path, tmp_path: Path):
    root = tmp_path / "case"
    shutil.copytree(fitted, root)
    (root / "tmp").mkdir()
    if case.setup is not None:
        case.setup(root)
    before = _snapshot(root)
    code, text = run_cli([_fill(a, root) for a in case.args])
    flat = " ".join(text.split())
    assert "Traceback" not in text, text
    assert code == case.code, flat
    assert re.search(case.message, flat, flags=re.IGNORECASE), flat
    after = _snapshot(root)
    replaced = {str(Path(_fill(r, root)).relative_to(root)) for r in case.replaced}
    for rel, digest in before.items():
        if any(rel == r or rel.startswith(r.rstrip("/") + "/") for r in replaced):
            continue
        assert rel in after, f"{rel} was deleted"
        assert after[rel] == digest, f"{rel} was changed"
