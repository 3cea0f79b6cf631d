"""Checkers for the exercises of notebook 03 (forward pass)."""

from __future__ import annotations

import math

import numpy as np

from .. import layers
from ._check import _report, _no_answer, _close, _call


def check_softmax(student_fn) -> None:
    """Exercise: a numerically stable softmax, scores (N, C) -> probs (N, C)."""
    rng = np.random.default_rng(3)
    cases = [rng.normal(size=(4, 10)), 1000 + 50 * rng.normal(size=(3, 10)), -1000 + rng.normal(size=(2, 5))]
    for scores in cases:
        with np.errstate(all="ignore"):  # an unstable attempt overflows: that is the hint, not a warning
            probs, error, modified = _call(student_fn, scores)
        if error:
            return _report(False, "", error)
        if probs is None:
            return _report(False, "", "your function returned None; return the array of probabilities.")
        probs = np.asarray(probs, dtype=float)
        if probs.shape != scores.shape:
            return _report(False, "", f"expected shape {scores.shape}, got {probs.shape}; normalize each row.")
        if not np.all(np.isfinite(probs)):
            return _report(False, "", "you get nan or inf for large scores: exp() overflows. What can you subtract "
                           "from each row without changing the result?")
        if modified:
            return _report(False, "", "your function modified its input in place; compute into a new array.")
        if not np.allclose(probs, layers.softmax(scores), rtol=1e-10, atol=1e-12):
            return _report(False, "", "the probabilities differ from softmax's: does each row sum to 1 over the "
                           "classes (axis=1)?")
    return _report(True, "stable for scores near +-1000, rows sum to 1, input untouched.", "")


def check_uniform_loss(answer) -> None:
    """Exercise: the cross-entropy of a network that gives every one of 10 classes the same probability (3 decimals)."""
    if _no_answer(answer):
        return
    return _report(
        _close(answer, math.log(10), 5e-4),
        "that is the loss of a network that knows nothing; an untrained one starts near (or above) it.",
        "the loss is -log of the probability of the true class; with 10 equally likely classes what is that "
        "probability? (natural log)",
    )
