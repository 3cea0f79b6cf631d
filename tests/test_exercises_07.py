"""Checkers of notebook 07's exercises: right answers pass, common wrong ones get their hint, None is "not yet"."""

import math

import numpy as np
import pytest

from helpers.exercises import ex07_baselines as ex


def said(capsys, checker, answer):
    assert checker(answer) is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith(("correct:", "not yet:")), out
    return out


def assert_hidden(out, values):
    for value in values:
        for text in {f"{value}", f"{value:g}", f"{value:.2f}", f"{value:.3f}", f"{value:.4f}"}:
            assert text not in out, (text, out)


@pytest.mark.parametrize("checker", [ex.check_raw_pixel_gain, ex.check_slow_eigenvalue, ex.check_momentum_lr])
def test_unanswered_is_not_yet(capsys, checker):
    assert said(capsys, checker, None).startswith("not yet:")


def test_raw_pixel_gain(capsys):
    softmax, squares = ex._raw_pixel_gains()
    assert said(capsys, ex.check_raw_pixel_gain, round(softmax, 2)).startswith("correct:")
    assert said(capsys, ex.check_raw_pixel_gain, np.float64(softmax)).startswith("correct:")
    assert "sign" in said(capsys, ex.check_raw_pixel_gain, -softmax)
    assert "least-squares" in said(capsys, ex.check_raw_pixel_gain, squares)
    assert "fraction" in said(capsys, ex.check_raw_pixel_gain, softmax / 100)
    out = said(capsys, ex.check_raw_pixel_gain, softmax + 3)
    assert out.startswith("not yet:")
    assert_hidden(out, [softmax, squares])


def test_slow_eigenvalue(capsys):
    exact = (1 - 0.5 ** (1 / 10000)) / 1e-3
    assert said(capsys, ex.check_slow_eigenvalue, exact).startswith("correct:")
    assert said(capsys, ex.check_slow_eigenvalue, math.log(2) / 10).startswith("correct:")  # the exp approximation
    assert "factor e" in said(capsys, ex.check_slow_eigenvalue, 0.1)
    assert "both lr and T" in said(capsys, ex.check_slow_eigenvalue, 1000)
    out = said(capsys, ex.check_slow_eigenvalue, "0.5")
    assert out.startswith("not yet:")
    assert_hidden(out, [exact])


def test_momentum_lr(capsys):
    assert said(capsys, ex.check_momentum_lr, 0.0375).startswith("correct:")
    assert said(capsys, ex.check_momentum_lr, "0.0375").startswith("correct:")
    assert "does not shrink" in said(capsys, ex.check_momentum_lr, 0.0015 * 0.04)
    assert "geometric" in said(capsys, ex.check_momentum_lr, 0.0015)
    out = said(capsys, ex.check_momentum_lr, 0.015)  # beta 0.9 of section 6 instead of the question's 0.96
    assert out.startswith("not yet:") and "section 6" in out and "0.0375" not in out
    assert "section 6" in said(capsys, ex.check_momentum_lr, 0.025)  # lr 0.001 of section 6 instead of 0.0015


def reference(train, test):
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def test_standardize(capsys):
    assert said(capsys, ex.check_standardize, reference).startswith("correct:")

    def ddof1(tr, te):
        std = np.where(tr.std(0, ddof=1) > 0, tr.std(0, ddof=1), 1)
        return (tr - tr.mean(0)) / std, (te - tr.mean(0)) / std

    assert said(capsys, ex.check_standardize, ddof1).startswith("correct:")  # an equivalent convention


def own_statistics(train, test):
    return reference(train, test)[0], reference(test, test)[0]


def in_place(train, test):
    train -= train.mean(axis=0)
    return reference(train, test)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda tr, te: None, "return two things: (standardized train, standardized test)"),
        (lambda tr, te: (_ for _ in ()).throw(NotImplementedError()), "no answer yet"),
        (lambda tr, te: ((tr - tr.mean(0)) / tr.std(0), (te - tr.mean(0)) / tr.std(0)), "standard deviation 0"),
        (own_statistics, "TRAINING mean"),
        (lambda tr, te: (tr - tr.mean(0), te - tr.mean(0)), "also divide"),
        (in_place, "changed its input"),
        (
            lambda tr, te: ((tr - tr.mean(0)) / (tr.std(0) + 1e-8), (te - tr.mean(0)) / (tr.std(0) + 1e-8)),
            "never fires",
        ),
        (
            lambda tr, te: (tr / np.where(tr.std(0) > 0, tr.std(0), 1), te / np.where(tr.std(0) > 0, tr.std(0), 1)),
            "also subtract",
        ),
        (lambda tr, te: tr, "returned one ndarray; return two things"),
    ],
)
def test_standardize_rejects(capsys, fn, hint):
    with np.errstate(all="ignore"):
        out = said(capsys, ex.check_standardize, fn)
    assert out.startswith("not yet:") and hint in out, out


def test_expected_numbers_are_the_accepted_answers(capsys):
    numbers = ex.expected_numbers()
    assert set(numbers) == {"check_raw_pixel_gain", "check_slow_eigenvalue", "check_momentum_lr"}
    for name, values in numbers.items():
        for value in values:
            assert said(capsys, getattr(ex, name), value).startswith("correct:"), (name, value)


def test_numbers_at_the_precision_the_exercises_state(capsys):
    softmax, squares = ex._raw_pixel_gains()
    for answer in (round(softmax, 1), f"{softmax:.1f}", f"{softmax:.1f}%", f"{softmax:.2f}"):
        assert said(capsys, ex.check_raw_pixel_gain, answer).startswith("correct:"), answer
    assert "least-squares" in said(capsys, ex.check_raw_pixel_gain, round(squares, 1))
    out = said(capsys, ex.check_raw_pixel_gain, f"{round(softmax, 1) - 0.1:.1f}")  # a tenth off: no "close"
    assert "subtract their mean" in out and "decimal" not in out
    assert_hidden(out, [softmax])
    assert "one decimal" in said(capsys, ex.check_raw_pixel_gain, round(softmax))  # too few digits, whatever they are
    for answer in ("3/80", "0.0375", 0.0375, "0.03750", np.float32(0.0375)):
        assert said(capsys, ex.check_momentum_lr, answer).startswith("correct:"), answer
    assert "three significant digits" in said(capsys, ex.check_momentum_lr, 0.037)
    exact = (1 - 0.5 ** (1 / 10000)) / 1e-3
    for answer in (round(exact, 4), f"{exact:.3g}", round(math.log(2) / 10, 4)):
        assert said(capsys, ex.check_slow_eigenvalue, answer).startswith("correct:"), answer
    out = said(capsys, ex.check_slow_eigenvalue, 0.069)
    assert "three significant digits" in out


def loop_standardize(train, test):
    out_train, out_test = np.empty_like(train), np.empty_like(test)
    for j in range(train.shape[1]):
        column = train[:, j]
        mean = sum(column) / len(column)
        std = (sum((column - mean) ** 2) / len(column)) ** 0.5
        std = std if std > 0 else 1.0
        out_train[:, j], out_test[:, j] = (column - mean) / std, (test[:, j] - mean) / std
    return out_train, out_test


def float32_standardize(train, test):
    return reference(train.astype(np.float32), test.astype(np.float32))


def test_standardize_correct_styles(capsys):
    for fn in (
        loop_standardize,
        float32_standardize,
        lambda tr, te: list(reference(tr, te)),
        lambda tr, te: tuple(a.astype(np.float32) for a in reference(tr, te)),
    ):
        assert said(capsys, ex.check_standardize, fn).startswith("correct:"), fn


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda tr, te: (reference(tr, te), None), "standardized test is None"),
        (lambda tr, te: (*reference(tr, te), tr.mean(0)), "3 things"),
        (lambda tr, te: (reference(tr, te)[0].T, reference(tr, te)[1]), "shaped like train"),
        (lambda tr, te: ((reference(tr, te)[0], 1), reference(tr, te)[1]), "tuple"),
        (lambda tr, te: {"train": tr}, "dict"),
        (
            lambda tr, te: (
                (float32_standardize(tr, te)[0] * 1.0025).astype(np.float32),
                float32_standardize(tr, te)[1],
            ),
            "per unit",
        ),  # a float32 answer is not let through with a 0.25% error
    ],
)
def test_standardize_wrong_returns(capsys, fn, hint):
    out = said(capsys, ex.check_standardize, fn)
    assert out.startswith("not yet:") and hint in out, out
