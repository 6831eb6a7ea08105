"""``cmcvae``'s entry point: every error is one paragraph, never a traceback (unless asked for)."""

from __future__ import annotations

import errno
import json
import sys

import pytest
import yaml

from cmcvae import CMCVAEInputError
from cmcvae.cli import _app, main
from cmcvae.cli._options import REGIMES, check_sim_sizes, in_range, out_path


def _raise(exc: BaseException):
    def command() -> None:
        raise exc
    return command


def _main(monkeypatch, capsys, exc: BaseException, debug: str | None = None) -> tuple[int, str]:
    """Run ``main()`` with the app replaced by one raising ``exc``."""
    monkeypatch.setattr(_app, "app", _raise(exc))
    monkeypatch.setattr(sys, "argv", ["cmcvae", "fit"])
    if debug is None:
        monkeypatch.delenv(_app.DEBUG_ENV, raising=False)
    else:
        monkeypatch.setenv(_app.DEBUG_ENV, debug)
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    return done.value.code, captured.out + captured.err


@pytest.mark.parametrize(("exc", "needle"), [
    (CMCVAEInputError("split must be [mu, s, iterations]"), "split must be [mu, s, iterations]"),
    (FileNotFoundError(errno.ENOENT, "No such file", "data.h5mu"), "file not found: data.h5mu"),
    (PermissionError(errno.EACCES, "Permission denied", "/root/x"), "permission denied: /root/x"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "afile/run"), "afile/run: a part of this path is a regular file"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "priors"), "priors is a folder where a file was expected"),
    (FileExistsError(errno.EEXIST, "File exists", "out"), "out already exists"),
    (OSError(errno.ENOSPC, "No space left on device", "run/model.pt"), "could not read or write run/model.pt: No space left"),
    (OSError("Unable to synchronously open file (file signature not found)"), "file signature not found"),
    (json.JSONDecodeError("Expecting value", '{"a": ', 6), "JSON file could not be parsed (line 1, column 7"),
    (yaml.YAMLError("mapping values are not allowed here"), "YAML file could not be parsed"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "should be text is not"),
    (MemoryError(), "out of memory"),
])
def test_bad_input_errors_are_one_paragraph_with_code_2(monkeypatch, capsys, exc, needle):
    code, text = _main(monkeypatch, capsys, exc)
    flat = " ".join(text.split())
    assert code == 2 and "Traceback" not in text
    assert flat.startswith("Error: ") and needle in flat, flat


def test_unexpected_error_is_an_internal_error_with_code_1(monkeypatch, capsys):
    code, text = _main(monkeypatch, capsys, RuntimeError("shape mismatch [3, 4]\nin layer"))
    flat = " ".join(text.split())
    assert code == 1 and "Traceback" not in text
    assert "internal error in cmcvae: RuntimeError: shape mismatch [3, 4] in layer" in flat
    assert "CMCVAE_DEBUG=1" in flat and "traceback" in flat


def test_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setattr(_app, "app", _raise(RuntimeError("boom")))
    monkeypatch.setattr(sys, "argv", ["cmcvae"])
    monkeypatch.setenv(_app.DEBUG_ENV, "1")
    with pytest.raises(RuntimeError, match="boom"):
        main()
    code, _ = _main(monkeypatch, capsys, CMCVAEInputError("bad"), debug="1")
    assert code == 2  # a refusal stays a refusal
    code, _ = _main(monkeypatch, capsys, RuntimeError("x"), debug="0")
    assert code == 1


class _Param:
    opts = ["--seed"]
    name = "seed"


def test_in_range_names_option_value_and_range():
    check = in_range(0, 10)
    assert check(_Param(), 3) == 3 and check(_Param(), None) is None
    with pytest.raises(CMCVAEInputError, match=r"--seed -1 is out of range: use a whole number from 0 to 10\."):
        check(_Param(), -1)
    with pytest.raises(CMCVAEInputError, match=r"> 0"):
        in_range(0, low_open=True, what="a number")(_Param(), 0)


def test_out_path_refuses_below_a_file_and_kind_mismatch(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    folder, file = out_path("folder"), out_path("file")
    assert folder(_Param(), tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert file(_Param(), tmp_path / "report.html") == tmp_path / "report.html"
    with pytest.raises(CMCVAEInputError, match="is a regular file"):
        folder(_Param(), afile / "run")
    with pytest.raises(CMCVAEInputError, match="is a file, not a folder"):
        folder(_Param(), afile)
    with pytest.raises(CMCVAEInputError, match="is a folder; give a file name"):
        file(_Param(), tmp_path)
    assert afile.read_text() == "mine"


def test_simulation_sizes_that_depend_on_each_other():
    check_sim_sizes(100, 10, 8, 3, 10)
    with pytest.raises(CMCVAEInputError, match="--proteins 9 is too many for --genes 10"):
        check_sim_sizes(100, 10, 9, 3, 3)
    with pytest.raises(CMCVAEInputError, match="--perturbations 11 exceeds --genes 10"):
        check_sim_sizes(100, 10, 2, 3, 11)
    with pytest.raises(CMCVAEInputError, match="--donors 5 is more than --cells 4"):
        check_sim_sizes(4, 10, 2, 5, 3)


def test_the_regime_choices_are_the_simulators():
    from cmcvae.datasets._simulate import REGIMES as SIMULATOR_REGIMES

    assert tuple(REGIMES) == tuple(SIMULATOR_REGIMES)


def test_out_path_refuses_a_folder_this_process_may_not_write_in(tmp_path, monkeypatch):
    from cmcvae.cli import _options

    monkeypatch.setattr(_options.os, "access", lambda path, mode: False)  # as a non-root user on a 0o500 folder
    with pytest.raises(CMCVAEInputError, match=r"--seed .*: this process may not write in .*permission denied"):
        out_path("folder")(_Param(), tmp_path / "run")
    with pytest.raises(CMCVAEInputError, match="may not write in"):
        out_path("file")(_Param(), tmp_path / "report.html")
