"""results/baselines.json (shown by notebook 07) was made by the current code and full configuration.

Regenerate it with:  python -m helpers baselines --out results/baselines.json
"""

import math

import numpy as np
import pytest

from helpers import baselines
from helpers.train import TrainConfig, train_many


@pytest.fixture(scope="module")
def stored():
    assert baselines.RESULTS_PATH.is_file(), f"missing: run `{baselines.RESULTS_COMMAND}`"
    return baselines.load_results()


def stored_row(stored, method, setting, steps="any"):
    return next(
        r for r in stored["rows"] if r["method"] == method and r["setting"] == setting and steps in ("any", r["steps"])
    )


def test_made_with_the_current_settings_and_code(stored):
    problems = baselines.results_problems(stored)
    assert not problems, f"results/baselines.json is stale: {'; '.join(problems)}"


def test_a_stale_file_is_detected(stored):
    current = dict(stored, settings=dict(stored["settings"], seeds=[0]), provenance=baselines.provenance())
    problems = baselines.results_problems(current)
    assert any("seeds" in p for p in problems) and not any("code changed" in p for p in problems)
    edited = dict(
        current["provenance"], modules=dict(current["provenance"]["modules"], **{"helpers.optimizers": "0" * 16})
    )
    problems = baselines.results_problems(dict(current, provenance=edited))
    assert any("code changed since the file was made: helpers.optimizers" in p for p in problems), problems
    assert problems[-1] == f"regenerate with `{baselines.RESULTS_COMMAND}`"


def test_every_part_is_there(stored):
    keys = {(r["method"], r["setting"]) for r in stored["rows"]}
    for lr in baselines.FULL["all_layers_lrs"]:
        assert ("all layers", f"lr {lr:g}") in keys
    for method in ("least-squares readout", "softmax readout", "nearest class mean"):
        assert (method, "raw pixels") in keys
    for name in ("centered", "scaled", "standardized"):
        assert ("top layer only, SGD", f"lr 0.001, {name} features") in keys
    for width in baselines.FULL["widths"]:
        assert ("top layer only, SGD", f"width {width}") in keys
    assert all(r["train_images"] == 55000 for r in stored["rows"])


def close(a, b):
    return abs(a - b) <= 2e-4  # at most two test images: an argmax tie may fall either way under another BLAS


@pytest.mark.slow  # retrains rows of the stored results
def test_cheap_rows_recompute_to_the_stored_numbers(mnist, stored):
    # the closed-form readout (every seed) and nearest class mean: deterministic, a second or two
    features = {s: baselines.features_for(mnist, s) for s in stored["settings"]["seeds"]}
    readouts = baselines.measure_readouts(mnist, stored["settings"]["seeds"], features, softmax_iterations=1)
    ls = stored_row(stored, "least-squares readout", "closed form")
    assert all(close(a, b) for a, b in zip(readouts.rows[0]["test_accuracies"], ls["test_accuracies"]))
    predicted = baselines.nearest_class_mean(mnist.train.images, mnist.train.labels, mnist.test.images)
    assert close(
        np.mean(predicted == mnist.test.labels),
        stored_row(stored, "nearest class mean", "raw pixels")["test_accuracy_mean"],
    )


def test_one_training_run_recomputes_to_the_stored_number(mnist, stored):
    results = train_many(mnist, [TrainConfig(seed=0, steps=10000)])
    row = stored_row(stored, "top layer only, SGD", "lr 0.001", 10000)
    assert close(results[0][1].final_test_accuracy, row["test_accuracies"][0])


def test_diverged_runs_load_as_nan(stored):
    for row in stored["rows"]:
        for value in row["test_accuracies"]:
            assert value is not None and (math.isnan(value) or 0 < value <= 1)
