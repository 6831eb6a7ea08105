"""Bad-input cases: options and config fields (see tests/cli/_cases.py).

Options are checked while the command line is parsed (a usage error: exit code 2 naming the
option, the value and the allowed range); config fields by ``CMCVAEConfig``'s table of rules,
whether they come from a YAML or a JSON ``--config`` file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from tests.cli._cases import Case

FIT = ("fit", "{sim}/train.h5mu", "--out", "{tmp}/r")
VALIDATE = ("validate", "{run}", "--perturb", "{sim}/perturb.h5mu")
SIMULATE = ("simulate", "--out", "{tmp}/s", "--cells", "100", "--genes", "10", "--proteins", "2",
            "--perturbations", "3")
RUN = ("run", "--out", "{tmp}/p")


def _write(name: str, content: str | bytes) -> Callable[[Path], None]:
    """A setup writing ``content`` to ``tmp/name`` (a config file, or a file to write below)."""
    def setup(root: Path) -> None:
        path = root / "tmp" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return setup


def _config(case_id: str, text: str | bytes, message: str, suffix: str = "yaml", code: int = 2,
            command: tuple[str, ...] = FIT) -> Case:
    """A fit (or run) with ``--config`` holding ``text``; one epoch when the config is valid."""
    epochs = ("--max-epochs", "1") if code == 0 else ()
    return Case(case_id, (*command, "--config", f"{{tmp}}/c.{suffix}", *epochs), message,
                setup=_write(f"c.{suffix}", text), code=code)


def _field(field: str, value: str, allowed: str, shown: str | None = None) -> Case:
    """A config file setting one field out of its range: the message names the field, the value
    (as read: ``shown``) and the allowed range."""
    return _config(f"config-{field}-{value}", f"{field}: {value}\n",
                   rf"c\.yaml.*field {field}: got .*{_escape(shown or value)}.*{field} must be .*{allowed}")


def _escape(text: str) -> str:
    return "".join("\\" + c if c in r".^$*+?{}[]\|()" else c for c in text)


# ------------------------------------------------------------------------------ options
OPTION_CASES = [
    Case("fit-missing-data", ("fit", "{tmp}/missing.h5mu", "--out", "{tmp}/r"), r"not found|does not exist"),
    Case("fit-seed-negative", (*FIT, "--seed", "-1"), r"--seed.*-1 is out of range.*from 0 to 4294967295"),
    Case("fit-seed-too-large", (*FIT, "--seed", "4294967296"), r"--seed.*4294967296 is out of range"),
    Case("fit-seed-not-a-number", (*FIT, "--seed", "one"), r"--seed.*(integer|number)"),
    Case("simulate-seed-negative", (*SIMULATE, "--seed", "-1"), r"--seed.*-1 is out of range"),
    Case("run-seed-negative", (*RUN, "--seed", "-1"), r"--seed.*-1 is out of range"),
    Case("validate-seed-negative", (*VALIDATE, "--seed", "-1"), r"--seed.*-1 is out of range"),
    Case("analyze-seed-negative", ("analyze", "{run}", "--seed", "-1"), r"--seed.*-1 is out of range"),
    Case("fit-max-epochs-zero", (*FIT, "--max-epochs", "0"), r"--max-epochs.*0 is out of range.*≥ 1"),
    Case("fit-max-epochs-negative", (*FIT, "--max-epochs", "-1"), r"--max-epochs.*-1 is out of range.*≥ 1"),
    Case("run-max-epochs-zero", (*RUN, "--max-epochs", "0"), r"--max-epochs.*0 is out of range"),
    Case("fit-seeds-max-epochs-zero", (*FIT, "--seeds", "0,1", "--max-epochs", "0"), r"--max-epochs.*out of range"),
    Case("fit-precision-bogus", (*FIT, "--precision", "bogus"), r"--precision.*bogus.*32-true.*bf16-mixed"),
    Case("fit-precision-64-true", (*FIT, "--precision", "64-true"), r"--precision.*64-true.*not.*one.*of"),
    Case("fit-accelerator-bogus", (*FIT, "--accelerator", "quantum"), r"--accelerator.*quantum.*cpu"),
    Case("fit-devices-zero", (*FIT, "--devices", "0"), r"--devices.*'0' is not a number of devices"),
    Case("fit-devices-text", (*FIT, "--devices", "many"), r"--devices.*'many'.*auto"),
    Case("fit-num-nodes-zero", (*FIT, "--num-nodes", "0"), r"--num-nodes.*0 is out of range"),
    Case("fit-arch-bogus", (*FIT, "--arch", "vae"), r"--arch.*vae.*latent.*sem"),
    Case("resume-precision-bogus", ("fit", "--resume", "{run}", "--precision", "bogus"), r"--precision.*bogus"),
    Case("validate-min-cells-negative", (*VALIDATE, "--min-cells", "-1"), r"--min-cells.*-1 is out of range.*≥ 2"),
    Case("validate-min-cells-zero", (*VALIDATE, "--min-cells", "0"), r"--min-cells.*0 is out of range"),
    Case("validate-fdr-zero", (*VALIDATE, "--fdr", "0"), r"--fdr.*0.* is out of range.*from 0 to 1"),
    Case("validate-fdr-above-one", (*VALIDATE, "--fdr", "1.5"), r"--fdr.*1\.5 is out of range"),
    Case("validate-test-bogus", (*VALIDATE, "--test", "ttest"), r"--test.*ttest.*welch.*mannwhitney"),
    Case("run-cells-10", (*RUN, "--cells", "10"), r"--cells.*10 is out of range.*≥ 100"),
    Case("run-genes-too-few", (*RUN, "--genes", "10"), r"--genes.*10 is out of range.*≥ 30.*knocks down 30"),
    Case("run-proteins-zero", (*RUN, "--proteins", "0"), r"--proteins.*0 is out of range"),
    Case("run-donors-zero", (*RUN, "--donors", "0"), r"--donors.*0 is out of range"),
    Case("run-proteins-over-genes", (*RUN, "--cells", "200", "--genes", "40", "--proteins", "39"),
         r"--proteins 39 is too many for --genes 40.*at most .*38"),
    Case("run-regime-bogus", (*RUN, "--regime", "sideways"), r"--regime.*sideways.*forward"),
    Case("simulate-cells-zero", (*SIMULATE, "--cells", "0"), r"--cells.*0 is out of range.*≥ 1"),
    Case("simulate-genes-two", (*SIMULATE, "--genes", "2"), r"--genes.*2 is out of range.*≥ 3"),
    Case("simulate-proteins-negative", (*SIMULATE, "--proteins", "-3"), r"--proteins.*-3 is out of range"),
    Case("simulate-proteins-over-genes", (*SIMULATE, "--proteins", "9"), r"--proteins 9 is too many for --genes 10"),
    Case("simulate-donors-zero", (*SIMULATE, "--donors", "0"), r"--donors.*0 is out of range"),
    Case("simulate-donors-over-cells", (*SIMULATE, "--donors", "101"), r"--donors 101 is more than --cells 100"),
    Case("simulate-perturbations-negative", (*SIMULATE, "--perturbations", "-1"), r"--perturbations.*-1 is out of range"),
    Case("simulate-perturbations-over-genes", (*SIMULATE, "--perturbations", "11"),
         r"--perturbations 11 exceeds --genes 10"),
    Case("priors-timeout-zero", ("priors", "collectri", "--input", "{sim}/priors/grn.csv", "--out", "{tmp}/g.csv",
                                 "--timeout", "0"), r"--timeout.*0 is out of range.*> 0"),
]

# ---------------------------------------------------------------------- --out paths
_FILE = _write("afile", "a user's file\n")
OUT_CASES = [
    Case("fit-out-below-file", ("fit", "{sim}/train.h5mu", "--out", "{tmp}/afile/run"),
         r"--out.*afile is a regular file.*nothing can be written below it", setup=_FILE),
    Case("fit-out-is-file", ("fit", "{sim}/train.h5mu", "--out", "{tmp}/afile"),
         r"--out.*afile is a file, not a folder", setup=_FILE),
    Case("fit-out-deep-below-file", ("fit", "{sim}/train.h5mu", "--out", "{tmp}/afile/a/b/run"),
         r"afile is a regular file", setup=_FILE),
    Case("simulate-out-below-file", ("simulate", "--out", "{tmp}/afile/sim"), r"afile is a regular file", setup=_FILE),
    Case("run-out-below-file", ("run", "--out", "{tmp}/afile/proj"), r"afile is a regular file", setup=_FILE),
    Case("report-out-below-file", ("report", "{run}", "--out", "{tmp}/afile/report.html"),
         r"afile is a regular file", setup=_FILE),
    Case("report-out-is-folder", ("report", "{run}", "--out", "{tmp}"), r"--out.*is a folder; give a file name"),
    Case("priors-out-below-file", ("priors", "collectri", "--input", "{sim}/priors/grn.csv", "--out",
                                   "{tmp}/afile/grn.csv"), r"afile is a regular file", setup=_FILE),
    Case("benchmark-out-below-file", ("benchmark", "--out", "{tmp}/afile/bm"), r"afile is a regular file",
         setup=_FILE),
    Case("data-fetch-dest-below-file", ("data", "fetch", "pbmc10k_protein_v3", "--dest", "{tmp}/afile/d"),
         r"--dest.*afile is a regular file", setup=_FILE),
]
if hasattr(os, "geteuid") and os.geteuid() != 0:  # root writes anywhere: chmod cannot test it there
    def _read_only(root: Path) -> None:
        (root / "tmp" / "locked").mkdir()
        (root / "tmp" / "locked").chmod(0o500)

    OUT_CASES.append(Case("fit-out-unwritable-folder", ("fit", "{sim}/train.h5mu", "--out", "{tmp}/locked/run"),
                          r"--out.*may not write in .*locked", setup=_read_only))
if not torch.cuda.is_available():
    OUT_CASES.append(Case("fit-accelerator-gpu-without-gpu", (*FIT, "--accelerator", "gpu"),
                          r"no CUDA GPU is visible.*--accelerator cpu"))

# ------------------------------------------------------------------------ config files
CONFIG_CASES = [
    _field("lr", "-0.001", r"finite number > 0"),
    _field("lr", ".nan", r"finite number > 0", "nan, not a finite number"),
    _field("lr", ".inf", r"finite number > 0", "inf, not a finite number"),
    _field("batch_size", "0", r"whole number ≥ 1"),
    _field("batch_size", "2.5", r"whole number ≥ 1"),
    _field("max_epochs", "-5", r"whole number ≥ 1"),
    _field("max_epochs", "0", r"whole number ≥ 1"),
    _field("threshold", "-1", r"≥ 0"),
    _field("n_hidden", "0", r"whole number ≥ 1"),
    _field("n_layers", "0", r"whole number ≥ 1"),
    _field("dag_stages", "0", r"whole number ≥ 1"),
    _field("epochs_per_stage", "0", r"whole number ≥ 1"),
    _field("n_latent_rna", "-2", r"whole number ≥ 0"),
    _field("prior_holdout", "1.5", r"≥ 0 and < 1"),
    _field("guard_margin", "0", r"> 0 and ≤ 1"),
    _field("seed", "-1", r"≥ 0 and ≤ 4294967295"),
    _field("edge_top_k", "0", r"whole number ≥ 1"),
    _field("lambda_prior", "-100", r"≥ 0"),
    _field("likelihood", "poisson", r"'nb' or 'gaussian'"),
    _field("arch", "vae", r"'latent' or 'sem'"),
    _field("sem_score", "l2", r"'nv' or 'ls' or 'me'"),
    _field("prior_sign", "maybe", r"true or false"),
    _config("config-lr-text", "lr: fast\n", r"lr: got the text 'fast', not a number.*finite number > 0"),
    _config("config-max-epochs-quoted", 'max_epochs: "40"\n', r"max_epochs: got the text '40', not a number"),
    _config("config-split-two", "split: [0.9, 0.1]\n", r"split.*three fractions.*summing to 1"),
    _config("config-split-sum", "split: [0.5, 0.3, 0.1]\n", r"split.*summing to 1"),
    _config("config-s-schedule-empty", "s_schedule: []\n", r"s_schedule.*non-empty list of numbers > 0"),
    _config("config-both-latents-zero", "n_latent_rna: 0\nn_latent_protein: 0\n",
            r"n_latent_rna and n_latent_protein are both 0"),
    _config("config-unknown-key", "lamda_dag: 2\n", r"Unknown config key.*lamda_dag.*Valid keys"),
    _config("config-json-batch-size-zero", '{"batch_size": 0}', r"c\.json.*batch_size: got 0.*≥ 1", "json"),
    _config("config-json-lr-string", '{"lr": "0.01"}', r"lr: got the text '0\.01', not a number", "json"),
    _config("config-yaml-malformed", "lr: 0.01\nsplit: [0.8, 0.1,\n",
            r"c\.yaml is not valid YAML at line \d+, column \d+"),
    _config("config-yaml-tab-indent", "lr: 0.01\n\tbatch_size: 8\n", r"c\.yaml is not valid YAML at line 2"),
    _config("config-json-malformed", '{"lr": 0.01,}', r"c\.json is not valid JSON at line 1, column \d+", "json"),
    _config("config-json-multiline", '{\n "lr": 0.01\n "beta": 1\n}', r"not valid JSON at line 3", "json"),
    _config("config-top-level-list", "- lr\n- 0.01\n", r"c\.yaml must hold a mapping of field: value.*not a list"),
    _config("config-top-level-number", "42", r"must hold a mapping.*not a int", "json"),
    _config("config-empty", "", r"c\.yaml is empty"),
    _config("config-comments-only", "# nothing yet\n", r"c\.yaml holds no fields"),
    _config("config-binary", b"\x89HDF\r\n\x1a\n\xff\xfe\x00", r"c\.yaml is not a text file"),
    Case("config-is-folder", (*FIT, "--config", "{tmp}"), r"is a folder; give a \.yaml or \.json file"),
    Case("config-missing", (*FIT, "--config", "{tmp}/none.yaml"), r"none\.yaml does not exist"),
    _config("run-config-threshold-negative", "threshold: -1\n", r"threshold: got -1.*≥ 0",
            command=(*RUN, "--cells", "200", "--genes", "40", "--proteins", "6")),
    # valid but unusual: must still work
    _config("config-yaml-exponent-and-integral-float", "lr: 1e-3\nbatch_size: 256.0\nthreshold: 0\n",
            r"Trained 1 epochs", code=0),
    _config("config-json-valid", '{"lr": 0.002, "arch": "poster", "kl_warmup_epochs": 0}',
            r"Trained 1 epochs", "json", code=0),
    Case("fit-arch-upper-case", (*FIT, "--arch", "LATENT", "--max-epochs", "1", "--seed", "4294967295"),
         r"Trained 1 epochs", code=0),
]
CASES: list[Case] = [*OPTION_CASES, *OUT_CASES, *CONFIG_CASES]

#: ``cmcvae prepare`` options (the QC thresholds and the HVG count).
PREPARE = ("prepare", "{sim}/train.h5mu", "--out", "{tmp}/atlas.h5mu")
PREPARE_CASES: list[Case] = [
    Case("prepare-n-top-genes-zero", (*PREPARE, "--n-top-genes", "0"), r"--n-top-genes 0 is out of range: use a whole number ≥ 1"),
    Case("prepare-min-genes-negative", (*PREPARE, "--min-genes", "-1"), r"--min-genes -1 is out of range"),
    Case("prepare-max-mito-above-one", (*PREPARE, "--max-mito", "1.5"), r"--max-mito 1.5 is out of range: use a fraction from 0 to 1"),
    Case("prepare-min-protein-counts-negative", (*PREPARE, "--min-protein-counts", "-3"), r"--min-protein-counts -3(\.0)? is out of range"),
    Case("prepare-out-below-a-file", ("prepare", "{sim}/train.h5mu", "--out", "{sim}/protein_map.csv/atlas.h5mu"),
         r"is a regular file, so nothing can be written below it"),
]
CASES += PREPARE_CASES
