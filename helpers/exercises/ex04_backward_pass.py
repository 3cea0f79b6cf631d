"""Checkers for the exercises of notebook 04 (backward pass).

1. read:   the multiply-adds of a backward pass (batch 64, hidden layers of 256)
2. derive: the relative error a gradient check reports when the batch mean's 1/N is applied twice (4 decimals)
3. code:   the gradient of a temperature-scaled softmax cross-entropy
4. code:   the gradients of the top layer with an L2 penalty on its weights
"""

from __future__ import annotations

import numpy as np

from .. import layers, model
from ._check import (
    Hint,
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
    returned_number,
    returned_tuple,
    working_dtype,
)
from .ex03_forward_pass import _forward_multiply_adds  # one home: notebook 3 counts the forward pass

__all__ = [
    "check_backward_multiply_adds",
    "check_double_mean_error",
    "check_softmax_temperature",
    "check_l2_top_layer",
]


# ---------------------------------------------------------------- exercise 1 (read)


def _backward_multiply_adds(
    batch_size: int, train: str = "all", hidden_size: int = 128, with_image_gradient=False
) -> int:
    """Multiply-adds of the matrix products in a backward pass that stops at what ``train`` needs.

    Layer k (fan-in a, fan-out b) costs N*a*b for dW_k, and N*a*b more for
    the gradient of its input when a lower layer still needs it (or, with
    ``with_image_gradient``, for the images too).
    """
    sizes = model.layer_sizes(hidden_size)
    lowest = len(sizes) - 1 if train == "top" else 1
    total = 0
    for k in range(len(sizes) - 1, lowest - 1, -1):
        a, b = sizes[k - 1], sizes[k]
        total += batch_size * a * b * (2 if k > lowest or with_image_gradient else 1)
    return total


@guarded
def check_backward_multiply_adds(answer, batch_size: int = 64, hidden_size: int = 256, train: str = "all") -> None:
    """Exercise 1: the multiply-adds of the backward pass's matrix products for one batch.

    An integer, exact; an equal float (21561344.0) and "21,561,344" are accepted.
    """
    if _no_answer(answer):
        return
    value = int(read_number(answer, whole=True))
    expected = _backward_multiply_adds(batch_size, train, hidden_size)
    if value == expected:
        return _report(True, f"the backward pass of {train!r} training makes that many multiply-adds per batch.", "")
    near_misses = {
        _backward_multiply_adds(batch_size, train, 128): f"that is the count for hidden layers of 128 units; "
        f"the exercise asks for {hidden_size}: which products grow with the width, and how?",
        _backward_multiply_adds(32, train, hidden_size): f"that is the count for a batch of 32; the exercise asks for "
        f"{batch_size}.",
        _backward_multiply_adds(batch_size, train, hidden_size, with_image_gradient=True): "you included the gradient "
        "of the images (dX = dz1 @ W1.T): nobody updates the images, so the backward pass skips that product.",
        _backward_multiply_adds(batch_size, "top", hidden_size): "that is what top-only training needs; the exercise "
        "trains all three layers.",
        # with all layers trained the weight gradients alone cost exactly the forward pass (the same products)
        _forward_multiply_adds(batch_size, hidden_size): "that is what the forward pass costs, and what the weight "
        "gradients alone cost (the same products, transposed): the backward pass also sends the gradient down to "
        "the layers below that are trained (dh2, dh1)."
        if train == "all"
        else "that is the forward pass; the exercise asks for the backward pass.",
    }
    hint = near_misses.get(value)
    return _report(
        False,
        "",
        hint
        or "a product (N, a) @ (a, b) costs N*a*b multiply-adds; list the products the "
        "backward pass makes (each layer's dW, and its input gradient only if a layer below needs it).",
    )


# ---------------------------------------------------------------- exercise 2 (derive)


def _double_mean_error(batch_size: int) -> float:
    # the notebook's names: analytic g = ĝ / N against the numerical ĝ: ||ĝ/N - ĝ|| / (||ĝ/N|| + ||ĝ||)
    return (batch_size - 1) / (batch_size + 1)


@guarded
def check_double_mean_error(answer, batch_size: int = 64) -> None:
    """Exercise 2: the relative error of a gradient check when the 1/N is applied twice, batch ``batch_size``:
    four decimals, as the exercise says, or an exact fraction ("63/65"). Four, because at three the first-order
    shortcut 1 - 2/N (0.96875 for N = 64) rounds like the exact (N - 1)/(N + 1) = 0.96923."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    expected = _double_mean_error(batch_size)
    if at_precision(value, expected, decimals=4):
        return _report(True, "the error does not depend on the data at all: only on N.", "")
    factor = (
        "that is the factor between the two gradients; the check reports ||g - ĝ|| / (||g|| + ||ĝ||). "
        "Write the analytic gradient as g = ĝ / N and simplify."
    )
    mistakes = [
        (_double_mean_error(32), f"that is the figure for a batch of 32; the exercise asks for {batch_size}."),
        (
            1 - 2 / batch_size,
            "that is 1 - 2/N, a first-order approximation; the exercise asks for the exact relative "
            "error: simplify without dropping terms.",
        ),
        (batch_size, factor),
        (1 / batch_size, factor),
        (batch_size - 1, factor),
        (100 * expected, "give the relative error as a fraction, not as a percent."),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, decimals=4 if m < 1 else 2)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(value, expected, decimals=4, stated="four decimals, or an exact fraction")
        or "write the analytic gradient as g = ĝ / N (ĝ: the numerical one) and simplify ||g - ĝ|| / (||g|| + ||ĝ||).",
    )


# ---------------------------------------------------------------- exercise 3 (code)


def _softmax_ce_temperature(scores, y, temperature):
    loss, dscaled = layers.softmax_cross_entropy(scores / temperature, y)
    return loss, dscaled / temperature  # chain rule through s / T


def _loss_and_gradient(result, shape):
    """(loss, dscores, dtype) from the student's (loss, dscores); hints for a swapped or wrong-shaped pair."""
    loss, dscores = returned_tuple(result, ("loss", "dscores"))
    if isinstance(loss, np.ndarray) and loss.shape == shape and isinstance(dscores, (float, int, np.number)):
        raise Hint("you returned (dscores, loss); return (loss, dscores): the loss first, then its gradient.")
    loss, loss_dtype = returned_number(loss, "the loss: one number, the batch mean", "the loss you returned is")
    dscores = returned_array(dscores, shape, "dscores, shaped like scores", "the dscores you returned is")
    return loss, dscores, working_dtype(np.zeros(0, loss_dtype), dscores)


@guarded
def check_softmax_temperature(student_fn) -> None:
    """Exercise 3: ``student_fn(scores, y, T) -> (loss, dscores)`` for the mean of -log softmax(scores / T)[y]."""
    rng = np.random.default_rng(43)
    scores, y, temperature = rng.normal(scale=3.0, size=(6, 10)), rng.integers(0, 10, size=6), 2.5
    result, modified = call(student_fn, scores, y, np.float64(temperature))
    loss, dscores, dtype = _loss_and_gradient(result, scores.shape)
    want_loss, want = _softmax_ce_temperature(scores, y, temperature)
    scale = float(np.abs(scores).max() / temperature)
    if not agree(loss, want_loss, dtype, scale):
        plain = layers.softmax_cross_entropy(scores, y)[0]
        return _report(
            False,
            "",
            "the loss is that of the plain scores: divide them by T before the softmax."
            if agree(loss, plain, dtype, scale)
            else "the loss is the batch mean of -log softmax(scores / T)[y].",
        )
    if modified:
        return _report(False, "", "your function modified its inputs in place: the caller may still need them.")
    if not agree(dscores, want, dtype, scale):
        n = len(y)
        wrong = [
            (
                want * temperature,
                "the chain rule is missing a factor: the softmax sees s / T, and d(s / T)/ds is not 1.",
            ),
            (want * temperature**2, "you multiplied by T; what is the derivative of s / T with respect to s?"),
            (want * n, "the loss is a mean over the batch: where does its 1/N go?"),
            (want / n, "the 1/N of the batch mean is applied twice."),
            (layers.softmax_cross_entropy(scores, y)[1], "that is the gradient of the loss without temperature."),
        ]
        hint = next(
            (h for w, h in wrong if agree(dscores, w, dtype, scale)),
            "dscores has the right shape but wrong "
            "values: write the loss as a function of u = s / T, differentiate, then multiply by du/ds.",
        )
        return _report(False, "", hint)
    # a second temperature, below 1, catches answers that happen to fit 2.5 only
    scores2, temperature2 = rng.normal(size=(5, 10)), 0.4
    y2 = rng.integers(0, 10, size=5)
    result2, _ = call(student_fn, scores2, y2, np.float64(temperature2))
    loss2, dscores2, dtype2 = _loss_and_gradient(result2, scores2.shape)
    want2 = _softmax_ce_temperature(scores2, y2, temperature2)
    scale2 = float(np.abs(scores2).max() / temperature2)
    if not (agree(loss2, want2[0], dtype2, scale2) and agree(dscores2, want2[1], dtype2, scale2)):
        return _report(False, "", "right for T = 2.5, wrong for T = 0.4: does your code use the T it is given?")
    return _report(True, "loss and gradient match for T = 2.5 and T = 0.4.", "")


# ---------------------------------------------------------------- exercise 4 (code)


def _l2_top_layer(h2, W3, b3, y, reg):
    data_loss, dscores = layers.softmax_cross_entropy(h2 @ W3 + b3, y)
    loss = data_loss + 0.5 * reg * np.sum(W3 * W3)
    return loss, h2.T @ dscores + reg * W3, dscores.sum(axis=0)


@guarded
def check_l2_top_layer(student_fn) -> None:
    """Exercise 4: ``student_fn(h2, W3, b3, y, reg) -> (loss, dW3, db3)`` for
    the mean cross-entropy of h2 @ W3 + b3 plus the penalty (reg / 2) * sum(W3**2)."""
    rng = np.random.default_rng(44)
    n, hidden, classes, reg = 8, 6, 10, 0.3
    h2, W3 = np.maximum(rng.normal(size=(n, hidden)), 0), rng.normal(size=(hidden, classes))
    b3, y = rng.normal(size=classes), rng.integers(0, classes, size=n)
    result, modified = call(student_fn, h2, W3, b3, y, np.float64(reg))
    loss, dW3, db3 = returned_tuple(result, ("loss", "dW3", "db3"))
    loss, loss_dtype = returned_number(
        loss, "the loss: one number, the batch mean plus the penalty", "the loss you returned is"
    )
    dW3 = returned_array(dW3, W3.shape, "dW3, shaped like W3", "the dW3 you returned is")
    db3 = returned_array(db3, b3.shape, "db3, shaped like b3", "the db3 you returned is")
    dtype = working_dtype(np.zeros(0, loss_dtype), dW3, db3)
    scale = float(np.abs(h2 @ W3 + b3).max())
    want_loss, want_dW3, want_db3 = _l2_top_layer(h2, W3, b3, y, reg)
    data_loss, penalty = want_loss - 0.5 * reg * np.sum(W3 * W3), 0.5 * reg * np.sum(W3 * W3)
    twice = (
        "the 1/N of the batch mean is applied twice: dscores from softmax_cross_entropy already carries it, "
        "so h2.T @ dscores and dscores.sum(axis=0) need no further division by N."
    )
    if not agree(loss, want_loss, dtype, scale):
        wrong = [
            (data_loss, "the loss is missing the penalty (reg / 2) * sum(W3**2)."),
            (data_loss + 2 * penalty, "the penalty is (reg / 2) * sum(W3**2): mind the 1/2."),
            (
                data_loss + penalty / n,
                "the penalty is added once to the batch's mean loss, not averaged over the batch.",
            ),
            (data_loss + penalty + 0.5 * reg * np.sum(b3 * b3), "only W3 is penalised, not the bias."),
            (n * data_loss + penalty, "that is the sum of the images' losses; the data term is their mean."),
        ]
        return _report(
            False,
            "",
            next(
                (h for w, h in wrong if agree(loss, w, dtype, scale)),
                "the loss is the batch mean of the cross-entropy plus (reg / 2) * sum(W3**2).",
            ),
        )
    if modified:
        return _report(False, "", "your function modified its inputs in place: the caller may still need them.")
    if not agree(dW3, want_dW3, dtype, scale):
        wrong = [
            (want_dW3 - reg * W3, "dW3 is missing the gradient of the penalty."),
            (want_dW3 + reg * W3, "the gradient of (reg / 2) * sum(W3**2) has no factor 2: the 1/2 cancels it."),
            (want_dW3 - reg * W3 + reg * W3 / n, "the penalty is not part of the batch mean: no 1/N on its gradient."),
            (
                want_dW3 - 2 * reg * W3,
                "the penalty is added to the loss, so its gradient is added to dW3 too: check the sign.",
            ),
            ((want_dW3 - reg * W3) / n + reg * W3, twice),
            (want_dW3 / n, twice),
            (
                (want_dW3 - reg * W3) * n + reg * W3,
                "the data term's gradient is N times too large: dscores of the "
                "batch mean already carries the 1/N; use it as it is.",
            ),
        ]
        return _report(
            False,
            "",
            next(
                (h for w, h in wrong if agree(dW3, w, dtype, scale)),
                "dW3 has the right shape but wrong values: it is the data term's gradient plus the penalty's.",
            ),
        )
    if not agree(db3, want_db3, dtype, scale):
        wrong = [
            (want_db3 + reg * b3, "only W3 is penalised: db3 is the data term's gradient alone."),
            (
                want_db3 / n,
                "db3 as dscores.mean(0) applies the 1/N of the batch mean twice: dscores already "
                "carries it, so sum it over the batch instead.",
            ),
        ]
        return _report(
            False,
            "",
            next(
                (h for w, h in wrong if agree(db3, w, dtype, scale)),
                "db3: the bias is added to every row of scores, so its gradient sums dscores over the batch.",
            ),
        )
    return _report(True, "the loss and both gradients match; the penalty pulls every weight towards 0.", "")


def expected_numbers() -> dict:
    """{checker name: [the numbers it accepts]}, for the tests that no output above an exercise prints them."""
    exact = _backward_multiply_adds(64, "all", 256)
    return {
        "check_backward_multiply_adds": [exact, float(exact)],
        "check_double_mean_error": [_double_mean_error(64), round(_double_mean_error(64), 4)],
    }
