"""Checkers for the exercises of notebook 06 (the explorer).

The expected answers are computed, not stored: they depend on the data
and on the training code, and are cached once computed (a few seconds each).
"""

from __future__ import annotations

import math
from functools import lru_cache

from ._check import Hint, _no_answer, _report, at_precision, form_hint, guarded, matches, near, read_number, share

__all__ = ["check_lr_chosen_on_validation", "check_divergence_threshold", "check_smallest_width"]

TARGET = 0.80  # exercise 1: validation accuracy after 10,000 steps
WIDTH_TARGET = 0.70  # exercise 4
WIDTHS = (16, 32, 64, 128, 256)  # the hidden sizes exercise 4 chooses from
SEARCH = (-2.0, -1.0)  # exercise 1: the slider's values from 10^-2 to 10^-1 (below, every run ends under 80%)
STATED = "in percent to two decimals, or as a fraction to four"  # exercise 1's test accuracy


@lru_cache(maxsize=None)
def _accuracies(lrs: tuple) -> tuple:
    """(final validation accuracy, final test accuracy) at these learning rates: top layer only, seed 0,
    10,000 steps, trained together as the explorer's grid trains them."""
    from ..explorer import explorer_config
    from ..explorer.compact import load_compact_mnist
    from ..readout import train_top_layers
    from ..train import TrainConfig

    # MNIST as bytes, as notebook 6 holds it: the same runs as load_mnist()'s float64 gives, 0.39 GB less in a kernel
    runs = train_top_layers(load_compact_mnist(), [explorer_config(TrainConfig(), lr=float(lr)) for lr in lrs])
    return tuple((history.final_validation_accuracy, history.final_test_accuracy) for _, history in runs)


def _first_above(split: int) -> float:
    from ..explorer import lr_grid

    lrs = tuple(lr_grid(*SEARCH))
    accuracies = [pair[split] for pair in _accuracies(lrs)]
    assert accuracies[0] <= TARGET, "the search range must start below the target"
    return next(lr for lr, accuracy in zip(lrs, accuracies) if accuracy > TARGET)


def lr_chosen_on_validation() -> float:
    """The smallest value of the slider (searched from 10^-2 to 10^-1) whose run ends above 80% on validation."""
    return _first_above(0)


def lr_chosen_on_test() -> float:
    """The same choice made, wrongly, on the test set: the mistake exercise 1 is about."""
    return _first_above(1)


def _test_accuracy_of(lr: float) -> float:
    return _accuracies((lr,))[0][1]


@guarded
def check_lr_chosen_on_validation(chosen_lr, test_accuracy=None) -> None:
    """Exercise 1: the smallest learning rate of the slider whose run ends above 80% *validation*
    accuracy (exact or as the slider's readout shows it, two significant digits), and that run's test
    accuracy, reported once (in percent to two decimals, or as a fraction to four).

    Two runs decide the choice: the answer's, which must end above 80% on validation, and the slider's
    next value to the left, which must not. Every wrong value gets the same hint, which never says which of
    the two fails (that would let a binary search find the answer); only the choice the test set would make,
    one value, is named as that mistake.
    """
    from ..explorer import lr_grid

    if _no_answer(chosen_lr):
        return
    value = float(read_number(chosen_lr))
    if value <= 0:
        return _report(False, "", "give a learning rate: a positive number.")
    slider = lr_grid()
    if not slider[0] / 10**0.05 <= value <= slider[-1] * 10**0.05:
        return _report(False, "", "that is not a value the slider can take: it goes from 10^-4 to 10^1.")
    exponent = math.log10(value) / 0.1
    if abs(exponent - round(exponent)) > 0.15:  # within 3.5% of a value of the slider
        return _report(
            False, "", "the slider moves in steps of 10^0.1 (0.01, 0.013, 0.016, ...): give one of its values."
        )
    on_slider = 10.0 ** (round(exponent) * 0.1)
    (validation, test), (validation_left, _) = _accuracies((on_slider, on_slider / 10**0.1))
    if not validation > TARGET >= validation_left:
        if math.isclose(on_slider, lr_chosen_on_test(), rel_tol=1e-6):
            return _report(
                False,
                "",
                "that is the choice the test set would make (its run ends above 80% on the "
                "test set). The validation set chooses (final_validation_accuracy); the test set only "
                "reports the chosen run.",
            )
        return _report(
            False,
            "",
            "that is not the smallest value of the slider whose run ends above 80% validation "
            "accuracy: read final_validation_accuracy of every run in grid.histories (not the test "
            "accuracy) and take the first that ends above 0.8.",
        )
    if test_accuracy is None:
        return _report(
            False,
            "",
            "that learning rate is the right choice; now report its run's test accuracy as the second answer.",
        )
    try:
        got = share(read_number(test_accuracy, percent=True))
    except Hint as hint:
        raise Hint(f"the test accuracy: {hint}") from None
    if at_precision(got, test, decimals=2, scale=-2):
        return _report(True, "chosen on the validation set, and that run's test accuracy reported once.", "")
    if matches(got, validation, decimals=2, scale=-2):
        return _report(
            False,
            "",
            "the learning rate is right, but that is its validation accuracy: "
            "report the run's test accuracy (final_test_accuracy).",
        )
    note = form_hint(got, test, decimals=2, scale=-2, stated=STATED)
    if note:
        return _report(False, "", f"the learning rate is right; its test accuracy: {note}")
    _report(
        False,
        "",
        "the learning rate is right, but that is not its run's test accuracy: read "
        "final_test_accuracy of the history at that learning rate (grid.histories[grid.index(lr)]).",
    )


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
        hint = (
            "at that learning rate the first step lands exactly on the minimum: that is the fastest step, "
            "not the border of divergence. When does an overshoot grow instead of shrink?"
        )
    elif near(value, curvature, 1e-6) or near(value, 2 * curvature, 1e-6):
        hint = "the learning rate multiplies the curvature: write w after one step as (1 - lr * a) * w."
    else:
        hint = "one step maps w to (1 - lr * a) * w; for which lr is |1 - lr * a| larger than 1?"
    _report(
        at_precision(value, expected, rel=1e-6),
        "above it every step multiplies the distance to the minimum by more than 1.",
        hint,
    )


@lru_cache(maxsize=None)
def _width_accuracy(hidden_size: int) -> float:
    """Final validation accuracy (the split that chooses) of top-layer-only SGD at lr 0.1, seed 0, 10,000 steps,
    this hidden size."""
    from ..explorer.compact import load_compact_mnist
    from ..train import TrainConfig, train

    return train(load_compact_mnist(), TrainConfig(hidden_size=hidden_size, lr=0.1))[1].final_validation_accuracy


@guarded
def check_smallest_width(answer) -> None:
    """Exercise 4: the smallest hidden size of 16, 32, 64, 128, 256 at which lr 0.1 ends above 70% on validation."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    if value not in WIDTHS:
        return _report(False, "", "choose one of the hidden sizes the exercise lists (powers of two from 16 on).")
    width = int(value)
    narrower = WIDTHS[WIDTHS.index(width) - 1] if width != WIDTHS[0] else None
    if _width_accuracy(width) <= WIDTH_TARGET or (narrower is not None and _width_accuracy(narrower) > WIDTH_TARGET):
        # one hint for every wrong width: "at or below 70%" against "not the smallest" would point the way
        return _report(
            False,
            "",
            "that is not the smallest of the listed widths whose run ends above 70% "
            "validation accuracy: train each width and read final_validation_accuracy (the validation "
            "split chooses, not the test split).",
        )
    _report(
        True,
        "that width gets above 70% on validation and the next narrower one does not; its test accuracy "
        "is the figure to report.",
        "",
    )


def smallest_width() -> int:
    return next(width for width in WIDTHS if _width_accuracy(width) > WIDTH_TARGET)


def expected_numbers() -> dict:
    """The numbers each checker accepts (computed: about ten seconds the first time); exercise 1's: the
    chosen learning rate, and its run's test accuracy as a percent and as a fraction."""
    test = _test_accuracy_of(lr_chosen_on_validation())
    return {
        "check_lr_chosen_on_validation": [lr_chosen_on_validation(), 100 * test, test],
        "check_divergence_threshold": [0.5],
        "check_smallest_width": [smallest_width()],
    }
