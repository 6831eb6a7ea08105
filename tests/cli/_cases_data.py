"""Bad-input cases: data (see tests/cli/_cases.py).

The data, the priors, the protein map and the run-folder files the workflows read back: each
bad one is refused with a message that names it; the unusual-but-valid ones (a gzipped prior, a
log-normalised ``X`` with the raw counts in ``layers["counts"]``, cells without protein counts,
repeated prior edges of one sign) still fit.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import mudata as md
import numpy as np
import scipy.sparse as sp

from tests.cli._cases import Case

md.set_options(pull_on_update=False)

FIT = ("fit", "{tmp}/data.h5mu", "--out", "{tmp}/run", "--max-epochs", "1")
FITTED = r"Run written"


# ------------------------------------------------------------------------------- data files
def _edit_data(edit: Callable[[md.MuData], md.MuData | None]) -> Callable[[Path], None]:
    """Write ``tmp/data.h5mu``: the simulation's training data changed by ``edit``."""

    def setup(root: Path) -> None:
        m = md.read_h5mu(root / "sim" / "train.h5mu")
        m = edit(m) or m
        m.write(root / "tmp" / "data.h5mu")

    return setup


def _huge_rna_count(m: md.MuData) -> None:
    x = m["rna"].X.tocsr().astype(np.float32)
    x.data[0] = 2.0 ** 31  # overflowed int32 in the NB histogram: a 16 GiB bincount before
    m["rna"].X = x


def _huge_protein_count(m: md.MuData) -> None:
    p = np.array(m["prot"].X, dtype=np.float32)
    p[3, 1] = 1e9
    m["prot"].X = p


def _zero_rna(m: md.MuData) -> None:
    m["rna"].X = sp.csr_matrix(m["rna"].shape, dtype=np.float32)


def _zero_protein(m: md.MuData) -> None:
    m["prot"].X = np.zeros(m["prot"].shape, dtype=np.float32)


def _first_cells(n: int) -> Callable[[md.MuData], md.MuData]:
    def edit(m: md.MuData) -> md.MuData:
        return m[m.obs_names[:n]].copy()
    return edit


def _log_normalised_x(m: md.MuData) -> None:
    counts = m["rna"].X.tocsr().astype(np.float32)
    m["rna"].layers["counts"] = counts.copy()
    lib = np.asarray(counts.sum(axis=1)).ravel()
    scaled = sp.diags((1e4 / np.maximum(lib, 1)).astype(np.float32)) @ counts
    scaled.data = np.log1p(scaled.data)
    m["rna"].X = sp.csr_matrix(scaled, dtype=np.float32)


def _cells_without_protein(m: md.MuData) -> None:
    p = np.array(m["prot"].X, dtype=np.float32)
    p[:40] = 0.0
    m["prot"].X = p


# ------------------------------------------------------------------------------- prior files
def _write(rel: str, text: str) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        (root / rel).write_text(text)
    return setup


def _prior_with(edit: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    """Write ``tmp/grn.csv``: the simulation's GRN prior with its rows changed by ``edit``."""

    def setup(root: Path) -> None:
        lines = (root / "sim" / "priors" / "grn.csv").read_text().splitlines()
        (root / "tmp" / "grn.csv").write_text("\n".join([lines[0], *edit(lines[1:])]) + "\n")

    return setup


def _set_weight(value: str) -> Callable[[list[str]], list[str]]:
    def edit(rows: list[str]) -> list[str]:
        src, tgt, _ = rows[1].split(",")
        return [rows[0], f"{src},{tgt},{value}", *rows[2:]]
    return edit


def _flip_duplicate(rows: list[str]) -> list[str]:
    src, tgt, w = rows[0].split(",")
    return [*rows, f"{src},{tgt},{-float(w)}"]


def _same_duplicate(rows: list[str]) -> list[str]:
    return [*rows, rows[0]]


def _gzip_prior(root: Path) -> None:
    with (root / "sim" / "priors" / "grn.csv").open("rb") as src, \
            gzip.open(root / "tmp" / "grn.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)


# ------------------------------------------------------------------------------- run folders
def _truncate(rel: str, n: int) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / rel
        path.write_bytes(path.read_bytes()[:n])
    return setup


def _fit_on(setup: Callable[[Path], None]) -> Callable[[Path], None]:
    """``setup`` then copy the simulation's data to ``tmp/data.h5mu``."""

    def both(root: Path) -> None:
        shutil.copy(root / "sim" / "train.h5mu", root / "tmp" / "data.h5mu")
        setup(root)

    return both


PRIOR = ("--grn-prior", "{tmp}/grn.csv")

CASES: list[Case] = [
    # item 2: a count that would size an allocation (2**31: int32 overflow → 16 GiB bincount)
    Case("data-rna-count-2pow31", FIT, r"RNA counts contain an implausible value \(2\.14748e\+09.*1e\+07",
         setup=_edit_data(_huge_rna_count)),
    Case("data-protein-count-1e9", FIT, r"protein counts contain an implausible value",
         setup=_edit_data(_huge_protein_count)),
    # item 4: silent nonsense in the data
    Case("data-rna-all-zero", FIT, r"The RNA matrix is all zeros", setup=_edit_data(_zero_rna)),
    Case("data-protein-all-zero", FIT, r"The protein matrix is all zeros",
         setup=_edit_data(_zero_protein)),
    Case("data-protein-all-zero-sem", (*FIT, "--arch", "sem"), r"The protein matrix is all zeros",
         setup=_edit_data(_zero_protein)),
    Case("data-20-cells", FIT, r"Too few cells to train: the data has 20 cells.*at least 50",
         setup=_edit_data(_first_cells(20))),
    Case("data-49-cells", FIT, r"Too few cells to train: the data has 49 cells",
         setup=_edit_data(_first_cells(49))),
    Case("data-few-training-cells", (*FIT, "--config", "{tmp}/c.yaml"),
         r"Too few training cells: the split .* leaves 30 of the 60 cells",
         setup=lambda root: (_edit_data(_first_cells(60))(root),
                             (root / "tmp" / "c.yaml").write_text("split: [0.5, 0.25, 0.25]\n"))),
    Case("run-json-corrupt-analyze", ("analyze", "{run}"), r"is corrupt \(not valid JSON: .*cmcvae writes this file itself",
         setup=_write("run/run.json", '{"data": "sim/tr')),
    Case("run-json-corrupt-validate", ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu"),
         r"is corrupt \(a JSON list, not an object\)", setup=_write("run/run.json", "[1, 2]")),
    Case("run-split-corrupt-validate", ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu"),
         r"is corrupt \(columns .*expected cell,split\)", setup=_write("run/split.csv", "\x00\x01garbage\n")),
    Case("run-model-config-corrupt", ("analyze", "{run}"), r"saved model file .* is corrupt \(not valid JSON",
         setup=_truncate("run/model/config.json", 40)),
    Case("run-model-config-keys", ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu"),
         r"is corrupt \(missing or malformed config, genes",
         setup=_write("run/model/config.json", "{}")),
    Case("run-model-pt-truncated", ("analyze", "{run}"), r"is corrupt \(it does not load with config\.json",
         setup=_truncate("run/model/model.pt", 2000)),
    # item 5: inputs altered without a word
    Case("prior-weight-text", (*FIT, *PRIOR), r"weight\(s\) that are not finite numbers .*line 3 \('activating'\)",
         setup=_fit_on(_prior_with(_set_weight("activating")))),
    Case("prior-weight-nan", (*FIT, *PRIOR), r"not finite numbers .*line 3 \('NaN'\)",
         setup=_fit_on(_prior_with(_set_weight("NaN")))),
    Case("prior-weight-inf", (*FIT, *PRIOR), r"not finite numbers .*'inf'",
         setup=_fit_on(_prior_with(_set_weight("inf")))),
    Case("prior-duplicate-opposite-signs", (*FIT, *PRIOR),
         r"lists 1 edge\(s\) both as activating and as repressing \(e\.g\. TF\w+→G\w+\)",
         setup=_fit_on(_prior_with(_flip_duplicate))),
    Case("prior-empty-file-fit", (*FIT, *PRIOR), r"GRN prior file .* is empty \(no header, no edges\)",
         setup=_fit_on(_write("tmp/grn.csv", ""))),
    Case("prior-header-only-fit", (*FIT, *PRIOR), r"GRN prior file .*has no edges",
         setup=_fit_on(_write("tmp/grn.csv", "source,target,weight\n"))),
    Case("prior-empty-file-priors", ("priors", "collectri", "--input", "{tmp}/grn.csv", "--out",
                                     "{tmp}/out.csv"), r"collectri prior file .* is empty",
         setup=_write("tmp/grn.csv", "")),
    Case("prior-header-only-priors", ("priors", "omnipath", "--input", "{tmp}/grn.csv", "--out",
                                      "{tmp}/out.csv"), r"omnipath prior file .* has no edges",
         setup=_write("tmp/grn.csv", "source\ttarget\tweight\n")),
    Case("prior-weight-text-priors", ("priors", "collectri", "--input", "{tmp}/grn.csv", "--out",
                                      "{tmp}/out.csv"), r"not finite numbers .*line 3",
         setup=_prior_with(_set_weight("strong"))),
    Case("protein-map-no-overlap", (*FIT, "--protein-map", "{tmp}/map.csv"),
         r"protein map has no protein of the data .*CD999",
         setup=_fit_on(_write("tmp/map.csv", "protein,gene\nCD999,FOO\nCD998,BAR\n"))),
    Case("protein-map-header-only", (*FIT, "--protein-map", "{tmp}/map.csv"),
         r"protein map .* has a header but no rows",
         setup=_fit_on(_write("tmp/map.csv", "protein,gene\n"))),
    Case("protein-map-empty-file", (*FIT, "--protein-map", "{tmp}/map.csv"),
         r"protein map .*could not be read", setup=_fit_on(_write("tmp/map.csv", ""))),
    # valid but unusual: these must fit (exit code 0)
    Case("valid-gzip-prior", (*FIT, "--grn-prior", "{tmp}/grn.csv.gz"), FITTED, code=0,
         setup=_fit_on(_gzip_prior)),
    Case("valid-lognorm-x-counts-layer", FIT, FITTED, code=0, setup=_edit_data(_log_normalised_x)),
    Case("valid-cells-without-protein", FIT, FITTED, code=0,
         setup=_edit_data(_cells_without_protein)),
    Case("valid-prior-same-sign-duplicate", (*FIT, *PRIOR), FITTED, code=0,  # notice: tests/pp
         setup=_fit_on(_prior_with(_same_duplicate))),
    Case("valid-prior-empty-weight", (*FIT, *PRIOR), FITTED, code=0,
         setup=_fit_on(_prior_with(_set_weight("")))),
    Case("valid-50-cells", FIT, FITTED, code=0, setup=_edit_data(_first_cells(50))),
]
