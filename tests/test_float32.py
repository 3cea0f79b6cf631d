"""The float32 option: float32 images make every run, grid, comparison and explorer compute in float32.

float64 stays the default everywhere (the notebooks' digits, the stored results); these tests check that a
float32 run really computes in float32 (no array quietly upcast to float64), that it is the float64 run to
float32's rounding where the run is not chaotic, and that the comparison records the dtype.
"""

import json

import numpy as np
import pytest

from helpers import comparison, data, model, rules
from helpers.data import load_mnist  # the real reader: bound before conftest.py shares one read among helpers
from helpers.explorer import Explorer
from helpers.explorer.compact import load_compact_mnist
from helpers.readout import ReadoutStack
from helpers.train import TrainConfig, initial_params, train, train_many


@pytest.fixture(scope="module")
def mnist32(mnist):
    return mnist.astype("float32")


# ---------------------------------------------------------------- the data


def test_float32_images_are_the_float64_images_rounded(mnist, mnist32):
    assert mnist32.train.images.dtype == np.float32 and mnist32.test.images.dtype == np.float32
    assert np.array_equal(mnist32.validation.images, mnist.validation.images.astype(np.float32))
    assert mnist32.train.labels is mnist.train.labels  # the labels are shared, not copied
    assert mnist.astype("float64") is mnist  # already float64: nothing converted
    assert data.images_dtype(mnist32) == np.float32 and data.images_dtype(mnist) == np.float64


def test_load_mnist_reads_float32_directly(mnist32):
    loaded = load_mnist(dtype="float32")
    assert loaded.train.images.dtype == np.float32
    assert np.array_equal(loaded.test.images, mnist32.test.images)


def test_compact_mnist_reads_its_bytes_as_float32(mnist32):
    compact = load_compact_mnist(dtype="float32")
    rows = np.array([0, 7, 54999])
    assert compact.train.images.dtype == np.float32
    assert np.array_equal(compact.train.images[rows], mnist32.train.images[rows])
    back = compact.astype("float64")
    assert back.train.pixels is compact.train.pixels  # the same bytes, read another way
    assert back.train.images[rows].dtype == np.float64


@pytest.mark.parametrize("bad", ["float16", "int32", "double precision", None])
def test_an_unknown_dtype_is_refused_with_the_choices(mnist, bad):
    with pytest.raises(ValueError, match="dtype must be one of float64, float32"):
        mnist.astype(bad)
    with pytest.raises(ValueError, match="float64, float32"):
        comparison.make_protocol(quick=True, dtype=bad)


# ---------------------------------------------------------------- runs


@pytest.mark.parametrize("name", [n for n, cls in rules.RULES.items() if cls.__module__ == rules.__name__])
def test_every_rule_steps_in_float32(mnist32, name):
    """The parameters after training, and every direction of a step, are float32: no upcast on the way."""
    config = TrainConfig(steps=20, lr=0.01, rule=name, eval_every=10, log_every=10)
    params, history = train(mnist32, config)
    assert {k: v.dtype for k, v in params.items()} == {k: np.dtype(np.float32) for k in params}
    assert history.steps_done == 20
    rule = rules.make_rule(name)
    start = initial_params(config, np.float32)
    rule.setup(start, mnist32, rules.RunContext(config=config, rng=np.random.default_rng(0)))
    _, directions = rule.loss_and_directions(start, np.arange(32))
    assert {k: d.dtype for k, d in directions.items()} == {k: np.dtype(np.float32) for k in directions}


def test_a_float32_run_is_the_float64_run_to_rounding(mnist, mnist32):
    config = TrainConfig(steps=2000, lr=0.1, eval_every=1000)
    _, h64 = train(mnist, config)
    _, h32 = train(mnist32, config)
    np.testing.assert_allclose(h32.losses, h64.losses, rtol=1e-5)
    assert abs(h32.final_test_accuracy - h64.final_test_accuracy) <= 2e-4  # two test images at most


def test_float64_runs_are_unchanged_by_the_option(mnist):
    """Given float32 parameters, a run on float64 images computes in float64, as every stored result did."""
    config = TrainConfig(steps=200, lr=0.1, rule="backprop", eval_every=100)
    start32 = initial_params(config, np.float32)
    params, _ = train(mnist, config, start32)
    assert params["W1"].dtype == np.float64
    _, h_default = train(mnist, config, {k: v.astype(np.float64) for k, v in start32.items()})
    _, h_given = train(mnist, config, start32)
    assert h_default.losses == h_given.losses


def test_the_float32_stack_is_the_float32_plain_loop(mnist32):
    configs = [TrainConfig(steps=500, lr=lr, eval_every=250) for lr in (0.01, 0.1, 1.0)]
    stacked = train_many(mnist32, configs)
    alone = train_many(mnist32, configs, together=False)
    for (p_stack, h_stack), (p_alone, h_alone) in zip(stacked, alone):
        assert p_stack["W3"].dtype == p_alone["W3"].dtype == np.float32
        np.testing.assert_allclose(p_stack["W3"], p_alone["W3"], rtol=1e-5, atol=1e-6)
        assert h_stack.test_accuracies == h_alone.test_accuracies
        # the plain loop sums a loss in float64 from float32 scores, the stack in float32: rounding apart
        np.testing.assert_allclose(h_stack.losses, h_alone.losses, rtol=1e-5)


def test_the_stack_allocates_every_array_in_its_weights_dtype(mnist32):
    config = TrainConfig()
    start = initial_params(config, np.float32)
    features = model.frozen_features(start, mnist32)
    assert features.train.dtype == np.float32
    stack = ReadoutStack(
        [features.train],
        [features.test],
        mnist32.train.labels,
        mnist32.test.labels,
        [data.BatchSampler(len(mnist32.train.labels), 32, np.random.default_rng(0))],
        np.vstack([start["W3"], start["b3"]])[None],
        [[0.01, 0.1]],
        [["sgd", "momentum"]],
    )
    losses = stack.run(5)
    arrays = [stack.train_features, stack.train_onehot, stack.weights, stack.grads, stack.scores, stack.dscores]
    arrays += [stack.test_features[0], losses] + [np.asarray(o.lr) for o in stack.optimizers]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


# ---------------------------------------------------------------- the comparison and the explorer


def test_a_plug_in_rule_trains_in_float32_too(mnist32, toy_rule):
    params, history = train(mnist32, TrainConfig(steps=50, rule=toy_rule, eval_every=25))
    assert {v.dtype for v in params.values()} == {np.dtype(np.float32)} and history.steps_done == 50


def test_a_float32_comparison_says_so_and_is_not_the_baseline(mnist, tmp_path, monkeypatch):
    trained_on = []  # the images' dtype of every call that trains: the runs, not only the file, are float32
    for name in ("train", "train_many"):
        real = getattr(comparison, name)
        monkeypatch.setattr(
            comparison, name, lambda d, *a, real=real, **k: trained_on.append(d.train.images.dtype) or real(d, *a, **k)
        )
    result = comparison.compare_rules(mnist, ["top", "backprop"], quick=True, dtype="float32", cache=tmp_path)
    assert set(trained_on) == {np.dtype(np.float32)} and len(trained_on) >= 4
    assert result["settings"]["dtype"] == "float32"
    assert "float32" in comparison.table_text(result).splitlines()[0]
    assert any(
        "setting dtype: file has 'float32', the full run uses 'float64'" in p
        for p in comparison.results_problems(result)
    )
    baseline = comparison.compare_rules(mnist, ["backprop"], quick=True, cache=tmp_path)
    assert baseline["settings"]["dtype"] == "float64"
    assert "float" not in comparison.table_text(baseline).splitlines()[0]
    # the cache keeps the two dtypes' runs apart: backprop's 3 runs (2 lrs, the chosen lr's long run) twice
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("backprop")]) == 6
    rows = {row["rule"]: row for row in result["rules"]}
    grid64 = {g["lr"]: g for g in baseline["rules"][0]["grid"]}
    for g in rows["backprop"]["grid"]:  # 200 steps at lr 0.01 and 0.1: float32's rounding, not another run
        assert g["validation_mean"] == pytest.approx(grid64[g["lr"]]["validation_mean"], abs=4e-4)


def test_the_command_line_trains_one_run_in_float32(capsys):
    from helpers.__main__ import main

    assert main(["train", "--steps", "100", "--eval-every", "50", "--dtype", "float32", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(", float32") and json.loads(out[-1])["dtype"] == "float32"
    assert main(["train", "--steps", "100", "--eval-every", "50", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "float" not in out[0] and json.loads(out[-1])["dtype"] == "float64"


def test_the_command_line_runs_a_float32_comparison(capsys):
    from helpers.__main__ import main

    assert main(["rules", "--quick", "--rules", "top", "--dtype", "float32", "--json", "--jobs", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["dtype"] == "float32"
    with pytest.raises(SystemExit):
        main(["rules", "--quick", "--rules", "top", "--dtype", "float16"])
    assert "invalid choice: 'float16'" in capsys.readouterr().err


@pytest.mark.slow  # a learning-rate grid and an all-layers run: `make test` runs it, the edit-test loop does not
def test_a_float32_explorer_trains_and_says_float32(mnist):
    """Every way an explorer answers says float32: a top run, a grid answer, an all-layers run."""
    explorer = Explorer(load_compact_mnist(), TrainConfig(steps=500), dtype="float32")
    try:
        assert data.images_dtype(explorer.data) == np.float32
        assert "trained" in explorer.status_text and "(float32)" in explorer.status_text
        params, features, _ = explorer.features.get(explorer.config())
        assert params["W1"].dtype == features.train.dtype == np.float32
        grid = explorer.wait_for_grid(timeout=120)
        assert {p[0].dtype for p in grid.top if p is not None} == {np.dtype(np.float32)}
        explorer.update(lr=0.1)
        assert "from the grid (float32)" in explorer.status_text
        explorer.update(rule="backprop")
        assert explorer.history.steps_done == 500 and "(float32)" in explorer.status_text
    finally:
        explorer.close()
    with pytest.raises(ValueError, match="dtype must be one of"):
        Explorer(mnist, dtype="float16", wait=False)


def test_float32_images_are_never_widened_back_to_float64(mnist32):
    """float32 pixels made float64 again would keep float32's rounding under a float64 label: a float64 comparison
    or explorer given them says so before anything trains, and how to fix it."""
    fix = r"cannot be made float64 exactly again: pass float64 data \(helpers.data.load_mnist\(\)\), or compute in float32"
    with pytest.raises(ValueError, match=fix):
        mnist32.astype("float64")
    with pytest.raises(ValueError, match=fix):
        comparison.compare_rules(mnist32, ["top"], quick=True)
    with pytest.raises(ValueError, match=fix):
        Explorer(mnist32, wait=False)
    assert load_compact_mnist(dtype="float32").astype("float64").train.images.dtype == np.float64  # bytes: exact
