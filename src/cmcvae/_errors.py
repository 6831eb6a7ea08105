"""User-facing error type.

Every check on user input raises :class:`CMCVAEInputError` with a message that names the
problem and the fix. The command line catches it and prints the message as one paragraph
with a non-zero exit code instead of a traceback.
"""

from __future__ import annotations


class CMCVAEInputError(ValueError):
    """Bad input (data, priors, options or paths) given to cmcvae."""
