"""Checkers for the exercises of notebook 08 (learning without backprop's transpose)."""

from __future__ import annotations

import numpy as np

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
    shape_note,
    working_dtype,
)

__all__ = ["check_fa_gap", "check_dfa_savings", "check_fa_directions", "expected_numbers"]

BATCH, HIDDEN, CLASSES, PIXELS = 32, 128, 10, 784  # exercise 2: the baseline's step


def _fa_gap() -> float:
    """Backprop minus FA, test accuracy at 10,000 steps in points (means over seeds), from results/rules.json."""
    from ..comparison import load_results

    rows = {row["rule"]: row for row in load_results()["rules"]}
    at_10k = {rule: next(t for t in rows[rule]["test"] if t["steps"] == 10000)["mean"] for rule in ("backprop", "fa")}
    return 100 * (at_10k["backprop"] - at_10k["fa"])


def _dfa_savings() -> int:
    # the two backward passes share dW3, db3, dW2, dW1 and the products that reach h2 (dscores @ (10, H));
    # they differ in how the error reaches h1: backprop's dz2 @ W2^T (B x H x H), DFA's dscores @ D1 (B x 10 x H)
    return BATCH * HIDDEN * HIDDEN - BATCH * CLASSES * HIDDEN


def expected_numbers() -> dict:
    """The numeric answers each checker accepts (a notebook test checks none is printed above its exercise)."""
    return {"check_fa_gap": [round(_fa_gap(), 1)], "check_dfa_savings": [_dfa_savings()]}


@guarded
def check_fa_gap(answer) -> None:
    """Exercise 1: backprop's test accuracy minus FA's at 10,000 steps, in points, to one decimal (3-seed means)."""
    if _no_answer(answer):
        return
    value = read_number(answer, points=True)
    gap = _fa_gap()
    if at_precision(value, gap, decimals=1):
        return _report(
            True, "the transpose is worth that much at 10,000 steps; the curves show whether FA catches up.", ""
        )
    if matches(value, -gap, decimals=1):
        return _report(False, "", "check the sign: backprop minus feedback alignment.")
    if matches(value, gap / 100, decimals=3):  # a fraction: one decimal of a point is three
        return _report(False, "", "give percentage points (2.5 for 2.5 points), not a fraction.")
    return _report(
        False,
        "",
        form_hint(value, gap, decimals=1, stated="one decimal")
        or "read both rows at 10,000 steps (the mean over seeds), not at 50,000, and subtract.",
    )


@guarded
def check_dfa_savings(answer) -> None:
    """Exercise 2: multiply-adds per step that DFA's backward pass saves against backprop's (batch 32, H 128)."""
    if _no_answer(answer):
        return
    value = read_number(answer, whole=True)
    savings = _dfa_savings()
    if value == savings:
        return _report(True, "only the product that carries the error from h2 down to h1 differs.", "")
    if value == BATCH * HIDDEN * HIDDEN:
        return _report(False, "", "that is what backprop spends on that product; DFA spends something on it too.")
    if value == BATCH * CLASSES * HIDDEN:
        return _report(False, "", "that is what DFA spends on its product; the question asks for the difference.")
    if value == HIDDEN * HIDDEN - CLASSES * HIDDEN:
        return _report(False, "", "count per batch: every image of the 32 goes through the product.")
    return _report(False, "", "list the backward products of both rules with their shapes; most of them are the same.")


def _tiny_case(rng):
    """A 6-5-4-10 network, a batch of 3, a forward cache as model.forward makes it, and dscores."""
    from .. import model
    from ..layers import softmax_cross_entropy

    params = model.init_params((6, 5, 4, 10), "reference", rng)
    X, y = rng.standard_normal((3, 6)), rng.integers(0, 10, 3)
    scores, cache = model.forward(params, X)
    _, dscores = softmax_cross_entropy(scores, y)
    return params, cache, dscores


@guarded
def check_fa_directions(fa_directions) -> None:
    """Exercise 3: ``fa_directions(cache, dscores, feedback) -> {name: direction}`` of every layer.

    Checked twice on a tiny network: with feedback = the forward weights (it must be backprop's
    gradient) and with random feedback (it must be helpers.rules' feedback alignment)."""
    from .. import model, rules

    if _no_answer(fa_directions) or not callable(fa_directions):
        if fa_directions is not None:
            print("not yet: pass your function itself (fa_directions, without parentheses).")
        return
    rng = np.random.default_rng(8)
    params, cache, dscores = _tiny_case(rng)
    random_feedback = {k: rng.standard_normal(params[f"W{k}"].shape) for k in (2, 3)}
    for feedback, name in (({k: params[f"W{k}"] for k in (2, 3)}, "backprop"), (random_feedback, "fa")):
        expected = (
            rules.backward_with(feedback, dscores, cache) if name == "fa" else model.backward(dscores, cache, "all")
        )
        got, modified = call(fa_directions, cache, dscores, feedback)
        if modified:
            raise Hint("your function changed dscores; compute new arrays instead of writing into its inputs.")
        if not isinstance(got, dict):
            raise Hint(
                f"your function returned {type(got).__name__}; return a dict {{'W1': ..., 'b1': ..., 'W3': ..., 'b3': ...}}."
            )
        missing = sorted(set(expected) - set(got))
        if missing:
            raise Hint(f"no direction for {', '.join(missing)}: feedback alignment trains every layer.")
        for key in sorted(expected):
            if np.shape(got[key]) != expected[key].shape:
                raise Hint(
                    f"the direction of {key} has shape {np.shape(got[key])}; it must have the parameter's "
                    f"shape {expected[key].shape}{shape_note(np.shape(got[key]), expected[key].shape)}."
                )
        wrong = [key for key in sorted(expected) if not agree(got[key], expected[key], working_dtype(got[key]))]
        if wrong and name == "backprop":
            raise Hint(
                f"with B_k = W_k this must be backprop's gradient, and {', '.join(wrong)} differ: "
                "check the ReLU mask (where h > 0) and the order of the products."
            )
        if wrong:
            raise Hint(
                f"with B_k = W_k it is backprop, but with random B_k {', '.join(wrong)} differ: "
                "the error must travel down through feedback[k], not through the forward weights."
            )
    _report(True, "with B = W it is backprop to rounding, with random B it is feedback alignment.", "")
