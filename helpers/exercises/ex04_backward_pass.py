"""Checkers for the exercises of notebook 04 (backward pass)."""

from __future__ import annotations

import numpy as np

from .. import layers, model
from ._check import _report, _no_answer, _call


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
