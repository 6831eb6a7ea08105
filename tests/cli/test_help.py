"""``--help`` of every command at 80 columns: flags as flags, arguments by name, examples, version.

The conventions live in ``cmcvae.cli._help``; these tests walk every registered command and
group, so a command added later is held to them too.
"""

import re
import shlex

import pytest
import typer
from typer.testing import CliRunner

from cmcvae._version import __version__
from cmcvae.cli import app
from cmcvae.cli._help import EXAMPLES

#: a narrow terminal without colours: what a new user on a laptop sees, and stable output
ENV = {"COLUMNS": "80", "TERM": "dumb", "NO_COLOR": "1"}


def _commands(cmd, path=()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = dict(_commands(ROOT))


def _help(*path: str) -> str:
    res = CliRunner().invoke(app, [*path, "--help"], env=ENV)
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def helps():
    return {path: _help(*path) for path in COMMANDS}


def test_every_command_is_walked():
    names = {" ".join(p) for p in COMMANDS}
    assert {"", "fit", "validate", "predict", "analyze", "run", "priors collectri", "data fetch"} <= names


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: " ".join(p) or "cmcvae")
def test_help_follows_the_conventions(path, helps):
    text = helps[path]
    assert "Examples" in text
    assert "<bool>" not in text and "BOOLEAN" not in text
    assert "{" not in text and "}" not in text  # no {run} placeholders in the usage line
    lines = text.splitlines()
    assert max(map(len, lines)) <= 80
    assert "…" not in text, [line for line in lines if "…" in line]  # no help text cut short


def test_flags_show_no_type(helps):
    flags = 0
    for path, cmd in COMMANDS.items():
        for param in cmd.params:
            if not getattr(param, "is_flag", False):
                continue
            opt = max(param.opts, key=len)
            row = next(line for line in helps[path].splitlines()
                       if line.lstrip("│ *").startswith(opt + " "))
            after = row.split(opt, 1)[1].split()
            after = [w for w in after if not w.startswith("-")]  # --no-crossmodal, -V
            assert after and not after[0].startswith("<"), (path, row)
            flags += 1
    assert flags >= 10
    force = next(line for line in helps[("fit",)].splitlines() if line.lstrip("│ ").startswith("--force"))
    assert re.match(r"^│\s+--force\s{2,}Replace", force), force


def test_arguments_are_named_in_capitals(helps):
    assert re.search(r"Usage: \S+ validate \[OPTIONS\] RUN\s*$", helps[("validate",)], re.M)
    assert "[OPTIONS] [DATA]" in helps[("fit",)]  # optional: --resume continues a fit without it
    assert "[OPTIONS] INPUTS..." in helps[("prepare",)]
    assert "[OPTIONS] NAME" in helps[("data", "fetch")]
    assert re.search(r"\*\s+RUN\s+<path>", helps[("analyze",)])


def test_required_options_are_marked_and_defaults_shown(helps):
    validate = helps[("validate",)]
    assert re.search(r"\*\s+--perturb\s", validate) and "[required]" in validate
    assert re.search(r"\*\s+--out\s", helps[("simulate",)])
    # fit --out is optional by design (`cmcvae fit --resume RUN` needs no --out)
    assert not re.search(r"\*\s+--out\s", helps[("fit",)])
    assert "[default: 20]" in helps[("predict",)]  # --top
    assert "[default: cmcvae_run]" in helps[("run",)]
    assert "[default: control]" in validate


def test_the_examples_are_real_command_lines():
    paths = {" ".join(p) for p in COMMANDS}
    assert set(EXAMPLES) == paths  # every command and group has examples, none is stale
    for key, lines in EXAMPLES.items():
        assert 1 <= len(lines) <= 3, key
        for line in lines:
            words = shlex.split(line)
            assert words[0] == "cmcvae" and len(line) <= 76, line
            cmd, rest = ROOT, words[1:]
            while rest and rest[0] in getattr(cmd, "commands", {}):
                cmd, rest = cmd.commands[rest[0]], rest[1:]
            options = {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts)}
            unknown = [w for w in rest if w.startswith("-") and w not in options]
            assert not unknown, (line, unknown)
            # every example parses: the options exist and take the values given
            ctx = cmd.make_context("cmcvae", list(rest), resilient_parsing=True)
            assert ctx is not None


def test_examples_are_printed_in_help(helps):
    assert "cmcvae fit data.h5mu --out run --grn-prior collectri.csv" in helps[("fit",)]
    assert "cmcvae predict run --knockdown STAT1 --top 10" in helps[("predict",)]
    assert "cmcvae run --out demo" in helps[("run",)]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(flag):
    res = CliRunner().invoke(app, [flag], env=ENV)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"cmcvae {__version__}"


def test_version_through_main(monkeypatch, capsys):
    from tests._helpers import run_cli_ok

    assert run_cli_ok(["--version"], monkeypatch, capsys).strip() == f"cmcvae {__version__}"


def test_help_folds_docstring_lines(helps):
    # predict's docstring is hard-wrapped at ~95 columns; at 80 it must reflow, not break twice
    lines = [line.strip() for line in helps[("predict",)].splitlines()]
    assert not any(line.endswith("deviations of the readout,") for line in lines)
