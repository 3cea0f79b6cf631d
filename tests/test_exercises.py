"""Exercise checkers: accept a right answer, reject wrong ones with a hint, never print the solution."""

import math

import numpy as np
import pytest

from helpers import exercises, layers


def run(capsys, checker, *args, **kwargs):
    assert checker(*args, **kwargs) is None  # a notebook cell then shows only the message
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one message
    return out.startswith("correct"), out




def test_relu_backward_checker(capsys):
    assert run(capsys, exercises.check_relu_backward, lambda dout, x: np.where(x > 0, dout, 0.0))[0]
    ok, out = run(capsys, exercises.check_relu_backward, lambda dout, x: np.where(x >= 0, dout, 0.0))
    assert not ok and "x == 0" in out
    ok, out = run(capsys, exercises.check_relu_backward, lambda dout, x: dout)
    assert not ok

    def in_place(dout, x):
        dout[x <= 0] = 0
        return dout

    ok, out = run(capsys, exercises.check_relu_backward, in_place)
    assert not ok and "in place" in out


def test_affine_backward_checker(capsys):
    right = lambda dout, x, W: (dout @ W.T, x.T @ dout, dout.sum(axis=0))  # noqa: E731
    assert run(capsys, exercises.check_affine_backward, right)[0]
    ok, out = run(capsys, exercises.check_affine_backward, lambda dout, x, W: (dout @ W.T, x.T @ dout, dout.mean(axis=0)))
    assert not ok and "bias" in out
    ok, out = run(capsys, exercises.check_affine_backward, lambda dout, x, W: (dout @ W.T, dout.T @ x, dout.sum(axis=0)))
    assert not ok and "dW" in out
    assert not run(capsys, exercises.check_affine_backward, lambda dout, x, W: None)[0]


def test_backward_multiply_adds(capsys):
    # top only: dW3 = h2.T @ dscores, (128 x N) @ (N x 10)
    assert run(capsys, exercises.check_backward_multiply_adds, 64 * 128 * 10, train="top")[0]
    all_layers = 64 * (2 * 128 * 10 + 2 * 128 * 128 + 784 * 128)  # no gradient for the images themselves
    assert run(capsys, exercises.check_backward_multiply_adds, all_layers)[0]
    ok, out = run(capsys, exercises.check_backward_multiply_adds, all_layers + 64 * 784 * 128)
    assert not ok and str(all_layers) not in out


class TinyData:
    """Two test images the identity-like network classifies as 0 and 1."""

    class test:
        images = np.eye(3, 784)
        labels = np.array([0, 1, 1])


def test_hardest_digit(capsys):
    # one layer 784 -> 10 that predicts pixel index: image 2 (label 1) is predicted 2, so digit 1 is hardest
    params = {"W1": np.eye(784, 10), "b1": np.zeros(10)}
    assert run(capsys, exercises.check_hardest_digit, 1, params, TinyData)[0]
    assert not run(capsys, exercises.check_hardest_digit, 0, params, TinyData)[0]
