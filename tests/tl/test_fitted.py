"""Reading a run folder back (``cmcvae.tl._fitted``): a corrupt file is an input error, not a traceback."""

from __future__ import annotations

import pandas as pd
import pytest

from cmcvae._errors import CMCVAEInputError
from cmcvae.tl._fitted import _training_cells, json_or_empty, load_fitted


def test_json_or_empty_refuses_a_corrupt_file(tmp_path):
    path = tmp_path / "run.json"
    assert json_or_empty(path) == {}
    path.write_text('{"data": "x.h5mu"}')
    assert json_or_empty(path) == {"data": "x.h5mu"}
    for text, problem in (('{"data": "x', "not valid JSON"), ("[1]", "a JSON list, not an object"),
                          ("", "not valid JSON"), ("\xff\xfe", "not valid JSON")):
        path.write_text(text, encoding="latin-1")
        with pytest.raises(CMCVAEInputError, match=rf"run\.json is corrupt \({problem}.*fit the run again"):
            json_or_empty(path)


def test_a_corrupt_split_file_is_refused(tmp_path):
    cells = pd.Index(["a", "b", "c"])
    split = tmp_path / "split.csv"
    assert _training_cells(split, cells).all()  # no split.csv: every cell
    split.write_text("cell,split\na,train\nb,test\nc,train\n")
    assert _training_cells(split, cells).tolist() == [True, False, True]
    for text in ("", "x,y\n1,2\n", '"unterminated\n'):
        split.write_text(text)
        with pytest.raises(CMCVAEInputError, match=r"split\.csv is corrupt"):
            _training_cells(split, cells)


def test_load_fitted_needs_a_run_folder(tmp_path):
    with pytest.raises(CMCVAEInputError, match="is not a run folder"):
        load_fitted(tmp_path)
