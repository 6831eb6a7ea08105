"""The architecture registry, the training-option checks and the shared cell split."""

import subprocess
import sys

import numpy as np
import pytest

from cmcvae import CMCVAEInputError
from cmcvae.model import ARCHITECTURES, check_lightning_options, split_cells
from cmcvae.model._registry import architecture
from cmcvae.model.latent import LatentArch
from cmcvae.model.sem import SEMArch


def test_architectures_by_name_and_alias():
    assert ARCHITECTURES == {"latent": LatentArch, "sem": SEMArch}
    assert architecture("latent") is LatentArch and architecture("poster") is LatentArch
    assert architecture("sem") is SEMArch and architecture("vae") is None
    assert LatentArch.lightning and not SEMArch.lightning


@pytest.mark.parametrize("option", [dict(resume=True), dict(strategy="ddp"), dict(num_nodes=2)])
def test_lightning_options_are_refused_only_without_lightning(option):
    with pytest.raises(CMCVAEInputError, match="arch='sem' is fitted in one go without Lightning"):
        check_lightning_options("sem", **option)
    for arch in ("latent", "poster"):
        check_lightning_options(arch, **option)


def test_split_cells_is_seeded_and_follows_the_fractions():
    labels = split_cells(1000, [0.8, 0.1, 0.1], seed=3)
    assert (labels == "train").sum() == 800 and (labels == "val").sum() == 100
    np.testing.assert_array_equal(labels, split_cells(1000, [0.8, 0.1, 0.1], seed=3))
    assert not np.array_equal(labels, split_cells(1000, [0.8, 0.1, 0.1], seed=4))


def test_lightning_is_imported_only_when_training_starts():
    code = ("import sys, cmcvae, cmcvae.model.latent; "
            "assert 'lightning' not in sys.modules, 'lightning imported with the package'; "
            "cmcvae.model.latent.TrainingPlan; assert 'lightning' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
