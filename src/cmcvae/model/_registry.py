"""The architectures by name (``config.arch``): one folder each, behind one user class."""

from __future__ import annotations

from cmcvae.model._arch import Architecture
from cmcvae.model._config import ARCH_ALIASES
from cmcvae.model.latent._arch import LatentArch
from cmcvae.model.sem._arch import SEMArch

#: ``config.arch`` → :class:`~cmcvae.model._arch.Architecture` subclass.
ARCHITECTURES: dict[str, type[Architecture]] = {"latent": LatentArch, "sem": SEMArch}


def architecture(name: str) -> type[Architecture] | None:
    """The architecture called ``name`` (an alias such as ``"poster"`` included), else ``None``."""
    return ARCHITECTURES.get(ARCH_ALIASES.get(name, name))
