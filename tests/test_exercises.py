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


def test_none_answer_says_no_answer_yet(capsys):
    ok, out = run(capsys, exercises.check_parameter_count, None)
    assert ok is False and out.startswith("no answer yet")


def test_idx_file_size(capsys):
    assert run(capsys, exercises.check_idx_file_size, 7_840_016)[0]
    ok, out = run(capsys, exercises.check_idx_file_size, 7_840_000)
    assert not ok and "header" in out and "7840016" not in out


def test_most_frequent_digit(capsys):
    labels = np.array([1, 1, 1, 2, 3])
    assert run(capsys, exercises.check_most_frequent_digit, 1, labels)[0]
    ok, out = run(capsys, exercises.check_most_frequent_digit, 2, labels)
    assert not ok and out.startswith("not yet")


def test_parameter_count(capsys):
    assert run(capsys, exercises.check_parameter_count, 784 * 128 + 128 + 128 * 128 + 128 + 1290, hidden_size=128)[0]
    assert run(capsys, exercises.check_parameter_count, 269_322)[0]  # default H = 256
    ok, out = run(capsys, exercises.check_parameter_count, 784 * 256 + 256 * 256 + 2560)
    assert not ok and "bias" in out


def test_weight_std(capsys):
    assert run(capsys, exercises.check_weight_std, 1 / math.sqrt(10), "reference", layer=3)[0]
    assert run(capsys, exercises.check_weight_std, math.sqrt(2 / 138), "xavier", layer=3)[0]
    assert run(capsys, exercises.check_weight_std, 0.125, "he", layer=3)[0]
    ok, out = run(capsys, exercises.check_weight_std, 1 / math.sqrt(10), "xavier", layer=3)
    assert not ok and out.startswith("not yet")
    ok, out = run(capsys, exercises.check_weight_std, 2 / 138, "xavier", layer=3)
    assert not ok and "variance" in out
    assert not run(capsys, exercises.check_weight_std, "a lot", "he")[0]


def naive_softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def in_place_softmax(x):
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


def test_softmax_checker(capsys):
    assert run(capsys, exercises.check_softmax, layers.softmax)[0]
    ok, out = run(capsys, exercises.check_softmax, naive_softmax)
    assert not ok and "overflow" in out
    ok, out = run(capsys, exercises.check_softmax, in_place_softmax)
    assert not ok and "in place" in out
    ok, out = run(capsys, exercises.check_softmax, lambda x: np.exp(x) / np.exp(x).sum())
    assert not ok


def test_softmax_checker_reports_exceptions_and_none(capsys):
    ok, out = run(capsys, exercises.check_softmax, lambda x: 1 / 0)
    assert not ok and "ZeroDivisionError" in out
    ok, out = run(capsys, exercises.check_softmax, lambda x: None)
    assert not ok and "None" in out


def test_uniform_loss(capsys):
    assert run(capsys, exercises.check_uniform_loss, 2.303)[0]
    assert not run(capsys, exercises.check_uniform_loss, 1.0)[0]  # log10(10): wrong base
