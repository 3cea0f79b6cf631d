"""Checkers for the exercises of notebook 07 (baselines)."""

from __future__ import annotations

import math

import numpy as np

from ._check import (
    _no_answer,
    _report,
    agree,
    at_precision,
    call,
    form_hint,
    guarded,
    matches,
    read_number,
    returned_array,
    returned_tuple,
    working_dtype,
)

__all__ = [
    "check_raw_pixel_gain",
    "check_slow_eigenvalue",
    "check_momentum_lr",
    "check_standardize",
    "expected_numbers",
]

LR, STEPS = 1e-3, 10000  # exercise 2: the reference recipe
MOMENTUM_BETA, MOMENTUM_LR = 0.96, 0.0015  # exercise 3


def _row(rows, method, setting):
    return next(r for r in rows if r["method"] == method and r["setting"] == setting)


def _raw_pixel_gains() -> tuple:
    """(softmax gain, least-squares gain) in points: raw pixels minus the 128 frozen features, from results/baselines.json."""
    from ..baselines import load_results

    rows = load_results()["rows"]
    softmax = (
        _row(rows, "softmax readout", "raw pixels")["test_accuracy_mean"]
        - _row(rows, "softmax readout", "to convergence")["test_accuracy_mean"]
    )
    squares = (
        _row(rows, "least-squares readout", "raw pixels")["test_accuracy_mean"]
        - _row(rows, "least-squares readout", "closed form")["test_accuracy_mean"]
    )
    return 100 * softmax, 100 * squares


def _slow_eigenvalue() -> float:
    """The curvature below which T steps at lr shrink the error by less than half: (1 - lr l)^T = 1/2."""
    return (1 - 0.5 ** (1 / STEPS)) / LR


def expected_numbers() -> dict:
    """The numeric answers each checker accepts (a notebook test checks none is printed above its exercise)."""
    return {
        "check_raw_pixel_gain": [round(_raw_pixel_gains()[0], 2)],
        "check_slow_eigenvalue": [round(_slow_eigenvalue(), 4), round(math.log(2) / (LR * STEPS), 4)],
        "check_momentum_lr": [round(MOMENTUM_LR / (1 - MOMENTUM_BETA), 10)],
    }


@guarded
def check_raw_pixel_gain(answer) -> None:
    """Exercise 1: softmax readout of the raw pixels minus softmax readout of the frozen features, in points
    (3-seed means), to one decimal as the exercise says ("6.0%" is read as points)."""
    if _no_answer(answer):
        return
    value = read_number(answer, points=True)
    softmax, squares = _raw_pixel_gains()
    if at_precision(value, softmax, decimals=1):
        return _report(True, "a linear readout of the raw pixels beats the same readout of 128 random features.", "")
    mistakes = [
        (-softmax, "check the sign: raw pixels minus frozen features, so positive if the pixels win."),
        (squares, "that is the least-squares readouts' gap; the question asks about the softmax readouts."),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, decimals=1)), None)
    if hint is None and matches(value, softmax / 100, decimals=3):  # a fraction: one decimal of a point is three
        hint = "give percentage points (e.g. 3.5 for 3.5 points), not a fraction."
    return _report(
        False,
        "",
        hint
        or form_hint(value, softmax, decimals=1, stated="one decimal")
        or "take the two 'softmax readout' rows of the summary table (raw pixels, and the frozen features "
        "'to convergence') and subtract their mean test accuracies.",
    )


@guarded
def check_slow_eigenvalue(answer) -> None:
    """Exercise 2: the eigenvalue below which 10,000 steps at lr 1e-3 shrink the error by less than half,
    to three significant digits as the exercise says (the exp approximation agrees at that precision)."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    exact = _slow_eigenvalue()
    if at_precision(value, exact, sig=3):
        return _report(True, "directions with a smaller eigenvalue keep more than half of their initial error.", "")
    mistakes = [
        (1 / (LR * STEPS), "1 / (lr T) is where the error shrinks by a factor e; you want a factor 2."),
        (1 / LR, "the error after T steps is (1 - lr lambda)^T times the initial error: both lr and T matter."),
        (1 / STEPS, "the error after T steps is (1 - lr lambda)^T times the initial error: both lr and T matter."),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, sig=3)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(value, exact, sig=3, stated="three significant digits")
        or "solve (1 - lr lambda)^T = 1/2 for lambda (or use (1 - x)^T ~ exp(-x T) for small x).",
    )


@guarded
def check_momentum_lr(answer) -> None:
    """Exercise 3: the SGD learning rate whose steps match momentum (beta 0.96, lr 0.0015) on a constant gradient,
    to three significant digits as the exercise says, or an exact fraction (a string such as "3/80")."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    expected = MOMENTUM_LR / (1 - MOMENTUM_BETA)
    if at_precision(value, expected, sig=3):
        return _report(
            True, "on a steady gradient the velocity grows to g / (1 - beta), so momentum multiplies the step.", ""
        )
    section_6 = "that mixes in section 6's settings (beta 0.9, lr 0.001); use the question's beta and lr."
    series = "write v_t = beta v_(t-1) + g for a constant g and find the value v_t settles at (a geometric series)."
    mistakes = [
        (MOMENTUM_LR / (1 - 0.9), section_6),
        (0.001 / (1 - MOMENTUM_BETA), section_6),
        (
            MOMENTUM_LR * (1 - MOMENTUM_BETA),
            "the velocity accumulates gradients, so it grows; it does not shrink by (1 - beta).",
        ),
        (MOMENTUM_LR / MOMENTUM_BETA, series),
        (MOMENTUM_LR, series),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, sig=3)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(value, expected, sig=3, stated="three significant digits")
        or "sum the geometric series g (1 + beta + beta^2 + ...) that the velocity tends to, then multiply by lr.",
    )


def _reference_standardize(train, test, ddof=0):
    mean, std = train.mean(axis=0), train.std(axis=0, ddof=ddof)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


@guarded
def check_standardize(fn) -> None:
    """Exercise 5: standardize(train, test) -> (train, test) with the training mean and standard deviation of every
    unit (float64 or float32; the sample standard deviation, ddof=1, is accepted too)."""
    rng = np.random.default_rng(7)
    train = np.maximum(rng.normal(0.3, 0.5, size=(200, 6)) * rng.uniform(0.05, 3, size=6), 0)
    train[:, 2] = 0.0  # a dead unit: it never fires, its standard deviation is 0
    test = np.maximum(rng.normal(0.4, 0.6, size=(50, 6)), 0)
    result, modified = call(fn, train, test)
    got_train, got_test = returned_tuple(result, ("standardized train", "standardized test"))
    got_train = returned_array(
        got_train,
        train.shape,
        "the standardized train features, shaped like train",
        "the standardized train you returned is",
    )
    got_test = returned_array(
        got_test,
        test.shape,
        "the standardized test features, shaped like test",
        "the standardized test you returned is",
    )
    if modified:
        return _report(False, "", "your function changed its input arrays; compute new arrays instead.")
    if not (np.all(np.isfinite(got_train)) and np.all(np.isfinite(got_test))):
        return _report(
            False,
            "",
            "some values are nan or inf: a unit that never fires has standard deviation 0; leave it unscaled.",
        )
    dtype = working_dtype(got_train, got_test)
    scale = float(max(np.abs(train).max(), np.abs(test).max()))

    def both(want_train, want_test, columns=slice(None)):
        return agree(got_train[:, columns], want_train[:, columns], dtype, scale) and agree(
            got_test[:, columns], want_test[:, columns], dtype, scale
        )

    for ddof in (0, 1):
        if both(*_reference_standardize(train, test, ddof)):
            return _report(True, "every unit now has mean 0 and standard deviation 1 on the training images.", "")
    want_train, want_test = _reference_standardize(train, test)
    own = _reference_standardize(test, test)[0]
    if both(want_train, own):
        return _report(False, "", "the test images must use the TRAINING mean and standard deviation, not their own.")
    alive = train.std(axis=0) > 0
    roughly = {"rtol": 1e-6, "atol": 1e-6 * scale}  # to name a mistake only: an epsilon of 1e-8 in the division
    if np.allclose(got_train[:, alive], want_train[:, alive], **roughly) and np.allclose(
        got_test[:, alive], want_test[:, alive], **roughly
    ):
        return _report(
            False,
            "",
            "every unit is right except the one that never fires (standard deviation 0): "
            "center it and leave it unscaled (an epsilon in the division blows up its test values).",
        )
    scale_by = np.where(alive, train.std(axis=0), 1.0)
    if agree(got_train, train / scale_by, dtype, scale):
        return _report(False, "", "you scaled the units; now also subtract each unit's training mean first.")
    if agree(got_train, train - train.mean(axis=0), dtype, scale):
        return _report(False, "", "you centered the units; now also divide by each unit's standard deviation.")
    return _report(
        False, "", "per unit (column): subtract its training mean, divide by its training standard deviation."
    )
