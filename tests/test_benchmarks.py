"""The benchmarks run and report what they promise (their figures are not asserted: timings are noisy)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(name, *args):
    result = subprocess.run([sys.executable, f"benchmarks/{name}", *args, "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bench_training_reports_times_ratio_and_equal_accuracy():
    record = bench("bench_training.py", "--steps", "300", "--repeat", "1")
    assert {"naive_seconds", "fast_seconds", "ratio"} <= set(record)
    assert record["naive_seconds"] > 0 and record["fast_seconds"] > 0
    assert abs(record["ratio"] - record["naive_seconds"] / record["fast_seconds"]) < 0.05 * record["ratio"]
    assert record["same_accuracy"] is True


def test_bench_explorer_reports_medians():
    record = bench("bench_explorer.py", "--changes", "10")
    assert record["lr_change_median_s"] > 0 and record["hidden_change_median_s"] > 0
    assert len(record["lr_change_times_s"]) >= 10


def test_bench_baselines_reports_ratio():
    record = bench("bench_baselines.py", "--steps", "200", "--seeds", "0")
    for measurement in record.values():
        assert measurement["vectorized_seconds"] > 0 and measurement["one_by_one_seconds"] > 0
        assert measurement["speedup"] > 0
        assert measurement["equal"] is True  # same results both ways
