"""The baselines' new rows: raw pixels, nearest class mean, conditioning, the all-layers grid, the table's columns."""

import json

import numpy as np
import pytest

from helpers import baselines, conditioning
from helpers.__main__ import main
from helpers.data import Split
from helpers.model import FrozenFeatures
from helpers.readout import with_ones


def test_nearest_class_mean_picks_the_closest_mean(rng):
    centers = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]] + [[100.0 + c, 100.0] for c in range(7)])
    labels = np.repeat(np.arange(10), 20)
    train = centers[labels] + rng.normal(0, 0.5, size=(200, 2))
    queries = np.array([[9.0, 1.0], [0.5, 0.2], [1.0, 8.0]])
    assert baselines.nearest_class_mean(train, labels, queries).tolist() == [1, 0, 2]
    # the same as the brute-force distance to every mean
    means = np.stack([train[labels == c].mean(axis=0) for c in range(10)])
    points = rng.normal(50, 40, size=(30, 2))
    brute = ((points[:, None] - means[None]) ** 2).sum(axis=-1).argmin(axis=1)
    assert np.array_equal(baselines.nearest_class_mean(train, labels, points), brute)


@pytest.fixture(scope="module")
def small(mnist):
    """The first 3,000 training and 1,000 test images: the raw-pixel readouts in well under a second."""
    from dataclasses import replace

    return replace(
        mnist,
        train=Split(mnist.train.images[:3000], mnist.train.labels[:3000]),
        test=Split(mnist.test.images[:1000], mnist.test.labels[:1000]),
    )


def test_raw_pixel_rows_are_deterministic_and_sensible(small):
    rows = baselines.measure_raw_pixels(small, softmax_iterations=20).rows
    assert [(r["method"], r["setting"]) for r in rows] == [
        ("least-squares readout", "raw pixels"),
        ("softmax readout", "raw pixels"),
        ("nearest class mean", "raw pixels"),
    ]
    for row in rows:
        assert row["seeds"] == [] and len(row["test_accuracies"]) == 1 and row["test_accuracy_spread"] == 0
        assert row["train_images"] == 3000
        assert 0.6 < row["test_accuracy_mean"] < 1  # every one of them is far above chance (10%)
    table = baselines.format_table(rows, times=False)
    assert "3,000" in table and "±" not in table
    assert all(line.split()[-1] == "-" for line in table.splitlines()[2:])  # seeds: "-", deterministic


def test_transform_uses_training_statistics_and_keeps_dead_units():
    rng = np.random.default_rng(3)
    train, test = rng.random((100, 4)) * [1, 2, 3, 0], rng.random((20, 4))
    out = conditioning.transform(FrozenFeatures(train, test), center=True, scale=True)
    assert np.allclose(out.train[:, :3].mean(axis=0), 0) and np.allclose(out.train[:, :3].std(axis=0), 1)
    assert np.allclose(out.test[:, 3], test[:, 3])  # a dead unit (std 0) is centered (mean 0) but not scaled
    assert np.allclose(out.test[:, :3], (test[:, :3] - train[:, :3].mean(axis=0)) / train[:, :3].std(axis=0))


def test_spectrum_and_condition_number():
    matrix = np.diag([4.0, 1.0, 0.01])
    values = conditioning.spectrum(matrix)
    assert np.allclose(values, [4, 1, 0.01])
    assert conditioning.condition_number(values) == pytest.approx(400)
    assert conditioning.condition_number(np.array([1.0, 0.0])) == float("inf")
    assert conditioning.slow_directions(values, lr=1e-3, steps=10000) == 1  # 1e-3 * 1e4 * 0.01 < 1
    features = np.random.default_rng(0).random((50, 3))
    assert np.allclose(conditioning.second_moment(features), with_ones(features).T @ with_ones(features) / 50)
    assert np.allclose(conditioning.covariance(features), np.cov(features, rowvar=False, ddof=0))


def test_standardizing_the_features_improves_the_conditioning(mnist):
    features = baselines.features_for(mnist, 0)
    spectra = conditioning.spectra(features)
    condition = {name: conditioning.condition_number(values) for name, values in spectra.items()}
    assert condition["standardized"] < condition["centered"] < condition["raw"]
    assert condition["raw"] > 1e4  # badly conditioned: the notebook's central claim, measured
    slow = {name: conditioning.slow_directions(values, 1e-3, 10000) for name, values in spectra.items()}
    assert slow["standardized"] < slow["raw"]


def test_conditioning_rows_train_from_the_same_start(mnist):
    measured = baselines.measure_conditioning(mnist, [0], steps=300, transforms=("centered", "standardized"))
    assert [r["setting"] for r in measured.rows] == ["lr 0.001, centered features", "lr 0.001, standardized features"]
    assert all(r["train_images"] == 55000 and len(r["condition_numbers"]) == 1 for r in measured.rows)
    assert set(measured.extra["spectra"][0]) == {"raw", "centered", "scaled", "standardized"}
    assert all(len(r["slow_directions"]) == 1 for r in measured.rows)


def test_all_layers_grid_has_one_row_per_learning_rate_and_marks_divergence(small):
    rows = baselines.measure_all_layers_grid(small, [0], lrs=(0.01, 100.0), steps=40).rows
    assert [r["setting"] for r in rows] == ["lr 0.01", "lr 100"]
    assert rows[1]["diverged_seeds"] == [0] and np.isnan(rows[1]["test_accuracy_mean"])
    assert "n/a (diverged)" in baselines.format_table(rows)
    # what model selection and the notebook read: validation, training accuracy, dead ReLUs (none at init)
    first = rows[0]
    assert len(first["validation_accuracies"]) == 1 and 0 < first["train_accuracies"][0] <= 1
    assert first["dead_fractions_at_init"] == [[0.0, 0.0]] and len(first["dead_fractions"][0]) == 2
    assert np.isnan(rows[1]["train_accuracies"][0])


def test_width_rows_add_sgd_at_a_learning_rate_proportional_to_the_width(small):
    rows = baselines.measure_widths(small, widths=(64, 128), seeds=(0,), steps=50).rows
    assert [(r["method"], r["setting"]) for r in rows] == [
        ("top layer only, SGD", "width 64"),
        ("top layer only, SGD", "width 64, lr 0.0005"),
        ("least-squares readout", "width 64"),
        ("top layer only, SGD", "width 128"),
        ("least-squares readout", "width 128"),
    ]
    assert rows[1]["lr"] == 0.0005 and len(rows[1]["validation_accuracies"]) == 1


def test_table_says_how_many_seeds_diverged():
    row = baselines.make_row("all layers", "lr 1", 10000, [0.9, float("nan"), 0.8], [0, 1, 2], 1.0)
    assert "85.00% (1 diverged)" in baselines.format_table([row])


@pytest.mark.slow  # the command line's quick run
def test_cli_quick_json_has_the_new_parts_and_a_code_version(capsys):
    assert (
        main(
            [
                "baselines",
                "--quick",
                "--json",
                "--only",
                "raw-pixels",
                "conditioning",
                "--seeds",
                "0",
                "--sweep-steps",
                "100",
                "--softmax-iterations",
                "3",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    methods = {(r["method"], r["setting"]) for r in result["rows"]}
    assert ("nearest class mean", "raw pixels") in methods
    assert ("top layer only, SGD", "lr 0.001, standardized features") in methods
    assert result["code_version"] == baselines.code_version() and len(result["code_version"]) == 16
    assert result["settings"]["parts"] == ["raw-pixels", "conditioning"]


def test_cli_rejects_a_repeated_learning_rate(capsys):
    assert main(["baselines", "--quick", "--all-layers-lrs", "0.1", "0.1"]) == 2
    assert "--all-layers-lrs" in capsys.readouterr().err


def test_transformed_second_moment_equals_transforming_the_features():
    rng = np.random.default_rng(5)
    train = np.maximum(rng.normal(0.2, 1, size=(500, 6)) * [1, 2, 0.1, 3, 1, 0], 0)  # the last unit is dead
    features = FrozenFeatures(train, train[:10])
    raw = conditioning.second_moment(train)
    for center, scale in conditioning.TRANSFORMS.values():
        direct = conditioning.second_moment(conditioning.transform(features, center, scale).train)
        assert np.allclose(conditioning.transformed_second_moment(raw, center, scale), direct, atol=1e-12)
