"""Start-up: how long the processes a class waits for take to import, and which packages that time goes to.

    python benchmarks/bench_imports.py                  # JupyterLab's start, then each module below: best of 3
    python benchmarks/bench_imports.py --module nbformat --repeat 5 --no-server --json

A JupyterLab or Voila server, a notebook's kernel, nbval and nbclient each start as a new Python process, and
before doing anything each imports its packages. On a server shared by a class, 25 students logging in pay
that 25 times over. This script times ``jupyter lab`` from its start until its server answers, then starts
``--repeat`` fresh interpreters per module running ``python -X importtime -c "import <module>"``; the fastest
counts, and its import-time report (CPython's own per-module timer) gives each top-level package's own time:
the heaviest few are printed. It also says whether ``rfc3987_syntax`` was imported: constraints.txt pins
jsonschema below the release that pulls it in (it builds a Lark grammar on import). A benchmark: it prints
figures and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from machine import free_port

# (module, what imports it): the processes a student or a test run starts
MODULES = (
    ("jupyter_server.serverapp", "JupyterLab's and Voila's server"),
    ("voila.app", "the explorer as a web page (make app)"),
    ("nbformat", "nbval, nbclient and the scripts that read notebooks"),
    ("ipykernel.kernelapp", "every notebook's kernel"),
    ("helpers.plots", "a lesson's first cell (helpers and matplotlib)"),
)
WATCHED = "rfc3987_syntax"


def package_seconds(importtime_report: str) -> Counter:
    """{top-level package: seconds of its modules' own import time} from ``python -X importtime``'s stderr.

    Each line reads ``import time: <self us> | <cumulative us> | <indent><module>``; the self times of a
    package's modules add up to its share (cumulative times would count nested imports twice).
    """
    shares = Counter()
    for line in importtime_report.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line: "self [us] | cumulative | imported package"
        shares[fields[2].strip().split(".")[0]] += int(fields[0]) / 1e6
    return shares


def measure(module: str, repeat: int) -> dict:
    """The fastest of ``repeat`` fresh imports of ``module``: wall seconds, import seconds and the packages."""
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True
        )
        wall = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"bench_imports: `import {module}` failed:\n{result.stderr.strip().splitlines()[-1]}")
        if best is None or wall < best[0]:
            best = (wall, package_seconds(result.stderr))
    wall, shares = best
    return {
        "module": module,
        "wall_seconds": wall,
        "import_seconds": sum(shares.values()),
        "heaviest": [[name, seconds] for name, seconds in shares.most_common(4)],
        "watched_seconds": shares.get(WATCHED, 0.0),
    }


def jupyterlab_ready_seconds(timeout: float = 120.0) -> float:
    """Seconds from starting ``jupyter lab`` (this Python's, in an empty folder) until its server answers."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        raise SystemExit(
            f"bench_imports: no `jupyter` next to {sys.executable}: run it with the project's environment "
            "(.venv/bin/python, after `make lab`), or pass --no-server"
        )
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        command = [str(jupyter), "lab", "--no-browser", f"--port={port}"]
        command += ["--allow-root", "--IdentityProvider.token=", f"--ServerApp.root_dir={folder}"]
        started = time.perf_counter()
        server = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=dict(os.environ, JUPYTER_RUNTIME_DIR=folder),
        )
        try:
            while time.perf_counter() - started < timeout:
                if server.poll() is not None:
                    raise SystemExit(f"bench_imports: jupyter lab stopped:\n{server.stderr.read().decode()[-2000:]}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1):
                        return time.perf_counter() - started
                except OSError:
                    time.sleep(0.02)
            raise SystemExit(f"bench_imports: jupyter lab did not answer within {timeout:.0f} s")
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--module",
        action="append",
        help="a module to import (repeatable; default: " + ", ".join(name for name, _ in MODULES) + ")",
    )
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per module; the fastest counts")
    parser.add_argument("--no-server", action="store_true", help="leave out the JupyterLab start")
    parser.add_argument("--json", action="store_true", help="print one JSON record instead of the table")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    purposes = dict(MODULES)
    rows = [measure(module, args.repeat) | {"for": purposes.get(module, "")} for module in args.module or purposes]
    record = {"python": sys.version.split()[0], "repeat": args.repeat, "watched": WATCHED, "rows": rows}
    if not args.no_server:
        record["jupyterlab_ready_seconds"] = min(jupyterlab_ready_seconds() for _ in range(args.repeat))
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"bench_imports: Python {record['python']}, best of {args.repeat} fresh processes per module")
    if "jupyterlab_ready_seconds" in record:
        print(f"\n`jupyter lab` answers after {record['jupyterlab_ready_seconds']:.2f} s (start to /api/status)")
    for row in rows:
        heaviest = ", ".join(f"{name} {seconds:.2f}" for name, seconds in row["heaviest"])
        watched = f"{WATCHED} {row['watched_seconds']:.2f} s" if row["watched_seconds"] else f"no {WATCHED}"
        print(f"\nimport {row['module']}  ({row['for']})" if row["for"] else f"\nimport {row['module']}")
        print(f"  {row['wall_seconds']:.2f} s wall, {row['import_seconds']:.2f} s importing; {watched}")
        print(f"  heaviest packages (s): {heaviest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
