"""How much memory a class needs: notebook 6's kernel, the explorer at every hidden size, the app per visitor.

    python benchmarks/bench_memory.py                 # all three parts, idle
    python benchmarks/bench_memory.py --loaded        # the same beside one CPU-bound process (a busy server)
    python benchmarks/bench_memory.py --only notebook --only sizes --sizes 128 1024
    python benchmarks/bench_memory.py --visitors 4    # the app part with four pages opened together

Figures (resident memory, MiB; "peak" is the process's high-water mark, VmHWM):

- notebook: notebooks/06_explorer.ipynb run top to bottom in a fresh kernel (a copy is
  executed; the notebook is not written), then the kernel's resident memory and peak,
  read inside the kernel from /proc/self/status (target: under 400 MiB after Run All);
- sizes: one process with an explorer that starts at hidden size 128, waits for its grid,
  then moves the slider to each size of ``--sizes`` (waiting for that grid each time) and
  back to 128: the resident memory after each grid and the peak, the way a student who is
  told to "try 1024" gets there (target: every peak under 1 GiB); once with MNIST loaded
  by the explorer (the app, and notebook 6's compact MNIST is the same) and once with
  ``load_mnist()``'s float64 MNIST passed in, as a notebook of one's own may;
- app: Voila serving app/explorer.ipynb as ``make app`` does (pre-heated kernel), the
  page requested ``--visitors`` times at once over HTTP (no browser: the kernel runs the
  explorer and its grid all the same), then the resident memory of every kernel once
  the grids are trained, and of the spare pre-heated kernel (target: under 400 MiB a visitor).

Memory depends on the machine far less than time does, but a loaded machine changes which
threads run together, so the load average is printed before and after each part. This is a
benchmark: it prints figures and never fails on them. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from machine import busy_process, free_port, load_average

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "06_explorer.ipynb"
APP = ROOT / "app" / "explorer.ipynb"
NOTEBOOK_TARGET_MIB, SIZE_TARGET_MIB, VISITOR_TARGET_MIB = 400, 1024, 400
CLASS = 25

MEMORY_READER = textwrap.dedent("""
    def memory_mib(pid="self"):
        # (resident, peak) in MiB of a process, from /proc
        fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status") if line.startswith(("VmRSS", "VmHWM")))
        return tuple(int(fields[name].split()[0]) / 1024 for name in ("VmRSS", "VmHWM"))
""")
_reader: dict = {}
exec(MEMORY_READER, _reader)  # the same function the kernels and subprocesses run, from the same text
memory_mib = _reader["memory_mib"]


def measure_notebook() -> dict:
    """06 run top to bottom in a fresh kernel -> {rss, peak, seconds}."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(MEMORY_READER + "import gc; gc.collect(); print('MEMORY', *memory_mib())")
    )
    env_threads = os.environ.get("OPENBLAS_NUM_THREADS")
    started = time.perf_counter()
    NotebookClient(
        nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    seconds = time.perf_counter() - started
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    line = next((line for line in printed.splitlines() if line.startswith("MEMORY ")), None)
    if line is None:
        raise RuntimeError(f"the kernel did not report its memory: {nb.cells[-1].outputs}")
    rss, peak = map(float, line.split()[1:])
    return {"rss_mib": rss, "peak_mib": peak, "seconds": seconds, "openblas_threads": env_threads}


SIZES_SCRIPT = MEMORY_READER + textwrap.dedent("""
    import json, sys, time
    from helpers.data import load_mnist
    from helpers.explorer import Explorer
    from helpers.train import TrainConfig

    rows = []
    def row(what):
        rss, peak = memory_mib()
        rows.append({"what": what, "rss_mib": rss, "peak_mib": peak, "seconds": time.perf_counter() - started})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    started = time.perf_counter()
    # "given": load_mnist()'s float64 MNIST passed in; "own": the app's (the explorer loads its compact MNIST)
    explorer = Explorer(load_mnist() if sys.argv[1] == "given" else None, TrainConfig())
    explorer.wait_for_grid()
    row("H 128, grid ready")
    for size in map(int, sys.argv[2:]):
        explorer.update(hidden_size=size)
        row(f"H {size}, first run shown")
        explorer.wait_for_grid()
        row(f"H {size}, grid ready")
    explorer.update(hidden_size=128)
    explorer.wait_for_grid()
    row("back at H 128, grid ready")
    print(json.dumps(rows))
""")


def measure_sizes(sizes, data: str) -> list:
    result = subprocess.run(
        [sys.executable, "-c", SIZES_SCRIPT, data, *map(str, sizes)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def kernels_of(pid: int) -> list:
    """The pids of the ipykernel processes under ``pid``."""
    import psutil

    return [
        p.pid for p in psutil.Process(pid).children(recursive=True) if any("ipykernel" in part for part in p.cmdline())
    ]


def cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def measure_app(visitors: int, settle_s: float) -> dict:
    """Voila with a pre-heated kernel; ``visitors`` page requests at once -> per-kernel memory."""
    voila = Path(sys.executable).with_name("voila")
    if not voila.exists():
        return {"skipped": "voila is not installed (pip install -e '.[app]')"}
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    server = subprocess.Popen(
        [voila, "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--preheat_kernel=True", str(APP)],
        cwd=ROOT,
        stdout=open(workdir / "voila.log", "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not kernels_of(server.pid):  # the spare kernel
            if time.monotonic() > deadline:
                return {"skipped": "voila started no kernel in 120 s (see its log)"}
            time.sleep(0.5)
        spare = kernels_of(server.pid)[0]
        time.sleep(settle_s)  # what the spare holds before anyone comes
        spare_rss, _ = memory_mib(spare)
        spare_cpu = cpu_seconds(spare)
        url = f"http://127.0.0.1:{port}/"
        started = time.perf_counter()
        fetchers = [
            subprocess.Popen(
                [sys.executable, "-c", f"import urllib.request; urllib.request.urlopen({url!r}, timeout=600).read()"]
            )
            for _ in range(visitors)
        ]
        for fetcher in fetchers:
            fetcher.wait(timeout=900)
        pages_s = time.perf_counter() - started
        # the explorers train their grids after the page is sent: wait until every kernel is idle
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            pids = kernels_of(server.pid)
            before = {pid: cpu_seconds(pid) for pid in pids}
            time.sleep(2.0)
            busy = [pid for pid in pids if cpu_seconds(pid) - before[pid] > 0.3]
            if len(pids) > visitors and not busy:
                break
        per_kernel = {}
        for pid in kernels_of(server.pid):
            rss, peak = memory_mib(pid)
            per_kernel[pid] = {"rss_mib": rss, "peak_mib": peak, "cpu_s": cpu_seconds(pid)}
        return {
            "spare_rss_mib": spare_rss,
            "spare_cpu_s": spare_cpu,
            "pages_s": pages_s,
            "kernels": per_kernel,
            "spare_pid": spare,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", choices=["notebook", "sizes", "app"], help="parts to run (default all)"
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024], help="hidden sizes the slider moves to")
    parser.add_argument(
        "--data",
        choices=["own", "given", "both"],
        default="both",
        help="sizes: MNIST loaded by the explorer (the app, notebook 6), load_mnist()'s passed in, or both",
    )
    parser.add_argument("--visitors", type=int, default=2)
    parser.add_argument(
        "--settle", type=float, default=15.0, help="seconds the spare kernel gets before it is measured"
    )
    parser.add_argument("--loaded", action="store_true", help="run beside one CPU-bound process")
    args = parser.parse_args(argv)
    parts = args.only or ["notebook", "sizes", "app"]
    busy = busy_process() if args.loaded else None
    print(
        f"bench_memory: {'beside one CPU-bound process' if busy else 'idle'}; {os.cpu_count()} cores; "
        f"load average {load_average()}",
        flush=True,
    )
    try:
        if "notebook" in parts:
            got = measure_notebook()
            print(
                f"06 after Run All: kernel {got['rss_mib']:.0f} MiB resident, peak {got['peak_mib']:.0f} MiB "
                f"(target < {NOTEBOOK_TARGET_MIB}); ran in {got['seconds']:.0f} s; load {load_average()}",
                flush=True,
            )
            print(
                f"  a class of {CLASS} on 06: {CLASS * got['rss_mib'] / 1024:.1f} GiB resident after Run All, "
                f"{CLASS * got['peak_mib'] / 1024:.1f} GiB if every peak coincided",
                flush=True,
            )
        if "sizes" in parts:
            for data, how in (
                ("own", "MNIST loaded by the explorer, as the app does"),
                ("given", "load_mnist()'s float64 MNIST passed in, as a notebook of one's own may"),
            ):
                if args.data not in (data, "both"):
                    continue
                rows = measure_sizes(args.sizes, data)
                print(f"explorer, {how}:")
                for row in rows:
                    print(
                        f"  {row['what']}: {row['rss_mib']:.0f} MiB resident, peak so far {row['peak_mib']:.0f} MiB "
                        f"({row['seconds']:.0f} s)",
                        flush=True,
                    )
                peak = rows[-1]["peak_mib"]
                print(
                    f"  peak over sizes 128, {', '.join(map(str, args.sizes))}: {peak:.0f} MiB (target < {SIZE_TARGET_MIB}); "
                    f"a class of {CLASS} trying them: up to {CLASS * peak / 1024:.1f} GiB; load {load_average()}",
                    flush=True,
                )
        if "app" in parts:
            got = measure_app(args.visitors, args.settle)
            if "skipped" in got:
                print(f"app: skipped: {got['skipped']}")
            else:
                print(
                    f"app: spare pre-heated kernel {got['spare_rss_mib']:.0f} MiB, {got['spare_cpu_s']:.1f} CPU-s before "
                    f"anyone came; {args.visitors} pages served in {got['pages_s']:.1f} s",
                    flush=True,
                )
                visitors = [k for pid, k in got["kernels"].items() if k["cpu_s"] > got["spare_cpu_s"] + 1]
                for pid, k in got["kernels"].items():
                    print(
                        f"  kernel {pid}: {k['rss_mib']:.0f} MiB resident, peak {k['peak_mib']:.0f} MiB, {k['cpu_s']:.1f} CPU-s"
                    )
                if visitors:
                    worst = max(k["rss_mib"] for k in visitors)
                    print(
                        f"  per visitor: up to {worst:.0f} MiB resident (target < {VISITOR_TARGET_MIB}), peak "
                        f"{max(k['peak_mib'] for k in visitors):.0f} MiB; a class of {CLASS}: "
                        f"{(CLASS * worst + got['spare_rss_mib']) / 1024:.1f} GiB; load {load_average()}",
                        flush=True,
                    )
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
