"""Bad-input cases: force (see tests/cli/_cases.py).

``--force`` replaces only the files cmcvae recorded writing (the folder's manifest,
``.cmcvae-manifest.json``), never an input of the same command, never anything else. Each data
loss the audit found is a row (the user's files must come out intact), next to rows where
``--force`` re-runs a command into its own folder (code 0, ``replaced=`` the files it rewrites).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cmcvae.datasets._simulate import OUTPUT_FILES
from cmcvae.io import MANIFEST, report_files, run_folder_files
from cmcvae.report import write_report
from cmcvae.tl import fit_seeds, prepare_run, run_default
from tests.cli._cases import Case

SMALL_RUN = ("--cells", "600", "--genes", "40", "--proteins", "6", "--donors", "3",
             "--max-epochs", "2")
SMALL_SIM = ("--cells", "300", "--genes", "30", "--proteins", "5", "--donors", "2",
             "--perturbations", "3")
FIT = ("fit", "{sim}/train.h5mu", "--max-epochs", "2", "--protein-map", "{sim}/protein_map.csv")
PREPARE = ("--n-top-genes", "20", "--min-genes", "1", "--min-protein-counts", "0")

#: what a fit rewrites in its run folder (every run-folder file and the manifest)
RUN_OWN = (*(f"{{run}}/{name}" for name in run_folder_files()), f"{{run}}/{MANIFEST}")
#: what a simulation rewrites in its folder
SIM_OWN = (*(f"{{sim}}/{name}" for name in OUTPUT_FILES), f"{{sim}}/{MANIFEST}")


def _write(rel: str, text: str = "the user's own file\n"):
    """Setup: write a user's file at ``root/rel``."""
    def setup(root: Path) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return setup


def _copy(src: str, dst: str):
    """Setup: copy ``root/src`` to ``root/dst`` (a user's copy of an input)."""
    def setup(root: Path) -> None:
        (root / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / src, root / dst)
    return setup


def _all(*steps):
    def setup(root: Path) -> None:
        for step in steps:
            step(root)
    return setup


def _drop_manifest(folder: str):
    """Setup: a folder written by a cmcvae that kept no manifest."""
    def setup(root: Path) -> None:
        (root / folder / MANIFEST).unlink()
    return setup


def _edit_manifest(folder: str, edit):
    def setup(root: Path) -> None:
        path = root / folder / MANIFEST
        data = json.loads(path.read_text())
        edit(data["files"])
        path.write_text(json.dumps(data))
    return setup


def _earlier_run(root: Path) -> None:
    """Setup: ``cmcvae run --out tmp/PROJ`` done once, the user's notes added to its folders."""
    run_default(root / "tmp" / "PROJ", max_epochs=2, progress_bar=False,
                sim_kwargs={"n_cells": 600, "n_genes": 40, "n_proteins": 6, "n_donors": 3})
    (root / "tmp" / "PROJ" / "run" / "notes.md").write_text("my notes\n")
    (root / "tmp" / "PROJ" / "data" / "x.h5mu").write_text("my data\n")


def _earlier_prepare(root: Path) -> None:
    prepare_run([root / "sim" / "train.h5mu"], root / "tmp" / "atlas.h5mu", n_top_genes=20,
                min_genes=1, min_protein_counts=0, grn_prior=root / "sim" / "priors" / "grn.csv")
    (root / "tmp" / "notes.md").write_text("my notes\n")


def _earlier_ensemble(root: Path) -> None:
    fit_seeds(root / "sim" / "train.h5mu", root / "tmp" / "ENS", "0,1", max_epochs=2,
              protein_map=root / "sim" / "protein_map.csv", progress_bar=False)
    (root / "tmp" / "ENS" / "notes.md").write_text("my notes\n")
    (root / "tmp" / "ENS" / "seed_0" / "notes.md").write_text("my notes\n")


def _earlier_report(root: Path) -> None:
    write_report(root / "run")
    (root / "run" / "figures" / "my_plot.png").write_bytes(b"my plot")


_PROJ = "{tmp}/PROJ"
_PROJ_OWN = (f"{_PROJ}/summary.json", f"{_PROJ}/{MANIFEST}",
             *(f"{_PROJ}/data/{name}" for name in (*OUTPUT_FILES, MANIFEST)),
             *(f"{_PROJ}/run/{name}" for name in (*run_folder_files(), MANIFEST)))
_ENS = "{tmp}/ENS"
_ENS_OWN = (*(f"{_ENS}/{name}" for name in (*run_folder_files(ensemble=True), MANIFEST)),
            *(f"{_ENS}/seed_{k}/{name}" for k in (0, 1) for name in (*run_folder_files(), MANIFEST)))
_ATLAS_OWN = tuple(f"{{tmp}}/atlas{suffix}" for suffix in
                   (".h5mu", ".report.json", ".protein_map.csv", ".grn.csv")) + (f"{{tmp}}/{MANIFEST}",)
_UNRECORDED = r"no record of writing"
_INPUT = r"is an input of this command"

CASES: list[Case] = [
    # --- the audit's data losses: the user's files stay, whatever --force is asked -------------
    Case("force_run_keeps_user_data_and_notes",
         ("run", "--out", _PROJ, "--force", *SMALL_RUN), r"Results in",
         setup=_all(_write("tmp/PROJ/data/x.h5mu"), _write("tmp/PROJ/run/notes.md")), code=0),
    Case("force_run_refuses_unrecorded_simulation_file",
         ("run", "--out", _PROJ, "--force", *SMALL_RUN), rf"holds train\.h5mu.*{_UNRECORDED}",
         setup=_write("tmp/PROJ/data/train.h5mu")),
    Case("force_run_refuses_unrecorded_run_file",
         ("run", "--out", _PROJ, "--force", *SMALL_RUN), rf"holds edges\.csv.*{_UNRECORDED}.*--out",
         setup=_all(_write("tmp/PROJ/notes.md"), _write("tmp/PROJ/run/edges.csv"))),
    Case("force_run_refuses_unrecorded_summary",
         ("run", "--out", _PROJ, "--force", *SMALL_RUN), rf"holds summary\.json.*{_UNRECORDED}",
         setup=_write("tmp/PROJ/summary.json")),
    Case("force_fit_keeps_prior_given_inside_out",
         (*FIT, "--out", "{run}", "--force", "--grn-prior", "{run}/priors/mine.csv"),
         r"Run written to", setup=_all(_copy("sim/priors/grn.csv", "run/priors/mine.csv"),
                                       _write("run/notes.md")),
         code=0, replaced=RUN_OWN),
    Case("force_fit_refuses_input_it_would_replace",
         (*FIT, "--out", "{run}", "--force", "--grn-prior", "{run}/edges.csv"),
         rf"--grn-prior .*{_INPUT}.*copy"),
    Case("force_fit_refuses_protein_map_it_would_replace",
         ("fit", "{sim}/train.h5mu", "--out", "{run}", "--force", "--max-epochs", "2",
          "--protein-map", "{run}/matched_pairs.csv"), rf"--protein-map .* {_INPUT}"),
    Case("force_fit_refuses_input_folder_holding_replaced_file",
         ("fit", "{run}/model", "--out", "{run}", "--force"), rf"DATA .*{_INPUT}.*\(it holds"),
    Case("force_fit_refuses_unrecorded_run_files",
         (*FIT, "--out", "{tmp}/D", "--force"), rf"holds edges\.csv.*{_UNRECORDED}.*move it",
         setup=_all(_write("tmp/D/edges.csv"), _write("tmp/D/notes.md"))),
    Case("force_fit_old_run_folder_without_manifest",
         (*FIT, "--out", "{run}", "--force"), rf"{_UNRECORDED}.*version that kept no manifest",
         setup=_drop_manifest("run")),
    Case("force_fit_corrupt_manifest",
         (*FIT, "--out", "{run}", "--force"), r"not a cmcvae manifest.*another --out",
         setup=_write(f"run/{MANIFEST}", "{not json")),
    Case("force_fit_manifest_entry_outside_folder_is_ignored",
         (*FIT, "--out", "{run}", "--force"), r"Run written to",
         setup=_edit_manifest("run", lambda files: files.update(
             {"../sim/train.h5mu": {"command": "fit"}, "/etc/hostname": {"command": "fit"}})),
         code=0, replaced=RUN_OWN),
    Case("force_fit_does_not_replace_simulation_files",
         (*FIT, "--out", "{sim}", "--force"), r"Run written to",
         code=0, replaced=tuple(f"{{sim}}/{name}" for name in (*run_folder_files(), MANIFEST))),
    Case("force_simulate_refuses_unrecorded_file",
         ("simulate", "--out", "{tmp}/S", "--force", *SMALL_SIM), rf"holds train\.h5mu.*{_UNRECORDED}",
         setup=_all(_write("tmp/S/train.h5mu"), _write("tmp/S/notes.md"))),
    Case("force_simulate_keeps_user_files",
         ("simulate", "--out", "{tmp}/S", "--force", *SMALL_SIM), r"Wrote simulation",
         setup=_all(_write("tmp/S/notes.md"), _write("tmp/S/truth/mine.csv")), code=0),
    Case("force_simulate_old_folder_without_manifest",
         ("simulate", "--out", "{sim}", "--force", *SMALL_SIM), _UNRECORDED,
         setup=_drop_manifest("sim")),
    Case("simulate_out_is_a_file", ("simulate", "--out", "{sim}/train.h5mu", *SMALL_SIM),
         r"is a file, not a folder"),
    Case("prepare_input_is_out_force",
         ("prepare", "{tmp}/in.h5mu", "--out", "{tmp}/in.h5mu", "--force", *PREPARE),
         rf"INPUTS \(1\) .*{_INPUT}", setup=_copy("sim/train.h5mu", "tmp/in.h5mu")),
    Case("prepare_input_is_out",
         ("prepare", "{sim}/train.h5mu", "--out", "{sim}/train.h5mu", *PREPARE), _INPUT),
    Case("prepare_prior_is_a_side_file",
         ("prepare", "{sim}/train.h5mu", "--out", "{tmp}/atlas.h5mu", "--force", *PREPARE,
          "--grn-prior", "{tmp}/atlas.grn.csv"), rf"--grn-prior .*{_INPUT}",
         setup=_copy("sim/priors/grn.csv", "tmp/atlas.grn.csv")),
    Case("prepare_force_refuses_unrecorded_side_file",
         ("prepare", "{sim}/train.h5mu", "--out", "{tmp}/atlas.h5mu", "--force", *PREPARE),
         rf"holds atlas\.report\.json.*{_UNRECORDED}", setup=_write("tmp/atlas.report.json")),
    Case("prepare_force_refuses_unrecorded_atlas",
         ("prepare", "{sim}/train.h5mu", "--out", "{tmp}/atlas.h5mu", "--force", *PREPARE),
         rf"holds atlas\.h5mu.*{_UNRECORDED}", setup=_copy("sim/perturb.h5mu", "tmp/atlas.h5mu")),
    Case("report_force_refuses_unrecorded_html",
         ("report", "{run}", "--out", "{tmp}/mine.html", "--force"), rf"holds mine\.html.*{_UNRECORDED}",
         setup=_write("tmp/mine.html")),
    Case("report_out_is_another_commands_file",
         ("report", "{run}", "--out", "{run}/validation.json", "--force"),
         r"over the run folder's validation\.json, which other commands read"),
    Case("report_out_is_a_run_file_not_yet_written",
         ("report", "{run}", "--out", "{run}/analysis.json"), r"over the run folder's analysis\.json"),
    Case("report_refuses_unrecorded_figure",
         ("report", "{run}"), rf"holds figures/roc\.png.*{_UNRECORDED}", setup=_write("run/figures/roc.png")),
    Case("validate_refuses_unrecorded_results",
         ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu"), rf"holds validation\.json.*{_UNRECORDED}",
         setup=_drop_manifest("run")),
    Case("validate_perturb_is_its_own_output",
         ("validate", "{run}", "--perturb", "{run}/predictions.csv"), rf"--perturb .* {_INPUT}"),
    Case("fit_seeds_force_refuses_unrecorded_summary",
         (*FIT, "--out", _ENS, "--seeds", "0,1", "--force"), rf"holds stability\.csv.*{_UNRECORDED}",
         setup=_all(_write("tmp/ENS/stability.csv"), _write("tmp/ENS/notes.md"))),
    Case("fit_seeds_force_refuses_unrecorded_seed_file",
         (*FIT, "--out", _ENS, "--seeds", "0,1", "--force"), rf"seed_.*holds edges\.csv.*{_UNRECORDED}",
         setup=_all(_write("tmp/ENS/seed_1/edges.csv"), _write("tmp/ENS/notes.md"))),
    # --- --force into cmcvae's own folder: its own files replaced, the user's kept -------------
    Case("force_fit_rerun_own_run_folder",
         (*FIT, "--out", "{run}", "--force"), r"Run written to",
         setup=_all(_write("run/notes.md"), _write("run/model/README")), code=0, replaced=RUN_OWN),
    Case("force_run_rerun_own_folder",
         ("run", "--out", _PROJ, "--force", *SMALL_RUN), r"Results in", setup=_earlier_run,
         code=0, replaced=_PROJ_OWN),
    Case("force_simulate_rerun_own_folder",
         ("simulate", "--out", "{sim}", "--force", *SMALL_SIM), r"Wrote simulation",
         setup=_write("sim/notes.md"), code=0, replaced=SIM_OWN),
    Case("force_prepare_rerun_own_files",
         ("prepare", "{sim}/train.h5mu", "--out", "{tmp}/atlas.h5mu", "--force", *PREPARE,
          "--grn-prior", "{sim}/priors/grn.csv"), r"matched protein",
         setup=_earlier_prepare, code=0, replaced=_ATLAS_OWN),
    Case("force_fit_seeds_rerun_own_ensemble",
         (*FIT, "--out", _ENS, "--seeds", "0,1", "--force"), r"Ensemble of 2 seeds",
         setup=_earlier_ensemble, code=0, replaced=_ENS_OWN),
    Case("force_report_rerun_own_report",
         ("report", "{run}", "--force"), r"Wrote the report", setup=_earlier_report, code=0,
         replaced=(*(f"{{run}}/{name}" for name in report_files()), f"{{run}}/{MANIFEST}")),
    Case("validate_rerun_own_results",
         ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu"), r"Zero-shot validation",
         setup=_write("run/notes.md"), code=0,
         replaced=("{run}/validation.json", "{run}/predictions.csv", f"{{run}}/{MANIFEST}")),
]
