"""Bad-input table rows for ``cmcvae fit --modality rna|protein|both`` (issue 16, item 3).

Priors of the modality a fit leaves out are refused (exit 2), not ignored: ``--protein-map`` /
``--ppi-prior`` with ``--modality rna``, ``--grn-prior`` / ``--protein-map`` with ``--modality
protein``.
"""

from __future__ import annotations

from pathlib import Path

import mudata as md

from tests.cli._cases import Case

FIT = ("--max-epochs", "1")


def _rna_h5ad(root: Path, log_x: bool = False) -> None:
    """``tmp/rna.h5ad``: the simulation's RNA alone (counts in X, or log X + layers['counts'])."""
    rna = md.read_h5mu(root / "sim" / "train.h5mu").mod["rna"].copy()
    if log_x:
        rna.layers["counts"] = rna.X.copy()
        rna.X = rna.X.log1p()
    rna.write_h5ad(root / "tmp" / "rna.h5ad")


def _one_mod_h5mu(mod: str):
    def setup(root: Path) -> None:
        m = md.read_h5mu(root / "sim" / "train.h5mu")
        md.MuData({mod: m.mod[mod].copy()}).write(root / "tmp" / f"{mod}.h5mu")
    return setup


CASES = [
    # refusals
    Case("modality-both-on-rna-only-h5ad", ("fit", "{tmp}/rna.h5ad", "--out", "{tmp}/r", *FIT),
         r"without proteins.*pass --modality rna", setup=_rna_h5ad),
    Case("modality-both-on-rna-only-h5mu", ("fit", "{tmp}/rna.h5mu", "--out", "{tmp}/r", *FIT),
         r"protein modality 'prot' is missing.*Pass --modality rna", setup=_one_mod_h5mu("rna")),
    Case("modality-rna-on-protein-only-h5mu",
         ("fit", "{tmp}/prot.h5mu", "--modality", "rna", "--out", "{tmp}/r", *FIT),
         r"has no RNA modality.*--modality rna", setup=_one_mod_h5mu("prot")),
    Case("modality-protein-on-rna-only-h5mu",
         ("fit", "{tmp}/rna.h5mu", "--modality", "protein", "--out", "{tmp}/r", *FIT),
         r"has no protein modality", setup=_one_mod_h5mu("rna")),
    Case("modality-rna-with-protein-map",
         ("fit", "{sim}/train.h5mu", "--modality", "rna", "--protein-map", "{sim}/protein_map.csv",
          "--out", "{tmp}/r", *FIT), r"--protein-map describes the protein modality.*drop --protein-map"),
    Case("modality-rna-with-ppi-prior",
         ("fit", "{sim}/train.h5mu", "--modality", "rna", "--ppi-prior", "{sim}/priors/grn.csv",
          "--out", "{tmp}/r", *FIT), r"--ppi-prior describes the protein modality"),
    Case("modality-protein-with-grn-prior",
         ("fit", "{sim}/train.h5mu", "--modality", "protein", "--grn-prior", "{sim}/priors/grn.csv",
          "--out", "{tmp}/r", *FIT), r"--grn-prior describes the RNA modality"),
    Case("modality-unknown", ("fit", "{sim}/train.h5mu", "--modality", "atac", "--out", "{tmp}/r", *FIT),
         r"--modality 'atac' is not one of both, rna, protein"),
    Case("modality-seeds-with-protein-map",
         ("fit", "{tmp}/rna.h5ad", "--modality", "rna", "--seeds", "0,1", "--protein-map",
          "{sim}/protein_map.csv", "--out", "{tmp}/e", *FIT), r"drop --protein-map", setup=_rna_h5ad),
    Case("modality-with-resume", ("fit", "--resume", "{run}", "--modality", "rna"),
         r"drop --modality"),
    Case("modality-backed-one-modality-h5mu",
         ("fit", "{tmp}/rna.h5mu", "--modality", "rna", "--backed", "--out", "{tmp}/r", *FIT),
         r"--backed reads a \.h5mu with modalities 'rna' and 'prot'", setup=_one_mod_h5mu("rna")),
    # valid, if unusual
    Case("modality-rna-h5ad-counts-in-x",
         ("fit", "{tmp}/rna.h5ad", "--modality", "rna", "--out", "{tmp}/r", *FIT), r"Run written",
         setup=_rna_h5ad, code=0),
    Case("modality-rna-h5ad-log-x-counts-layer",
         ("fit", "{tmp}/rna.h5ad", "--modality", "rna", "--out", "{tmp}/r", *FIT), r"Run written",
         setup=lambda root: _rna_h5ad(root, log_x=True), code=0),
    Case("modality-rna-one-modality-h5mu",
         ("fit", "{tmp}/rna.h5mu", "--modality", "rna", "--out", "{tmp}/r", *FIT), r"Run written",
         setup=_one_mod_h5mu("rna"), code=0),
    Case("modality-protein-of-cite-seq-h5mu",
         ("fit", "{sim}/train.h5mu", "--modality", "protein", "--out", "{tmp}/r", *FIT),
         r"Run written", code=0),
    Case("modality-both-explicit", ("fit", "{sim}/train.h5mu", "--modality", "both",
                                    "--protein-map", "{sim}/protein_map.csv", "--out", "{tmp}/r", *FIT),
         r"Run written", code=0),
]
