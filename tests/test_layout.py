"""The package layout a newcomer relies on: no import cycles, small files, public seams.

These read the source with :mod:`ast` (nothing is imported), so they describe the code as written.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cmcvae"
ROOT = SRC.parents[1]
MAX_LINES = 700
#: Private modules at the package root are shared by every layer by design.
ROOT_PRIVATE = {"_errors", "_constants", "_docs", "_version"}
#: Private imports across subpackages that are allowed, each with its reason.
ALLOWED_PRIVATE: dict[tuple[str, str], str] = {}
#: Function-local imports of the package that are allowed, each with its reason.
ALLOWED_LOCAL: dict[tuple[str, str], str] = {
    ("cmcvae.model.latent._arch", "cmcvae.model.latent._plan"):
        "the training plan imports Lightning (~2 s): `cmcvae --help` and `import cmcvae` must not pay it",
}


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return mods


def _imports(mods):
    """(importer, imported module, is function-local) for every cmcvae import."""
    out = []
    for mod, (path, is_pkg) in mods.items():
        tree = ast.parse(path.read_text())
        local = {id(node) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))}
        typing_only = {id(node) for block in ast.walk(tree)
                       if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                       for node in ast.walk(block)}
        for node in ast.walk(tree):
            if id(node) in typing_only:  # never executed: cannot close an import loop
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in mods else stem for a in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != "cmcvae":
                    continue
                while target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                out.append((mod, target, id(node) in local))
    return out


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module."""
    graph = nx.DiGraph([(a, b) for a, targets in edges.items() for b in targets])
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def _subpackage(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_import_graph_has_no_cycles():
    mods = _modules()
    edges = defaultdict(set)
    for a, b, _ in _imports(mods):
        if a != b:
            edges[a].add(b)
    assert _cycles(edges) == []


def test_no_function_local_imports_of_the_package():
    local = sorted({(a, b) for a, b, is_local in _imports(_modules()) if is_local} - set(ALLOWED_LOCAL))
    assert local == [], "import at module level (function-local imports are for optional dependencies)"


def test_private_imports_across_subpackages_are_few_and_explained():
    private = set()
    for a, b, _ in _imports(_modules()):
        if _subpackage(a) == _subpackage(b) or _subpackage(b) in ("", *ROOT_PRIVATE):
            continue
        if any(part.startswith("_") for part in b.split(".")[1:]):
            private.add((a, b))
    unexplained = sorted(private - set(ALLOWED_PRIVATE))
    assert unexplained == [], "import the other subpackage's public namespace instead"
    assert len(private) <= 5


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_source_files_are_small(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_design_is_documented_in_the_repository():
    design = ROOT / "docs" / "design.md"
    assert design.is_file()
    sections = {line.split(".")[0].removeprefix("## ").strip() for line in design.read_text().splitlines()
                if line.startswith("## ")}
    cited = set()
    for path in [*SRC.rglob("*.py"), *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]:
        text = path.read_text()
        assert "DESIGN §" not in text, f"{path} cites a document users do not have"
        for chunk in text.split("docs/design.md §")[1:]:
            cited.add(chunk[0])
    assert cited <= sections, f"docs/design.md lacks sections {sorted(cited - sections)}"
