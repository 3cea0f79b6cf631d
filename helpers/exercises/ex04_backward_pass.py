"""Checkers for the exercises of notebook 04 (backward pass).

1. read:   the multiply-adds of a backward pass (batch 64, hidden layers of 256)
2. derive: the relative error a gradient check reports when the batch mean's 1/N is applied twice
3. code:   the gradient of a temperature-scaled softmax cross-entropy
4. code:   the gradients of the top layer with an L2 penalty on its weights
"""

from __future__ import annotations

import numpy as np

from .. import layers, model
from ._check import _as_number, _call, _no_answer, _report

__all__ = [
    "check_backward_multiply_adds",
    "check_double_mean_error",
    "check_softmax_temperature",
    "check_l2_top_layer",
]


# ---------------------------------------------------------------- exercise 1 (read)


def _backward_multiply_adds(batch_size: int, train: str = "all", hidden_size: int = 128, with_image_gradient=False) -> int:
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


def _forward_multiply_adds(batch_size: int, hidden_size: int) -> int:
    sizes = model.layer_sizes(hidden_size)
    return sum(batch_size * a * b for a, b in zip(sizes[:-1], sizes[1:]))


def check_backward_multiply_adds(answer, batch_size: int = 64, hidden_size: int = 256, train: str = "all") -> None:
    """Exercise 1: the multiply-adds of the backward pass's matrix products for one batch.

    An integer; an equal float (21561344.0) is accepted.
    """
    if _no_answer(answer):
        return
    value = _as_number(answer)
    expected = _backward_multiply_adds(batch_size, train, hidden_size)
    if value is not None and value == expected:
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
        _forward_multiply_adds(batch_size, hidden_size): "that is the forward pass; the exercise asks for the "
        "backward pass.",
    }
    hint = near_misses.get(value) if value is not None else None
    return _report(False, "", hint or "a product (N, a) @ (a, b) costs N*a*b multiply-adds; list the products the "
                   "backward pass makes (each layer's dW, and its input gradient only if a layer below needs it).")


# ---------------------------------------------------------------- exercise 2 (derive)


def _double_mean_error(batch_size: int) -> float:
    # analytic a = n / N against the numerical n: ||n - n/N|| / (||n/N|| + ||n||)
    return (batch_size - 1) / (batch_size + 1)


def check_double_mean_error(answer, batch_size: int = 64) -> None:
    """Exercise 2: the relative error of a gradient check when the 1/N is applied twice, batch ``batch_size``."""
    if _no_answer(answer):
        return
    value = _as_number(answer)
    expected = _double_mean_error(batch_size)
    if value is not None and abs(value - expected) <= 1e-3:  # 0.969 or 0.97
        return _report(True, "the error does not depend on the data at all: only on N.", "")
    if value is None:
        hint = "give one number (a float)."
    elif abs(value - _double_mean_error(32)) <= 1e-3:
        hint = f"that is the figure for a batch of 32; the exercise asks for {batch_size}."
    elif any(abs(value - f) <= 1e-3 * f for f in (batch_size, 1 / batch_size, batch_size - 1)):
        hint = ("that is the factor between the two gradients; the check reports ||a - n|| / (||a|| + ||n||). "
                "Write the analytic gradient as a = n / N and simplify.")
    elif 1 < value <= 100 and abs(value / 100 - expected) <= 1e-3:
        hint = "give the relative error as a fraction, not as a percent."
    else:
        hint = "write the analytic gradient as a = n / N (n: the numerical one) and simplify ||a - n|| / (||a|| + ||n||)."
    return _report(False, "", hint)


# ---------------------------------------------------------------- exercise 3 (code)


def _softmax_ce_temperature(scores, y, temperature):
    loss, dscaled = layers.softmax_cross_entropy(scores / temperature, y)
    return loss, dscaled / temperature  # chain rule through s / T


def _unpack_pair(result):
    if not isinstance(result, (tuple, list)) or len(result) != 2 or any(r is None for r in result):
        return None
    return result


def check_softmax_temperature(student_fn) -> None:
    """Exercise 3: ``student_fn(scores, y, T) -> (loss, dscores)`` for the mean of -log softmax(scores / T)[y]."""
    rng = np.random.default_rng(43)
    scores, y, temperature = rng.normal(scale=3.0, size=(6, 10)), rng.integers(0, 10, size=6), 2.5
    result, error, modified = _call(student_fn, scores, y, np.float64(temperature))
    if error:
        return _report(False, "", error)
    result = _unpack_pair(result)
    if result is None:
        return _report(False, "", "return two things: (loss, dscores).")
    loss, dscores = float(np.asarray(result[0], dtype=float).sum()), np.asarray(result[1], dtype=float)
    want_loss, want = _softmax_ce_temperature(scores, y, temperature)
    if not np.isclose(loss, want_loss):
        plain = layers.softmax_cross_entropy(scores, y)[0]
        return _report(False, "", "the loss is that of the plain scores: divide them by T before the softmax."
                       if np.isclose(loss, plain) else "the loss is the batch mean of -log softmax(scores / T)[y].")
    if dscores.shape != scores.shape:
        return _report(False, "", f"dscores must have the shape of scores, {scores.shape}; got {dscores.shape}.")
    if modified:
        return _report(False, "", "your function modified its inputs in place: the caller may still need them.")
    if not np.allclose(dscores, want):
        n = len(y)
        wrong = [
            (want * temperature, "the chain rule is missing a factor: the softmax sees s / T, and d(s / T)/ds is not 1."),
            (want * temperature**2, "you multiplied by T; what is the derivative of s / T with respect to s?"),
            (want * n, "the loss is a mean over the batch: where does its 1/N go?"),
            (want / n, "the 1/N of the batch mean is applied twice."),
            (layers.softmax_cross_entropy(scores, y)[1], "that is the gradient of the loss without temperature."),
        ]
        hint = next((h for w, h in wrong if np.allclose(dscores, w)), "dscores has the right shape but wrong values: "
                    "write the loss as a function of u = s / T, differentiate, then multiply by du/ds.")
        return _report(False, "", hint)
    # a second temperature, below 1, catches answers that happen to fit 2.5 only
    scores2, temperature2 = rng.normal(size=(5, 10)), 0.4
    y2 = rng.integers(0, 10, size=5)
    result2, error2, _ = _call(student_fn, scores2, y2, np.float64(temperature2))
    result2 = None if error2 else _unpack_pair(result2)
    want2 = _softmax_ce_temperature(scores2, y2, temperature2)
    if result2 is None or not (np.isclose(float(np.sum(result2[0])), want2[0]) and np.allclose(result2[1], want2[1])):
        return _report(False, "", "right for T = 2.5, wrong for T = 0.4: does your code use the T it is given?")
    return _report(True, "loss and gradient match for T = 2.5 and T = 0.4.", "")


# ---------------------------------------------------------------- exercise 4 (code)


def _l2_top_layer(h2, W3, b3, y, reg):
    data_loss, dscores = layers.softmax_cross_entropy(h2 @ W3 + b3, y)
    loss = data_loss + 0.5 * reg * np.sum(W3 * W3)
    return loss, h2.T @ dscores + reg * W3, dscores.sum(axis=0)


def check_l2_top_layer(student_fn) -> None:
    """Exercise 4: ``student_fn(h2, W3, b3, y, reg) -> (loss, dW3, db3)`` for
    the mean cross-entropy of h2 @ W3 + b3 plus the penalty (reg / 2) * sum(W3**2)."""
    rng = np.random.default_rng(44)
    n, hidden, classes, reg = 8, 6, 10, 0.3
    h2, W3 = np.maximum(rng.normal(size=(n, hidden)), 0), rng.normal(size=(hidden, classes))
    b3, y = rng.normal(size=classes), rng.integers(0, classes, size=n)
    result, error, modified = _call(student_fn, h2, W3, b3, y, np.float64(reg))
    if error:
        return _report(False, "", error)
    if not isinstance(result, (tuple, list)) or len(result) != 3 or any(r is None for r in result):
        return _report(False, "", "return three things: (loss, dW3, db3).")
    loss, dW3, db3 = float(np.asarray(result[0], dtype=float).sum()), *(np.asarray(r, dtype=float) for r in result[1:])
    want_loss, want_dW3, want_db3 = _l2_top_layer(h2, W3, b3, y, reg)
    data_loss, penalty = want_loss - 0.5 * reg * np.sum(W3 * W3), 0.5 * reg * np.sum(W3 * W3)
    if not np.isclose(loss, want_loss):
        wrong = [
            (data_loss, "the loss is missing the penalty (reg / 2) * sum(W3**2)."),
            (data_loss + 2 * penalty, "the penalty is (reg / 2) * sum(W3**2): mind the 1/2."),
            (data_loss + penalty / n, "the penalty is added once to the batch's mean loss, not averaged over the batch."),
            (data_loss + penalty + 0.5 * reg * np.sum(b3 * b3), "only W3 is penalised, not the bias."),
        ]
        return _report(False, "", next((h for w, h in wrong if np.isclose(loss, w)), "the loss is the batch mean of "
                                       "the cross-entropy plus (reg / 2) * sum(W3**2)."))
    if dW3.shape != W3.shape or db3.shape != b3.shape:
        return _report(False, "", f"dW3 must have the shape of W3, {W3.shape}, and db3 that of b3, {b3.shape}; "
                       f"got {dW3.shape} and {db3.shape}.")
    if modified:
        return _report(False, "", "your function modified its inputs in place: the caller may still need them.")
    if not np.allclose(dW3, want_dW3):
        wrong = [
            (want_dW3 - reg * W3, "dW3 is missing the gradient of the penalty."),
            (want_dW3 + reg * W3, "the gradient of (reg / 2) * sum(W3**2) has no factor 2: the 1/2 cancels it."),
            (want_dW3 - reg * W3 + reg * W3 / n, "the penalty is not part of the batch mean: no 1/N on its gradient."),
            (want_dW3 - 2 * reg * W3, "the penalty is added to the loss, so its gradient is added to dW3 too: check the sign."),
        ]
        return _report(False, "", next((h for w, h in wrong if np.allclose(dW3, w)), "dW3 has the right shape but "
                                       "wrong values: it is the data term's gradient plus the penalty's."))
    if not np.allclose(db3, want_db3):
        return _report(False, "", "only W3 is penalised: db3 is the data term's gradient alone."
                       if np.allclose(db3, want_db3 + reg * b3) else "db3: the bias is added to every row of scores.")
    return _report(True, "the loss and both gradients match; the penalty pulls every weight towards 0.", "")


def expected_numbers() -> dict:
    """{checker name: [the numbers it accepts]}, for the tests that no output above an exercise prints them."""
    exact = _backward_multiply_adds(64, "all", 256)
    return {
        "check_backward_multiply_adds": [exact, float(exact)],
        "check_double_mean_error": [_double_mean_error(64), round(_double_mean_error(64), 3)],
    }
