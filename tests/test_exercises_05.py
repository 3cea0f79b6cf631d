"""Checkers of notebook 05 (training the top layer): right answers pass, common wrong ones get their hint."""

import math

import numpy as np
import pytest

from helpers import exercises, model
from helpers.exercises import ex05_training as ex05
from helpers.train import TrainConfig, train

from checking import run


class TinyData:
    """Six test images; the one-layer network below predicts 7, 7, 7, 7, 7, 2 for labels 7, 7, 7, 3, 1, 7."""

    class test:
        images = np.eye(6, 784)
        labels = np.array([7, 7, 7, 3, 1, 7])


def tiny_params():
    W1 = np.zeros((784, 10))
    W1[np.arange(6), [7, 7, 7, 7, 7, 2]] = 1.0  # image i -> its prediction
    return {"W1": W1, "b1": np.zeros(10)}


def test_digit_precision(capsys):
    params = tiny_params()  # column 7: 5 predictions, 3 right; row 7: 4 images, 3 recognised
    for answer in (0.6, 60, 60.0, np.float64(0.6), 3 / 5):
        assert run(capsys, exercises.check_digit_precision, answer, params, TinyData)[0]
    wrong = {0.75: "recall", 75: "recall", 3: "count", 0.4: "NOT", 0.5: "column", "most": "a share"}
    for answer, hint in wrong.items():
        ok, out = run(capsys, exercises.check_digit_precision, answer, params, TinyData)
        assert not ok and hint in out, (answer, out)
        assert "0.6" not in out and "60" not in out
    ok, out = run(capsys, exercises.check_digit_precision, None, params, TinyData)
    assert not ok and "no answer yet" in out


def test_digit_precision_on_the_reference_run(capsys, mnist):
    params, _ = train(mnist, TrainConfig())
    predicted_7 = model.predict(params, mnist.test.images) == 7
    precision = np.mean(mnist.test.labels[predicted_7] == 7)
    assert run(capsys, exercises.check_digit_precision, precision, params, mnist)[0]
    assert round(100 * precision, 2) in ex05.expected_numbers(mnist)["check_digit_precision"]


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
