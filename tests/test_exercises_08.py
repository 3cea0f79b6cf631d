"""Checkers of notebook 08: correct answers in several styles pass, the typical mistakes get a hint that names them."""

import numpy as np
import pytest

from helpers import exercises, model
from helpers.exercises import ex08_rules

from checking import assert_no_direction, run


def fa_loop(cache, dscores, feedback):
    """A correct answer written as a loop over the layers, from the top down."""
    grads, dout = {}, dscores
    for k in range(len(cache), 0, -1):
        (x, _), h = cache[k - 1]
        if h is not None:
            dout = np.where(h > 0, dout, 0.0)
        grads[f"W{k}"], grads[f"b{k}"] = x.T @ dout, dout.sum(axis=0)
        if k > 1:
            dout = dout @ feedback[k].T
    return grads


def fa_unrolled_float32(cache, dscores, feedback):
    """A correct answer written out layer by layer, in float32."""
    ((h0, _), h1), ((_, _), h2), ((_, _), _) = cache
    e = dscores.astype(np.float32)
    d2 = (e @ feedback[3].T.astype(np.float32)) * (h2 > 0)
    d1 = (d2 @ feedback[2].T.astype(np.float32)) * (h1 > 0)
    return {
        "W3": h2.T.astype(np.float32) @ e,
        "b3": e.sum(0),
        "W2": h1.T.astype(np.float32) @ d2,
        "b2": d2.sum(0),
        "W1": h0.T.astype(np.float32) @ d1,
        "b1": d1.sum(0),
    }


def uses_forward_weights(cache, dscores, feedback):
    return model.backward(dscores, cache, "all")  # backprop: right only when B = W


def no_relu_mask(cache, dscores, feedback):
    grads, dout = {}, dscores
    for k in range(len(cache), 0, -1):
        (x, _), _ = cache[k - 1]
        grads[f"W{k}"], grads[f"b{k}"] = x.T @ dout, dout.sum(axis=0)
        if k > 1:
            dout = dout @ feedback[k].T
    return grads


def top_only(cache, dscores, feedback):
    (x, _), _ = cache[-1]
    return {"W3": x.T @ dscores, "b3": dscores.sum(axis=0)}


def in_place(cache, dscores, feedback):
    result = fa_loop(cache, dscores, feedback)
    dscores *= 2
    return result


@pytest.mark.parametrize("answer", [fa_loop, fa_unrolled_float32])
def test_correct_fa_directions_pass(capsys, answer):
    assert run(capsys, exercises.check_fa_directions, answer)[0]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        (uses_forward_weights, "through feedback[k], not through the forward weights"),
        (no_relu_mask, "check the ReLU mask"),
        (top_only, "no direction for W1, W2, b1, b2"),
        (in_place, "changed dscores"),
        (lambda cache, dscores, feedback: list(fa_loop(cache, dscores, feedback).values()), "return a dict"),
        (
            lambda cache, dscores, feedback: {k: v.T for k, v in fa_loop(cache, dscores, feedback).items()},
            "must have the parameter's shape",
        ),
        (lambda cache, dscores, feedback: 1 / 0, "raised ZeroDivisionError"),
    ],
)
def test_fa_mistakes_get_a_hint_naming_them(capsys, answer, fragment):
    ok, out = run(capsys, exercises.check_fa_directions, answer)
    assert not ok and fragment in out, out


def test_fa_checker_without_an_answer_or_with_a_call(capsys):
    assert "no answer yet" in run(capsys, exercises.check_fa_directions, None)[1]
    assert "without parentheses" in run(capsys, exercises.check_fa_directions, 3.0)[1]


def test_dfa_savings(capsys):
    savings = 32 * 128 * 128 - 32 * 10 * 128
    for answer in (savings, str(savings), f"{savings:,}", "483_328", float(savings)):
        assert run(capsys, exercises.check_dfa_savings, answer)[0], answer
    for wrong, fragment in (
        (32 * 128 * 128, "what backprop spends"),
        (32 * 10 * 128, "what DFA spends"),
        (128 * 128 - 10 * 128, "count per batch"),
        (12345, "list the backward products"),
    ):
        ok, out = run(capsys, exercises.check_dfa_savings, wrong)
        assert not ok and fragment in out and str(savings) not in out.replace(",", ""), out
        assert_no_direction(out)
    assert "whole number" in run(capsys, exercises.check_dfa_savings, 483328.5)[1]


@pytest.fixture
def fa_gap(monkeypatch):
    monkeypatch.setattr(ex08_rules, "_fa_gap", lambda: 2.34)
    return 2.34


def test_fa_gap_at_one_decimal(capsys, fa_gap):
    for answer in ("2.3", 2.3, "2.34", "2.3%"):
        assert run(capsys, exercises.check_fa_gap, answer)[0], answer
    for wrong, fragment in (("-2.3", "check the sign"), (0.0234, "percentage points"), ("5.1", "subtract")):
        ok, out = run(capsys, exercises.check_fa_gap, wrong)
        assert not ok and fragment in out and "2.3" not in out, out
        assert_no_direction(out)


def test_fa_gap_reads_the_stored_results():
    from helpers.comparison import load_results

    rows = {r["rule"]: r for r in load_results()["rules"]}
    gap = ex08_rules._fa_gap()
    assert gap == pytest.approx(100 * (rows["backprop"]["test"][0]["mean"] - rows["fa"]["test"][0]["mean"]))
