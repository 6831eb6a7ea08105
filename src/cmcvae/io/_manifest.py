"""What cmcvae wrote in a folder (its manifest), and the only code that deletes or overwrites there.

Every command that writes into a folder records each file it writes, before writing it, in the
folder's manifest :data:`MANIFEST` (``.cmcvae-manifest.json``: the file's path relative to the
folder, the command and the cmcvae version). ``--force`` then replaces only what the manifest
lists (:func:`prepare_output`, :func:`check_files`):

- a listed file is removed or overwritten only by a command that may replace it (``replaces``)
  and only when it lies under one of the names the command owns (``owned``);
- a file the manifest does not list is never removed nor overwritten: when a command is about to
  write a file of that name, it refuses (it may be the user's, or from a cmcvae that kept no
  manifest) and says to move it or choose another ``--out``;
- every other file in the folder (notes, data, a prior) is left alone;
- an input of the same command (data, prior, protein map, config, screen …) that ``--force``
  would remove or overwrite is refused before anything is done.

Manifest entries that are not plain relative paths inside the folder (``..``, absolute paths,
paths through a symbolic link that leads out of the folder) are ignored: they never make cmcvae
delete anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from cmcvae._errors import CMCVAEInputError
from cmcvae._version import __version__

#: The manifest file of a folder cmcvae writes into.
MANIFEST = ".cmcvae-manifest.json"
#: Version of the manifest's layout.
MANIFEST_FORMAT = 1

#: An input of a command: ``{label: path}`` (e.g. ``{"--grn-prior": "D/priors/mine.csv"}``).
Inputs = Mapping[str, Any]


def _relative(rel: Any) -> str | None:
    """``rel`` as a normalised relative POSIX path, or ``None`` if it is not a safe one."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return None
    if rel.startswith("/") or any(part in ("", ".", "..") for part in rel.split("/")):
        return None  # only the canonical form cmcvae writes: "model/model.pt"
    return None if rel == MANIFEST else PurePosixPath(rel).as_posix()


def _inside(folder: Path, rel: str) -> Path | None:
    """``folder/rel`` if it does not leave ``folder`` through a symbolic link, else ``None``."""
    path = folder / rel
    try:
        parent = path.parent.resolve()
        root = folder.resolve()
    except OSError:
        return None
    if parent != root and root not in parent.parents:
        return None
    return path


def _corrupt(path: Path, why: str) -> CMCVAEInputError:
    return CMCVAEInputError(
        f"{path} is not a cmcvae manifest ({why}), so cmcvae cannot tell the files it wrote in "
        f"{path.parent} from yours and will not replace any. Choose another --out (or move the "
        f"folder's files elsewhere and delete {path.name})."
    )


def read_manifest(folder: str | Path) -> dict[str, dict[str, Any]]:
    """The files cmcvae recorded writing in ``folder``: ``{relative path: {command, version}}``.

    Parameters
    ----------
    folder
        A folder cmcvae wrote into (one without a manifest gives ``{}``).

    Returns
    -------
    dict
        One entry per recorded file (unsafe paths, see the module docstring, left out).

    Raises
    ------
    CMCVAEInputError
        The manifest exists but cannot be read.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        if path.exists() or path.is_symlink():
            raise _corrupt(path, "not a regular file")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _corrupt(path, f"unreadable: {err}") from err
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise _corrupt(path, "no 'files' table")
    out = {}
    for rel, entry in files.items():
        norm = _relative(rel)
        if norm is not None:
            out[norm] = entry if isinstance(entry, dict) else {}
    return out


def _write_manifest(folder: Path, files: dict[str, dict[str, Any]]) -> None:
    """Write the manifest atomically (a killed process leaves the old or the new one)."""
    path = folder / MANIFEST
    tmp = folder / f"{MANIFEST}.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"format": MANIFEST_FORMAT, "written_by": "cmcvae",
                                   "files": dict(sorted(files.items()))}, indent=1) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        raise CMCVAEInputError(f"Cannot write in {folder} ({err.strerror or err}); choose "
                               "another --out where you may write.") from err


def record_files(folder: str | Path, rels: Iterable[str], command: str) -> None:
    """Record in ``folder``'s manifest that ``command`` writes ``rels`` (call it before writing).

    Parameters
    ----------
    folder
        The folder written into (created if missing).
    rels
        Paths relative to ``folder``, e.g. ``"edges.csv"``, ``"model/model.pt"``.
    command
        The command writing them, e.g. ``"fit"``.
    """
    folder = Path(folder)
    files = read_manifest(folder)
    entry = {"command": command, "version": __version__}
    for rel in rels:
        norm = _relative(rel)
        if norm is None:
            raise ValueError(f"not a relative path inside the folder: {rel!r}")
        files[norm] = dict(entry)
    _write_manifest(folder, files)


def forget_files(folder: str | Path, rels: Iterable[str]) -> None:
    """Drop ``rels`` from ``folder``'s manifest (cmcvae removed them itself)."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        return
    files = read_manifest(folder)
    drop = {_relative(r) for r in rels}
    if drop & files.keys():
        _write_manifest(folder, {k: v for k, v in files.items() if k not in drop})


def _under(rel: str, owned: Iterable[str]) -> bool:
    return any(rel == name or rel.startswith(name.rstrip("/") + "/") for name in owned)


def replaceable(folder: str | Path, owned: Iterable[str], replaces: Iterable[str]) -> list[str]:
    """The listed files of ``folder`` a command may replace: under ``owned``, by ``replaces``.

    Parameters
    ----------
    folder
        The folder.
    owned
        Names (files or folders, relative to ``folder``) the command owns.
    replaces
        Commands whose files the command may replace (its own and those whose results would
        be stale beside its new ones).

    Returns
    -------
    list of str
        Relative paths, sorted (listed files that no longer exist included).
    """
    folder = Path(folder)
    owned, replaces = tuple(owned), set(replaces)
    return sorted(rel for rel, entry in read_manifest(folder).items()
                  if _under(rel, owned) and entry.get("command") in replaces
                  and _inside(folder, rel) is not None)


def _blocked(folder: Path, rels: Iterable[str], mine: set[str]) -> list[str]:
    """The ``rels`` that exist in ``folder`` but are not among the replaceable ``mine``."""
    return [rel for rel in rels
            if ((folder / rel).exists() or (folder / rel).is_symlink()) and rel not in mine]


def _refuse_blocked(folder: Path, blocked: list[str], what: str) -> None:
    if not blocked:
        return
    listed = read_manifest(folder)
    others = {rel: listed[rel].get("command") for rel in blocked if rel in listed}
    unknown = [rel for rel in blocked if rel not in others]
    if unknown:
        shown = ", ".join(unknown[:8]) + (f" and {len(unknown) - 8} more" if len(unknown) > 8 else "")
        raise CMCVAEInputError(
            f"The {what} {folder} holds {shown}, which this command would write, but cmcvae has "
            f"no record of writing {'it' if len(unknown) == 1 else 'them'} there (no entry in "
            f"{MANIFEST}: your file, or one from a cmcvae version that kept no manifest). cmcvae "
            "never overwrites such a file, --force included: move it out of the folder (or "
            "delete it yourself), or choose another --out."
        )
    rel, command = next(iter(others.items()))
    raise CMCVAEInputError(
        f"The {what} {folder} holds {rel}, written by `cmcvae {command}`, which this command "
        "does not replace (it would mix the outputs of two commands); choose another --out, or "
        f"move {rel} out of the folder first."
    )


def _refuse_inputs(inputs: Inputs, endangered: Iterable[Path], folder: Path) -> None:
    """Refuse when an input is, or is a folder holding, a file about to be removed or overwritten."""
    paths = []
    for path in endangered:
        try:
            paths.append(path.resolve())
        except OSError:
            continue
    for label, value in inputs.items():
        if not isinstance(value, (str, Path)):
            continue
        try:
            given = Path(value).resolve()
        except OSError:
            continue
        hit = next((p for p in paths if p == given or given in p.parents), None)
        if hit is not None:
            inside = "" if hit == given else f" (it holds {hit.name})"
            raise CMCVAEInputError(
                f"{label} {value} is an input of this command, but writing into {folder} would "
                f"overwrite or remove it{inside}. Copy the input out of {folder} and pass the "
                "copy, or choose another --out."
            )


def _check_out_path(out: Path) -> None:
    """``out`` must be a folder, or a path where one can be made."""
    if out.exists() and not out.is_dir():
        raise CMCVAEInputError(f"{out} exists and is a file, not a folder; choose another --out.")
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise CMCVAEInputError(f"--out {out} lies below {parent}, which is a file, not a "
                                   "folder; choose another --out.")


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CMCVAEInputError(f"Cannot create the folder {out} ({err.strerror or err}); choose "
                               "another --out where you may write.") from err


def _remove(folder: Path, rels: list[str]) -> None:
    """Remove the listed ``rels`` (files only), empty folders they leave, then their entries."""
    for rel in rels:
        path = _inside(folder, rel)
        if path is None or (path.is_dir() and not path.is_symlink()):
            continue
        if path.exists() or path.is_symlink():
            path.unlink()
        for parent in path.parents:
            if parent == folder or folder not in parent.parents:
                break
            if parent.is_dir() and not parent.is_symlink() and not any(parent.iterdir()):
                parent.rmdir()
    forget_files(folder, rels)


def prepare_output(out: str | Path, *, force: bool, owned: Iterable[str], writes: Iterable[str],
                   command: str, replaces: Iterable[str] | None = None, inputs: Inputs | None = None,
                   what: str = "output folder", check_only: bool = False) -> Path:
    """Make ``out`` ready for a command that writes a folder; refuse whatever would lose a file.

    Without ``force`` a non-empty ``out`` is refused. With ``force``: an input that would be
    removed or overwritten is refused; a file at one of the ``writes`` paths that the manifest
    does not list as replaceable is refused; then the replaceable files (:func:`replaceable`)
    are removed, so results of an earlier run cannot sit beside the new ones. Nothing else in
    ``out`` is touched.

    Parameters
    ----------
    out
        The folder.
    force
        Replace the files cmcvae wrote there.
    owned
        Names (relative to ``out``) the command owns: listed files under them are replaced.
    writes
        Every file the command (and the commands whose results it replaces) may write there,
        relative to ``out``.
    command
        The command, as recorded in the manifest (e.g. ``"fit"``).
    replaces
        Commands whose listed files it replaces (default: ``command`` alone).
    inputs
        The command's inputs, ``{label: path}``.
    what
        Name of the folder in messages.
    check_only
        Only check (refuse or return); change nothing.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    CMCVAEInputError
        ``out`` is a file or below one, is not empty without ``force``, holds a file the
        command would write that cmcvae did not record, or holds an input the command would
        remove or overwrite.
    """
    out = Path(out)
    _check_out_path(out)
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise CMCVAEInputError(
                f"The {what} {out} already exists and is not empty. Choose another --out or pass "
                "--force to overwrite the files cmcvae wrote there (other files are kept)."
            )
        mine = replaceable(out, owned, replaces or (command,))
        writes = sorted(set(writes))
        endangered = [out / r for r in mine if (out / r).exists()]
        endangered += [out / r for r in writes if (out / r).exists()]
        _refuse_inputs(inputs or {}, endangered, out)
        _refuse_blocked(out, _blocked(out, writes, set(mine)), what)
        if not check_only:
            _remove(out, mine)
    if not check_only:
        _make_folder(out)
    return out


def check_files(folder: str | Path, rels: Iterable[str], *, command: str,
                force: bool | None = None, replaces: Iterable[str] | None = None,
                inputs: Inputs | None = None, what: str = "folder") -> None:
    """Refuse to write ``rels`` into ``folder`` where that would lose a file; change nothing.

    Parameters
    ----------
    folder
        The folder (it may not exist yet).
    rels
        The files to write, relative to ``folder``.
    command
        The command writing them.
    force
        ``False``: refuse an existing file (pass --force); ``True``: replace the existing ones
        the manifest lists; ``None``: the command always rewrites its own files (``validate``).
    replaces
        Commands whose listed files it may overwrite (default: ``command``).
    inputs
        The command's inputs, ``{label: path}``: refused when one is among ``rels``.
    what
        Name of the folder in messages.

    Raises
    ------
    CMCVAEInputError
        As described.
    """
    folder = Path(folder)
    rels = [r for r in (_relative(r) for r in rels) if r is not None]
    existing = [r for r in rels if (folder / r).exists() or (folder / r).is_symlink()]
    _refuse_inputs(inputs or {}, [folder / r for r in existing], folder)
    if existing and force is False:
        raise CMCVAEInputError(
            f"{folder / existing[0]} already exists; choose another --out or pass --force to "
            "overwrite it."
        )
    if existing:  # a listed file replaced by a symbolic link is not written through
        mine = {rel for rel in replaceable(folder, rels, replaces or (command,))
                if not (folder / rel).is_symlink()}
        _refuse_blocked(folder, _blocked(folder, existing, mine), what)


def claim_files(folder: str | Path, rels: Iterable[str], *, command: str,
                force: bool | None = None, replaces: Iterable[str] | None = None,
                inputs: Inputs | None = None, what: str = "folder") -> list[Path]:
    """:func:`check_files`, then :func:`record_files`: call it just before writing ``rels``.

    Returns
    -------
    list of pathlib.Path
        ``folder/rel`` for each of ``rels``.
    """
    rels = list(rels)
    check_files(folder, rels, command=command, force=force, replaces=replaces, inputs=inputs,
                what=what)
    record_files(folder, rels, command)
    return [Path(folder) / r for r in rels]
