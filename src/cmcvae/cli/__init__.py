"""The ``cmcvae`` command line (``docs/design.md`` §4): the app, its entry point and its commands.

Every command is a function in its own module, registered on :data:`app` here, in the order
``cmcvae --help`` lists them; a command calls one workflow of :mod:`cmcvae.tl` (or
:mod:`cmcvae.report`, :mod:`cmcvae.bm`) and prints its result with :mod:`cmcvae.cli._tables`.

Table of contents
-----------------
- :data:`app` — the Typer app; :func:`main` — the entry point (``cmcvae = "cmcvae.cli:main"``),
  which prints a :class:`~cmcvae.CMCVAEInputError` (or an OS or parse error of a bad path or
  file) as one paragraph with exit code 2, and anything else as an internal error with exit
  code 1 (``CMCVAE_DEBUG=1`` shows the traceback); ``cmcvae --version``. Shared options and
  their checks: ``_options.py``; the conventions of every ``--help`` (flags, argument names,
  defaults, the ``Examples`` of each command): ``_help.py``.
- ``report`` (``_report.py``), ``benchmark`` (``_benchmark.py``), ``simulate``
  (``_simulate.py``), ``prepare`` (``_prepare.py``), ``fit`` (``_fit.py``), ``validate``
  (``_validate.py``), ``predict`` (``_predict.py``), ``analyze`` (``_analyze.py``), ``run``
  (``_run.py``).
- Groups: ``priors collectri|omnipath`` (``_priors.py``), ``data list|info|fetch``
  (``_data.py``).
"""

from cmcvae.cli._analyze import analyze
from cmcvae.cli._app import app, main
from cmcvae.cli._benchmark import benchmark
from cmcvae.cli._data import data_app
from cmcvae.cli._fit import fit
from cmcvae.cli._predict import predict
from cmcvae.cli._prepare import prepare
from cmcvae.cli._priors import priors_app
from cmcvae.cli._report import report
from cmcvae.cli._run import run
from cmcvae.cli._simulate import simulate
from cmcvae.cli._validate import validate

for _command in (report, benchmark, simulate, prepare, fit, validate, predict, analyze, run):
    app.command(_command.__name__)(_command)
app.add_typer(priors_app, name="priors")
app.add_typer(data_app, name="data")

__all__ = ["app", "main"]
