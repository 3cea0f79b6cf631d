"""Checkers of notebook 03's exercises: right answers pass, wrong ones get a hint, the answer is never printed."""

import math

import numpy as np
import pytest

from helpers import layers
from helpers.exercises import ex03_forward_pass as ex

from checking import run


def test_uniform_loss(capsys):
    assert run(capsys, ex.check_uniform_loss, 2.303)[0]
    assert run(capsys, ex.check_uniform_loss, np.log(10))[0]
    ok, out = run(capsys, ex.check_uniform_loss, 1.0)  # log10(10): wrong base
    assert not ok and "natural" in out and "2.30" not in out
    ok, out = run(capsys, ex.check_uniform_loss, 0.1)
    assert not ok and "minus its log" in out
    ok, out = run(capsys, ex.check_uniform_loss, -2.303)
    assert not ok and "sign" in out
    ok, out = run(capsys, ex.check_uniform_loss, None)
    assert not ok and out.startswith("not yet: no answer yet")


def test_forward_multiply_adds(capsys):
    right = 32 * (784 * 128 + 128 * 128 + 128 * 10)
    assert run(capsys, ex.check_forward_multiply_adds, right)[0]
    assert run(capsys, ex.check_forward_multiply_adds, float(right))[0]
    ok, out = run(capsys, ex.check_forward_multiply_adds, right // 32)
    assert not ok and "one image" in out and str(right) not in out
    ok, out = run(capsys, ex.check_forward_multiply_adds, 2 * right)
    assert not ok and "once" in out
    ok, out = run(capsys, ex.check_forward_multiply_adds, right + 32 * (128 + 128 + 10))
    assert not ok and "bias" in out
    assert not run(capsys, ex.check_forward_multiply_adds, "lots")[0]
    ok, out = run(capsys, ex.check_forward_multiply_adds, None)
    assert not ok and out.startswith("not yet: no answer yet")


def naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def in_place_softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


def test_softmax_checker(capsys):
    assert run(capsys, ex.check_softmax, layers.softmax)[0]
    ok, out = run(capsys, ex.check_softmax, naive_softmax)
    assert not ok and "overflow" in out
    ok, out = run(capsys, ex.check_softmax, in_place_softmax)
    assert not ok and "in place" in out
    ok, out = run(capsys, ex.check_softmax, lambda x: np.exp(x) / np.exp(x).sum())
    assert not ok
    global_max = lambda x: naive_softmax(x - x.max())  # noqa: E731 - one max for the whole batch
    assert not run(capsys, ex.check_softmax, global_max)[0]


def test_softmax_checker_reports_exceptions_and_none(capsys):
    ok, out = run(capsys, ex.check_softmax, lambda x: 1 / 0)
    assert not ok and "ZeroDivisionError" in out
    ok, out = run(capsys, ex.check_softmax, lambda x: None)
    assert not ok and "None" in out


def log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def smoothed(scores, y, eps):
    target = np.full(scores.shape, eps / scores.shape[1])
    target[np.arange(len(y)), y] += 1 - eps
    return -(target * log_softmax(scores)).sum() / len(y)


def test_smoothed_cross_entropy(capsys):
    assert run(capsys, ex.check_smoothed_cross_entropy, smoothed)[0]
    # with eps = 0 the smoothed loss is the plain one
    scores, y = np.random.default_rng(0).normal(size=(5, 10)), np.arange(5)
    assert math.isclose(smoothed(scores, y, 0.0), layers.softmax_cross_entropy(scores, y)[0], rel_tol=1e-12)

    def unstable(scores, y, eps):
        target = np.full(scores.shape, eps / scores.shape[1])
        target[np.arange(len(y)), y] += 1 - eps
        return -(target * np.log(naive_softmax(scores))).sum() / len(y)

    ok, out = run(capsys, ex.check_smoothed_cross_entropy, unstable)
    assert not ok and "log 0" in out
    ok, out = run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, eps: smoothed(s, y, eps) * len(y))
    assert not ok and "average" in out
    ok, out = run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, eps: layers.softmax_cross_entropy(s, y)[0])
    assert not ok and "plain" in out

    def wrong_classes_only(scores, y, eps):
        target = np.full(scores.shape, eps / (scores.shape[1] - 1))
        target[np.arange(len(y)), y] = 1 - eps
        return -(target * log_softmax(scores)).sum() / len(y)

    ok, out = run(capsys, ex.check_smoothed_cross_entropy, wrong_classes_only)
    assert not ok and "C - 1" in out

    def in_place(scores, y, eps):
        scores -= scores.max(axis=1, keepdims=True)
        return smoothed(scores, y, eps)

    ok, out = run(capsys, ex.check_smoothed_cross_entropy, in_place)
    assert not ok and "modified" in out
    ok, out = run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, eps: None)
    assert not ok and "None" in out


def test_expected_numbers():
    numbers = ex.expected_numbers()
    probability = numbers.pop("check_loss_as_probability")
    assert probability == [pytest.approx(math.exp(-3.4685), rel=1e-4)]  # notebook 3's printed batch loss
    assert numbers == {"check_uniform_loss": [math.log(10)], "check_forward_multiply_adds": [3_776_512]}


def test_loss_as_probability(capsys, mnist):
    loss = -math.log(ex._loss_as_probability(mnist))
    assert run(capsys, ex.check_loss_as_probability, math.exp(-loss), mnist)[0]
    assert run(capsys, ex.check_loss_as_probability, math.exp(-3.4685), mnist)[0]  # from the printed loss
    assert run(capsys, ex.check_loss_as_probability, 100 * math.exp(-loss), mnist)[0]  # a percent
    arithmetic = float(np.mean(ex._first_batch_probabilities(mnist)))
    wrong = {
        0.1: "even bet",
        1 / loss: "not 1 / p",
        math.exp(loss): "sign",
        10**-loss: "natural log",
        arithmetic: "arithmetic mean",
        "0.500": "solve L",
        0.5: "three significant digits",
    }
    for answer, hint in wrong.items():
        ok, out = run(capsys, ex.check_loss_as_probability, answer, mnist)
        assert not ok and hint in out, (answer, out)
        assert f"{math.exp(-loss):.3f}" not in out and f"{math.exp(-loss):.2f}" not in out
    ok, out = run(capsys, ex.check_loss_as_probability, None, mnist)
    assert not ok and out.startswith("not yet: no answer yet")


def shifted_softmax(shift):
    def softmax(x):
        e = np.exp(x - shift(x))
        return e / e.sum(axis=1, keepdims=True)

    return softmax


def loop_softmax(scores):
    out = np.empty_like(scores)
    for i, row in enumerate(scores):
        e = np.exp(row - max(row))
        out[i] = e / sum(e)
    return out


def test_softmax_correct_styles(capsys):
    assert run(capsys, ex.check_softmax, loop_softmax)[0]
    assert run(capsys, ex.check_softmax, lambda x: layers.softmax(x.astype(np.float32)))[0]  # float32 is correct
    assert run(capsys, ex.check_softmax, lambda x: layers.softmax(x).astype(np.float32))[0]
    assert run(capsys, ex.check_softmax, lambda x: [list(r) for r in layers.softmax(x)])[0]  # a list of rows
    assert run(capsys, ex.check_softmax, lambda x: np.exp(x - np.logaddexp.reduce(x, axis=1, keepdims=True)))[0]


def test_softmax_rejects_the_shifts_that_are_not_the_row_maximum(capsys):
    # subtracting the row minimum or the row mean is fine on scores spread by 300, not on [0, 800] or [0, 1500]
    for shift in (
        lambda x: x.min(axis=1, keepdims=True),
        lambda x: x.mean(axis=1, keepdims=True),
        lambda x: np.median(x, axis=1, keepdims=True),
    ):
        ok, out = run(capsys, ex.check_softmax, shifted_softmax(shift))
        assert not ok and "[0, 1500]" in out and "overflows" in out, out
    ok, out = run(capsys, ex.check_softmax, shifted_softmax(lambda x: x.max(axis=0, keepdims=True)))  # per column
    assert not ok
    no_keepdims = lambda x: np.exp(x - x.max(axis=1)[:, None]) / np.exp(x - x.max(axis=1)[:, None]).sum(axis=1)  # noqa: E731
    ok, out = run(capsys, ex.check_softmax, no_keepdims)
    assert not ok and "keepdims=True" in out and "operands" not in out  # a hint, not NumPy's broadcast error
    square_only = lambda x: no_keepdims(x) if x.shape[0] == x.shape[1] else layers.softmax(x)  # noqa: E731
    ok, out = run(capsys, ex.check_softmax, square_only)
    assert not ok and "sum to 1" in out
    clipped = lambda x: naive_softmax(np.clip(x, -700, 700))  # noqa: E731 - finite, but not softmax
    ok, out = run(capsys, ex.check_softmax, clipped)
    assert not ok and "differ" in out


def test_softmax_wrong_returns_get_a_hint(capsys):
    ok, out = run(capsys, ex.check_softmax, lambda x: (layers.softmax(x), x))  # like a layer's (out, cache)
    assert not ok and "tuple" in out and "return only the array of probabilities" in out
    ok, out = run(capsys, ex.check_softmax, lambda x: layers.softmax(x)[0])
    assert not ok and "shape" in out


def smoothed_float32(scores, y, eps):
    return smoothed(scores.astype(np.float32), y, np.float32(eps))


def loop_smoothed(scores, y, eps):
    total = 0.0
    for row, label in zip(scores, y):
        m = max(row)
        log_z = m + math.log(sum(math.exp(s - m) for s in row))
        total -= sum(((1 - eps) * (c == label) + eps / len(row)) * (s - log_z) for c, s in enumerate(row))
    return total / len(y)


def test_smoothed_cross_entropy_correct_styles(capsys):
    assert run(capsys, ex.check_smoothed_cross_entropy, loop_smoothed)[0]
    assert run(capsys, ex.check_smoothed_cross_entropy, smoothed_float32)[0]  # an np.float32
    assert run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, e: float(smoothed_float32(s, y, e)))[0]
    assert run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, e: np.array([smoothed(s, y, e)]))[0]


def test_smoothed_cross_entropy_rejects_far_apart_mistakes_and_wrong_returns(capsys):
    def mean_shifted(scores, y, eps):  # log-sum-exp around the row mean: inf on [0, 1500]
        shifted = scores - scores.mean(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        target = np.full(scores.shape, eps / scores.shape[1])
        target[np.arange(len(y)), y] += 1 - eps
        return -(target * log_probs).sum() / len(y)

    ok, out = run(capsys, ex.check_smoothed_cross_entropy, mean_shifted)
    assert not ok and "far apart" in out
    epsilon = lambda s, y, eps: smoothed(s, y, eps) if np.abs(s).max() < 100 else -np.log(1e-12)  # noqa: E731
    assert not run(capsys, ex.check_smoothed_cross_entropy, epsilon)[0]
    ok, out = run(capsys, ex.check_smoothed_cross_entropy, lambda s, y, eps: layers.softmax_cross_entropy(s, y))
    assert not ok and "2 things" in out and "return only the mean loss" in out  # the whole (loss, dscores)
    per_row = lambda s, y, eps: -(np.eye(s.shape[1])[y] * log_softmax(s)).sum(axis=1)  # noqa: E731
    ok, out = run(capsys, ex.check_smoothed_cross_entropy, per_row)
    assert not ok and "one number" in out

    # float32 tolerance does not let the classic mistakes through
    def wrong_c(s, y, eps):
        return ex._smoothed_loss(s.astype(np.float32).astype(float), y, eps, off_target=eps / (s.shape[1] - 1))

    ok, out = run(capsys, ex.check_smoothed_cross_entropy, wrong_c)
    assert not ok and "C - 1" in out


def test_numbers_at_the_precision_the_exercises_state(capsys, mnist):
    assert run(capsys, ex.check_uniform_loss, "2.303")[0]
    ok, out = run(capsys, ex.check_uniform_loss, 2.302)  # cut off, not rounded
    assert not ok and "three decimals" in out and "2.303" not in out
    p = ex._loss_as_probability(mnist)
    for answer in (f"{p:.3g}", f"{100 * p:.3g}%", round(100 * p, 2), math.exp(-3.4685)):
        assert run(capsys, ex.check_loss_as_probability, answer, mnist)[0], answer
    ok, out = run(capsys, ex.check_loss_as_probability, round(p, 2), mnist)  # 0.03: one significant digit
    assert not ok and "significant" in out
    assert run(capsys, ex.check_forward_multiply_adds, "3,776,512")[0]
    assert not run(capsys, ex.check_forward_multiply_adds, 3_776_512.5)[0]
