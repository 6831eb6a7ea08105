"""The simulator's result, :class:`SimulatedData`, and its folder layout on disk."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import mudata as md
import pandas as pd

from cmcvae._errors import CMCVAEInputError
from cmcvae.io import prepare_output, record_files

OUTPUT_FILES = (
    "train.h5mu",
    "perturb.h5mu",
    "priors/grn.csv",
    "priors/ppi.csv",
    "protein_map.csv",
    "truth/edges.csv",
    "truth/matched_pairs.csv",
    "truth/knockdown_effects.csv",
    "truth/knockdown_effects_rna.csv",
    "params.json",
)
"""Files :meth:`SimulatedData.write` creates, relative to the output folder (docs/design.md §3)."""

_OPTIONAL_FILES = ("truth/knockdown_effects_rna.csv",)
"""Files of :data:`OUTPUT_FILES` that older simulation folders lack (:func:`read_simulation`)."""


def _empty_rna_effects() -> pd.DataFrame:
    """An empty ``perturbation,gene,true_effect`` table."""
    return pd.DataFrame({"perturbation": pd.Series(dtype=str), "gene": pd.Series(dtype=str),
                         "true_effect": pd.Series(dtype=float)})


@dataclass
class SimulatedData:
    """A simulated CITE-seq dataset with its ground truth.

    Attributes
    ----------
    mdata
        Training cells: modalities ``"rna"`` and ``"prot"``, raw integer counts in ``.X``
        (RNA as float32 CSR, protein dense float32); ``obs`` columns ``donor`` and
        ``cell_state`` (categorical) in the MuData and in each modality.
    perturb
        Perturbation screen with the same features plus ``obs["perturbation"]`` (target gene
        symbol or ``"control"``), on donors not in the training set.
    grn_prior
        ``source,target,weight`` TF → target prior (true edges plus decoys; weight = sign).
    ppi_prior
        ``source,target,weight`` protein → protein prior (true edges plus decoys).
    protein_map
        ``protein,gene``: one row per panel protein.
    truth
        True direct edges ``source,target,source_modality,target_modality,weight,kind``
        (modality ``rna`` or ``protein``; kind ``tf_target``, ``translation``,
        ``reverse_translation``, ``protein_protein`` or ``protein_rna_feedback``).
    matched_pairs
        ``protein,gene,direction`` with direction ``forward``, ``reversed`` or ``confounded``.
    knockdown_effects
        ``perturbation,protein,true_effect`` for every perturbation × every protein, in latent
        standard-deviation units of the protein.
    params
        Every parameter used (arguments, derived values and model constants), JSON-serialisable.
    knockdown_effects_rna
        ``perturbation,gene,true_effect`` for every perturbation × every gene except the
        knocked-down gene itself (its own transcript is the knockdown, not a readout): the
        shift of the gene's latent (log-scale) level, in latent standard-deviation units, on
        the same definition as ``knockdown_effects``. Empty for a folder written before it
        existed (:func:`read_simulation`).
    """

    mdata: md.MuData
    perturb: md.MuData
    grn_prior: pd.DataFrame
    ppi_prior: pd.DataFrame
    protein_map: pd.DataFrame
    truth: pd.DataFrame
    matched_pairs: pd.DataFrame
    knockdown_effects: pd.DataFrame
    params: dict = field(default_factory=dict)
    knockdown_effects_rna: pd.DataFrame = field(default_factory=_empty_rna_effects)

    @staticmethod
    def prepare_folder(out: str | Path, force: bool = False, *, inputs: dict | None = None,
                       check_only: bool = False) -> Path:
        """Make ``out`` ready for :meth:`write`; refuse whatever would lose a file.

        A non-empty ``out`` needs ``force``; then the files an earlier simulation recorded
        there are replaced, a file of a simulation's name that cmcvae did not record is a
        refusal, and other files are left alone (:func:`cmcvae.io.prepare_output`).

        Parameters
        ----------
        out
            The folder.
        force
            Replace an earlier simulation's files.
        inputs
            Inputs of the calling command, ``{label: path}``: refused when one would be replaced.
        check_only
            Only check; change nothing.

        Returns
        -------
        The folder as a :class:`~pathlib.Path`.
        """
        return _prepare_folder(out, force, inputs=inputs, check_only=check_only)

    def write(self, out: str | Path, force: bool = False) -> Path:
        """Write the dataset into folder ``out`` (layout in :data:`OUTPUT_FILES`).

        Parameters
        ----------
        out
            Output folder; created if missing.
        force
            Overwrite the simulator's files in an existing non-empty folder: only those an
            earlier simulation recorded writing there (the folder's manifest). Other files in
            the folder are left alone.

        Returns
        -------
        The output folder as a :class:`~pathlib.Path`.

        Raises
        ------
        CMCVAEInputError
            If ``out`` is a file, a non-empty folder and ``force`` is false, or holds a file of
            a simulation's name that cmcvae did not record writing (:meth:`prepare_folder`).
        """
        out = self.prepare_folder(out, force)
        record_files(out, OUTPUT_FILES, "simulate")  # listed before written
        (out / "priors").mkdir(parents=True, exist_ok=True)
        (out / "truth").mkdir(parents=True, exist_ok=True)
        for name, mdata in (("train.h5mu", self.mdata), ("perturb.h5mu", self.perturb)):
            path = out / name
            if path.exists():
                path.unlink()
            mdata.write(path)
        self.grn_prior.to_csv(out / "priors" / "grn.csv", index=False)
        self.ppi_prior.to_csv(out / "priors" / "ppi.csv", index=False)
        self.protein_map.to_csv(out / "protein_map.csv", index=False)
        self.truth.to_csv(out / "truth" / "edges.csv", index=False)
        self.matched_pairs.to_csv(out / "truth" / "matched_pairs.csv", index=False)
        self.knockdown_effects.to_csv(out / "truth" / "knockdown_effects.csv", index=False)
        self.knockdown_effects_rna.to_csv(out / "truth" / "knockdown_effects_rna.csv",
                                          index=False)
        (out / "params.json").write_text(json.dumps(self.params, indent=2) + "\n")
        return out


def _prepare_folder(out: str | Path, force: bool = False, *, inputs: dict | None = None,
                    check_only: bool = False) -> Path:
    """Make ``out`` ready for a simulation (:meth:`SimulatedData.prepare_folder`)."""
    return prepare_output(out, force=force, owned=OUTPUT_FILES, writes=OUTPUT_FILES,
                          command="simulate", inputs=inputs, what="output folder",
                          check_only=check_only)


def read_simulation(folder: str | Path) -> SimulatedData:
    """Read a dataset written by :meth:`SimulatedData.write`.

    Parameters
    ----------
    folder
        Folder holding the files listed in :data:`OUTPUT_FILES`. A folder written before
        ``truth/knockdown_effects_rna.csv`` existed is read too, with an empty
        ``knockdown_effects_rna`` (columns ``perturbation,gene,true_effect``, no rows).

    Returns
    -------
    The :class:`SimulatedData` (global ``obs`` columns are read as written, without pulling
    modality columns).

    Raises
    ------
    CMCVAEInputError
        If a file other than ``truth/knockdown_effects_rna.csv`` is missing.
    """
    folder = Path(folder)
    missing = [f for f in OUTPUT_FILES
               if f not in _OPTIONAL_FILES and not (folder / f).is_file()]
    if missing:
        raise CMCVAEInputError(
            f"{folder} is not a complete simulation folder (missing {', '.join(missing)}); "
            "write one with `cmcvae simulate --out DIR`."
        )
    with md.set_options(pull_on_update=False):
        train = md.read_h5mu(folder / "train.h5mu")
        perturb = md.read_h5mu(folder / "perturb.h5mu")
    prior_dtypes = {"source": str, "target": str, "weight": float}
    return SimulatedData(
        mdata=train,
        perturb=perturb,
        grn_prior=pd.read_csv(folder / "priors" / "grn.csv", dtype=prior_dtypes),
        ppi_prior=pd.read_csv(folder / "priors" / "ppi.csv", dtype=prior_dtypes),
        protein_map=pd.read_csv(folder / "protein_map.csv", dtype=str),
        truth=pd.read_csv(folder / "truth" / "edges.csv"),
        matched_pairs=pd.read_csv(folder / "truth" / "matched_pairs.csv", dtype=str),
        knockdown_effects=pd.read_csv(folder / "truth" / "knockdown_effects.csv"),
        params=json.loads((folder / "params.json").read_text()),
        knockdown_effects_rna=_read_rna_effects(folder / "truth" / "knockdown_effects_rna.csv"),
    )


def _read_rna_effects(path: Path) -> pd.DataFrame:
    """``truth/knockdown_effects_rna.csv``, or an empty table when the folder predates it."""
    if not path.is_file():
        return _empty_rna_effects()
    return pd.read_csv(path, dtype={"perturbation": str, "gene": str, "true_effect": float})
