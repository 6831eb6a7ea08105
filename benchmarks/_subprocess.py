"""Run a `cmcvae` command in a fresh Python process and read back its own peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time

_WRAPPER = """
import json, resource, sys
sys.argv = json.loads(sys.argv[1])
from cmcvae.cli import main
code = 0
try:
    main()
except SystemExit as err:
    code = err.code or 0
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


def run_measured(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` (starting with ``cmcvae``); return (wall seconds, peak RSS in GB).

    Raises ``RuntimeError`` with the tail of the output when the command fails.
    """
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAPPER, json.dumps(argv)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak = [line for line in proc.stdout.splitlines() if line.startswith("PEAK_RSS_KB")]
    if proc.returncode != 0 or not peak:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall, int(peak[-1].split()[1]) / 1024**2
