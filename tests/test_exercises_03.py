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
    wrong = {0.1: "even bet", 1 / loss: "not 1 / p", math.exp(loss): "sign", 10 ** -loss: "natural log",
             arithmetic: "arithmetic mean", 0.5: "solve L"}
    for answer, hint in wrong.items():
        ok, out = run(capsys, ex.check_loss_as_probability, answer, mnist)
        assert not ok and hint in out, (answer, out)
        assert f"{math.exp(-loss):.3f}" not in out and f"{math.exp(-loss):.2f}" not in out
    ok, out = run(capsys, ex.check_loss_as_probability, None, mnist)
    assert not ok and out.startswith("not yet: no answer yet")
