"""helpers.comparison (`python -m helpers rules`): the protocol's bookkeeping, on --quick settings."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import comparison
from helpers.train import History, TrainConfig

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick_top_and_fa(mnist):
    # lrs below the quick grid's 0.1, where FA's 400-step run of seed 0 diverges with some BLAS kernels
    # (OpenBLAS Haswell) and not with others: these tests are about the bookkeeping of runs that finish
    return comparison.compare_rules(mnist, ["top", "fa"], quick=True, lrs=[0.01, 0.03])


def test_a_toy_rule_from_outside_gets_its_row(mnist, toy_rule):
    result = comparison.compare_rules(mnist, [toy_rule], quick=True)
    (row,) = result["rules"]
    assert row["rule"] == toy_rule and row["label"] == "half the top layer's gradient" and not row["stacked"]
    assert [g["lr"] for g in row["grid"]] == comparison.QUICK["lrs"]
    assert row["chosen_lr"] in comparison.QUICK["lrs"] and row["checkpoint_equals_grid"] is True
    assert [t["steps"] for t in row["test"]] == [200, 400] and all(0.1 < t["mean"] <= 1 for t in row["test"])
    assert toy_rule in comparison.table_text(result)
    assert toy_rule not in comparison.package_rules()  # the stored file's full run is the package's rules


def test_the_chosen_lr_has_the_best_validation_mean_and_its_checkpoint_is_the_grid_run(quick_top_and_fa):
    for row in quick_top_and_fa["rules"]:
        best = max(row["grid"], key=lambda g: g["validation_mean"])
        assert row["chosen_lr"] == best["lr"]
        assert row["validation_at_select"]["per_seed"] == best["validation_accuracies"]
        assert row["checkpoint_equals_grid"] is True
        assert row["curves"]["eval_steps"] == list(range(0, 401, 100))
        assert len(row["curves"]["test_accuracy_mean"]) == 5 and len(row["curves"]["running_loss_mean"]) == 9
        assert row["test"][-1]["per_seed"][0] == row["curves"]["test_accuracy_per_seed"][0][-1]


def test_fa_records_alignment_and_top_does_not(quick_top_and_fa):
    top, fa = quick_top_and_fa["rules"]
    assert top["alignment"] is None and top["stacked"]
    a = fa["alignment"]
    assert (
        a["steps"] == [0, 10, 100, 400]
        and sorted(a["update"]) == ["W1", "W2", "W3"]
        and sorted(a["feedback"]) == ["W2", "W3"]
    )
    assert a["update"]["W3"]["mean"] == [0.0] * 4  # the top layer gets its exact gradient
    assert all(0 < v < 180 for v in a["update"]["W2"]["mean"])


def fake(lr, seed, validation, diverged_at=None):
    h = History(
        TrainConfig(lr=lr, seed=seed, steps=100),
        eval_steps=[0, 100],
        validation_accuracies=[0.1, validation],
        test_accuracies=[0.1, validation],
        diverged_at=diverged_at,
    )
    return ("r", lr, seed, 100), h


def test_a_diverged_lr_cannot_be_chosen_even_with_a_better_mean():
    settings = {"lrs": [0.01, 0.1], "seeds": [0, 1], "select_steps": 100}
    histories = dict([fake(0.01, 0, 0.8), fake(0.01, 1, 0.8), fake(0.1, 0, 0.95), fake(0.1, 1, 0.95, diverged_at=50)])
    assert comparison.choose(settings, ["r"], settings["lrs"], histories) == ("r", 0.01)
    assert math.isnan(comparison.grid_mean(settings, "r", 0.1, histories))
    histories.update([fake(0.01, 1, 0.8, diverged_at=3)])
    assert comparison.choose(settings, ["r"], settings["lrs"], histories) is None


def test_a_diverged_run_is_null_in_the_json_and_nan_when_loaded(tmp_path):
    row = {"mean": float("nan"), "sd": float("nan"), "per_seed": [0.5, float("nan")]}
    text = comparison.to_json({"rules": [row], "x": np.float64(1.5)})
    assert json.loads(text) == {"rules": [{"mean": None, "sd": None, "per_seed": [0.5, None]}], "x": 1.5}
    (tmp_path / "r.json").write_text(text)
    loaded = comparison.load_results(tmp_path / "r.json")["rules"][0]
    assert math.isnan(loaded["mean"]) and loaded["per_seed"][0] == 0.5 and math.isnan(loaded["per_seed"][1])


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"rules": []}, "no rules to compare"),
        ({"rules": ["hebb"]}, "unknown learning rule 'hebb'"),
        ({"seeds": [0, 0]}, "seeds has a repeated value"),
        ({"select_steps": 400}, "must be below the steps"),
        ({"select_steps": 150}, "must be a multiple of eval_every"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message):
        comparison.check_settings({**comparison.QUICK, "rules": ["top"], **settings})


def cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "helpers", "rules", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rules", "top,hebb"], "unknown learning rule 'hebb'"),
        (["--rules", "top,top"], "rules has a repeated value"),
        (["--out", "/nonexistent/dir/rules.json"], "does not exist"),
        (["--jobs", "0"], "must be an integer >= 1"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args, message):
    result = cli("--quick", *args)
    assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, (
        result.stderr
    )


@pytest.mark.slow  # the command line's comparison, two worker processes
def test_the_cli_writes_the_json_it_prints(tmp_path):
    out = tmp_path / "rules.json"
    result = cli("--quick", "--rules", "top,sign", "--jobs", "2", "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert json.loads(out.read_text()) == record
    assert [r["rule"] for r in record["rules"]] == ["top", "sign"] and record["settings"]["rules"] == ["top", "sign"]
    assert record["code_version"] == comparison.code_version(["top", "sign"]) and record["jobs"] == 2
    assert record["provenance"] == comparison.provenance(["top", "sign"])
    sign = record["rules"][1]
    assert all(d is not None for d in sign["grid"][1]["diverged_at"]) == (sign["grid"][1]["validation_mean"] is None)
