"""Baselines: the vectorized readouts equal one-by-one training, the closed-form readouts, the CLI."""

import json

import numpy as np
import pytest

from helpers import baselines
from helpers.__main__ import main
from helpers.readout import with_ones
from helpers.train import train_many


@pytest.fixture(scope="module")
def features(mnist):
    return {seed: baselines.features_for(mnist, seed) for seed in (0, 1)}


def test_vectorized_readouts_equal_training_one_by_one(mnist, features, short, assert_same_runs):
    # seeds x learning rates x all three optimizers: the batches, updates and logs must be train()'s
    configs = [
        short(seed=seed, lr=lr, optimizer=opt)
        for seed in (0, 1)
        for opt, lr in [("sgd", 1e-3), ("sgd", 0.1), ("momentum", 1e-2), ("adam", 1e-3)]
    ]
    vectorized = train_many(mnist, configs, features=features)
    assert_same_runs(vectorized, train_many(mnist, configs, together=False, features=features), rtol=1e-9)
    assert vectorized[1][1].final_test_accuracy > vectorized[0][1].final_test_accuracy  # lr 0.1 beats 1e-3


def test_vectorized_handles_seeds_with_different_numbers_of_runs(mnist, features, short, assert_same_runs):
    configs = [short(seed=1, lr=0.05), short(seed=0, lr=1e-3), short(seed=0, lr=0.1, optimizer="adam")]
    vectorized = train_many(mnist, configs, features=features)
    # the stack folds the bias into the weights: the same sums in another order, equal to rounding
    assert_same_runs(vectorized, train_many(mnist, configs, together=False, features=features), rtol=1e-9)


def test_vectorized_diverges_where_train_does(mnist, features, short):
    # a learning rate past max_loss stops a run in the stack at the step train() stops it, the others go on
    configs = [short(lr=1e5), short(lr=0.1)]
    vectorized = train_many(mnist, configs, features=features)
    one_by_one = train_many(mnist, configs, together=False, features=features)
    assert one_by_one[0][1].diverged_at is not None and one_by_one[1][1].diverged_at is None
    assert vectorized[0][1].diverged_at == one_by_one[0][1].diverged_at
    assert "diverged at step" in vectorized[0][1].message
    assert vectorized[1][1].test_accuracies == one_by_one[1][1].test_accuracies


def test_vectorized_computes_missing_features(mnist, short, assert_same_runs):
    configs = [short(steps=100, hidden_size=16, seed=3, lr=0.1)]
    assert_same_runs(train_many(mnist, configs), train_many(mnist, configs, together=False))


@pytest.mark.parametrize(
    "other, message",
    [
        ({"steps": 200}, "must share steps: got 300 and 200"),
        ({"batch_size": 16}, "must share batch_size"),
        ({"hidden_size": 64}, "must share hidden_size"),
        ({"rule": "backprop"}, "the runs of one rule"),
    ],
)
def test_vectorized_rejects_configs_it_cannot_stack(mnist, features, other, message, short):
    with pytest.raises(ValueError, match=message):
        train_many(mnist, [short(), short(**other)], features=features)


def test_vectorized_refuses_an_empty_list(mnist):
    with pytest.raises(ValueError, match="no configurations"):
        train_many(mnist, [])


def test_least_squares_readout_matches_lstsq(rng):
    features = with_ones(rng.standard_normal((3, 200, 12)))  # 3 "seeds", 200 examples, 12 features
    labels = rng.integers(0, 10, 200)
    weights = baselines.least_squares_readout(features, labels)
    assert weights.shape == (3, 13, 10)
    for s in range(3):
        expected = np.linalg.lstsq(features[s], np.eye(10)[labels], rcond=None)[0]
        assert np.allclose(weights[s], expected, rtol=1e-7, atol=1e-9)


def test_least_squares_readout_survives_a_dead_unit(rng):
    # a ReLU unit that never fires is a column of zeros: F^T F is singular, the tiny ridge keeps it solvable
    features = with_ones(np.maximum(rng.standard_normal((300, 8)), 0))
    features[:, 2] = 0.0
    labels = rng.integers(0, 10, 300)
    expected = np.linalg.lstsq(features, np.eye(10)[labels], rcond=None)[0]  # the minimum-norm solution
    assert np.allclose(baselines.least_squares_readout(features, labels), expected, atol=1e-7)


def test_softmax_readout_converges(rng):
    # overlapping classes, so the optimum is finite; the preconditioner must cope with badly scaled features
    features = with_ones(rng.standard_normal((500, 6)) * np.array([1e-2, 1, 10, 1, 1, 100]))
    score = features[:, :3] @ [50, 1, 0.1] + rng.standard_normal(500)
    labels = np.searchsorted(np.quantile(score, np.linspace(0.1, 0.9, 9)), score)  # all ten classes, overlapping
    fit = baselines.softmax_readout(features, labels, iterations=600)
    assert fit.losses[-1] < fit.losses[0] * 0.8
    assert fit.gradient_norms < 1e-9  # at the optimum
    assert fit.losses[-1] <= fit.losses.min() + 1e-12


def test_format_table_shows_spread_only_over_several_seeds():
    rows = [
        baselines.make_row("all layers", "lr 0.001", 10000, [0.9], [0], 1.0),
        baselines.make_row("top layer only, SGD", "lr 0.1", 10000, [0.8, 0.82, 0.84], [0, 1, 2], 2.0),
    ]
    table = baselines.format_table(rows, times=False).splitlines()
    assert table[0].split() == [
        "method",
        "setting",
        "steps",
        "train",
        "images",
        "test",
        "accuracy",
        "seeds",
    ]  # no wall time
    assert set(table[1]) == {"-", " "}
    # rows made without a train_images count show "-" there; one seed: no spread
    assert table[2].split() == ["all", "layers", "lr", "0.001", "10,000", "-", "90.00%", "1"]
    assert table[3].split() == ["top", "layer", "only,", "SGD", "lr", "0.1", "10,000", "-", "82.00%", "±", "2.00", "3"]
    assert len(table) == 4
    timed = baselines.format_table(rows).splitlines()
    assert timed[0].split()[-2:] == ["wall", "time"] and timed[2].endswith("1.00 s") and timed[3].endswith("2.00 s")
    # columns line up: every row's accuracy starts where the header's does
    column = table[0].index("test accuracy")
    assert table[2][column:].startswith("90.00%") and table[3][column:].startswith("82.00% ± 2.00")


@pytest.mark.slow  # the command line's quick run of four parts
def test_cli_json_has_one_row_per_method_and_setting(capsys):
    assert main(["baselines", "--quick", "--json", "--only", "top", "readouts", "sweep", "widths"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = result["rows"]
    methods = {r["method"] for r in rows}
    assert {
        "top layer only, SGD",
        "least-squares readout",
        "softmax readout",
        "top layer only, momentum",
        "top layer only, Adam",
    } <= methods
    for row in rows:
        assert {
            "method",
            "setting",
            "steps",
            "test_accuracy_mean",
            "test_accuracy_spread",
            "test_accuracies",
            "wall_seconds",
            "seeds",
        } <= set(row)
        assert row["seeds"] == [0, 1] and len(row["test_accuracies"]) == 2
        assert 0 < row["test_accuracy_mean"] <= 1
        assert row["test_accuracy_mean"] == pytest.approx(np.mean(row["test_accuracies"]), rel=1e-12)
        assert row["test_accuracy_spread"] == pytest.approx(np.std(row["test_accuracies"], ddof=1), rel=1e-12)
    settings = [(r["method"], r["setting"], r["steps"]) for r in rows]
    assert len(settings) == len(set(settings))  # the sweep's lr 0.001 run is the top-only run: listed once
    assert ("top layer only, SGD", "lr 0.001", 1000) in settings
    assert ("least-squares readout", "width 32", None) in settings


def test_cli_prints_the_table(capsys):
    assert main(["baselines", "--quick", "--only", "all-layers", "--seeds", "0", "--all-layers-steps", "50"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Baselines: MLP 784-128-128-10 (or the width given), batch 32")
    assert lines[1].split()[:7] == ["method", "setting", "steps", "train", "images", "test", "accuracy"]
    rows = [line.split() for line in lines[3:] if line.strip()]
    assert [cells[:5] for cells in rows] == [
        ["all", "layers", "lr", lr, "50"] for lr in ("0.001", "0.1")
    ]  # --quick's grid
    for cells in rows:  # one row per learning rate of the grid: 50 steps, seed 0, all 55,000 training images
        accuracy = float(cells[6].rstrip("%"))
        assert cells[5] == "55,000" and 0 < accuracy <= 100 and cells[7] == "1"
        assert cells[-1] == "s" and float(cells[-2]) > 0
    # 50 steps at lr 0.1 already beat chance (10%) by far
    assert float(rows[1][6].rstrip("%")) > 50


@pytest.mark.parametrize(
    "argv",
    [
        ["--seeds", "-1"],
        ["--seeds", "0", "0"],
        ["--steps", "0"],
        ["--only", "everything"],
        ["--width-train-images", "60000"],
        ["--widths", "ten"],
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(capsys, argv):
    with pytest.raises(SystemExit, match="^2$"):
        raise SystemExit(main(["baselines", "--quick"] + argv))
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_vectorized_reports_progress_and_cancels(mnist, features, short):
    seen = []
    configs = [short(steps=1000), short(steps=1000, lr=0.1)]
    results = train_many(
        mnist, configs, features=features, progress=lambda step, steps: seen.append((step, steps)) or step >= 200
    )
    assert seen == [(100, 1000), (200, 1000)]
    for _, history in results:
        assert history.cancelled and history.steps_done == 200
        assert history.message == "cancelled at step 200"
