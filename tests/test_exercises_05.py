"""Checkers of notebook 05 (training the top layer): right answers pass, common wrong ones get their hint."""

import math

import numpy as np
import pytest

from helpers import exercises, model
from helpers.exercises import ex05_training as ex05
from helpers.train import TrainConfig, train

from checking import assert_no_direction, run


class TinyData:
    """Six test images; the one-layer network below predicts 7, 7, 7, 7, 7, 2 for labels 7, 7, 7, 3, 1, 7."""

    class test:
        images = np.eye(6, 784)
        labels = np.array([7, 7, 7, 3, 1, 7])


@pytest.fixture(scope="module")
def expected(mnist):
    """ex05.expected_numbers(mnist), computed once per module: it trains the reference run (seconds)."""
    return ex05.expected_numbers(mnist)


def tiny_params():
    W1 = np.zeros((784, 10))
    W1[np.arange(6), [7, 7, 7, 7, 7, 2]] = 1.0  # image i -> its prediction
    return {"W1": W1, "b1": np.zeros(10)}


def test_digit_precision(capsys):
    params = tiny_params()  # column 7: 5 predictions, 3 right; row 7: 4 images, 3 recognised
    for answer in (0.6, 60, 60.0, np.float64(0.6), 3 / 5, "3/5", "60%", 60.4, "0.596"):
        assert run(capsys, exercises.check_digit_precision, answer, params, TinyData)[0], answer
    wrong = {
        0.75: "recall",
        75: "recall",
        "3/4": "recall",
        3: "count",
        0.4: "NOT",
        "0.50": "column",
        0.5: "whole percent",
        "most": "digits",
        61: "take the column",
        59: "take the column",
    }  # a point off: the same words as any other
    for answer, hint in wrong.items():
        ok, out = run(capsys, exercises.check_digit_precision, answer, params, TinyData)
        assert not ok and hint in out, (answer, out)
        assert "0.6" not in out and "60" not in out
    ok, out = run(capsys, exercises.check_digit_precision, None, params, TinyData)
    assert not ok and "no answer yet" in out


@pytest.mark.slow  # trains the reference runs
def test_digit_precision_on_the_reference_run(capsys, mnist, expected):
    params, _ = train(mnist, TrainConfig())
    predicted_7 = model.predict(params, mnist.test.images) == 7
    precision = np.mean(mnist.test.labels[predicted_7] == 7)
    assert run(capsys, exercises.check_digit_precision, precision, params, mnist)[0]
    assert round(100 * precision, 2) in expected["check_digit_precision"]
    # the precision the exercise states: a whole percent or finer, as a fraction, a percent or counts
    hits, column = int(np.sum(mnist.test.labels[predicted_7] == 7)), int(np.sum(predicted_7))
    for answer in (
        round(100 * precision),
        round(100 * precision, 1),
        round(precision, 2),
        f"{hits}/{column}",
        f"{100 * precision:.1f}%",
        f"{hits}/{column:,}",
    ):
        ok, out = run(capsys, exercises.check_digit_precision, answer, params, mnist)
        assert ok, (answer, out)
    for answer in (round(100 * precision) + 1, round(100 * precision) - 1, round(precision, 1)):
        ok, out = run(capsys, exercises.check_digit_precision, answer, params, mnist)
        assert not ok and "recall" not in out, (answer, out)


def test_ema_start_weight(capsys, expected):
    first = math.ceil(math.log(0.01) / math.log(0.99))
    assert 0.99**first < 0.01 <= 0.99 ** (first - 1)
    assert first in expected["check_ema_start_weight"]
    for answer in (first, float(first), np.int64(first), str(first)):
        assert run(capsys, exercises.check_ema_start_weight, answer)[0]
    wrong = {
        first - 1: "rounded down",
        100: "time constant",
        69: "halved",
        250: "logarithms",
        "many": "digits",
        math.log(0.01) / math.log(0.99): "whole number",
        300.5: "whole number",
    }
    for answer, hint in wrong.items():
        ok, out = run(capsys, exercises.check_ema_start_weight, answer)
        assert not ok and hint in out, (answer, out)
        assert str(first) not in out
        assert_no_direction(out)
    ok, out = run(capsys, exercises.check_ema_start_weight, None)
    assert not ok and "no answer yet" in out


def momentum(w, v, g, lr, beta):
    v = beta * v + g
    return w - lr * v, v


def test_momentum_step_with_its_constants_written_in_is_not_yet_correct(capsys):
    def hard_coded(w, v, g, lr, beta):
        v = 0.9 * v + g
        return w - 0.1 * v, v

    ok, out = run(capsys, exercises.check_momentum_step, hard_coded)
    assert not ok and "use the lr and beta it is given" in out


def test_momentum_step(capsys):
    ok, out = run(capsys, exercises.check_momentum_step, momentum)
    assert ok and "helpers.optimizers.Momentum" in out  # the class the student can import, where notebook 5 names it
    from helpers.optimizers import Momentum  # noqa: F401

    def in_place(w, v, g, lr, beta):  # in place is how optimizers work: allowed
        v *= beta
        v += g
        w -= lr * v
        return w, v

    assert run(capsys, exercises.check_momentum_step, in_place)[0]

    def float32(w, v, g, lr, beta):
        v = np.float32(beta) * v.astype(np.float32) + g.astype(np.float32)
        return w.astype(np.float32) - np.float32(lr) * v, v

    assert run(capsys, exercises.check_momentum_step, float32)[0]
    assert run(capsys, exercises.check_momentum_step, lambda w, v, g, lr, beta: list(momentum(w, v, g, lr, beta)))[0]
    for fn, hint in {
        lambda w, v, g, lr, beta: momentum(w, v, g, lr, beta)[0]: "two arrays",  # the weights alone
        lambda w, v, g, lr, beta: (momentum(w, v, g, lr, beta), None): "new_velocity is None",
        lambda w, v, g, lr, beta: (momentum(w, v, g, lr, beta)[0].ravel(), v): "shaped like the weights",
        lambda w, v, g, lr, beta: {"w": w, "v": v}: "dict",
        lambda w, v, g, lr, beta: (*momentum(w, v, g, lr, beta), lr): "3 things",
    }.items():
        ok, out = run(capsys, exercises.check_momentum_step, fn)
        assert not ok and hint in out, (hint, out)
    # float32 tolerance does not hide the 1 - beta convention
    ema32 = lambda w, v, g, lr, beta: float32(w, v, (1 - beta) * g, lr, beta)  # noqa: E731
    ok, out = run(capsys, exercises.check_momentum_step, ema32)
    assert not ok and "1 - beta times" in out
    wrong = {
        lambda w, v, g, lr, beta: (w - lr * (beta * v + (1 - beta) * g), beta * v + (1 - beta) * g): "1 - beta times",
        lambda w, v, g, lr, beta: (w - lr * g, beta * v + g): "plain SGD",
        lambda w, v, g, lr, beta: (w + lr * (beta * v + g), beta * v + g): "against",
        lambda w, v, g, lr, beta: (w - lr * (beta * v + g), v): "must be returned",  # velocity never carried
        lambda w, v, g, lr, beta: (w - lr * (beta * v + g), beta * v + 2 * g): "first step matches",
        lambda w, v, g, lr, beta: (w - lr * (g + beta * (beta * v + g)), beta * v + g): "first step already differs",
        lambda w, v, g, lr, beta: None: "two arrays",
        lambda w, v, g, lr, beta: 1 / 0: "ZeroDivisionError",
    }
    for fn, hint in wrong.items():
        ok, out = run(capsys, exercises.check_momentum_step, fn)
        assert not ok and out.startswith("not yet") and hint in out, (hint, out)


def test_batch_doubling(capsys, mnist, expected):
    seed_0 = train(mnist, TrainConfig(seed=0, batch_size=64))[1]
    runs = ex05._batch_runs(mnist, 64)  # (seed, [at 10,000 steps, at 5,000]), what the checker compares with
    assert tuple(runs[0]) == (seed_0.final_test_accuracy, seed_0.test_accuracies[5])
    at_10k, at_5k = runs.mean(axis=0)
    assert run(capsys, exercises.check_batch_doubling, at_10k, at_5k, mnist)[0]
    assert run(capsys, exercises.check_batch_doubling, round(100 * at_10k, 2), round(100 * at_5k, 2), mnist)[0]
    assert round(100 * at_10k, 2) in expected["check_batch_doubling"]
    batch_32 = ex05._batch_runs(mnist, 32).mean(axis=0)
    # the precision the exercise states: one decimal of a percent (three decimals of a fraction) or finer
    for answers in (
        (round(100 * at_10k, 1), round(100 * at_5k, 1)),
        (round(at_10k, 3), round(at_5k, 3)),
        (f"{100 * at_10k:.1f}%", f"{100 * at_5k:.1f}%"),
        (np.float32(at_10k), np.float32(at_5k)),
    ):
        ok, out = run(capsys, exercises.check_batch_doubling, *answers, mnist)
        assert ok, (answers, out)
    wrong = {
        (batch_32[0], batch_32[1]): "batch 32",  # batch 32's runs: the same after 10,000 steps, not after 5,000
        (at_10k, batch_32[1]): "batch 32",
        (runs[0][0], at_5k): "seed 0 alone",
        (at_5k, at_10k): "swapped",
        (at_10k, 0.9): "5,000 steps",
        (at_10k, "most"): "two numbers",
        (at_10k, (at_5k, at_5k)): "two numbers",
    }
    if round(100 * at_5k, 1) != round(100 * batch_32[1], 1):  # the case this exercise is in
        wrong[(round(100 * at_10k, 1), round(100 * at_5k, 1) - 0.1)] = "train TrainConfig"  # a tenth off: no "close"
    if abs(100 * at_5k - round(100 * at_5k)) > 0.05:
        wrong[(at_10k, round(100 * at_5k))] = "one decimal"  # too few digits
    for answers, hint in wrong.items():
        ok, out = run(capsys, exercises.check_batch_doubling, *answers, mnist)
        assert not ok and hint in out, (answers, out)
        for value in (at_10k, at_5k):
            assert f"{100 * value:.2f}" not in out and f"{value:.4f}" not in out and f"{100 * value:.1f}" not in out
        assert_no_direction(out)
    ok, out = run(capsys, exercises.check_batch_doubling, None, None, mnist)
    assert not ok and "no answer yet" in out
