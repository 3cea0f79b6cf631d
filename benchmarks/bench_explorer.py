"""How fast the explorer answers a slider change, measured through its own update().

    python benchmarks/bench_explorer.py            # figures as text
    python benchmarks/bench_explorer.py --json     # one JSON object
    python benchmarks/bench_explorer.py --all-sizes  # also one change to every hidden size

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
  size 128 is ready, measured first, before the other sizes (target < 1.5 GB).

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

from helpers.data import load_mnist
from helpers.explorer import HIDDEN_SIZES, Explorer
from helpers.train import TrainConfig

LR_TARGET_S, HIDDEN_TARGET_S, MEMORY_TARGET_MB = 0.1, 1.0, 1500


def timed(call):
    """(wall seconds, process CPU seconds) of call()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    if result is None:
        raise RuntimeError("the explorer dropped the run: nothing else should be changing it here")
    return time.perf_counter() - wall, time.process_time() - cpu


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def measure(changes: int = 12, all_sizes: bool = False) -> dict:
    explorer = Explorer(load_mnist(), TrainConfig())
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
    finally:
        explorer.close()

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
        "hidden_change_sizes": sizes,
        "hidden_change_by_size_s": per_size,
        "grid_size": len(grid.lrs),
        "targets": {"lr_change_s": LR_TARGET_S, "hidden_change_s": HIDDEN_TARGET_S, "peak_memory_mb": MEMORY_TARGET_MB},
        "config": "top layer only, 10000 steps, batch 32, seed 0, reference init",
        "cpu_count": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def measure_retrained(steps: int = 2000, repeats: int = 3, stops: int = 3) -> dict:
    """Steps per second of a backprop run (lr 0.1, H 128) through ``helpers.train.train`` and through the
    explorer (its progress line, stop checks and redraws included), alternating, and how long "stop" takes to
    show the stopped run (from the click to the partial curves drawn)."""
    from dataclasses import replace

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


def report_retrained(result: dict) -> str:
    return "\n".join([
        f"retrained runs ({result['retrained_config']}), load average {result['load_average_1min']}:",
        f"  train():      median {result['backprop_steps_per_s_train']:.0f} steps/s {result['backprop_steps_per_s_train_all']}",
        f"  the explorer: median {result['backprop_steps_per_s_explorer']:.0f} steps/s "
        f"{result['backprop_steps_per_s_explorer_all']} ({result['explorer_vs_train']:.2f} of train())",
        f"  stop, click to partial curves drawn: median {result['stop_latency_median_s']:.2f} s {result['stop_latency_s']}",
    ])


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
    parser.add_argument("--retrained", action="store_true",
                        help="only the retrained runs: backprop steps/s in the explorer vs train(), stop latency")
    parser.add_argument("--busy", action="store_true",
                        help="with --retrained: run a CPU-bound process beside the measurement (a loaded machine)")
    args = parser.parse_args(argv)
    if args.retrained:
        import subprocess

        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
        try:
            result = {**measure_retrained(), "busy_process_beside": bool(args.busy)}
        finally:
            if busy is not None:
                busy.kill()  # the process this benchmark started, by its id
                busy.wait()
        print(json.dumps(result) if args.json else report_retrained(result))
        return 0
    if args.changes < 10:
        parser.error("--changes must be at least 10: a median of fewer says little on a shared machine")
    result = measure(args.changes, args.all_sizes)
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
