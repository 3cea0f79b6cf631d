"""results/baselines.json (shown by notebook 07) was made by the current code and full configuration.

Regenerate it with:  python -m helpers baselines --json > results/baselines.json
"""

import math

import numpy as np
import pytest

from helpers import baselines
from helpers.train import TrainConfig


@pytest.fixture(scope="module")
def stored():
    assert baselines.RESULTS_PATH.is_file(), f"missing: run `{baselines.RESULTS_COMMAND}`"
    return baselines.load_results()


def stored_row(stored, method, setting, steps="any"):
    return next(r for r in stored["rows"] if r["method"] == method and r["setting"] == setting and steps in ("any", r["steps"]))


def test_made_with_the_current_settings_and_code(stored):
    problems = baselines.results_problems(stored)
    assert not problems, f"results/baselines.json is stale ({'; '.join(problems)}): run `{baselines.RESULTS_COMMAND}`"


def test_a_stale_file_is_detected(stored):
    changed = dict(stored, settings=dict(stored["settings"], seeds=[0]), code_version="0" * 16)
    problems = baselines.results_problems(changed)
    assert any("seeds" in p for p in problems) and any("code_version" in p for p in problems)


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
    assert close(np.mean(predicted == mnist.test.labels), stored_row(stored, "nearest class mean", "raw pixels")["test_accuracy_mean"])


def test_one_training_run_recomputes_to_the_stored_number(mnist, stored):
    results = baselines.train_top_layers(mnist, [TrainConfig(seed=0, steps=10000)])
    row = stored_row(stored, "top layer only, SGD", "lr 0.001", 10000)
    assert close(results[0][1].final_test_accuracy, row["test_accuracies"][0])


def test_diverged_runs_load_as_nan(stored):
    for row in stored["rows"]:
        for value in row["test_accuracies"]:
            assert value is not None and (math.isnan(value) or 0 < value <= 1)


def test_the_code_hash_covers_code_not_text():
    section, conditioning = baselines.measured_sources()
    assert baselines.code_version([section, conditioning]) == baselines.code_version()
    docstring = '"""The ceiling of the frozen features'
    some_line = next(line for line in section.splitlines() if line.strip().startswith('"""'))
    edits = {
        "a space in a docstring": section.replace(some_line, some_line.rstrip() + " ", 1).replace(
            some_line.strip(), some_line.strip().replace(" ", "  ", 1), 1),
        "a comment": section.replace("\ndef ", "\n# a new comment\ndef ", 1),
        "blank lines and spacing": section.replace("\n\n", "\n\n\n", 3).replace(" = ", " =  ", 1),
        "a docstring added": f'{docstring}, said again."""\n' + section,
    }
    for what, edited in edits.items():
        assert edited != section, what
        assert baselines.code_version([edited, conditioning]) == baselines.code_version(), f"{what} marked it stale"
    ridge = "ridge: float = 1e-10"
    assert ridge in section
    changed = baselines.code_version([section.replace(ridge, "ridge: float = 1e-9"), conditioning])
    assert changed != baselines.code_version(), "a changed default must mark the results stale"
    assert baselines.code_version([section, conditioning + "\nEXTRA = 1\n"]) != baselines.code_version()
