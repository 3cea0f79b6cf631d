"""Checkers for the exercises of notebook 02 (initialization)."""

from __future__ import annotations

import math

import numpy as np

from .. import layers, model
from ._check import _report, _no_answer, _close


def check_parameter_count(answer, hidden_size: int = 256) -> None:
    """Exercise: the number of parameters (weights and biases) of 784-H-H-10 for H = ``hidden_size``."""
    if _no_answer(answer):
        return
    sizes = model.layer_sizes(hidden_size)
    expected = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    weights_only = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if isinstance(answer, (int, np.integer)) and int(answer) == weights_only:
        return _report(False, "", "you counted the weights; every layer also has one bias per output unit.")
    return _report(
        isinstance(answer, (int, np.integer)) and int(answer) == expected,
        f"a 784-{hidden_size}-{hidden_size}-10 network has that many parameters.",
        "each layer with fan-in a and fan-out b has an a x b weight matrix and b biases; add the three layers.",
    )


def check_weight_std(answer, scheme: str, layer: int = 3, hidden_size: int = 128) -> None:
    """Exercise: the standard deviation of W<layer>'s entries under an init scheme (within 2%)."""
    if _no_answer(answer):
        return
    sizes = model.layer_sizes(hidden_size)
    fan_in, fan_out = sizes[layer - 1], sizes[layer]
    expected = {
        "reference": 1 / math.sqrt(fan_out),
        "xavier": math.sqrt(2 / (fan_in + fan_out)),
        "he": math.sqrt(2 / fan_in),
    }[scheme]
    if _close(answer, expected**2, 0.02):
        return _report(False, "", "that looks like the variance; the question asks for the standard deviation.")
    return _report(
        _close(answer, expected, 0.02),
        f"the {scheme} scheme gives W{layer} that standard deviation.",
        f"W{layer} has fan-in {fan_in} and fan-out {fan_out}; which of them does the {scheme} scheme use? "
        "(For a uniform distribution on [-a, a] the variance is a**2 / 3.)",
    )
