"""What the benchmarks share about the machine they measure: its load, a busy neighbour, a free port.

Imported by the scripts beside it (``python benchmarks/bench_x.py`` puts this folder on ``sys.path``; the tests
find it through pyproject.toml's pytest ``pythonpath``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def load_average() -> str:
    """The 1, 5 and 15-minute load averages, as the benchmarks print them: "1.05 0.98 0.77"."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def busy_process() -> subprocess.Popen:
    """One CPU-bound process beside a measurement (a student's busy kernel); the caller kills it by its id."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server the benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
