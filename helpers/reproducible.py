"""Print what reproduces on any processor, and show the figure this machine got next to it.

nbval compares a notebook's stored outputs as exact text, and two kinds of
figures differ from one processor to another: OpenBLAS picks its kernel by
processor (or by ``OPENBLAS_CORETYPE``), each kernel adds in its own order,
and so the last bits of a product differ.

* **Rounding noise**: a gradient check's relative error is 6e-11 with one
  kernel and 4e-11 with another. Only its bound means something.
* **Chaotic runs**: a top layer trained at lr 10 amplifies a difference in
  the last bit until the final accuracy moves by points (notebook 6 measures
  it). What reproduces is the range its runs fall in, not one run's digits.

Both are printed as the statement that holds on every machine plus, in
brackets, this machine's figure: ``below 1e-8 [this machine: 6e-11]``.
``nbval_sanitize.cfg`` replaces the brackets' contents before comparing, so
the tests compare the statement while the learner still reads the number.
Every other output is compared digit for digit. A figure that breaks its
statement is printed in full and flagged (``NOT below``), so nbval sees it.
"""

from __future__ import annotations

import math

import numpy as np

from .gradcheck import format_error

TAG = "this machine: "  # nbval_sanitize.cfg masks "[this machine: ...]": keep the two in step


def on_this_machine(text: str) -> str:
    """``'[this machine: <text>]'``: figures whose digits depend on the processor."""
    if "]" in text or "\n" in text:
        raise ValueError("the text must be one line without ']': the sanitizer masks up to the first one")
    return f"[{TAG}{text}]"


def below(value: float, bound: float, fmt=format_error, shown: str | None = None) -> str:
    """``'below 1e-8 [this machine: 6e-11]'`` when |value| < bound; else the value, flagged ``NOT below``.

    ``shown`` replaces the bracket's text (default: ``fmt(value)``).
    """
    value = float(value)
    if abs(value) < bound:
        return f"below {fmt(bound)} {on_this_machine(fmt(value) if shown is None else shown)}"
    return f"{fmt(value)}, NOT below {fmt(bound)}"


def above(value: float, bound: float, fmt=format_error, shown: str | None = None) -> str:
    """``'above 1e6 [this machine: 8e11]'`` when value > bound; else the value, flagged ``NOT above``."""
    value = float(value)
    if value > bound:
        return f"above {fmt(bound)} {on_this_machine(fmt(value) if shown is None else shown)}"
    return f"{fmt(value)}, NOT above {fmt(bound)}"


def between(values, low: float, high: float, fmt=lambda v: f"{v:.2f}", unit: str = "", shown: str | None = None) -> str:
    """``'between 60% and 90% [this machine: 70.77% to 76.01%]'`` when every value lies in [low, high].

    For the results of chaotic runs: the range is what reproduces, the
    figures in the brackets are this machine's draws (default: their
    smallest and largest; ``shown`` replaces them). A value outside the
    range, or not finite, is printed in full with ``NOT all between``.
    """
    values = [float(v) for v in np.ravel(values)]
    if not values:
        raise ValueError("no values")
    stated = f"between {low:g}{unit} and {high:g}{unit}"
    lo, hi = min(values), max(values)
    drawn = f"{fmt(lo)}{unit}" if lo == hi else f"{fmt(lo)}{unit} to {fmt(hi)}{unit}"
    if all(math.isfinite(v) and low <= v <= high for v in values):
        return f"{stated} {on_this_machine(drawn if shown is None else shown)}"
    return f"NOT all {stated}: {', '.join(fmt(v) + unit for v in values)}"
