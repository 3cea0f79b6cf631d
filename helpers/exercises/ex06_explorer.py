"""Checkers for the exercises of notebook 06 (the explorer).

The expected answers are computed, not stored: they depend on the data
and on the training code, and are cached once computed (a few seconds each).
"""

from __future__ import annotations

import math
from functools import lru_cache

from ._check import _no_answer, _report, at_precision, guarded, near, read_number

__all__ = ["check_first_lr_above_80", "check_divergence_threshold", "check_smallest_width"]

TARGET = 0.80  # exercise 1: test accuracy after 10,000 steps
WIDTH_TARGET = 0.70  # exercise 4
WIDTHS = (16, 32, 64, 128, 256)  # the hidden sizes exercise 4 chooses from
SEARCH = (-2.0, -1.0)  # exercise 1: the slider's values from 10^-2 to 10^-1 (below, every run ends under 80%)


@lru_cache(maxsize=None)
def _accuracies(lrs: tuple) -> tuple:
    """Final test accuracies at these learning rates: top layer only, seed 0, 10,000 steps, trained together."""
    from ..baselines import train_top_layers
    from ..data import load_mnist
    from ..explorer import explorer_config
    from ..train import TrainConfig

    runs = train_top_layers(load_mnist(), [explorer_config(TrainConfig(), lr=float(lr)) for lr in lrs])
    return tuple(history.final_test_accuracy for _, history in runs)


def first_lr_above_80() -> float:
    """The smallest value of the slider (searched from 10^-2 to 10^-1) whose run ends above 80%."""
    from ..explorer import lr_grid

    lrs = tuple(lr_grid(*SEARCH))
    accuracies = _accuracies(lrs)
    assert accuracies[0] <= TARGET, "the search range must start below the target"
    return next(lr for lr, accuracy in zip(lrs, accuracies) if accuracy > TARGET)


@guarded
def check_first_lr_above_80(answer) -> None:
    """Exercise 1: the smallest learning rate of the slider whose run ends above 80% test accuracy,
    exact or as the slider's readout shows it (two significant digits).

    Two runs decide it: the answer's, which must end above 80%, and the
    slider's next value to the left, which must not. A hint says which of the
    two fails, never where the answer lies.
    """
    from ..explorer import lr_grid

    if _no_answer(answer):
        return
    value = float(read_number(answer))
    if value <= 0:
        return _report(False, "", "give a learning rate: a positive number.")
    slider = lr_grid()
    if not slider[0] / 10**0.05 <= value <= slider[-1] * 10**0.05:
        return _report(False, "", "that is not a value the slider can take: it goes from 10^-4 to 10^1.")
    exponent = math.log10(value) / 0.1
    if abs(exponent - round(exponent)) > 0.15:  # within 3.5% of a value of the slider
        return _report(False, "", "the slider moves in steps of 10^0.1 (0.01, 0.013, 0.016, ...): give one of its values.")
    on_slider = 10.0 ** (round(exponent) * 0.1)
    here, left = _accuracies((on_slider, on_slider / 10**0.1))
    if here <= TARGET:
        return _report(False, "", "the run at that learning rate ends at or below 80% test accuracy.")
    if left > TARGET:
        return _report(False, "", "that run ends above 80%, but it is not the smallest value of the slider that does.")
    _report(True, "the slider's next value to the left ends below 80%.", "")


@guarded
def check_divergence_threshold(answer) -> None:
    """Exercise 3: the learning rate above which gradient descent on f(w) = 4 w^2 / 2 diverges, exact
    (a decimal or a fraction such as "1/2")."""
    if _no_answer(answer):
        return
    value, curvature = read_number(answer), 4.0
    expected = 2 / curvature

    if near(value, 2.0, 1e-6):
        hint = "lr 2 is the border for a = 1, the cell of section 3; here the curvature is a = 4."
    elif near(value, 1 / curvature, 1e-6):
        hint = ("at that learning rate the first step lands exactly on the minimum: that is the fastest step, "
                "not the border of divergence. When does an overshoot grow instead of shrink?")
    elif near(value, curvature, 1e-6) or near(value, 2 * curvature, 1e-6):
        hint = "the learning rate multiplies the curvature: write w after one step as (1 - lr * a) * w."
    else:
        hint = "one step maps w to (1 - lr * a) * w; for which lr is |1 - lr * a| larger than 1?"
    _report(at_precision(value, expected, rel=1e-6),
            "above it every step multiplies the distance to the minimum by more than 1.", hint)


@lru_cache(maxsize=None)
def _width_accuracy(hidden_size: int) -> float:
    """Final test accuracy of top-layer-only SGD at lr 0.1, seed 0, 10,000 steps, this hidden size."""
    from ..data import load_mnist
    from ..train import TrainConfig, train

    return train(load_mnist(), TrainConfig(hidden_size=hidden_size, lr=0.1))[1].final_test_accuracy


@guarded
def check_smallest_width(answer) -> None:
    """Exercise 4: the smallest hidden size of 16, 32, 64, 128, 256 at which lr 0.1 ends above 70%."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    if value not in WIDTHS:
        return _report(False, "", "choose one of the hidden sizes the exercise lists (powers of two from 16 on).")
    width = int(value)
    if _width_accuracy(width) <= WIDTH_TARGET:
        return _report(False, "", "at that width the run ends at or below 70% test accuracy.")
    narrower = WIDTHS[WIDTHS.index(width) - 1] if width != WIDTHS[0] else None
    if narrower is not None and _width_accuracy(narrower) > WIDTH_TARGET:
        return _report(False, "", "that width ends above 70%, but it is not the smallest of the listed widths that does.")
    _report(True, "that width gets above 70% and the next narrower one does not.", "")


def smallest_width() -> int:
    return next(width for width in WIDTHS if _width_accuracy(width) > WIDTH_TARGET)


def expected_numbers() -> dict:
    """The numbers each checker accepts (computed: about ten seconds the first time)."""
    return {
        "check_first_lr_above_80": [first_lr_above_80()],
        "check_divergence_threshold": [0.5],
        "check_smallest_width": [smallest_width()],
    }
