"""What every checker shares: the messages, one number parser, one return guard, one tolerance.

Each ``check_*`` function prints one line, "correct: ..." or "not yet: <hint>",
and returns None, so a notebook cell shows only the message. A checker never
prints the solution, and a hint names the mistake, never the direction to the
answer. An unanswered exercise (``None``, as the student copy hands it out)
says "not yet: no answer yet ..." and never raises.

The family's rules, each in one place here:

- Numbers: ``read_number`` is the one parser. It takes ints, floats, NumPy
  scalars and one-element arrays, and strings with fractions ("63/65"),
  thousands separators ("7,840,016", "7_840_016", "7 840 016") and, only where
  the exercise allows it, percents ("51.4%"). ``at_precision`` compares with the
  precision the exercise states (decimals, significant digits, a relative
  tolerance, or exact for counts): an answer rounded to that precision passes.
  ``form_hint`` is the only hint about precision, and it depends on how the
  answer is written, never on how near it is: fewer digits than the exercise
  asks for (said of every such answer), or exactly the value cut off instead of
  rounded. ``matches`` names a mistake only at the same precision (or exactly),
  so no band of answers around the target gets a hint of its own: a sequence of
  answers cannot narrow the target down (no oracle).
- Returns: ``returned_array``, ``returned_number`` and ``returned_tuple`` turn a
  wrong return type or shape (a layer's ``(out, cache)``, the whole
  ``(loss, dscores)``, a dict, a string, a wrong shape) into a hint that names
  what to return. They raise ``Hint``, which ``guarded`` turns into the
  "not yet" line: no traceback reaches the student.
- Tolerances: ``agree`` compares arrays relative to the dtype the student
  computed in (float32 is a correct answer) and to the size of the inputs.

Checkers of functions call the student's function on fresh inputs (``call``),
compare with the reference implementation from ``helpers`` and also catch
in-place modification of the inputs, the reference notebook's classic bug.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

import numpy as np

NO_ANSWER = "no answer yet: replace None with your answer and run the cell again."
LARGEST = Decimal(repr(sys.float_info.max))  # 1.8e308: beyond it no float holds the answer
NOT_FINITE = "give a finite number (yours is nan or infinite)."
TOO_LARGE = "give a finite number (yours is larger than any float can hold, about 1.8e308)."


class Hint(Exception):
    """A "not yet" hint raised from deep inside a check; ``guarded`` prints it."""


def _report(ok: bool, success: str, hint: str) -> None:
    print(f"correct: {success}" if ok else f"not yet: {hint}")


def _no_answer(answer) -> bool:
    if answer is None:
        print(f"not yet: {NO_ANSWER}")
        return True
    return False


def guarded(checker):
    """Run ``checker``; a ``Hint`` raised anywhere inside becomes its one "not yet" line."""

    @functools.wraps(checker)
    def wrapper(*args, **kwargs):
        try:
            return checker(*args, **kwargs)
        except Hint as hint:
            _report(False, "", str(hint))
            return None

    return wrapper


# ---------------------------------------------------------------- numbers

_SEPARATED = re.compile(r"^[+-]?[1-9]\d{0,2}([,_ ]\d{3})+(\.\d*)?$")  # "0,969" is no thousands group


def _parse_text(text: str) -> Decimal:
    """A Decimal from "0.25", "1e-3", "63/65", "7,840,016", "7_840_016" or "0x801"; InvalidOperation if none."""
    text = text.strip()
    if _SEPARATED.match(text):
        text = re.sub(r"[,_ ]", "", text)
    if re.fullmatch(r"[+-]?0[xX][0-9a-fA-F]+", text):
        return Decimal(int(text, 16))
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        try:
            value = Fraction(_parse_text(numerator)) / Fraction(_parse_text(denominator))
        except ZeroDivisionError:
            raise InvalidOperation from None
        return Decimal(value.numerator) / Decimal(value.denominator)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        raise InvalidOperation
    return Decimal(text)


def read_number(answer, *, percent: bool = False, whole: bool = False, points: bool = False) -> Decimal:
    """The student's answer as one Decimal, or raise ``Hint`` naming what to give instead.

    ``percent``: the exercise accepts a percent sign ("51.4%" gives 0.514; see
    ``share`` for a bare 51.4). ``points``: the answer is in percentage
    points, so "6.2%" means 6.2. Otherwise a "%" gets a hint. ``whole``: a
    count, so 7840016.0 passes and 7840016.5 does not.
    """
    if isinstance(answer, (bool, np.bool_)):
        raise Hint("give a number, not True or False.")
    is_percent = False
    if isinstance(answer, str):
        text = answer.strip()
        if text.endswith("%"):
            if not (percent or points):
                raise Hint("give a plain number, without a % sign.")
            is_percent, text = percent, text[:-1]
        try:
            value = _parse_text(text)
        except (InvalidOperation, ValueError):
            if re.fullmatch(r"[+-]?\d+,\d+", text):
                raise Hint("write decimals with a point, not a comma (a comma separates thousands: 12,345).") from None
            raise Hint(
                "give a number written with digits (a fraction such as 2/3 or separators such as 12,345 are fine)."
            ) from None
    else:
        if isinstance(answer, (list, tuple, np.ndarray)):
            size = np.size(np.asarray(answer, dtype=object))
            if size != 1:
                raise Hint(f"give one number, not {size} of them.")
            answer = np.asarray(answer, dtype=object).reshape(()).item()
            return read_number(answer, percent=percent, whole=whole, points=points)
        if isinstance(answer, Fraction):
            value = Decimal(answer.numerator) / Decimal(answer.denominator)
        elif isinstance(answer, (int, np.integer)):
            value = Decimal(int(answer))  # never through float: 10**400 is an int, not an OverflowError
        else:
            try:
                number = float(answer)
            except (TypeError, ValueError, OverflowError):
                raise Hint(f"give a number; you gave a {type(answer).__name__}.") from None
            if not math.isfinite(number):
                raise Hint(NOT_FINITE)
            value = Decimal(repr(number))
    if not value.is_finite():
        raise Hint(NOT_FINITE)
    if abs(value) > LARGEST:  # "9" * 5000, 10**400, "1e400": every later comparison would overflow
        raise Hint(TOO_LARGE)
    if value and value.adjusted() < -400:  # below the smallest float: it is 0 to every comparison
        value = Decimal(0)
    if whole and value != value.to_integral_value():
        raise Hint("give a whole number: this exercise counts something.")
    return value.scaleb(-2) if is_percent else value


def share(value: Decimal) -> Decimal:
    """A share given as a fraction or as a percent, as a fraction: above 1 it can only be a percent."""
    return value.scaleb(-2) if value > 1 else value


def at_precision(
    value,
    expected: float,
    *,
    decimals: int | None = None,
    sig: int | None = None,
    rel: float | None = None,
    scale: int = 0,
) -> bool:
    """Is ``value`` (a Decimal from ``read_number``) ``expected`` at the precision the exercise states?

    ``decimals`` (or ``sig`` significant digits) is the stated precision, in
    units of ``10**scale`` (``scale=-2``: percent decimals of a fraction). An
    answer given with at most that many digits passes when it is ``expected``
    rounded, either way on a tie; one given with more digits passes when it
    rounds to the same, or when it is ``expected`` rounded at its own, finer
    precision. ``rel``: a relative tolerance instead. With none of them: exact.
    """
    value = Decimal(value)
    want = Decimal(repr(float(expected)))
    if rel is not None:
        return abs(value - want) <= Decimal(repr(rel)) * abs(want)
    if decimals is None and sig is None:
        return value == want
    value, want = value.scaleb(-scale), want.scaleb(-scale)
    if decimals is None:
        decimals = sig - 1 - math.floor(math.log10(abs(float(want)))) if want else sig
    unit = Decimal(1).scaleb(-decimals)
    slack = Decimal("1e-9") * unit
    given = -value.normalize().as_tuple().exponent if value else 0
    if given <= decimals:
        return abs(value - want) <= unit / 2 + slack
    if value.quantize(unit, ROUND_HALF_UP) == want.quantize(unit, ROUND_HALF_UP):
        return True
    return abs(value - want) <= Decimal(1).scaleb(-given) / 2 + slack


def near(value, target: float, rel: float = 1e-3) -> bool:
    """``value`` (a Decimal or float) within ``rel`` of a candidate mistake; for choosing a hint only."""
    return value is not None and math.isclose(float(value), float(target), rel_tol=rel, abs_tol=1e-15)


# ---------------------------------------------------------------- calling and returns


def call(fn, *args, copy: bool = True):
    """Call the student's function on copies of its array arguments; raise ``Hint`` if it raises.

    Returns (result, modified): ``modified`` says whether the function changed an argument
    (always False with ``copy=False``, for large data already checked on small inputs)."""
    copies = [np.array(a, copy=True) if copy and isinstance(a, np.ndarray) else a for a in args]
    try:
        with np.errstate(all="ignore"):  # an unstable attempt overflows: that is a hint, not a warning
            result = fn(*copies)
    except NotImplementedError:
        raise Hint("no answer yet: write the function body and run the cell again.") from None
    except ValueError as exc:
        if "broadcast" in str(exc):  # NumPy's words name no mistake: the usual one is a lost axis
            raise Hint(
                "your function combines arrays whose shapes do not line up: a sum or maximum over axis=1 of "
                "an (N, C) array has shape (N,); keep the axis (keepdims=True, shape (N, 1)) to combine it "
                "with the rows."
            ) from None
        raise Hint(f"your function raised ValueError: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any failure of the student's code is reported, not raised
        raise Hint(f"your function raised {type(exc).__name__}: {exc}") from None
    modified = copy and any(
        isinstance(a, np.ndarray) and not np.array_equal(a, c, equal_nan=a.dtype.kind == "f")
        for a, c in zip(args, copies)
    )
    return result, modified


def _numeric(result, what: str) -> np.ndarray:
    try:
        array = np.asarray(result)
    except (ValueError, TypeError):
        array = np.asarray(None, dtype=object)
    if array.dtype.kind not in "biuf":
        raise Hint(
            f"return {what}: a NumPy array of numbers (yours holds {type(result).__name__} values "
            "that are not all numbers)."
        )
    return array


def _things(count: int) -> str:
    return f"{count} thing" if count == 1 else f"{count} things"


def returned_array(result, shape: tuple, what: str, label: str = "your function returned") -> np.ndarray:
    """The student's returned array, checked for type and shape; ``what`` names it in the hint, ``label``
    says whose it is ("your function returned", or "the first thing you returned is" inside a tuple)."""
    if result is None:
        raise Hint(f"{label} None; return {what}.")
    if isinstance(result, tuple):
        shapes = [np.shape(r) if isinstance(r, (np.ndarray, list)) else None for r in result]
        inside = " (one of them is the right array)" if shape in shapes else ""
        raise Hint(
            f"{label} a tuple of {_things(len(result))}{inside}, like a layer's (out, cache); return only {what}."
        )
    if isinstance(result, (dict, str, bytes)):
        raise Hint(f"{label} a {type(result).__name__}; return {what}.")
    array = _numeric(result, what)
    if array.shape != shape:
        raise Hint(f"{label} shape {array.shape}; return {what}, shape {shape}{shape_note(array.shape, shape)}.")
    return array


def shape_note(got: tuple, want: tuple) -> str:
    """What a wrong shape most likely is: a kept axis of length 1 (a (1, H) bias), or a transpose."""
    got, want = tuple(got), tuple(want)
    if got == (1, *want) or got == (*want, 1):
        return " (drop the extra axis of length 1: sum without keepdims, or .ravel())"
    if len(want) == 2 and got == want[::-1] and want[0] != want[1]:
        return " (it is transposed: check the order of the product)"
    return ""


def returned_number(result, what: str, label: str = "your function returned"):
    """The student's returned scalar as (float, dtype); a tuple, array or None gets a hint naming it."""
    if result is None:
        raise Hint(f"{label} None; return {what}.")
    if isinstance(result, (tuple, list)):
        like = " (like softmax_cross_entropy's (loss, dscores))" if len(result) == 2 else ""
        raise Hint(f"{label} a {type(result).__name__} of {_things(len(result))}{like}; return only {what}.")
    if isinstance(result, (bool, np.bool_, str, dict)):
        raise Hint(f"{label} a {type(result).__name__}; return {what}.")
    array = _numeric(result, what)
    if array.size != 1:
        raise Hint(f"{label} {array.size} numbers (shape {array.shape}); return {what}: one number.")
    dtype = array.dtype if array.dtype.kind == "f" else np.dtype(float)
    if isinstance(result, float) and not isinstance(result, np.floating):
        dtype = np.dtype(np.float32)  # a Python float may come from float32 arithmetic: allow its rounding
    return float(array.reshape(())), dtype


def returned_tuple(result, names: tuple, noun: str = "things") -> tuple:
    """The student's returned tuple of ``len(names)`` things, none of them None; hints name the tuple."""
    count = {2: "two", 3: "three"}.get(len(names), str(len(names)))
    wanted = f"{count} {noun}: ({', '.join(names)})"
    if result is None:
        raise Hint(f"return {wanted}.")
    if not isinstance(result, (tuple, list)):
        raise Hint(f"your function returned one {type(result).__name__}; return {wanted}.")
    if len(result) != len(names):
        raise Hint(f"your function returned {_things(len(result))}; return {wanted}.")
    missing = [n for n, r in zip(names, result) if r is None]
    if missing:
        raise Hint(f"{missing[0]} is None; return {wanted}.")
    return tuple(result)


# ---------------------------------------------------------------- tolerances


def working_dtype(*results) -> np.dtype:
    """The least precise float dtype among the student's results (float64 if none is a float array)."""
    dtypes = [np.asarray(r).dtype for r in results if np.asarray(r).dtype.kind == "f"]
    return max(dtypes, key=lambda d: np.finfo(d).eps) if dtypes else np.dtype(float)


def agree(got, want, dtype=None, scale: float = 1.0) -> bool:
    """``got`` equals ``want`` up to rounding in the dtype the student computed in.

    The tolerance is 64 units in the last place of that dtype (float32: 7.6e-6,
    float64: 1.4e-14), times ``scale`` (the size of the inputs: a score of 1000
    rounded to float32 is already off by 6e-5), but never below 1e-10 (an
    epsilon of 1e-12 added for safety is not a mistake), relative to each entry
    and to the largest entry of ``want`` (an entry that underflows to 0 in
    float32 is not an error).
    """
    dtype = working_dtype(got) if dtype is None else np.dtype(dtype)
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape or not np.all(np.isfinite(got)):
        return False
    tolerance = max(64 * np.finfo(dtype).eps * max(1.0, float(scale)), 1e-10)
    largest = float(np.max(np.abs(want))) if want.size else 0.0
    return bool(np.all(np.abs(got - want) <= tolerance * (np.abs(want) + largest)))


def _decimals(expected: float, decimals: int | None, sig: int | None, scale: int) -> int | None:
    """The stated precision as decimals in units of 10**scale (None: exact or relative)."""
    want = float(expected) * 10.0**-scale
    if decimals is None and sig is not None:
        decimals = sig - 1 - math.floor(math.log10(abs(want))) if want else sig
    return decimals


def _written(value, scale: int = 0) -> tuple:
    """(decimals, significant digits) of the answer as the student wrote it, in units of 10**scale: "0.50" has
    two decimals, the float 0.5 one (a float keeps no trailing zeros)."""
    value = Decimal(value).scaleb(-scale)
    digits = value.as_tuple().digits
    significant = len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
    return -value.as_tuple().exponent, significant


def coarse(value, expected: float, *, decimals: int | None = None, sig: int | None = None, scale: int = 0) -> bool:
    """Is the answer written with fewer digits than the exercise states? (Its form only, not its value.)"""
    if decimals is None and sig is None:
        return False
    given_decimals, given_sig = _written(value, scale)
    return given_sig < sig if decimals is None else given_decimals < decimals


def matches(
    value,
    mistake: float,
    *,
    decimals: int | None = None,
    sig: int | None = None,
    rel: float | None = None,
    scale: int = 0,
) -> bool:
    """Is the answer a named mistake: exactly that value, or that value at the exercise's own precision?

    A mistake is named only where the right value would be accepted: never for a
    coarser answer, and never for a band wider than the precision, so a hint that
    names a mistake derived from the target (its square, its sign) cannot be
    used to home in on the target."""
    value = Decimal(value)
    if math.isclose(float(value), float(mistake), rel_tol=1e-9, abs_tol=1e-300):
        return True
    if coarse(value, mistake, decimals=decimals, sig=sig, scale=scale):
        return False
    return at_precision(value, mistake, decimals=decimals, sig=sig, rel=rel, scale=scale)


def form_hint(
    value, expected: float, *, decimals: int | None = None, sig: int | None = None, scale: int = 0, stated: str = ""
) -> str | None:
    """For a wrong answer, a hint about how it is written, or None (the caller then names the mistake).

    Fewer digits than ``stated``: every such answer gets the same words, whatever
    its digits, so the hint never says how near it is. Exactly the stated digits
    and equal to ``expected`` cut off where it should be rounded: the one value a
    right computation cut off hears so. Nothing else about precision is said.
    """
    if coarse(value, expected, decimals=decimals, sig=sig, scale=scale):
        return f"your answer has fewer digits than the exercise asks for ({stated})."
    places = _decimals(expected, decimals, sig, scale)
    if places is None:
        return None
    value, want = Decimal(value).scaleb(-scale), Decimal(repr(float(expected))).scaleb(-scale)
    given = _written(value)[0] if decimals is not None else None
    if decimals is None:  # significant digits: the decimals they give at the target's size
        given = _written(value)[0] if _written(value)[1] == sig else None
    unit = Decimal(1).scaleb(-places)
    cut = want.quantize(unit, rounding="ROUND_DOWN")
    if given == places and value == cut and cut != want.quantize(unit, ROUND_HALF_UP):
        return f"you cut the digits off; round to {stated} instead."
    return None
