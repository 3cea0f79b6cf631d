"""Checkers of notebook 05 (training the top layer): right answers pass, common wrong ones get their hint."""

import math

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import ex05_training as ex05
from helpers.train import TrainConfig, train


def run(capsys, checker, *args, **kwargs):
    assert checker(*args, **kwargs) is None  # a notebook cell then shows only the message
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one message
    return out.startswith("correct"), out


class TinyData:
    """Three test images that the identity-like network below classifies as 0, 1 and 2."""

    class test:
        images = np.eye(3, 784)
        labels = np.array([0, 1, 1])


def test_hardest_digit(capsys):
    # one layer 784 -> 10 that predicts the pixel index: image 2 (label 1) is predicted 2, so digit 1 is hardest
    params = {"W1": np.eye(784, 10), "b1": np.zeros(10)}
    assert run(capsys, exercises.check_hardest_digit, 1, params, TinyData)[0]
    assert run(capsys, exercises.check_hardest_digit, 1.0, params, TinyData)[0]
    ok, out = run(capsys, exercises.check_hardest_digit, 0, params, TinyData)  # as few right (1) but 1 of 1
    assert not ok and "row's total" in out
    ok, out = run(capsys, exercises.check_hardest_digit, 12, params, TinyData)
    assert not ok and "0 to 9" in out
    ok, out = run(capsys, exercises.check_hardest_digit, None, params, TinyData)
    assert not ok and "no answer yet" in out


def test_ema_start_weight(capsys, mnist):
    first = math.ceil(math.log(0.01) / math.log(0.99))
    assert 0.99**first < 0.01 <= 0.99 ** (first - 1)
    assert first in ex05.expected_numbers(mnist)["check_ema_start_weight"]
    for answer in (first, float(first), np.int64(first), math.log(0.01) / math.log(0.99)):
        assert run(capsys, exercises.check_ema_start_weight, answer)[0]
    wrong = {first - 1: "just above", 100: "time constant", 69: "halved", 250: "logarithms", "many": "number of steps"}
    for answer, hint in wrong.items():
        ok, out = run(capsys, exercises.check_ema_start_weight, answer)
        assert not ok and hint in out, (answer, out)
        assert str(first) not in out
    ok, out = run(capsys, exercises.check_ema_start_weight, None)
    assert not ok and "no answer yet" in out


def momentum(w, v, g, lr, beta):
    v = beta * v + g
    return w - lr * v, v


def test_momentum_step(capsys):
    assert run(capsys, exercises.check_momentum_step, momentum)[0]

    def in_place(w, v, g, lr, beta):  # in place is how optimizers work: allowed
        v *= beta
        v += g
        w -= lr * v
        return w, v

    assert run(capsys, exercises.check_momentum_step, in_place)[0]
    wrong = {
        lambda w, v, g, lr, beta: (w - lr * (beta * v + (1 - beta) * g), beta * v + (1 - beta) * g): "(1 - beta)",
        lambda w, v, g, lr, beta: (w - lr * g, beta * v + g): "plain SGD",
        lambda w, v, g, lr, beta: (w + lr * (beta * v + g), beta * v + g): "against",
        lambda w, v, g, lr, beta: (w - lr * (beta * v + g), v): "must be returned",  # velocity never carried
        lambda w, v, g, lr, beta: (w - lr * (beta * v + g), beta * v + 2 * g): "first step matches",
        lambda w, v, g, lr, beta: None: "two arrays",
        lambda w, v, g, lr, beta: 1 / 0: "ZeroDivisionError",
    }
    for fn, hint in wrong.items():
        ok, out = run(capsys, exercises.check_momentum_step, fn)
        assert not ok and out.startswith("not yet") and hint in out, (hint, out)


def test_batch_doubling(capsys, mnist):
    seed_0 = train(mnist, TrainConfig(seed=0, batch_size=64))[1]
    runs = ex05._batch_runs(mnist, 64)  # (seed, [at 10,000 steps, at 5,000]), what the checker compares with
    assert tuple(runs[0]) == (seed_0.final_test_accuracy, seed_0.test_accuracies[5])
    at_10k, at_5k = runs.mean(axis=0)
    assert run(capsys, exercises.check_batch_doubling, at_10k, at_5k, mnist)[0]
    assert run(capsys, exercises.check_batch_doubling, round(100 * at_10k, 2), round(100 * at_5k, 2), mnist)[0]
    assert round(100 * at_10k, 2) in ex05.expected_numbers(mnist)["check_batch_doubling"]
    batch_32 = ex05._batch_runs(mnist, 32).mean(axis=0)
    wrong = {
        (batch_32[0], at_5k): "batch 32",
        (at_10k, batch_32[1]): "batch 32",
        (runs[0][0], at_5k): "seed 0 alone",
        (at_5k, at_10k): "swapped",
        (at_10k, round(at_5k, 3)): "two decimals",
        (at_10k, 0.9): "5,000 steps",
        (at_10k, "most"): "two numbers",
    }
    for answers, hint in wrong.items():
        ok, out = run(capsys, exercises.check_batch_doubling, *answers, mnist)
        assert not ok and hint in out, (answers, out)
        for value in (at_10k, at_5k):
            assert f"{100 * value:.2f}" not in out and f"{value:.4f}" not in out
    ok, out = run(capsys, exercises.check_batch_doubling, None, None, mnist)
    assert not ok and "no answer yet" in out
