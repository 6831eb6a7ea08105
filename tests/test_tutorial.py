"""``docs/tutorial.md`` runs: its ``python`` blocks, in order, in one namespace.

The data cache points at an empty folder, so the tutorial takes its offline path (the
simulator), as it does in CI without network; the whole page runs in well under a minute.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def tutorial_blocks(text: str) -> list[str]:
    """The ``python`` code blocks of a Markdown text, in order."""
    return _BLOCK.findall(text)


def test_tutorial_has_the_steps_and_is_linked():
    blocks = tutorial_blocks(TUTORIAL.read_text())
    assert len(blocks) >= 8
    code = "\n".join(blocks)
    for call in ("cmcvae.simulate(", "fit_run(", "write_results(", "read_results(", "dc.mt.ulm(",
                 "predict_run(", "validate_run(", "cmcvae.pl."):
        assert call in code, call
    assert "docs/tutorial.md" in (ROOT / "README.md").read_text()


def test_tutorial_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("CMCVAE_CACHE", str(tmp_path / "cache"))  # no fetched data: the simulator
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    for i, block in enumerate(tutorial_blocks(TUTORIAL.read_text())):
        try:
            exec(compile(block, f"{TUTORIAL.name} block {i + 1}", "exec"), namespace)
        except Exception as err:  # noqa: BLE001 - name the block that failed
            pytest.fail(f"block {i + 1} of docs/tutorial.md failed: {type(err).__name__}: {err}\n{block}")
    assert (tmp_path / "cmcvae_tutorial" / "with_results.h5mu").is_file()
    assert (tmp_path / "cmcvae_tutorial" / "roc.png").is_file()
    mdata = namespace["mdata"]
    assert "validation" in mdata.uns["cmcvae"] and "cmcvae_direct" in mdata.mod["rna"].varp
    assert namespace["rna"].obsm["score_ulm"].shape[1] > 0
