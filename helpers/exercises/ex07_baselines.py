"""Checkers for the exercises of notebook 07 (baselines)."""

from __future__ import annotations

import math

import numpy as np

from ._check import _call, _close, _report

__all__ = ["check_raw_pixel_gain", "check_slow_eigenvalue", "check_momentum_lr", "check_standardize", "expected_numbers"]

LR, STEPS = 1e-3, 10000  # exercise 2: the reference recipe
MOMENTUM_BETA, MOMENTUM_LR = 0.96, 0.0015  # exercise 3


def _no_answer(answer) -> bool:
    if answer is None:
        print("not yet: no answer yet; replace None with your answer and run the cell again.")
        return True
    return False


def _row(rows, method, setting):
    return next(r for r in rows if r["method"] == method and r["setting"] == setting)


def _raw_pixel_gains() -> tuple:
    """(softmax gain, least-squares gain) in points: raw pixels minus the 128 frozen features, from results/baselines.json."""
    from ..baselines import load_results

    rows = load_results()["rows"]
    softmax = _row(rows, "softmax readout", "raw pixels")["test_accuracy_mean"] - _row(rows, "softmax readout", "to convergence")["test_accuracy_mean"]
    squares = _row(rows, "least-squares readout", "raw pixels")["test_accuracy_mean"] - _row(rows, "least-squares readout", "closed form")["test_accuracy_mean"]
    return 100 * softmax, 100 * squares


def _slow_eigenvalue() -> float:
    """The curvature below which T steps at lr shrink the error by less than half: (1 - lr l)^T = 1/2."""
    return (1 - 0.5 ** (1 / STEPS)) / LR


def expected_numbers() -> dict:
    """The numeric answers each checker accepts (a notebook test checks none is printed above its exercise)."""
    return {"check_raw_pixel_gain": [round(_raw_pixel_gains()[0], 2)],
            "check_slow_eigenvalue": [round(_slow_eigenvalue(), 4), round(math.log(2) / (LR * STEPS), 4)],
            "check_momentum_lr": [round(MOMENTUM_LR / (1 - MOMENTUM_BETA), 10)]}


def check_raw_pixel_gain(answer) -> None:
    """Exercise 1: softmax readout of the raw pixels minus softmax readout of the frozen features, in points (3-seed means)."""
    if _no_answer(answer):
        return
    softmax, squares = _raw_pixel_gains()
    if _close(answer, softmax, 0.03) or _close(answer, round(softmax, 1), 0.001):
        return _report(True, "a linear readout of the raw pixels beats the same readout of 128 random features.", "")
    if _close(answer, -softmax, 0.03):
        return _report(False, "", "check the sign: raw pixels minus frozen features, so positive if the pixels win.")
    if _close(answer, squares, 0.03):
        return _report(False, "", "that is the least-squares readouts' gap; the question asks about the softmax readouts.")
    if _close(answer, softmax / 100, 0.03):
        return _report(False, "", "give percentage points (e.g. 3.5 for 3.5 points), not a fraction.")
    return _report(False, "", "take the two 'softmax readout' rows of the summary table (raw pixels, and the "
                              "frozen features 'to convergence') and subtract their mean test accuracies.")


def check_slow_eigenvalue(answer) -> None:
    """Exercise 2: the eigenvalue below which 10,000 steps at lr 1e-3 shrink the error by less than half."""
    if _no_answer(answer):
        return
    exact = _slow_eigenvalue()
    if _close(answer, exact, 0.01):
        return _report(True, "directions with a smaller eigenvalue keep more than half of their initial error.", "")
    if _close(answer, 1 / (LR * STEPS), 0.01):
        return _report(False, "", "1 / (lr T) is where the error shrinks by a factor e; you want a factor 2.")
    if _close(answer, 1 / LR, 0.01) or _close(answer, 1 / STEPS, 0.01):
        return _report(False, "", "the error after T steps is (1 - lr lambda)^T times the initial error: both lr and T matter.")
    return _report(False, "", "solve (1 - lr lambda)^T = 1/2 for lambda (or use (1 - x)^T ~ exp(-x T) for small x).")


def check_momentum_lr(answer) -> None:
    """Exercise 3: the SGD learning rate whose steps match momentum (beta 0.96, lr 0.0015) on a constant gradient."""
    if _no_answer(answer):
        return
    expected = MOMENTUM_LR / (1 - MOMENTUM_BETA)
    if _close(answer, expected, 0.01):
        return _report(True, "on a steady gradient the velocity grows to g / (1 - beta), so momentum multiplies the step.", "")
    if _close(answer, MOMENTUM_LR / (1 - 0.9), 0.01) or _close(answer, 0.001 / (1 - MOMENTUM_BETA), 0.01):
        return _report(False, "", "that mixes in section 6's settings (beta 0.9, lr 0.001); use the question's beta and lr.")
    if _close(answer, MOMENTUM_LR * (1 - MOMENTUM_BETA), 0.01):
        return _report(False, "", "the velocity accumulates gradients, so it grows; it does not shrink by (1 - beta).")
    if _close(answer, MOMENTUM_LR / MOMENTUM_BETA, 0.01) or _close(answer, MOMENTUM_LR, 0.01):
        return _report(False, "", "write v_t = beta v_(t-1) + g for a constant g and find the value v_t settles at (a geometric series).")
    return _report(False, "", "sum the geometric series g (1 + beta + beta^2 + ...) that the velocity tends to, then multiply by lr.")


def _reference_standardize(train, test, ddof=0):
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=ddof)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def check_standardize(fn) -> None:
    """Exercise 5: standardize(train, test) -> (train, test) with the training mean and standard deviation of every unit."""
    rng = np.random.default_rng(7)
    train = np.maximum(rng.normal(0.3, 0.5, size=(200, 6)) * rng.uniform(0.05, 3, size=6), 0)
    train[:, 2] = 0.0  # a dead unit: it never fires, its standard deviation is 0
    test = np.maximum(rng.normal(0.4, 0.6, size=(50, 6)), 0)
    result, error, modified = _call(fn, train, test)
    if error:
        if "NotImplementedError" in error:
            print("not yet: no answer yet; write the function body and run the cell again.")
            return
        return _report(False, "", error)
    if result is None:
        print("not yet: your function returns None; return (standardized train, standardized test).")
        return
    if modified:
        return _report(False, "", "your function changed its input arrays; compute new arrays instead.")
    try:
        got_train, got_test = (np.asarray(a, dtype=float) for a in result)
    except (TypeError, ValueError):
        return _report(False, "", "return a pair: (standardized train, standardized test).")
    if got_train.shape != train.shape or got_test.shape != test.shape:
        return _report(False, "", f"shapes: expected {train.shape} and {test.shape}, got {got_train.shape} and {got_test.shape}.")
    if not (np.all(np.isfinite(got_train)) and np.all(np.isfinite(got_test))):
        return _report(False, "", "some values are nan or inf: a unit that never fires has standard deviation 0; leave it unscaled.")
    for ddof in (0, 1):
        want_train, want_test = _reference_standardize(train, test, ddof)
        if np.allclose(got_train, want_train, atol=1e-9) and np.allclose(got_test, want_test, atol=1e-9):
            return _report(True, "every unit now has mean 0 and standard deviation 1 on the training images.", "")
    own = (test - test.mean(axis=0)) / np.where(test.std(axis=0) > 0, test.std(axis=0), 1.0)
    if np.allclose(got_train, _reference_standardize(train, test)[0], atol=1e-9) and np.allclose(got_test, own, atol=1e-6):
        return _report(False, "", "the test images must use the TRAINING mean and standard deviation, not their own.")
    want_train, want_test = _reference_standardize(train, test)
    alive = train.std(axis=0) > 0
    if np.allclose(got_train[:, alive], want_train[:, alive], atol=1e-6) and np.allclose(got_test[:, alive], want_test[:, alive], atol=1e-6):
        return _report(False, "", "every unit is right except the one that never fires (standard deviation 0): "
                                  "center it and leave it unscaled (an epsilon in the division blows up its test values).")
    scale = np.where(alive, train.std(axis=0), 1.0)
    if np.allclose(got_train, train / scale, atol=1e-9):
        return _report(False, "", "you scaled the units; now also subtract each unit's training mean first.")
    if np.allclose(got_train, train - train.mean(axis=0), atol=1e-9):
        return _report(False, "", "you centered the units; now also divide by each unit's standard deviation.")
    return _report(False, "", "per unit (column): subtract its training mean, divide by its training standard deviation.")
