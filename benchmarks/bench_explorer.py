"""How fast the explorer answers a slider change, measured through its own update().

    python benchmarks/bench_explorer.py            # figures as text
    python benchmarks/bench_explorer.py --json     # one JSON object
    python benchmarks/bench_explorer.py --all-sizes  # also one change to every hidden size

A "response" is ``Explorer.update(...)`` from the call until the run is
trained and the figure redrawn (the PNG is in the Image widget), exactly
what a slider change triggers. Top layer only, 10,000 steps, batch 32.

- learning-rate change: the frozen features are cached, only the top layer
  retrains (target < 0.5 s);
- hidden-size change: the feature cache is emptied first, so the features
  are recomputed every time (target < 1.5 s). The sizes alternate around the
  default as a reader moves the slider: 128 -> 256 -> 128 -> 64 -> 128 ...

Wall time depends on what else the machine runs, so the process CPU time of
each change and the load average are reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

from helpers.data import load_mnist
from helpers.explorer import HIDDEN_SIZES, Explorer
from helpers.train import TrainConfig

LR_TARGET_S, HIDDEN_TARGET_S = 0.5, 1.5


def timed(call):
    """(wall seconds, process CPU seconds) of call()."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    if result is None:
        raise RuntimeError("the explorer dropped the run: nothing else should be changing it here")
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(changes: int = 12, all_sizes: bool = False) -> dict:
    explorer = Explorer(load_mnist(), TrainConfig())
    load_before = os.getloadavg()[0]
    try:
        explorer.update(lr=0.05)  # warm-up: first redraw, caches filled
        # distinct values, each differing from the previous one, across the slider's useful range
        lrs = np.geomspace(2e-3, 1.0, changes)[np.r_[0:changes:2, 1:changes:2]]
        lr_times = [timed(lambda: explorer.update(lr=float(lr))) for lr in lrs]

        explorer.update(lr=1e-3, hidden_size=128)
        sizes = [(256, 128, 64, 128)[i % 4] for i in range(changes)]
        hidden_times = []
        for size in sizes:
            explorer.features.clear()  # force recomputation: a size the reader has not tried yet
            hidden_times.append(timed(lambda: explorer.update(hidden_size=size)))

        per_size = {}
        if all_sizes:
            for size in HIDDEN_SIZES:
                explorer.features.clear()
                per_size[size] = round(timed(lambda: explorer.update(hidden_size=size))[0], 3)
    finally:
        explorer.close()

    def median(pairs, which):
        return round(statistics.median(p[which] for p in pairs), 3)

    return {
        "lr_change_median_s": median(lr_times, 0),
        "hidden_change_median_s": median(hidden_times, 0),
        "lr_change_cpu_median_s": median(lr_times, 1),
        "hidden_change_cpu_median_s": median(hidden_times, 1),
        "lr_change_times_s": [round(w, 3) for w, _ in lr_times],
        "hidden_change_times_s": [round(w, 3) for w, _ in hidden_times],
        "hidden_change_sizes": sizes,
        "hidden_change_by_size_s": per_size,
        "targets_s": {"lr_change": LR_TARGET_S, "hidden_change": HIDDEN_TARGET_S},
        "config": "top layer only, 10000 steps, batch 32, seed 0, reference init",
        "cpu_count": os.cpu_count(),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def report(result: dict) -> str:
    lines = [
        f"explorer response times ({result['config']}; {len(result['lr_change_times_s'])} changes each)",
        f"  learning-rate change: median {result['lr_change_median_s']:.3f} s wall, "
        f"{result['lr_change_cpu_median_s']:.3f} s CPU  (target < {LR_TARGET_S} s)",
        f"  hidden-size change:   median {result['hidden_change_median_s']:.3f} s wall, "
        f"{result['hidden_change_cpu_median_s']:.3f} s CPU  (target < {HIDDEN_TARGET_S} s; sizes 64/128/256, "
        "features recomputed)",
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
    args = parser.parse_args(argv)
    if args.changes < 10:
        parser.error("--changes must be at least 10: a median of fewer says little on a shared machine")
    result = measure(args.changes, args.all_sizes)
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
