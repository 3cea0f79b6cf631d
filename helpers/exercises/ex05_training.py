"""Checkers for the exercises of notebook 05 (training)."""

from __future__ import annotations

import numpy as np

from .. import model
from ._check import _report, _no_answer


def check_hardest_digit(answer, params, data) -> None:
    """Exercise: the digit with the lowest test accuracy (recall) under ``params``."""
    if _no_answer(answer):
        return
    predicted = model.predict(params, data.test.images)
    labels = data.test.labels
    # recall of each digit present: share of its images predicted as itself
    recall = {d: np.mean(predicted[labels == d] == d) for d in np.unique(labels).tolist()}
    lowest = min(recall.values())
    ok = isinstance(answer, (int, np.integer)) and recall.get(int(answer)) == lowest
    return _report(
        ok,
        f"only {100 * lowest:.2f}% of the test images of that digit are recognized." if ok else "",
        "for each digit d, take the test images whose label is d and measure the share predicted as d.",
    )
