"""How many CPU threads a fit uses: the CPUs this process may use, or ``CMCVAE_NUM_THREADS``.

torch's intra-op pool, the BLAS pool (OpenBLAS/MKL, through :mod:`threadpoolctl`) and the
OpenMP pool are sized once when a fit starts (:func:`configure_threads`, called by
:meth:`cmcvae.CMCVAE.train` for both architectures):

- ``CMCVAE_NUM_THREADS`` (a positive integer) wins;
- otherwise the smaller of torch's own default and :func:`cpu_budget`, the CPUs the process may
  run on (its affinity mask — ``taskset``, Slurm, ``docker --cpuset-cpus`` — and a cgroup CPU
  quota such as ``docker --cpus``). On a machine used by this process alone this is torch's
  default, so the numbers of a fit do not change.

Idle OpenMP threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE`` is the default that
``import cmcvae`` sets before torch loads, unless the variable is already set): spinning threads of
two fits on the same cores slowed each fit tens of times. How to run several fits at once:
docs/scale.md ("Several fits on one machine").
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from cmcvae._errors import CMCVAEInputError

log = logging.getLogger("cmcvae")

#: The environment variable that sets the number of threads of a fit.
THREADS_ENV = "CMCVAE_NUM_THREADS"
#: torch's intra-op thread count before cmcvae changed it (its default for this process).
_TORCH_DEFAULT = torch.get_num_threads()


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by a cgroup v2 (``cpu.max``) or v1 (``cpu.cfs_quota_us``) quota, if any."""
    try:
        text = (root / "cpu.max").read_text().split()
        if text and text[0] != "max":
            return int(text[0]) / int(text[1])
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        if quota > 0 and period > 0:
            return quota / period
    except (OSError, ValueError):
        pass
    return None


def cpu_budget() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (≥ 1)."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    quota = _cgroup_quota()
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, n)


def requested_threads() -> int | None:
    """The thread count ``CMCVAE_NUM_THREADS`` asks for (``None`` when unset or empty)."""
    text = os.environ.get(THREADS_ENV, "").strip()
    if not text:
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise CMCVAEInputError(
            f"{THREADS_ENV}={text!r} is not a positive whole number of threads; set it to e.g. 1 "
            f"(one thread per fit when several run at once) or unset it to use the "
            f"{cpu_budget()} CPU(s) this process may use."
        )
    return n


def configure_threads(n: int | None = None) -> int:
    """Size torch's intra-op pool and the BLAS/OpenMP pools for a fit; returns the thread count.

    Parameters
    ----------
    n
        Threads to use; default ``CMCVAE_NUM_THREADS``, else the smaller of torch's default and
        :func:`cpu_budget`.
    """
    if n is None:
        n = requested_threads()
    if n is None:
        n = min(_TORCH_DEFAULT, cpu_budget())
    elif not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise CMCVAEInputError(f"The number of threads must be a positive integer, not {n!r}.")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    threadpool_limits(limits=n)  # BLAS and OpenMP pools of numpy/scipy/torch
    log.debug("Fitting with %d CPU thread(s) (%d CPU(s) available).", n, cpu_budget())
    return n
