"""Shared parameter docs (``cmcvae._docs``): written once, filled into every docstring that names them."""

import re

import pytest

from cmcvae import tl
from cmcvae._docs import PARAMS, fill_docs

_LEFTOVER = re.compile(r"^\s*\{\w+\}\s*$", re.MULTILINE)


def test_filled_docstring_holds_the_shared_text_indented_and_no_placeholder():
    doc = tl.fit_run.__doc__
    assert not _LEFTOVER.search(doc)
    for key in ("batch_key", "grn_prior", "config", "force", "out"):
        name, *description = PARAMS[key].splitlines()
        assert f"\n    {name}\n" in doc  # the parameter line at the section's indent
        for line in description:
            assert f"\n    {line}\n" in doc  # its description four spaces deeper
    for func in (tl.validate_run, tl.analyze_run, tl.fit_seeds, tl.run_default):
        assert not _LEFTOVER.search(func.__doc__), func.__name__
    assert PARAMS["run"].splitlines()[1].strip() in tl.validate_run.__doc__


def test_unknown_placeholder_fails_at_decoration():
    def f():
        """Doc.

        Parameters
        ----------
        {no_such_parameter}
        """

    with pytest.raises(KeyError, match="no_such_parameter"):
        fill_docs(f)
