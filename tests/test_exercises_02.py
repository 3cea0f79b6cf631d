"""Checkers of notebook 02's exercises: right answers pass, wrong ones get a hint, the answer is never printed."""

import math

import numpy as np
import pytest

from helpers import model
from helpers.exercises import ex02_initialization as ex

from checking import run


def test_none_answer_says_no_answer_yet(capsys):
    for checker in (ex.check_parameter_count, ex.check_z1_rms):
        ok, out = run(capsys, checker, None)
        assert ok is False and out.startswith("not yet: no answer yet")
    ok, out = run(capsys, ex.check_weight_std, None, "xavier")
    assert ok is False and out.startswith("not yet: no answer yet")
    ok, out = run(capsys, ex.check_glorot_uniform, lambda fan_in, fan_out, rng: None)
    assert not ok and "None" in out
    ok, out = run(capsys, ex.check_he_uniform, lambda fan_in, fan_out, rng: None)
    assert not ok and "None" in out


def test_parameter_count(capsys):
    assert run(capsys, ex.check_parameter_count, 784 * 128 + 128 + 128 * 128 + 128 + 1290, hidden_size=128)[0]
    assert run(capsys, ex.check_parameter_count, 269_322)[0]  # default H = 256
    assert run(capsys, ex.check_parameter_count, 269322.0)[0]
    ok, out = run(capsys, ex.check_parameter_count, 784 * 256 + 256 * 256 + 2560)
    assert not ok and "bias" in out and "269322" not in out
    ok, out = run(capsys, ex.check_parameter_count, 118_282)
    assert not ok and "128" in out
    assert not run(capsys, ex.check_parameter_count, "many")[0]


def test_weight_std(capsys):
    assert run(capsys, ex.check_weight_std, 1 / math.sqrt(10), "reference", layer=3)[0]
    assert run(capsys, ex.check_weight_std, math.sqrt(2 / 138), "xavier", layer=3)[0]
    assert run(capsys, ex.check_weight_std, 0.125, "he", layer=3)[0]
    assert run(capsys, ex.check_weight_std, math.sqrt(2 / 1296), "xavier", layer=1, hidden_size=512)[0]
    ok, out = run(capsys, ex.check_weight_std, 1 / math.sqrt(10), "xavier", layer=3)
    assert not ok and out.startswith("not yet")
    ok, out = run(capsys, ex.check_weight_std, 2 / 138, "xavier", layer=3)
    assert not ok and "variance" in out
    ok, out = run(capsys, ex.check_weight_std, math.sqrt(6 / 1296), "xavier", layer=1, hidden_size=512)
    assert not ok and "half-width" in out
    assert not run(capsys, ex.check_weight_std, "a lot", "he")[0]


def test_z1_rms_prediction_matches_a_measurement(mnist, capsys):
    mean_square = float(np.mean(mnist.train.images**2))
    predicted = math.sqrt(784 / 2048 * mean_square + 1 / 2048)
    assert run(capsys, ex.check_z1_rms, predicted)[0]
    params = model.init_params(model.layer_sizes(2048), "reference", np.random.default_rng(0))
    z1 = mnist.train.images[:2000] @ params["W1"] + params["b1"]
    assert abs(np.sqrt(np.mean(z1**2)) / predicted - 1) < 0.05  # the derivation describes the network
    ok, out = run(capsys, ex.check_z1_rms, predicted**2)
    assert not ok and "variance" in out
    ok, out = run(capsys, ex.check_z1_rms, math.sqrt(mean_square + 1 / 2048))
    assert not ok and "fan-out" in out
    pixel_var = float(np.var(mnist.train.images))
    ok, out = run(capsys, ex.check_z1_rms, math.sqrt(784 / 2048 * pixel_var + 1 / 2048))
    assert not ok and "mean" in out and f"{predicted:.3f}" not in out
    ok, out = run(capsys, ex.check_z1_rms, math.sqrt(784 / 2048 * mean_square))  # Var(b) left out: 0.6% smaller
    assert not ok and "bias" in out
    assert not run(capsys, ex.check_z1_rms, 1.02 * predicted)[0]  # a measurement, not the prediction


def glorot(fan_in, fan_out, rng):
    limit = math.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def test_glorot_uniform(capsys):
    assert run(capsys, ex.check_glorot_uniform, glorot)[0]
    assert run(capsys, ex.check_glorot_uniform, lambda i, o, rng: model.init_params((i, o), "xavier", rng)["W1"])[0]
    normal = lambda i, o, rng: rng.normal(0, math.sqrt(2 / (i + o)), (i, o))  # noqa: E731
    ok, out = run(capsys, ex.check_glorot_uniform, normal)
    assert not ok and "uniform" in out
    std_as_limit = lambda i, o, rng: rng.uniform(-math.sqrt(2 / (i + o)), math.sqrt(2 / (i + o)), (i, o))  # noqa: E731
    ok, out = run(capsys, ex.check_glorot_uniform, std_as_limit)
    assert not ok and "sqrt(3)" in out
    fan_in_only = lambda i, o, rng: rng.uniform(-math.sqrt(3 / i), math.sqrt(3 / i), (i, o))  # noqa: E731
    assert not run(capsys, ex.check_glorot_uniform, fan_in_only)[0]
    ok, out = run(capsys, ex.check_glorot_uniform, lambda i, o, rng: glorot(o, i, rng))
    assert not ok and "shape" in out
    fixed_seed = lambda i, o, rng: glorot(i, o, np.random.default_rng(0))  # noqa: E731
    ok, out = run(capsys, ex.check_glorot_uniform, fixed_seed)
    assert not ok and "rng" in out
    global_rng = lambda i, o, rng: np.random.uniform(-math.sqrt(6 / (i + o)), math.sqrt(6 / (i + o)), (i, o))  # noqa: E731
    ok, out = run(capsys, ex.check_glorot_uniform, global_rng)
    assert not ok and "rng" in out


def he_uniform(fan_in, fan_out, rng):
    limit = math.sqrt(6 / fan_in)
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def test_he_uniform(capsys):
    assert run(capsys, ex.check_he_uniform, he_uniform)[0]
    wrong = {
        lambda i, o, rng: rng.normal(0, math.sqrt(2 / i), (i, o)): "not a normal one",
        glorot: "Glorot",
        lambda i, o, rng: rng.uniform(-math.sqrt(2 / i), math.sqrt(2 / i), (i, o)): "half-width",
        lambda i, o, rng: rng.uniform(-math.sqrt(6 / o), math.sqrt(6 / o), (i, o)): "fan-out",
        lambda i, o, rng: rng.uniform(-math.sqrt(3 / i), math.sqrt(3 / i), (i, o)): "variance is 2 / fan_in",
        lambda i, o, rng: he_uniform(o, i, rng): "shape",
        lambda i, o, rng: np.random.uniform(-math.sqrt(6 / i), math.sqrt(6 / i), (i, o)): "rng",
        lambda i, o, rng: he_uniform(i, o, np.random.default_rng(0)): "rng",
        lambda i, o, rng: 1 / 0: "ZeroDivisionError",
    }
    for fn, hint in wrong.items():
        ok, out = run(capsys, ex.check_he_uniform, fn)
        assert not ok and hint in out, (hint, out)
        assert "sqrt(6 / fan_in)" not in out  # the answer is never printed


def test_expected_numbers(mnist):
    numbers = ex.expected_numbers()
    assert numbers["check_parameter_count"] == [269_322]
    assert numbers["check_weight_std"][0] == pytest.approx(math.sqrt(2 / 1296))
    assert numbers["check_z1_rms"][0] == pytest.approx(
        math.sqrt(784 / 2048 * np.mean(mnist.train.images**2) + 1 / 2048)
    )


def test_counts_and_numbers_as_text(capsys):
    assert run(capsys, ex.check_parameter_count, "269,322")[0]
    assert run(capsys, ex.check_parameter_count, "269 322")[0]
    assert run(capsys, ex.check_weight_std, f"{math.sqrt(2 / 1296):.4f}", "xavier", layer=1, hidden_size=512)[0]
    assert run(capsys, ex.check_weight_std, "1/sqrt(10)", "reference")[1].startswith("not yet: give a number")


def test_z1_rms_at_three_significant_digits(capsys):
    mean_square = 0.11204472942973984
    predicted = math.sqrt(784 / 2048 * mean_square + 1 / 2048)  # 0.20828
    for answer in (round(predicted, 3), f"{predicted:.3g}", round(predicted, 5), np.float32(predicted)):
        assert run(capsys, ex.check_z1_rms, answer, 2048, mean_square)[0], answer
    no_bias = math.sqrt(784 / 2048 * mean_square)  # 0.2071: leaving out Var(b) is caught at three digits
    ok, out = run(capsys, ex.check_z1_rms, round(no_bias, 3), 2048, mean_square)
    assert not ok and "bias" in out
    ok, out = run(capsys, ex.check_z1_rms, 0.21, 2048, mean_square)  # two digits only
    assert not ok and "three significant digits" in out and "0.208" not in out


def test_z1_rms_from_a_subset_of_the_images_is_told_to_use_all_of_them(mnist, capsys):
    """E[x^2] of the first 5,000 or 1,000 images, correctly rounded, shifts the third digit: the hint names
    the subset, not the rounding."""
    for count in (5000, 1000):
        mean_square = float(np.mean(mnist.train.images[:count] ** 2))
        answer = f"{math.sqrt(784 / 2048 * mean_square + 1 / 2048):.3f}"  # as text: 0.210 keeps its three digits
        assert answer != "0.208"
        ok, out = run(capsys, ex.check_z1_rms, answer)
        assert not ok and "55,000" in out and "round" not in out, (count, answer, out)


def test_initializers_in_float32_and_wrong_returns(capsys):
    assert run(capsys, ex.check_he_uniform, lambda i, o, rng: he_uniform(i, o, rng).astype(np.float32))[0]
    assert run(capsys, ex.check_glorot_uniform, lambda i, o, rng: glorot(i, o, rng).tolist())[0]  # a list of rows
    for checker in (ex.check_he_uniform, ex.check_glorot_uniform):
        ok, out = run(capsys, checker, lambda i, o, rng: (he_uniform(i, o, rng), np.zeros(o)))  # (W, b)
        assert not ok and "return only the weight matrix" in out
        ok, out = run(capsys, checker, lambda i, o, rng: {"W": he_uniform(i, o, rng)})
        assert not ok and "dict" in out and "weight matrix" in out
