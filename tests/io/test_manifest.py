"""The manifest of what cmcvae wrote, and ``--force`` replacing only that (``io/_manifest.py``).

The property tests draw many random folder trees (seeded :mod:`numpy` generator: hypothesis is
not a dependency) with the user's files mixed among recorded ones, entries that point out of the
folder and a symbolic link leading out, and check :func:`cmcvae.io.prepare_output` against a
reference written here: it never deletes or changes a file the manifest does not list as
replaceable, removes exactly the ones it does, and when it refuses it changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from cmcvae import CMCVAEInputError
from cmcvae.io import (
    MANIFEST,
    RUN_FILES,
    check_files,
    claim_files,
    forget_files,
    prepare_out_dir,
    prepare_output,
    read_manifest,
    record_files,
    replaceable,
    run_folder_files,
)

DIRS = ("", "", "model", "priors", "figures", "data", "data/sub", "link")
NAMES = ("edges.csv", "notes.md", "model.pt", "roc.png", "x.h5mu", "run.json", "grn_train.csv")
COMMANDS = ("fit", "validate", "simulate", "report")
ESCAPES = ("../outside.txt", "/etc/hostname", "data/../../outside.txt", "./notes.md", "",
           "link/secret.txt", MANIFEST)


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (symbolic links not followed) → its SHA-256."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink():
                out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _rel(rng: np.random.Generator) -> str:
    folder = DIRS[rng.integers(len(DIRS))]
    name = NAMES[rng.integers(len(NAMES))]
    return f"{folder}/{name}" if folder else name


def _tree(rng: np.random.Generator, out: Path, outside: Path) -> set[str]:
    """Random files in ``out``, maybe a folder link and a file link leading out of it."""
    files = {_rel(rng) for _ in range(rng.integers(0, 14))}
    for rel in files:
        if not rel.startswith("link/"):
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(rng.bytes(int(rng.integers(0, 40))))
    if rng.random() < 0.5:
        out.mkdir(exist_ok=True)
        (out / "link").symlink_to(outside, target_is_directory=True)
    rel = _rel(rng)
    if rng.random() < 0.3 and not rel.startswith("link/") and not os.path.lexists(out / rel):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)  # a file replaced by a link out
        (out / rel).symlink_to(outside / "secret.txt")
        files.add(rel)
    return files


def _draw(rng: np.random.Generator, base: Path) -> dict:
    """A random folder ``base/out``, its manifest, and the arguments of one --force call."""
    out, outside = base / "out", base / "outside"
    outside.mkdir(parents=True)
    (outside / "secret.txt").write_text("outside, never touched")
    (base / "outside.txt").write_text("beside the folder, never touched")
    files = _tree(rng, out, outside)
    listed = {rel: {"command": COMMANDS[rng.integers(len(COMMANDS))]}
              for rel in list(files) + [_rel(rng) for _ in range(rng.integers(0, 4))]
              if rng.random() < 0.6}
    for bad in ESCAPES:
        if rng.random() < 0.3:
            listed[bad] = {"command": "fit"}
    if listed or rng.random() < 0.3:
        out.mkdir(exist_ok=True)
        (out / MANIFEST).write_text(json.dumps({"format": 1, "files": listed}))
    tops = sorted({r.split("/")[0] for r in (*files, *listed) if r} | {"edges.csv", "model"})
    owned = [t for t in tops if rng.random() < 0.6]
    writes = sorted({_rel(rng) for _ in range(rng.integers(0, 6))})
    replaces = [c for c in COMMANDS if rng.random() < 0.5] or ["fit"]
    existing = sorted(files)
    inputs = {}
    if existing and rng.random() < 0.4:
        inputs["--grn-prior"] = out / existing[rng.integers(len(existing))]
    if rng.random() < 0.2:
        inputs["DATA"] = out / "data"
    return {"out": out, "listed": listed, "owned": owned, "writes": writes, "replaces": replaces,
            "force": bool(rng.random() < 0.85), "inputs": inputs}


def _safe(rel: str) -> bool:
    parts = rel.split("/")
    return (bool(rel) and not rel.startswith("/") and "" not in parts and "." not in parts
            and ".." not in parts and rel != MANIFEST)


def _expected(case: dict) -> tuple[bool, set[str]]:
    """Reference: (refused?, the files removed) — written independently of the module."""
    out = case["out"]
    root = os.path.realpath(out)

    def stays_inside(rel: str) -> bool:
        parent = os.path.realpath(os.path.dirname(os.path.join(out, rel)))
        return parent == root or parent.startswith(root + os.sep)

    def present(rel: str) -> bool:
        return os.path.lexists(out / rel)

    if not out.is_dir() or not any(out.iterdir()):
        return False, set()
    if not case["force"]:
        return True, set()
    mine = {rel for rel, entry in case["listed"].items()
            if _safe(rel) and stays_inside(rel) and entry["command"] in case["replaces"]
            and any(rel == o or rel.startswith(o + "/") for o in case["owned"])}
    endangered = {os.path.realpath(out / r) for r in mine | set(case["writes"]) if present(r)}
    for given in case["inputs"].values():
        real = os.path.realpath(given)
        if any(e == real or e.startswith(real + os.sep) for e in endangered):
            return True, set()
    if any(present(r) and r not in mine for r in case["writes"]):
        return True, set()
    return False, {r for r in mine if present(r) and not (out / r).is_dir()
                   and not (out / r).is_symlink()}  # a link is removed, never what it points to


@pytest.mark.parametrize("seed", range(300))
def test_force_never_touches_a_file_the_manifest_does_not_list(seed, tmp_path):
    rng = np.random.default_rng(seed)
    case = _draw(rng, tmp_path)
    out = case["out"]
    refused, removed = _expected(case)
    before = _snapshot(tmp_path)
    try:
        prepare_output(out, force=case["force"], owned=case["owned"], writes=case["writes"],
                       command="fit", replaces=case["replaces"], inputs=case["inputs"])
        outcome = False
    except CMCVAEInputError:
        outcome = True
    after = _snapshot(tmp_path)
    assert outcome == refused, case
    if refused:
        assert after == before  # a refusal changes nothing, manifest included
        return
    gone = {rel for rel in before if rel not in after}
    assert gone == {f"out/{r}" for r in removed}, case
    for rel, digest in before.items():
        if rel in after and rel != f"out/{MANIFEST}":
            assert after[rel] == digest, f"{rel} changed"
    for rel in case["listed"]:
        if rel in removed:
            assert rel not in read_manifest(out)  # the manifest forgets what was removed
    assert (tmp_path / "outside" / "secret.txt").is_file() and (tmp_path / "outside.txt").is_file()


@pytest.mark.parametrize("seed", range(100))
def test_check_files_refuses_every_unrecorded_or_foreign_file(seed, tmp_path):
    rng = np.random.default_rng(1000 + seed)
    case = _draw(rng, tmp_path)
    out, rels = case["out"], case["writes"]
    existing = [r for r in rels if os.path.lexists(out / r)]
    listed = case["listed"]
    foreign = [r for r in existing if listed.get(r, {}).get("command") != "fit"
               or (out / r).is_symlink()
               or not os.path.realpath(out / r).startswith(os.path.realpath(out) + os.sep)]
    before = _snapshot(tmp_path)
    try:
        check_files(out, rels, command="fit", force=True)
        refused = False
    except CMCVAEInputError:
        refused = True
    assert refused == bool(foreign)
    assert _snapshot(tmp_path) == before


def test_record_forget_and_read(tmp_path):
    record_files(tmp_path / "run", ["edges.csv", "model/model.pt"], "fit")
    record_files(tmp_path / "run", ["validation.json"], "validate")
    files = read_manifest(tmp_path / "run")
    assert files["edges.csv"]["command"] == "fit" and files["validation.json"]["command"] == "validate"
    assert "version" in files["model/model.pt"]
    forget_files(tmp_path / "run", ["edges.csv"])
    assert sorted(read_manifest(tmp_path / "run")) == ["model/model.pt", "validation.json"]
    assert replaceable(tmp_path / "run", ["model"], ["fit"]) == ["model/model.pt"]
    with pytest.raises(ValueError):
        record_files(tmp_path / "run", ["../x"], "fit")
    assert read_manifest(tmp_path / "none") == {}


def test_corrupt_manifest_is_a_refusal_not_a_deletion(tmp_path):
    (tmp_path / "edges.csv").write_text("x")
    (tmp_path / MANIFEST).write_text("[1, 2")
    with pytest.raises(CMCVAEInputError, match="not a cmcvae manifest"):
        prepare_out_dir(tmp_path, force=True)
    assert (tmp_path / "edges.csv").read_text() == "x"


def test_run_folder_force_replaces_recorded_results_keeps_the_users(tmp_path):
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    (run / "priors").mkdir()
    for rel in ("figures/roc.png", "analysis.json", "validation.json", "report.html", "edges.csv",
                "notes.txt", "priors/mine.csv", "figures/my_plot.png"):
        (run / rel).write_text("old")
    record_files(run, ["figures/roc.png", "analysis.json", "edges.csv"], "fit")
    record_files(run, ["validation.json"], "validate")
    record_files(run, ["report.html"], "report")
    with pytest.raises(CMCVAEInputError, match="--force"):
        prepare_out_dir(run, force=False)
    prepare_out_dir(run, force=True, inputs={"--grn-prior": run / "priors" / "mine.csv"})
    assert sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()) == [
        MANIFEST, "figures/my_plot.png", "notes.txt", "priors/mine.csv"]
    assert read_manifest(run) == {}


def test_run_folder_force_refuses_an_input_it_would_remove(tmp_path):
    run = tmp_path / "run"
    (run / "priors").mkdir(parents=True)
    (run / "priors" / "grn_train.csv").write_text("source,target\nA,B\n")
    record_files(run, ["priors/grn_train.csv"], "fit")
    with pytest.raises(CMCVAEInputError, match=r"--grn-prior .* is an input of this command"):
        prepare_out_dir(run, force=True, inputs={"--grn-prior": run / "priors" / "grn_train.csv"})
    with pytest.raises(CMCVAEInputError, match=r"it holds grn_train\.csv"):
        prepare_out_dir(run, force=True, inputs={"DATA": run / "priors"})
    assert (run / "priors" / "grn_train.csv").is_file()


def test_folder_without_manifest_holding_run_files_is_refused(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "model.pt").write_bytes(b"weights of an older cmcvae")
    with pytest.raises(CMCVAEInputError, match=r"model/model\.pt.*no record.*move it"):
        prepare_out_dir(tmp_path, force=True)
    assert (tmp_path / "model" / "model.pt").is_file()


def test_other_commands_files_are_not_replaced(tmp_path):
    (tmp_path / "priors").mkdir()
    (tmp_path / "priors" / "grn.csv").write_text("simulated")
    record_files(tmp_path, ["priors/grn.csv"], "simulate")
    prepare_out_dir(tmp_path, force=True)  # fit does not own a simulation's files
    assert (tmp_path / "priors" / "grn.csv").read_text() == "simulated"
    (tmp_path / "validation.json").write_text("{}")
    record_files(tmp_path, ["validation.json"], "validate")
    with pytest.raises(CMCVAEInputError, match="written by `cmcvae validate`"):
        claim_files(tmp_path, ["validation.json"], command="report", force=True)


def test_check_files_without_force_and_inputs(tmp_path):
    (tmp_path / "atlas.h5mu").write_text("raw")
    with pytest.raises(CMCVAEInputError, match="is an input of this command"):
        check_files(tmp_path, ["atlas.h5mu"], command="prepare", force=True,
                    inputs={"INPUTS (1)": tmp_path / "atlas.h5mu"})
    with pytest.raises(CMCVAEInputError, match="already exists.*--force"):
        check_files(tmp_path, ["atlas.h5mu"], command="prepare", force=False)
    record_files(tmp_path, ["atlas.h5mu"], "prepare")
    check_files(tmp_path, ["atlas.h5mu"], command="prepare", force=True)


def test_out_below_a_file_or_a_file(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(CMCVAEInputError, match="is a file, not a folder"):
        prepare_out_dir(tmp_path / "f", force=True)
    with pytest.raises(CMCVAEInputError, match="below"):
        prepare_out_dir(tmp_path / "f" / "run", force=False)


def test_the_run_folder_contract_names_every_file():
    files = run_folder_files()
    assert {f.split("/")[0] for f in files} == {*RUN_FILES, "checkpoints"}
    assert "model/model.pt" in files and "checkpoints/last.ckpt" in files
    assert "figures/roc.svg" in files and "priors/ppi_holdout.csv" in files
    assert "stability.csv" in run_folder_files(ensemble=True)
