"""Checkers for the exercises of notebook 02 (initialization)."""

from __future__ import annotations

import math

import numpy as np

from .. import model
from ._check import (
    _no_answer,
    _report,
    at_precision,
    call,
    form_hint,
    guarded,
    matches,
    near,
    read_number,
    returned_array,
)

__all__ = ["check_parameter_count", "check_weight_std", "check_z1_rms", "check_glorot_uniform", "check_he_uniform"]


def _parameter_count(hidden_size: int) -> tuple:
    sizes = model.layer_sizes(hidden_size)
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return weights + sum(sizes[1:]), weights


@guarded
def check_parameter_count(answer, hidden_size: int = 256) -> None:
    """Exercise: the number of parameters (weights and biases) of 784-H-H-10 for H = ``hidden_size``, exact."""
    if _no_answer(answer):
        return
    value = int(read_number(answer, whole=True))
    expected, weights_only = _parameter_count(hidden_size)
    if value == weights_only:
        return _report(False, "", "you counted the weights; every layer also has one bias per output unit.")
    if hidden_size != 128 and value == _parameter_count(128)[0]:
        return _report(False, "", f"that is the count for hidden_size=128; redo it with {hidden_size}.")
    return _report(
        value == expected,
        f"a 784-{hidden_size}-{hidden_size}-10 network has that many parameters.",
        "each layer with fan-in a and fan-out b has an a x b weight matrix and b biases; add the three layers.",
    )


def _weight_std(scheme: str, layer: int, hidden_size: int) -> tuple:
    sizes = model.layer_sizes(hidden_size)
    fan_in, fan_out = sizes[layer - 1], sizes[layer]
    std = {
        "reference": 1 / math.sqrt(fan_out),
        "xavier": math.sqrt(2 / (fan_in + fan_out)),
        "he": math.sqrt(2 / fan_in),
    }[scheme]
    return std, fan_in, fan_out


@guarded
def check_weight_std(answer, scheme: str, layer: int = 3, hidden_size: int = 128) -> None:
    """Exercise: the standard deviation of W<layer>'s entries under an init scheme (within 2%, as the exercise says)."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    expected, fan_in, fan_out = _weight_std(scheme, layer, hidden_size)
    if at_precision(value, expected, rel=0.02):
        return _report(True, f"the {scheme} scheme gives W{layer} that standard deviation.", "")
    if matches(value, expected**2, rel=0.02):
        return _report(False, "", "that is the variance; the question asks for the standard deviation.")
    if scheme == "xavier" and matches(value, math.sqrt(6 / (fan_in + fan_out)), rel=0.02):
        return _report(
            False, "", "that is the half-width a of the uniform distribution; its standard deviation is a / sqrt(3)."
        )
    return _report(
        False,
        "",
        f"W{layer} has fan-in {fan_in} and fan-out {fan_out}; which of them does the {scheme} scheme use? "
        "(For a uniform distribution on [-a, a] the variance is a**2 / 3.)",
    )


def _mean_square_pixel() -> float:
    from ..data import load_mnist

    return float(np.mean(load_mnist().train.images ** 2))


def _z1_rms(hidden_size: int, mean_square: float) -> float:
    # Var(z) = n_in Var(W) E[x^2] + Var(b), with Var(W) = Var(b) = 1 / fan_out in the reference scheme
    return math.sqrt(model.INPUT_SIZE / hidden_size * mean_square + 1 / hidden_size)


@guarded
def check_z1_rms(answer, hidden_size: int = 2048, mean_square: float | None = None) -> None:
    """Exercise: the predicted root-mean-square of the pre-activations z1 under the reference scheme
    for a given hidden size, to three significant digits (as the exercise says: at width 2048 that tells
    leaving out Var(b), a 0.6% effect, from the prediction). ``mean_square``: E[x^2] of the training pixels
    (default: computed)."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    mean_square = _mean_square_pixel() if mean_square is None else mean_square
    expected = _z1_rms(hidden_size, mean_square)
    if at_precision(value, expected, sig=3):
        return _report(
            True,
            "that is what Var(z) = n_in Var(W) E[x^2] + Var(b) predicts; the measured value "
            "should be within a few percent.",
            "",
        )
    stated = "three significant digits"
    mistakes = [
        (expected**2, "that is the variance of z1; the question asks for its root-mean-square."),
        (
            math.sqrt(mean_square + 1 / hidden_size),
            "the reference divides by the fan-out (the hidden size), not by the 784 inputs.",
        ),
        (_z1_rms(128, mean_square), f"that is the prediction for 128 hidden units; redo it with {hidden_size}."),
        (
            math.sqrt(model.INPUT_SIZE / hidden_size * mean_square),
            "you left out the bias: the reference draws b1 with "
            "variance 1 / fan-out too, and Var(z) includes + Var(b).",
        ),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, sig=3)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(value, expected, sig=3, stated=stated)
        or "use Var(z1) = 784 Var(W) E[x^2] + Var(b) with the reference's Var(W) and Var(b), and E[x^2] = the "
        "mean of the squared pixels (not their variance) over all 55,000 training images; then take the "
        "square root: the prediction, not a measurement.",
    )


def _draw(student_fn, fan_in, fan_out, seed):
    """The student's initializer's weights for a fresh generator (a wrong return raises ``Hint``)."""
    weights, _ = call(student_fn, fan_in, fan_out, np.random.default_rng(seed))
    return np.asarray(returned_array(weights, (fan_in, fan_out), "the weight matrix"), dtype=float)


def _check_initializer(student_fn, spread_problem, success: str) -> None:
    """Draw large matrices with the student's ``fn(fan_in, fan_out, rng)``; ``spread_problem(W, fan_in, fan_out)``
    returns a hint when the values are wrong (None when right). Also checks the shape and that the weights come
    from the generator passed in (same seed: same weights; another seed: other weights)."""
    for fan_in, fan_out in ((784, 128), (300, 30)):
        W = _draw(student_fn, fan_in, fan_out, fan_out)
        hint = spread_problem(W, fan_in, fan_out)
        if hint:
            return _report(False, "", hint)
        if not np.array_equal(_draw(student_fn, fan_in, fan_out, fan_out), W):
            return _report(
                False,
                "",
                "two generators with the same seed gave different weights: draw from the rng "
                "you are given (rng.uniform), not from np.random.",
            )
        if np.array_equal(_draw(student_fn, fan_in, fan_out, fan_out + 1), W):
            return _report(
                False, "", "two different generators gave the same weights; draw from the rng you are given."
            )
    return _report(True, success, "")


def _glorot_problem(W, fan_in, fan_out):
    limit = math.sqrt(6 / (fan_in + fan_out))
    std = W.std()
    if np.abs(W).max() > limit * 1.0001:
        if near(std, limit / math.sqrt(3), 0.03):
            return (
                "the standard deviation is right but some weights lie outside [-a, a]: "
                "Glorot's scheme draws from a uniform distribution, not a normal one."
            )
        return "some weights lie outside [-a, a] with a = sqrt(6 / (fan_in + fan_out))."
    if near(std, limit / 3, 0.03):
        return (
            "your half-width is sqrt(2 / (fan_in + fan_out)), the standard deviation; "
            "a uniform distribution on [-a, a] has standard deviation a / sqrt(3)."
        )
    if not near(std, limit / math.sqrt(3), 0.03) or np.abs(W).max() < 0.98 * limit or abs(W.mean()) > 0.05 * std:
        return "draw every weight uniformly from [-a, a] with a = sqrt(6 / (fan_in + fan_out))."
    return None


@guarded
def check_glorot_uniform(student_fn) -> None:
    """Exercise: ``fn(fan_in, fan_out, rng) -> (fan_in, fan_out)`` weights drawn as Glorot & Bengio propose."""
    _check_initializer(
        student_fn,
        _glorot_problem,
        "uniform on [-a, a], variance 2 / (fan_in + fan_out), drawn from the given generator.",
    )


def _he_uniform_problem(W, fan_in, fan_out):
    limit = math.sqrt(6 / fan_in)
    std, top = W.std(), np.abs(W).max()
    if near(std, limit / math.sqrt(3), 0.03) and top > limit * 1.0001:
        return (
            "the spread is right but some weights lie outside the interval a uniform "
            "distribution with that variance would allow: draw from a uniform distribution, not a normal one."
        )
    if near(std, math.sqrt(2 / (fan_in + fan_out)), 0.03):
        return "that is Glorot's variance 2 / (fan_in + fan_out); He's uses the fan-in only."
    if near(std, math.sqrt(2 / fan_in) / math.sqrt(3), 0.03):
        return (
            "your half-width equals He's standard deviation sqrt(2 / fan_in); what half-width a "
            "gives a uniform distribution on [-a, a] that variance?"
        )
    if near(std, math.sqrt(2 / fan_out), 0.1) or near(std, math.sqrt(2 / fan_out / 3), 0.1):
        return "He's variance divides by the fan-in (the number of inputs), not the fan-out."
    if (
        not near(std, limit / math.sqrt(3), 0.03)
        or top > limit * 1.0001
        or top < 0.98 * limit
        or abs(W.mean()) > 0.05 * std
    ):
        return "draw every weight uniformly from [-a, a], with a chosen so that the variance is 2 / fan_in."
    return None


@guarded
def check_he_uniform(student_fn) -> None:
    """Exercise: ``fn(fan_in, fan_out, rng) -> (fan_in, fan_out)`` weights drawn from a *uniform* distribution
    with He's variance 2 / fan_in (He-uniform: half-width sqrt(6 / fan_in))."""
    _check_initializer(
        student_fn, _he_uniform_problem, "uniform on [-a, a] with variance 2 / fan_in: He's variance, Glorot's shape."
    )


def expected_numbers() -> dict:
    """The numbers each numeric checker accepts, for the notebook's exercises (computed from the data)."""
    return {
        "check_parameter_count": [_parameter_count(256)[0]],
        "check_weight_std": [_weight_std("xavier", 1, 512)[0]],
        "check_z1_rms": [_z1_rms(2048, _mean_square_pixel())],
    }
