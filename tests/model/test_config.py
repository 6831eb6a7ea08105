"""CMCVAEConfig's schema: every field has a rule, checked at creation, on assignment and on load."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from cmcvae import CMCVAEConfig, CMCVAEInputError
from cmcvae.model import FIELD_RULES, MAX_SEED

REPO = Path(__file__).resolve().parents[2]

#: CMCVAEConfig().to_dict() before the schema was added: the defaults must not change.
DEFAULTS = {
    "n_latent_rna": 64, "n_latent_protein": 16, "n_hidden": 256, "n_layers": 2, "likelihood": "nb",
    "allow_protein_to_rna": True, "donor_onehot_max": 32, "donor_embedding_dim": 16, "beta": 1.0,
    "kl_warmup_epochs": 10, "lambda_dag": 1.0, "lambda_prior": 100.0, "prior_margin": 0.05,
    "prior_sign": False, "lambda_sparse": 0.01, "lambda_dec": 1e-4, "lambda_ortho": 0.1,
    "prior_holdout": 0.2, "dag_stages": 4, "epochs_per_stage": 8, "dag_penalty_growth": 10.0,
    "s_schedule": [1.0, 0.9, 0.8, 0.7], "guard_margin": 0.99, "lr": 1e-3, "batch_size": 1024,
    "max_epochs": 80, "early_stopping_patience": 8, "split": [0.8, 0.1, 0.1], "seed": 0,
    "threshold": 0.02, "edge_top_k": 5000, "arch": "latent", "sem_l1": 0.1, "sem_floor": 0.4,
    "sem_lr": 5e-3, "sem_stages": [[1.0, 1.0, 300], [0.1, 0.9, 300], [0.01, 0.8, 300], [0.001, 0.7, 400]],
    "sem_thinning": True, "sem_score": "nv", "sem_lambda_prior": 0.0, "sem_prior_orient": False,
    "sem_interventions": True,
}


def test_defaults_are_unchanged():
    assert json.dumps(CMCVAEConfig().to_dict(), sort_keys=True) == json.dumps(DEFAULTS, sort_keys=True)
    assert CMCVAEConfig.from_dict(CMCVAEConfig().to_dict()) == CMCVAEConfig()


def test_every_field_has_exactly_one_rule():
    assert set(FIELD_RULES) == {f.name for f in dataclasses.fields(CMCVAEConfig)}


@pytest.mark.parametrize("name", sorted(FIELD_RULES))
def test_every_default_follows_its_rule(name):
    rule = FIELD_RULES[name]
    assert rule.apply(DEFAULTS[name]) == DEFAULTS[name]
    assert rule.allowed()  # every rule can say what it accepts


BAD = [
    ("lr", -0.001, "finite number > 0"), ("lr", math.nan, "not a finite number"),
    ("lr", math.inf, "not a finite number"), ("lr", 0, "> 0"), ("lr", "1e-3", "the text '1e-3'"),
    ("batch_size", 0, "≥ 1"), ("batch_size", 2.5, "not a whole number"), ("batch_size", True, "not a number"),
    ("max_epochs", -5, "≥ 1"), ("max_epochs", 0, "≥ 1"), ("max_epochs", "80", "the text '80'"),
    ("n_hidden", 0, "≥ 1"), ("n_layers", 0, "≥ 1"), ("dag_stages", 0, "≥ 1"), ("epochs_per_stage", 0, "≥ 1"),
    ("threshold", -1, "≥ 0"), ("threshold", math.nan, "finite"), ("n_latent_rna", -1, "≥ 0"),
    ("n_latent_protein", 1.5, "whole"), ("donor_onehot_max", 0, "≥ 1"), ("donor_embedding_dim", 0, "≥ 1"),
    ("beta", -1, "≥ 0"), ("kl_warmup_epochs", -1, "≥ 0"), ("lambda_dag", -1, "≥ 0"),
    ("lambda_prior", -1, "≥ 0"), ("prior_margin", -0.1, "≥ 0"), ("lambda_sparse", -1, "≥ 0"),
    ("lambda_dec", -1, "≥ 0"), ("lambda_ortho", -1, "≥ 0"), ("prior_holdout", 1.0, "< 1"),
    ("prior_holdout", -0.1, "≥ 0"), ("dag_penalty_growth", 0, "> 0"), ("guard_margin", 0, "> 0 and ≤ 1"),
    ("guard_margin", 1.5, "≤ 1"), ("early_stopping_patience", -1, "≥ 0"), ("seed", -1, "≥ 0"),
    ("seed", MAX_SEED + 1, "≤ 4294967295"), ("edge_top_k", 0, "≥ 1"), ("sem_l1", -0.1, "≥ 0"),
    ("sem_floor", 1.0, "< 1"), ("sem_lr", 0, "> 0"), ("sem_lambda_prior", -1, "≥ 0"),
    ("likelihood", "poisson", "'nb' or 'gaussian'"), ("arch", "vae", "'latent' or 'sem'"),
    ("arch", None, "NoneType"), ("sem_score", "l2", "'nv' or 'ls' or 'me'"),
    ("allow_protein_to_rna", "yes", "true or false"), ("prior_sign", 1, "true or false"),
    ("sem_thinning", None, "true or false"), ("sem_prior_orient", "no", "true or false"),
    ("split", [0.9, 0.1], "three fractions"), ("split", [0.5, 0.3, 0.1], "summing to 1"),
    ("split", [0.0, 0.5, 0.5], "train > 0"), ("split", [1.2, -0.1, -0.1], "≥ 0"), ("split", "0.8", "not a list"),
    ("s_schedule", [], "non-empty"), ("s_schedule", [1.0, 0.0], "> 0"), ("s_schedule", [1.0, "x"], "number"),
    ("sem_stages", [[1.0, 1.0]], "[mu, s, iterations]"), ("sem_stages", [[1.0, 0.0, 10]], "0 < s ≤ 1"),
    ("sem_stages", [[1.0, 1.0, 2.5]], "whole number"), ("sem_stages", [], "non-empty"),
]


@pytest.mark.parametrize(("name", "value", "needle"), BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_bad_value_is_refused_naming_field_value_and_range(name, value, needle):
    with pytest.raises(CMCVAEInputError) as err:
        CMCVAEConfig(**{name: value})
    text = str(err.value)
    assert f"Config field {name}:" in text
    assert f"{name} must be" in text and f"default {json.dumps(DEFAULTS[name])}" in text
    assert needle in text, text


def test_assignment_is_checked_too():
    config = CMCVAEConfig()
    with pytest.raises(CMCVAEInputError, match="lr"):
        config.lr = -1.0
    assert config.lr == DEFAULTS["lr"]
    config.max_epochs = 3
    assert config.max_epochs == 3


def test_both_latent_sizes_zero_is_refused_one_zero_is_not():
    with pytest.raises(CMCVAEInputError, match="both 0"):
        CMCVAEConfig(n_latent_rna=0, n_latent_protein=0)
    assert CMCVAEConfig(n_latent_rna=0).n_latent == DEFAULTS["n_latent_protein"]


def test_values_are_stored_as_plain_python():
    config = CMCVAEConfig(batch_size=256.0, max_epochs=np.int64(5), lr=np.float32(0.5), prior_sign=np.bool_(True),
                          split=(0.8, 0.1, 0.1), arch="poster", seed=MAX_SEED)
    assert (config.batch_size, type(config.batch_size)) == (256, int)
    assert type(config.max_epochs) is int and type(config.lr) is float and config.prior_sign is True
    assert config.split == [0.8, 0.1, 0.1] and config.arch == "latent"
    json.dumps(config.to_dict())  # JSON-serialisable
    assert CMCVAEConfig(lr=1).lr == 1 and CMCVAEConfig(threshold=0).threshold == 0


def test_unknown_and_non_mapping_are_refused():
    with pytest.raises(CMCVAEInputError, match=r"Unknown config key.*lamda_dag.*Valid keys"):
        CMCVAEConfig.from_dict({"lamda_dag": 1.0})
    with pytest.raises(CMCVAEInputError, match="mapping"):
        CMCVAEConfig.from_dict([("lr", 0.1)])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ files
def _file(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return path


@pytest.mark.parametrize(("name", "content", "pattern"), [
    ("c.yaml", "lr: 0.01\nsplit: [0.8, 0.1,\n", r"c\.yaml is not valid YAML at line 3, column 1"),
    ("c.yaml", "lr: 0.01\n  batch_size: 8\n", r"not valid YAML at line 2"),
    ("c.yml", "a: b: c\n", r"c\.yml is not valid YAML at line 1"),
    ("c.json", '{"lr": 0.01,}', r"c\.json is not valid JSON at line 1, column 13"),
    ("c.json", '{\n "lr": 0.01\n "beta": 1\n}', r"not valid JSON at line 3"),
    ("c.json", "", r"c\.json is empty"),
    ("c.yaml", "\n  \n", r"c\.yaml is empty"),
    ("c.yaml", "# only a comment\n", r"holds no fields"),
    ("c.yaml", "- lr\n- 0.1\n", r"must hold a mapping.*not a list"),
    ("c.json", '"lr"', r"must hold a mapping.*not a str"),
    ("c.yaml", b"\xff\xfe\x00lr", r"not a text file"),
    ("c.yaml", "1: 2\n", r"field names that are not text"),
    ("c.yaml", "lr: -0.001\n", r"In config file .*c\.yaml: Config field lr: got -0\.001"),
    ("c.json", '{"threshold": -1}', r"In config file .*c\.json: Config field threshold: got -1"),
    ("c.yaml", "lamda: 1\n", r"In config file .*c\.yaml: Unknown config key"),
])
def test_bad_config_file_is_refused_with_file_and_line(tmp_path, name, content, pattern):
    with pytest.raises(CMCVAEInputError, match=pattern):
        CMCVAEConfig.from_file(_file(tmp_path, name, content))


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(CMCVAEInputError, match="does not exist"):
        CMCVAEConfig.from_file(tmp_path / "none.yaml")
    with pytest.raises(CMCVAEInputError, match="is a folder"):
        CMCVAEConfig.from_file(tmp_path)


def test_yaml_reads_exponents_without_a_dot_as_numbers(tmp_path):
    config = CMCVAEConfig.from_file(_file(tmp_path, "c.yaml", "lr: 1e-3\nlambda_dec: 5E-5\nbatch_size: 1e3\n"))
    assert (config.lr, config.lambda_dec, config.batch_size) == (1e-3, 5e-5, 1000)
    assert type(config.batch_size) is int


def test_overrides_win_and_are_checked(tmp_path):
    path = _file(tmp_path, "c.yaml", "max_epochs: 40\nthreshold: 0.1\n")
    config = CMCVAEConfig.from_file(path, max_epochs=3, seed=None)
    assert (config.max_epochs, config.threshold, config.seed) == (3, 0.1, 0)
    with pytest.raises(CMCVAEInputError, match="max_epochs: got 0"):
        CMCVAEConfig.from_file(path, max_epochs=0)


@pytest.mark.parametrize("path", sorted((REPO / "benchmarks" / "configs").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_configs_in_the_repository_still_load(path):
    config = CMCVAEConfig.from_file(path)
    assert isinstance(config, CMCVAEConfig)


def test_a_saved_config_round_trips_through_json(tmp_path):
    config = CMCVAEConfig(arch="sem", sem_score="me", threshold=0.0, split=[0.7, 0.2, 0.1])
    path = _file(tmp_path, "c.json", json.dumps(config.to_dict()))
    assert CMCVAEConfig.from_file(path) == config
