"""The benchmarks run and report what they promise (their figures are not asserted: timings are noisy).

Each script runs in this process, its ``main()`` reading the flags, on a small slice of MNIST with one BLAS thread:
what is checked is the script's own arithmetic (best of rounds, ratios, floors, the JSON it prints), which does not
depend on the data's size, while the full-size products would make each run take tens of seconds.
"""

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from helpers.data import Mnist, Split

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small_mnist(mnist):
    """2,000 training, 500 validation and 1,000 test images: every split the benchmarks read, at a fraction."""

    def part(split, n):
        return Split(split.images[:n], split.labels[:n])

    return Mnist(
        train=part(mnist.train, 2000),
        validation=part(mnist.validation, 500),
        test=part(mnist.test, 1000),
        directory=mnist.directory,
    )


def load_script(name):
    """benchmarks/<name> as a module (the benchmarks are scripts, not a package)."""
    path = ROOT / "benchmarks" / name
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench(small_mnist, monkeypatch, capsys):
    """``bench(name, *flags)``: benchmarks/<name> run as a script with ``--json`` on the small MNIST -> its record."""

    def run(name, *args):
        path = ROOT / "benchmarks" / name
        module = load_script(name)
        monkeypatch.setattr(module, "load_mnist", lambda *a, **k: small_mnist)
        monkeypatch.setattr(sys, "argv", [str(path), *args, "--json"])
        with threadpool_limits(limits=1):  # on a busy machine two BLAS threads make small products crawl
            status = module.main()
        assert status in (None, 0), status
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    return run


def positive_seconds(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_bench_training_reports_times_ratio_and_equal_accuracy(bench):
    record = bench("bench_training.py", "--steps", "50", "--repeat", "2")
    assert record["steps"] == 50 and record["repeat"] == 2
    for key in ("naive_seconds", "full_forward_seconds", "fast_seconds", "features_seconds"):
        assert positive_seconds(record[key]), key
    assert sorted(record["all_seconds"]) == ["fast", "features", "full_forward", "naive"]
    for name, times in record["all_seconds"].items():
        assert len(times) == 2 and all(positive_seconds(t) for t in times), name
        assert record[f"{name}_seconds"] == min(times)  # best of the rounds
    # ratios of the unrounded times: to the rounding of the seconds
    assert record["ratio"] == pytest.approx(record["naive_seconds"] / record["fast_seconds"], rel=0.01)
    assert record["ratio_vs_full_forward"] == pytest.approx(
        record["full_forward_seconds"] / record["fast_seconds"], rel=0.01
    )
    assert sorted(record["cpu_seconds"]) == sorted(record["all_seconds"])
    assert all(positive_seconds(t) for t in record["cpu_seconds"].values())
    assert record["cpu_ratio"] == pytest.approx(
        record["cpu_seconds"]["naive"] / record["cpu_seconds"]["fast"], rel=0.01
    )
    assert record["same_accuracy"] is True
    assert 0 < record["fast_test_accuracy"] == record["naive_test_accuracy"] <= 1


@pytest.mark.slow  # trains the explorer's learning-rate grid
def test_bench_explorer_reports_every_figure(bench):
    # the quickest run that goes through every measurement: 1,000-step runs, one change of each kind,
    # the all-layers run timed for a few seconds; its figures are not quoted (it says so)
    record = bench("bench_explorer.py", "--steps", "1000", "--changes", "1", "--all-layers-window", "3", "--no-app")
    for key in (
        "lr_change_median_s",
        "hidden_change_median_s",
        "grid_ready_after_hidden_change_median_s",
        "first_grid_s",
        "peak_memory_mb_grid_h128",
        "all_layers_steps_per_s_explorer",
        "all_layers_steps_per_s_train",
    ):
        assert positive_seconds(record[key]), key
    assert record["lr_change_answered_from_grid"] is True
    assert len(record["lr_change_times_s"]) == 1 and len(record["grid_ready_times_s"]) == 1
    assert record["all_layers_steps_measured"] >= 1
    assert record["changes_enough_for_a_median"] is False
    assert record["app_ready_s"] is None and record["app_not_measured"] == "--no-app"


@pytest.mark.slow  # trains the explorer's learning-rate grid
def test_bench_explorer_reports_memory_over_re_runs(bench):
    record = bench("bench_explorer.py", "--re-runs", "1", "--steps", "1000")
    first, re_run = record["memory_mb_first_and_re_runs"]
    assert first > 0 and re_run > 0 and record["peak_memory_mb"] > 0  # (peak and resident are counted differently)
    assert record["re_run_growth"] == pytest.approx(re_run / first - 1, abs=1e-3)
    assert "1000 steps" in record["re_run_config"]


@pytest.mark.browser
def test_bench_explorer_times_the_app():
    if not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must have the browser: /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing")
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_explorer.py", "--app-only", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.strip().splitlines()[-1])
    assert positive_seconds(record["app_ready_s"]) and record["app_ready_since_launch_s"] >= record["app_ready_s"]


def test_bench_baselines_reports_ratio(bench):
    record = bench("bench_baselines.py", "--steps", "200", "--seeds", "0")
    assert sorted(record) == ["1 seeds x 8 settings", "one seed, 8 settings"]
    for measurement in record.values():
        assert measurement["runs"] == 8 and measurement["steps"] == 200
        assert positive_seconds(measurement["vectorized_seconds"]) and positive_seconds(
            measurement["one_by_one_seconds"]
        )
        assert measurement["speedup"] == pytest.approx(
            measurement["one_by_one_seconds"] / measurement["vectorized_seconds"]
        )
        assert measurement["equal"] is True  # same results both ways


def test_bench_threads_times_each_product_at_one_thread_and_every_core_and_stops_its_busy_processes(bench, monkeypatch):
    started = []
    real_popen = subprocess.Popen
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(real_popen(*a, **k)) or started[-1])
    record = bench("bench_threads.py", "--repeat", "1", "--softmax-iterations", "1", "--busy", "1")
    assert record["thread_counts"] == sorted({1, os.cpu_count() or 1})
    assert [condition["busy_processes"] for condition in record["conditions"]] == [0, 1]
    assert len(started) == 1 and started[0].poll() is not None  # the busy process is gone when the script ends
    for condition in record["conditions"]:
        assert [row["workload"].split(",")[0] for row in condition["rows"]] == [
            "frozen features of every image",
            "least-squares readout",
            "softmax readout",
        ]
        for row in condition["rows"]:
            seconds = {int(threads): value for threads, value in row["seconds"].items()}
            assert sorted(seconds) == record["thread_counts"]
            assert all(positive_seconds(value) for value in seconds.values())
            assert row["ratio"] == pytest.approx(seconds[max(seconds)] / seconds[1])


def test_bench_rules_reports_the_floor_and_every_rule_next_to_its_lean_loop(bench):
    bench_rules = load_script("bench_rules.py")
    record = bench(
        "bench_rules.py",
        *("--steps", "12", "--default-steps", "5", "--repeat", "1", "--reference-steps", "30"),
        *("--row", "backprop", "--row-quick"),
    )
    assert (record["steps"], record["default_steps"], record["repeat"], record["reference_steps"]) == (12, 5, 1, 30)
    rate = record["core_gflops"] * 1e9
    assert math.isfinite(rate) and rate > 0
    ref = record["reference"]
    for key in ("train_run_seconds", "feature_products_seconds", "lean_loop_seconds", "floor_seconds"):
        assert positive_seconds(ref[key]), key
    assert ref["floor_seconds"] == pytest.approx(ref["feature_products_seconds"] + ref["lean_loop_seconds"])
    assert ref["ratio_to_floor"] == pytest.approx(ref["train_run_seconds"] / ref["floor_seconds"])
    assert sorted(record["rules"]) == sorted(["top", "backprop", "fa", "dfa", "sign", "uloss"])
    for rule, entry in record["rules"].items():
        for tag in ("one_thread", "default_threads"):
            train_ms, lean_ms = entry[f"{tag}_train_step_ms"], entry[f"{tag}_lean_step_ms"]
            assert math.isfinite(train_ms) and train_ms > 0 and math.isfinite(lean_ms) and lean_ms > 0, (rule, tag)
            assert entry[f"{tag}_ratio"] == pytest.approx(train_ms / lean_ms), (rule, tag)
        assert positive_seconds(entry["evaluation_seconds"]) and positive_seconds(entry["train_10000_seconds"]), rule
        assert math.isfinite(entry["memory_mb"]) and entry["memory_mb"] > 0, rule
        # the floor: the step's products at one core's rate (16.2 MFLOP for backprop at H 128, batch 32)
        assert entry["floor_step_ms"] == pytest.approx(1e3 * bench_rules.step_flops(rule) / rate), rule
        assert entry["ratio_to_floor"] == pytest.approx(entry["one_thread_train_step_ms"] / entry["floor_step_ms"])
    assert bench_rules.step_flops("backprop") == 2 * 32 * (
        2 * (784 * 128 + 128 * 128 + 128 * 10) + 128 * 128 + 128 * 10
    )
    assert bench_rules.step_flops("top") == 2 * 2 * 32 * 128 * 10
    lock = record["lockstep"]
    assert lock["runs"] == 5 and lock["speedup"] == pytest.approx(
        lock["apart_run_step_ms"] / lock["together_run_step_ms"]
    )
    assert lock["max_weight_difference"] <= 1e-12  # the stack trains the same runs (bit for bit with NumPy's matmul)
    row = record["row"]  # the quick protocol: 2 lrs x 1 seed to 200 steps, the chosen lr's seed to 400
    assert (row["rule"], row["quick"], row["jobs"], row["steps"]) == ("backprop", True, 2, 2 * 200 + 400)
    assert row["floor_seconds"] == pytest.approx(row["steps"] * bench_rules.step_flops("backprop") / (2 * rate))
    assert row["ratio_to_floor"] == pytest.approx(row["wall_seconds"] / row["floor_seconds"])


def test_bench_float32_reports_both_dtypes_ratios_and_accuracies(bench):
    record = bench("bench_float32.py", "--quick")
    assert record["repeat"] == 2 and len(record["load_before"]) == len(record["load_after"]) == 3
    for section in ("grid", "backprop", "features"):
        measured = record[section]
        assert sorted(measured["seconds"]) == ["float32", "float64"], section
        assert all(
            len(times) == 2 and all(positive_seconds(t) for t in times) for times in measured["all_seconds"].values()
        ), section
        # medians of two rounds: their mean; the ratio of the unrounded medians, to the rounding of the seconds
        for name, times in measured["all_seconds"].items():
            assert measured["seconds"][name] == pytest.approx(sum(times) / 2, abs=1e-4), (section, name)
        assert measured["ratio"] == pytest.approx(
            measured["seconds"]["float64"] / measured["seconds"]["float32"], rel=0.01
        )
        assert measured["cpu_ratio"] == pytest.approx(
            measured["cpu_seconds"]["float64"] / measured["cpu_seconds"]["float32"], rel=0.01
        )
    grid = record["grid"]
    assert (grid["runs"], grid["steps"]) == (5, 200)
    assert grid["float32_dtypes"] == ["float32"]  # the float32 stack really computed in float32
    assert grid["float64_equals_train_top_layers"] is True  # its driver is the explorer's call
    assert len(grid["float32_accuracies"]) == len(grid["float64_accuracies"]) == 5
    assert grid["accuracy"]["runs_compared"] + grid["accuracy"]["diverged_float64"] >= 5
    backprop = record["backprop"]
    for name in ("float64", "float32"):
        assert backprop[name]["param_dtypes"] == backprop[name]["direction_dtypes"] == [name]
        assert 0 < backprop[name]["test_accuracy"] <= 1
    assert backprop["accuracy_points"] == pytest.approx(
        100 * (backprop["float32"]["test_accuracy"] - backprop["float64"]["test_accuracy"]), abs=1e-3
    )
    assert record["features"]["images"] == 3500 and 0 < record["features"]["max_difference_relative_to_largest"] < 1e-5
    # the text the script prints without --json: both dtypes, their seconds and the ratios
    spec = importlib.util.spec_from_file_location("bench_float32_text", ROOT / "benchmarks" / "bench_float32.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.report(record)
    assert text.count("float64") >= 5 and text.count("float32") >= 5
    assert f"ratio {grid['ratio']:.2f}x" in text and f"ratio {backprop['ratio']:.2f}x" in text
    assert f"ratio {record['features']['ratio']:.2f}x" in text


def test_make_bench_runs_every_benchmark():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    scripts = sorted(path.name for path in (ROOT / "benchmarks").glob("bench_*.py"))
    assert scripts and [name for name in scripts if f"benchmarks/{name}" not in recipe] == []


def test_bench_imports_sums_each_packages_own_time_and_names_the_grammar_package(monkeypatch, capsys, tmp_path):
    bench_imports = load_script("bench_imports.py")
    report = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       200 |        200 |     lark.utils",
            "import time:       300 |        500 |   lark",
            "import time:      1000 |       1500 | rfc3987_syntax",
            "import time:        50 |         50 | json",
            "a warning line that is not part of the report",
        ]
    )
    shares = bench_imports.package_seconds(report)
    assert shares == pytest.approx({"lark": 0.0005, "rfc3987_syntax": 0.001, "json": 0.00005})  # self times only
    monkeypatch.setattr(sys, "argv", ["bench_imports.py", "--module", "json", "--repeat", "2", "--no-server", "--json"])
    assert bench_imports.main() == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["repeat"] == 2 and record["watched"] == "rfc3987_syntax" and "jupyterlab_ready_seconds" not in record
    (row,) = record["rows"]
    assert row["module"] == "json" and row["watched_seconds"] == 0.0
    assert positive_seconds(row["wall_seconds"]) and 0 < row["import_seconds"] <= row["wall_seconds"]
    seconds = [share for _, share in row["heaviest"]]  # the interpreter's own start-up packages (site, re) count too
    assert 1 <= len(seconds) <= 4 and seconds == sorted(seconds, reverse=True) and all(x > 0 for x in seconds)
    assert sum(seconds) <= row["import_seconds"] + 1e-9
    monkeypatch.setattr(sys, "argv", ["bench_imports.py", "--module", "no_such_module_here", "--repeat", "1"])
    with pytest.raises(SystemExit, match="import no_such_module_here.*failed"):
        bench_imports.main()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # a Python with no `jupyter` beside it
    with pytest.raises(SystemExit, match="no `jupyter` next to .*--no-server"):
        bench_imports.jupyterlab_ready_seconds()


def test_bench_pytorchs_numpy_floor_trains_the_projects_run(small_mnist):
    # the floor's time is a bound for the project's run only if it is the same run: same start, batches, steps
    from helpers.train import TrainConfig, train

    floor = load_script("bench_pytorch.py").numpy_floor
    config = TrainConfig(steps=300, lr=0.1)
    with threadpool_limits(limits=1):
        assert floor(small_mnist, config) == train(small_mnist, config)[1].final_test_accuracy
        assert floor(small_mnist, config) != floor(small_mnist, TrainConfig(steps=300, lr=0.1, seed=1))
