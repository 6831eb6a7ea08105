"""Bad-input table rows for ``cmcvae predict`` (see tests/cli/_cases.py).

The table's run is fitted without a GRN prior, so the rows that must get past the estimator use
``--estimator correlation``. An ``--out`` cmcvae did not write is never overwritten, ``--force``
included.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli._cases import Case

PREDICT = ("predict", "{run}", "--estimator", "correlation")


def _user_csv(root: Path) -> None:
    (root / "tmp" / "mine.csv").write_text("my,table\n1,2\n")


CASES = [
    Case("predict-adjust-without-prior", ("predict", "{run}", "--knockdown", "G0001"),
         r"fitted without a GRN prior and its genes are not human TF symbols: pass a TF list with "
         r"--regulators FILE"),
    Case("predict-unknown-readout", (*PREDICT, "--readout", "G0O01"),
         r"not genes or proteins of the run: 'G0O01' \(did you mean 'G0001'"),
    Case("predict-out-user-file-force",
         (*PREDICT, "--knockdown", "G0001", "--out", "{tmp}/mine.csv", "--force"),
         r"no record of writing it there", setup=_user_csv),
    Case("predict-out-fit-file-force",
         (*PREDICT, "--knockdown", "G0001", "--out", "{run}/edges.csv", "--force"),
         r"written by `cmcvae fit`, which this command does not replace"),
    Case("predict-out-is-a-folder", (*PREDICT, "--knockdown", "G0001", "--out", "{tmp}"),
         r"is a folder; give a file name"),
    Case("predict-missing-regulators",
         ("predict", "{run}", "--knockdown", "G0001", "--regulators", "{tmp}/none.txt"),
         r"Cannot read the regulator list .*none.txt"),
]
