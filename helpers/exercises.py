"""Checkers for the notebooks' exercises: they say "correct" or "not yet" with a hint.

Each ``check_*`` function prints one message ("correct: ...", "not yet:
<hint>" or "no answer yet") and returns None, so a notebook cell shows only
the message. A checker never prints the solution; when the answer is still ``None`` (the
exercise cell as committed) it says so. Checkers of functions call the
student's function on fresh random inputs, compare with the reference
implementation from ``helpers`` and also catch in-place modification of
the inputs, the reference notebook's classic bug.
"""

from __future__ import annotations

import math

import numpy as np

from . import layers, model


def _report(ok: bool, success: str, hint: str) -> None:
    print(f"correct: {success}" if ok else f"not yet: {hint}")


def _no_answer(answer) -> bool:
    if answer is None:
        print("no answer yet: replace None with your answer and run the cell again.")
        return True
    return False


def _close(answer, expected: float, rel: float) -> bool:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and abs(value - expected) <= rel * abs(expected)


def _call(fn, *args):
    """Call the student's function on copies; return (result, error message, modified-input flag)."""
    copies = [np.array(a, copy=True) for a in args]
    try:
        result = fn(*copies)
    except Exception as exc:  # noqa: BLE001 - any failure of the student's code is reported, not raised
        return None, f"your function raised {type(exc).__name__}: {exc}", False
    modified = any(not np.array_equal(a, c) for a, c in zip(args, copies))
    return result, None, modified


# ---------------------------------------------------------------- 01 data


def check_idx_file_size(answer) -> None:
    """Exercise: the size in bytes of the decompressed t10k-images file (10,000 images of 28 x 28)."""
    if _no_answer(answer):
        return
    expected = 16 + 10000 * 28 * 28
    ok = isinstance(answer, (int, np.integer)) and int(answer) == expected
    if not ok and isinstance(answer, (int, np.integer)) and int(answer) == 10000 * 28 * 28:
        return _report(False, "", "that counts the pixels; the file also starts with a header.")
    return _report(
        ok,
        "header plus one byte per pixel.",
        "count the header bytes (magic number and one 4-byte integer per dimension), then one byte per pixel.",
    )


def check_most_frequent_digit(answer, labels) -> None:
    """Exercise: the most frequent digit among ``labels`` (n,) ints, e.g. the training split's."""
    if _no_answer(answer):
        return
    counts = np.bincount(np.asarray(labels), minlength=10)
    ok = isinstance(answer, (int, np.integer)) and 0 <= int(answer) <= 9 and counts[int(answer)] == counts.max()
    return _report(
        ok,
        f"digit {int(answer) if ok else ''} appears {counts.max():,} times." if ok else "",
        "count each digit's occurrences (np.bincount does it in one call) and take the largest.",
    )


# ---------------------------------------------------------------- 02 initialization


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


# ---------------------------------------------------------------- 03 forward pass


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


# ---------------------------------------------------------------- 04 backward pass


def check_relu_backward(student_fn) -> None:
    """Exercise: relu backward as ``student_fn(dout, x) -> dx``, all (N, M), x the ReLU's input."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 7))
    x[0, :3] = 0.0  # the kink: ReLU's output there is 0, so is its gradient (by convention)
    dout = rng.normal(size=x.shape)
    dx, error, modified = _call(student_fn, dout, x)
    if error:
        return _report(False, "", error)
    if dx is None:
        return _report(False, "", "your function returned None; return the gradient with respect to x.")
    dx = np.asarray(dx, dtype=float)
    expected = layers.relu_backward(dout, layers.relu_forward(x)[1])
    if dx.shape != x.shape:
        return _report(False, "", f"dx must have the shape of x, {x.shape}; got {dx.shape}.")
    if modified:
        return _report(False, "", "your function modified dout or x in place: the caller may still need them.")
    if not np.allclose(dx, expected):
        if np.allclose(dx[x != 0], expected[x != 0]):
            return _report(False, "", "right except where x == 0 exactly: ReLU's output there is 0 and we take "
                           "its gradient to be 0 too.")
        return _report(False, "", "where does ReLU let the upstream gradient through, and where does it block it?")
    return _report(True, "the gradient passes where the unit was active and is 0 elsewhere.", "")


def check_affine_backward(student_fn) -> None:
    """Exercise: ``student_fn(dout, x, W) -> (dx, dW, db)`` for out = x @ W + b; x (N, D), W (D, M), dout (N, M)."""
    rng = np.random.default_rng(5)
    x, W, dout = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    result, error, modified = _call(student_fn, dout, x, W)
    if error:
        return _report(False, "", error)
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        return _report(False, "", "return three arrays: (dx, dW, db).")
    expected = layers.affine_backward(dout, (x, W))
    for name, got, want in zip(("dx", "dW", "db"), result, expected):
        got = None if got is None else np.asarray(got, dtype=float)
        if got is None or got.shape != want.shape:
            shape = None if got is None else got.shape
            return _report(False, "", f"{name} must have the shape of {name[1:]}, {want.shape}; got {shape}. "
                           "Let the shapes tell you which operand to transpose.")
        if not np.allclose(got, want):
            hint = "the bias is added to every row: its gradient collects all of them." if name == "db" else (
                f"{name} has the right shape but wrong values: check the order of the product.")
            return _report(False, "", hint)
    if modified:
        return _report(False, "", "your function modified one of its inputs in place.")
    return _report(True, "all three gradients match.", "")


def _backward_multiply_adds(batch_size: int, train: str = "all", sizes=model.layer_sizes()) -> int:
    """Multiply-adds of the matrix products in a backward pass that stops at what ``train`` needs.

    Layer k (fan-in a, fan-out b) costs N*a*b for dW_k, and N*a*b more for
    the gradient of its input when a lower layer still needs it.
    """
    lowest = len(sizes) - 1 if train == "top" else 1
    total = 0
    for k in range(len(sizes) - 1, lowest - 1, -1):
        a, b = sizes[k - 1], sizes[k]
        total += batch_size * a * b * (2 if k > lowest else 1)
    return total


def check_backward_multiply_adds(answer, batch_size: int = 64, train: str = "all") -> None:
    """Exercise: the multiply-adds of the backward's matrix products for one batch."""
    if _no_answer(answer):
        return
    expected = _backward_multiply_adds(batch_size, train)
    return _report(
        isinstance(answer, (int, np.integer)) and int(answer) == expected,
        f"{expected:,} multiply-adds per batch of {batch_size}.",
        "a product (N, a) @ (a, b) costs N*a*b multiply-adds; list the products the backward pass makes "
        "(each layer's dW, and its input gradient only if a layer below needs it).",
    )


# ---------------------------------------------------------------- 05 training


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
