"""`python -m helpers train`: the main job without Jupyter."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "helpers", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_reference_experiment_json():
    result = run("train", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    record = json.loads(lines[-1])
    assert record["steps"] == 10000
    assert 0.40 <= record["final_test_accuracy"] <= 0.50
    assert record["train_seconds"] > 0
    assert record["history"]["eval_steps"] == list(range(0, 10001, 1000))
    # the reference's log format: running loss every 250 steps, accuracy every 1,000
    assert sum(line.startswith("\tstep ") for line in lines) == 41
    assert sum(line.startswith("accuracy: ") for line in lines) == 11
    assert "\tstep 10000: loss: " in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_flags_are_used():
    result = run(
        "train",
        "--steps",
        "500",
        "--lr",
        "0.1",
        "--batch-size",
        "64",
        "--hidden-size",
        "32",
        "--seed",
        "3",
        "--rule",
        "backprop",
        "--init",
        "he",
        "--optimizer",
        "momentum",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.splitlines()[-1])
    assert record["steps"] == 500
    assert record["config"] == {
        **record["config"],
        "lr": 0.1,
        "batch_size": 64,
        "hidden_size": 32,
        "seed": 3,
        "rule": "backprop",
        "init": "he",
        "optimizer": "momentum",
    }
    assert record["final_test_accuracy"] > 0.8


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--lr", "0"], "--lr: must be a finite number > 0"),
        (["--lr", "-1e-3"], "--lr"),
        (["--steps", "-5"], "--steps: must be an integer >= 1"),
        (["--batch-size", "0"], "--batch-size"),
        (["--hidden-size", "abc"], "--hidden-size: expected an integer >= 1"),
        (["--rule", "middle"], "unknown learning rule 'middle'"),
        (["--init", "glorot"], "invalid choice: 'glorot'"),
        (["--optimizer", "rmsprop"], "invalid choice"),
        (["--batch-size", "100000"], "batch_size must be at most 55000"),
        (["--frobnicate"], "unrecognized arguments"),
    ],
)
def test_bad_flags_exit_nonzero_with_one_line(args, fragment, capsys):
    # in this process (`python -m helpers` is `sys.exit(main())`): a traceback would be an exception here
    with pytest.raises(SystemExit) as exit_:
        raise SystemExit(main(["train", *args]))
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert fragment in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_missing_data_dir_offline_is_one_clear_error(tmp_path):
    # an unroutable proxy makes the download fail at once, as offline
    env = {
        "MNIST_DIR": str(tmp_path / "empty"),
        "https_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
    }
    result = run("train", "--steps", "10", env=env)
    assert result.returncode == 2
    assert "could not download" in result.stderr and "Traceback" not in result.stderr
    assert not list((tmp_path / "empty").glob("*"))  # nothing half-written


def test_missing_data_dir_offline_leaves_no_folder_behind(tmp_path):
    missing = tmp_path / "not-there" / "mnist"
    env = {"https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}  # offline, as above
    result = run("train", "--steps", "10", "--data-dir", str(missing), env=env)
    assert result.returncode == 2 and "could not download" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "not-there").exists()  # neither folder the download made


@pytest.mark.slow  # a subprocess under a 4 GB address-space limit
def test_a_hidden_size_too_large_for_memory_is_one_line_and_status_2():
    import resource

    def limit_memory():  # as `ulimit -v 4000000` would (a shared server's per-user limit)
        resource.setrlimit(resource.RLIMIT_AS, (4 * 1024**3, 4 * 1024**3))

    result = subprocess.run(
        [sys.executable, "-m", "helpers", "train", "--hidden-size", "30000", "--steps", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit_memory,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr[-2000:]
    assert "--hidden-size 30000" in result.stderr and "memory" in result.stderr and "smaller" in result.stderr


def test_divergence_exits_nonzero_with_message():
    result = run("train", "--rule", "backprop", "--lr", "10", "--steps", "300")
    assert result.returncode == 1
    assert result.stdout.count("diverged at step") == 1  # said once, by the log


def test_a_diverged_run_still_ends_with_a_json_record():
    result = run("train", "--lr", "1e5", "--steps", "200", "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    record = json.loads(result.stdout.splitlines()[-1])
    assert record["diverged_at"] is not None and record["final_test_accuracy"] != record["final_test_accuracy"]  # nan
