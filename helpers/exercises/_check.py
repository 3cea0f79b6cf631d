"""What every checker shares: the messages and how a student's answer is compared.

Each ``check_*`` function prints one line, "correct: ..." or "not yet: <hint>",
and returns None, so a notebook cell shows only the message. A checker never
prints the solution. An unanswered exercise (``None``, as the student copy hands
it out) says "not yet: no answer yet ..." and never raises. Checkers of functions call the
student's function on fresh random inputs, compare with the reference
implementation from ``helpers`` and also catch in-place modification of
the inputs, the reference notebook's classic bug.
"""

from __future__ import annotations

import math

import numpy as np


def _report(ok: bool, success: str, hint: str) -> None:
    print(f"correct: {success}" if ok else f"not yet: {hint}")


def _no_answer(answer) -> bool:
    if answer is None:
        print("not yet: no answer yet: replace None with your answer and run the cell again.")
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


def _as_number(answer):
    """A real number from an int, float or NumPy scalar; None for anything else (bools included)."""
    if isinstance(answer, (bool, np.bool_)):
        return None
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
