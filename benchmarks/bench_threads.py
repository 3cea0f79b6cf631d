"""BLAS threads on a shared machine: the lessons' large products with one BLAS thread and with every core.

    python benchmarks/bench_threads.py                 # idle, then beside one CPU-bound process per core
    python benchmarks/bench_threads.py --busy 1 --repeat 3 --json

The training loops run on one BLAS thread whatever the machine (helpers.threads). The large products keep
every thread BLAS starts with, one per core unless the kernel's environment says otherwise
(OPENBLAS_NUM_THREADS): the frozen features of every image (notebooks 5-7 compute them), the
least-squares readout and the softmax readout of notebook 7 (seeds 0-2). On a server shared by a class, the
other students' kernels keep the cores busy, and a product split over threads that each wait for a core can
take longer than the same product on one thread. This script times each product at 1 thread and at the
machine's core count (best of ``--repeat``), idle and beside ``--busy`` CPU-bound processes, and prints the
ratio (cores' threads / one thread: below 1, the threads pay). A benchmark: it prints figures and never fails
on them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from machine import busy_process, load_average
from threadpoolctl import threadpool_limits

from helpers import baselines
from helpers.data import load_mnist

SEEDS = [0, 1, 2]


def workloads(data, softmax_iterations: int) -> dict:
    """{name: a function that computes it once}: the products a lesson makes with every BLAS thread."""
    features = {s: baselines.features_for(data, s) for s in SEEDS}
    train_features, _ = baselines.stacked_features(data, SEEDS, features)
    labels = data.train.labels
    return {
        "frozen features of every image, one seed": lambda: baselines.features_for(data, 0),
        "least-squares readout, seeds 0-2": lambda: baselines.least_squares_readout(train_features, labels),
        f"softmax readout, {softmax_iterations} iterations, seeds 0-2": lambda: baselines.softmax_readout(
            train_features, labels, iterations=softmax_iterations
        ),
    }


def best_seconds(work, threads: int, repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``work()`` with BLAS limited to ``threads``."""
    times = []
    with threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
    return min(times)


def measure(work_by_name: dict, thread_counts, repeat: int) -> list:
    """[{workload, seconds: {threads: s}, ratio}] with ratio = seconds at the most threads / at one."""
    rows = []
    for name, work in work_by_name.items():
        seconds = {threads: best_seconds(work, threads, repeat) for threads in thread_counts}
        rows.append({"workload": name, "seconds": seconds, "ratio": seconds[max(seconds)] / seconds[1]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cores = os.cpu_count() or 1
    parser.add_argument(
        "--busy",
        type=int,
        default=cores,
        help=f"CPU-bound processes beside the loaded run (default {cores}: one per core)",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of each product per setting; the fastest counts (default 2)"
    )
    parser.add_argument(
        "--softmax-iterations",
        type=int,
        default=20,
        help="iterations of the softmax readout (notebook 7 runs 100; default 20)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON record instead of the table")
    args = parser.parse_args()
    if args.busy < 0 or args.repeat < 1 or args.softmax_iterations < 1:
        parser.error("--busy must be 0 or more, --repeat and --softmax-iterations 1 or more")
    thread_counts = sorted({1, cores})
    work = workloads(load_mnist(), args.softmax_iterations)
    record = {"cores": cores, "thread_counts": thread_counts, "repeat": args.repeat, "conditions": []}
    for busy in [0] + ([args.busy] if args.busy else []):
        processes = [busy_process() for _ in range(busy)]
        try:
            before = load_average()
            rows = measure(work, thread_counts, args.repeat)
            record["conditions"].append(
                {"busy_processes": busy, "load_before": before, "load_after": load_average(), "rows": rows}
            )
        finally:
            for process in processes:  # the processes this script started, by their ids
                process.kill()
                process.wait()
    if args.json:
        print(json.dumps(record))
        return 0
    print(f"bench_threads: {cores} cores; BLAS threads {thread_counts}; best of {args.repeat}")
    for condition in record["conditions"]:
        busy = condition["busy_processes"]
        print(
            f"\n{'idle' if not busy else f'beside {busy} CPU-bound process' + ('es' if busy > 1 else '')} "
            f"(load average {condition['load_before']} -> {condition['load_after']})"
        )
        print(
            f"{'product':<48} "
            + "  ".join(f"{f'{t} thread' + ('s' if t > 1 else ''):>11}" for t in thread_counts)
            + "  ratio"
        )
        for row in condition["rows"]:
            times = "  ".join(f"{row['seconds'][t]:>9.2f} s" for t in thread_counts)
            print(f"{row['workload']:<48} {times}  {row['ratio']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
