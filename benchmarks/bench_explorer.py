"""How fast the explorer answers a slider change, measured through its own update().

    python benchmarks/bench_explorer.py            # figures as text
    python benchmarks/bench_explorer.py --json     # one JSON object
    python benchmarks/bench_explorer.py --all-sizes  # also one change to every hidden size
    python benchmarks/bench_explorer.py --re-runs 3  # memory over three re-runs of the explorer cell
    python benchmarks/bench_explorer.py --steps 1000 --changes 2 --no-app --json   # a quick run (the tests' smoke check)

A "response" is ``Explorer.update(...)`` from the call until the answer is
shown (the PNG of the curves is in the Image widget, the landscape redrawn),
exactly what a slider change triggers. Top layer only, 10,000 steps, batch 32.

- learning-rate change with the grid ready: every slider value has been
  trained in the background, the run is looked up and drawn (target < 0.1 s);
- hidden-size change: the feature cache and the grids are emptied first, so
  the features are recomputed and the run trained (target < 1.0 s). The sizes
  alternate around the default as a reader moves the slider: 128 -> 256 ->
  128 -> 64 -> 128 ...; after each change, the time until the new grid (51
  learning rates, one stacked pass) is ready is measured too;
- peak memory (the process's maximum resident set) once the grid at hidden
  size 128 is ready, measured first, before the other sizes (target < 1 GB);
- re-runs (``--re-runs``): the process's resident memory after the first explorer's grid is
  ready and after each of three more, each replacing the one before, as re-running the
  explorer cell does (target: within 15% of the first);
- all layers: steps per second of an all-layers run inside the explorer
  (``update(rule="backprop")``, 1,000 steps, progress and redraw included) against
  the same run from ``train()``;
- the app (``make app``: Voila serving app/explorer.ipynb, pre-heated kernel):
  seconds from opening the page in headless Chromium until the first curves
  are shown (target < 10 s), and from the server's launch. Needs Voila,
  Playwright and /usr/bin/chromium; without them it reports why not.

Wall time depends on what else the machine runs, so the process CPU time of
each change and the load average are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from machine import busy_process, free_port

from helpers.data import load_mnist
from helpers.explorer import HIDDEN_SIZES, Explorer
from helpers.train import TrainConfig, train

LR_TARGET_S, HIDDEN_TARGET_S, MEMORY_TARGET_MB, APP_READY_TARGET_S = 0.1, 1.0, 1000, 10
RE_RUN_GROWTH_TARGET = 0.15
ALL_LAYERS_STEPS = 1000  # the explorer's shortest run
ROOT = Path(__file__).resolve().parent.parent


def timed(call):
    """(wall seconds, process CPU seconds) of call()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    if result is None:
        raise RuntimeError("the explorer dropped the run: nothing else should be changing it here")
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def all_layers_run(explorer, window_s: float | None):
    """(steps done, wall s, CPU s) of an all-layers run in the explorer, to its end or for ``window_s`` seconds.

    The steps are read off the explorer's progress bar, at the moment it moves,
    so a cut-off run counts only the steps it had reported.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    explorer.update(wait=False, rule="backprop", steps=ALL_LAYERS_STEPS)
    done, seen_at = 0, wall
    while not explorer.wait(timeout=0.05):
        if explorer.progress.value != done:
            done, seen_at = int(explorer.progress.value), time.perf_counter()
        if window_s is not None and time.perf_counter() - wall > window_s and done:
            explorer.cancel()
            explorer.wait()
            return done, seen_at - wall, time.process_time() - cpu
    if explorer.history is None or explorer.history.steps_done < ALL_LAYERS_STEPS:
        raise RuntimeError("the all-layers run did not finish")
    return ALL_LAYERS_STEPS, time.perf_counter() - wall, time.process_time() - cpu


def measure(
    changes: int = 12, all_sizes: bool = False, steps: int = 10000, all_layers_window: float | None = None
) -> dict:
    data = load_mnist()
    explorer = Explorer(data, TrainConfig(steps=steps))
    load_before = os.getloadavg()[0]
    try:
        started = time.perf_counter()
        grid = explorer.wait_for_grid(timeout=600)
        first_grid_s = time.perf_counter() - started
        memory_mb = peak_memory_mb()
        # distinct slider values, each differing from the previous one, across the slider
        lrs = [float(grid.lrs[i]) for i in (list(range(5, 50, 8)) + list(range(9, 50, 8)))[:changes]]
        while len(lrs) < changes:
            lrs.append(float(grid.lrs[(7 * len(lrs)) % len(grid.lrs)]))
        explorer.update(lr=lrs[-1])  # warm-up
        lr_times = [timed(lambda: explorer.update(lr=lr)) for lr in lrs]
        from_grid = "from the grid" in explorer.status_text

        explorer.update(lr=1e-3, hidden_size=128)
        sizes = [(256, 128, 64, 128)[i % 4] for i in range(changes)]
        hidden_times, grid_times = [], []
        for size in sizes:
            explorer.grids.wait()
            explorer.features.clear()  # force recomputation: a size the reader has not tried yet
            explorer.grids.clear()
            changed = time.perf_counter()
            hidden_times.append(timed(lambda: explorer.update(hidden_size=size)))
            if explorer.wait_for_grid(timeout=600) is None:
                raise RuntimeError("the grid never became ready")
            grid_times.append(time.perf_counter() - changed)

        per_size = {}
        if all_sizes:
            for size in HIDDEN_SIZES:
                explorer.grids.wait()
                explorer.features.clear()
                per_size[size] = round(timed(lambda: explorer.update(hidden_size=size))[0], 3)

        explorer.grids.wait()
        explorer.update(hidden_size=128, lr=0.1)
        explorer.grids.wait()
        all_steps, all_wall, all_cpu = all_layers_run(explorer, all_layers_window)
        config = replace(explorer.config(), rule="backprop", steps=max(all_steps, 1))
    finally:
        explorer.close()
    started = time.perf_counter()
    train(data, config)
    train_wall = time.perf_counter() - started

    def median(pairs, which):
        return round(statistics.median(p[which] for p in pairs), 3)

    return {
        "lr_change_median_s": median(lr_times, 0),
        "lr_change_cpu_median_s": median(lr_times, 1),
        "lr_change_answered_from_grid": from_grid,
        "hidden_change_median_s": median(hidden_times, 0),
        "hidden_change_cpu_median_s": median(hidden_times, 1),
        "grid_ready_after_hidden_change_median_s": round(statistics.median(grid_times), 3),
        "first_grid_s": round(first_grid_s, 3),
        "peak_memory_mb_grid_h128": round(memory_mb, 1),
        "lr_change_times_s": [round(w, 3) for w, _ in lr_times],
        "hidden_change_times_s": [round(w, 3) for w, _ in hidden_times],
        "grid_ready_times_s": [round(t, 3) for t in grid_times],
        "all_layers_steps_per_s_explorer": round(all_steps / all_wall, 1),
        "all_layers_steps_per_s_train": round(config.steps / train_wall, 1),
        "all_layers_steps_measured": all_steps,
        "all_layers_cpu_s_explorer": round(all_cpu, 3),
        "hidden_change_sizes": sizes,
        "hidden_change_by_size_s": per_size,
        "grid_size": len(grid.lrs),
        "targets": {
            "lr_change_s": LR_TARGET_S,
            "hidden_change_s": HIDDEN_TARGET_S,
            "peak_memory_mb": MEMORY_TARGET_MB,
            "app_ready_s": APP_READY_TARGET_S,
        },
        "config": f"top layer only, {steps} steps, batch 32, seed 0, reference init; all layers: "
        f"{ALL_LAYERS_STEPS} steps at lr 0.1",
        "cpu_count": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def measure_app(timeout_s: float = 300) -> dict:
    """Seconds until the Voila app (as `make app` serves it) shows its first curves in headless Chromium."""
    import re
    import secrets
    import shutil
    import signal
    import subprocess
    import tempfile
    import urllib.error
    import urllib.request

    chromium = Path("/usr/bin/chromium")
    try:
        import voila  # noqa: F401
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        return {"app_ready_s": None, "app_not_measured": f"{exc.name} is not installed (pip install -e '.[test]')"}
    if not chromium.exists():
        return {"app_ready_s": None, "app_not_measured": f"{chromium} is missing (apt-get install -y chromium)"}
    port = free_port()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(ROOT / "app" / "explorer.ipynb", tmp)
        log = open(Path(tmp) / "voila.log", "wb")
        launched = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                "explorer.ipynb",
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
                f"--token={token}",
                "--Voila.port_retries=0",
                "--preheat_kernel=True",
            ],
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=5).close()
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"Voila did not start: {(Path(tmp) / 'voila.log').read_text()[-2000:]}")
                    time.sleep(0.5)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(chromium),
                    args=[
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--no-first-run",
                        "--disable-sync",
                    ],
                )
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                opened = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/?token={token}", timeout=timeout_s * 1000)
                accuracy = re.compile(r"test accuracy \d+\.\d\d%")
                while not any(accuracy.search(t) for t in page.locator(".explorer-status").all_inner_texts()):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the app showed no curves within {timeout_s} s")
                    time.sleep(0.1)
                ready = time.perf_counter()
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)  # the server this function started, and its kernels
            server.wait(timeout=30)
            log.close()
    return {"app_ready_s": round(ready - opened, 2), "app_ready_since_launch_s": round(ready - launched, 2)}


def measure_retrained(steps: int = 2000, repeats: int = 3, stops: int = 3) -> dict:
    """Steps per second of a backprop run (lr 0.1, H 128) through ``helpers.train.train`` and through the
    explorer (its progress line, stop checks and redraws included), alternating, and how long "stop" takes to
    show the stopped run (from the click to the partial curves drawn)."""

    from helpers.explorer import explorer_config
    from helpers.train import train

    data = load_mnist()
    config = explorer_config(TrainConfig(rule="backprop", lr=0.1, steps=steps))
    explorer = Explorer(data, TrainConfig(steps=1000), grid=False)
    plain, inside, stop_latency = [], [], []
    try:
        for _ in range(repeats):
            _, history = train(data, config)
            plain.append(history.steps_done / history.train_seconds)
            shown = explorer.update(rule="backprop", lr=0.1, steps=steps)
            explorer.run_again()  # the same settings, trained again (update would be a no-op change)
            shown = explorer.history
            inside.append(shown.steps_done / shown.train_seconds)
        for _ in range(stops):
            explorer.update(rule="backprop", lr=0.1, steps=50000, wait=False)
            time.sleep(1.5)
            explorer.cancel()
            explorer.wait(timeout=60)
            stop_latency.append(explorer.stop_latency)
    finally:
        explorer.close()
    median_plain, median_inside = statistics.median(plain), statistics.median(inside)
    return {
        "backprop_steps_per_s_train": round(median_plain, 1),
        "backprop_steps_per_s_explorer": round(median_inside, 1),
        "explorer_vs_train": round(median_inside / median_plain, 3),
        "backprop_steps_per_s_train_all": [round(x, 1) for x in plain],
        "backprop_steps_per_s_explorer_all": [round(x, 1) for x in inside],
        "stop_latency_median_s": round(statistics.median(stop_latency), 3),
        "stop_latency_s": [round(x, 3) for x in stop_latency],
        "retrained_config": f"backprop, lr 0.1, H 128, {steps} steps, batch 32, seed 0",
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure_re_runs(re_runs: int = 3, steps: int = 10000) -> dict:
    """Resident memory (MB) after the first explorer's grid is ready, then after each re-run of the explorer
    cell: a new Explorer replaces the old one while the notebook still holds the old view (IPython's Out[])."""
    import gc

    from helpers.explorer import app

    data = load_mnist()
    views, memory = [], []
    try:
        for _ in range(1 + re_runs):
            explorer = Explorer(data, TrainConfig(steps=steps))
            if explorer.wait_for_grid(timeout=600) is None:
                raise RuntimeError("the grid never became ready")
            views.append(explorer.widget)
            del explorer
            gc.collect()
            memory.append(round(resident_mb(), 1))
    finally:
        app.close_all()
    return {
        "memory_mb_first_and_re_runs": memory,
        "re_run_growth": round(max(memory[1:]) / memory[0] - 1, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
        "re_run_config": f"top layer only, {steps} steps, grid of every slider value each time",
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def report_re_runs(result: dict) -> str:
    memory = " -> ".join(f"{m:.0f}" for m in result["memory_mb_first_and_re_runs"])
    return (
        f"resident memory, first explorer then {len(result['memory_mb_first_and_re_runs']) - 1} re-runs "
        f"({result['re_run_config']}): {memory} MB, growth {100 * result['re_run_growth']:.0f}% "
        f"(target < {100 * RE_RUN_GROWTH_TARGET:.0f}%), peak {result['peak_memory_mb']:.0f} MB, "
        f"load average {result['load_average_1min']}"
    )


def report_retrained(result: dict) -> str:
    return "\n".join(
        [
            f"retrained runs ({result['retrained_config']}), load average {result['load_average_1min']}:",
            f"  train():      median {result['backprop_steps_per_s_train']:.0f} steps/s {result['backprop_steps_per_s_train_all']}",
            f"  the explorer: median {result['backprop_steps_per_s_explorer']:.0f} steps/s "
            f"{result['backprop_steps_per_s_explorer_all']} ({result['explorer_vs_train']:.2f} of train())",
            f"  stop, click to partial curves drawn: median {result['stop_latency_median_s']:.2f} s {result['stop_latency_s']}",
        ]
    )


def report(result: dict) -> str:
    lines = [
        f"explorer response times ({result['config']}; {len(result['lr_change_times_s'])} changes each)",
        f"  learning-rate change, grid ready: median {result['lr_change_median_s']:.3f} s wall, "
        f"{result['lr_change_cpu_median_s']:.3f} s CPU  (target < {LR_TARGET_S} s)",
        f"  hidden-size change:   median {result['hidden_change_median_s']:.3f} s wall, "
        f"{result['hidden_change_cpu_median_s']:.3f} s CPU  (target < {HIDDEN_TARGET_S} s; sizes 64/128/256, "
        "features recomputed)",
        f"  from a hidden-size change until the grid of {result['grid_size']} learning rates is ready: "
        f"median {result['grid_ready_after_hidden_change_median_s']:.2f} s",
        f"  peak memory with the grid at hidden size 128: {result['peak_memory_mb_grid_h128']:.0f} MB "
        f"(target < {MEMORY_TARGET_MB} MB)",
    ]
    lines.append(
        f"  all layers, {result['all_layers_steps_measured']} steps: "
        f"{result['all_layers_steps_per_s_explorer']:.0f} steps/s in the "
        f"explorer, {result['all_layers_steps_per_s_train']:.0f} steps/s from train()"
    )
    if result.get("app_ready_s") is not None:
        lines.append(
            f"  the app: first curves {result['app_ready_s']:.1f} s after opening the page, "
            f"{result['app_ready_since_launch_s']:.1f} s after starting Voila (target < {APP_READY_TARGET_S} s)"
        )
    else:
        lines.append(f"  the app: not measured ({result.get('app_not_measured', 'skipped')})")
    for size, seconds in result["hidden_change_by_size_s"].items():
        lines.append(f"    to hidden size {size:>4}: {seconds:.3f} s")
    load = result["load_average_1min"]
    lines.append(f"  {result['cpu_count']} CPUs, 1-minute load average {load[0]} before, {load[1]} after")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--changes", type=int, default=12, help="changes of each kind (at least 10)")
    parser.add_argument("--all-sizes", action="store_true", help="also time one change to every hidden size")
    parser.add_argument(
        "--steps",
        type=int,
        default=10000,
        choices=(1000, 2000, 5000, 10000),
        help="steps of the top-layer runs (default 10000, the figures the README quotes)",
    )
    parser.add_argument(
        "--all-layers-window",
        type=float,
        default=None,
        help="time the all-layers run for this many seconds only (default: its 1,000 steps)",
    )
    parser.add_argument("--no-app", action="store_true", help="skip the Voila app's page-ready time")
    parser.add_argument("--app-only", action="store_true", help="only the Voila app's page-ready time")
    parser.add_argument(
        "--retrained",
        action="store_true",
        help="only the retrained runs: backprop steps/s in the explorer vs train(), stop latency",
    )
    parser.add_argument(
        "--re-runs",
        type=int,
        default=None,
        metavar="N",
        help="only the memory after the first explorer and N re-runs of its cell (3 in the README)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="with --retrained: run a CPU-bound process beside the measurement (a loaded machine)",
    )
    args = parser.parse_args(argv)
    if args.retrained:
        busy = busy_process() if args.busy else None
        try:
            result = {**measure_retrained(), "busy_process_beside": bool(args.busy)}
        finally:
            if busy is not None:
                busy.kill()  # the process this benchmark started, by its id
                busy.wait()
        print(json.dumps(result) if args.json else report_retrained(result))
        return 0
    if args.re_runs is not None:
        if args.re_runs < 1:
            parser.error("--re-runs must be at least 1")
        result = measure_re_runs(args.re_runs, args.steps)
        print(json.dumps(result) if args.json else report_re_runs(result))
        return 0
    if args.app_only:
        result = measure_app()
        print(json.dumps(result) if args.json else f"the app: {result}")
        return 0 if result["app_ready_s"] is not None else 1
    if args.changes < 1:
        parser.error("--changes must be at least 1 (10 or more for a median worth quoting)")
    result = measure(args.changes, args.all_sizes, args.steps, args.all_layers_window)
    result["changes_enough_for_a_median"] = (
        args.changes >= 10 and args.steps == 10000 and args.all_layers_window is None
    )
    result.update({"app_ready_s": None, "app_not_measured": "--no-app"} if args.no_app else measure_app())
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
