"""What the checker tests share: call a checker and read the one line it prints; what a hint may not say."""

import re

# words that point at where the answer lies instead of naming the mistake ("look a little further right")
DIRECTION = re.compile(
    r"\b(further|a little|look (left|right)|to the (left|right)|wider|narrower|try a|"
    r"the next|higher|lower)\b",
    re.I,
)


def run(capsys, checker, *args, **kwargs):
    """(said "correct", the printed line) of ``checker(*args, **kwargs)``."""
    assert checker(*args, **kwargs) is None  # a notebook cell then shows only the message
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out  # one message
    assert out.startswith(("correct: ", "not yet: ")), out
    return out.startswith("correct"), out


def assert_no_direction(out):
    """A hint names the mistake; it never says which way the answer lies."""
    assert not DIRECTION.search(out), out


def hints(capsys, check, answers):
    """{the line printed: [the answers that got it]} for the answers ``check(answer)`` does not accept."""
    said = {}
    for answer in answers:
        ok, out = run(capsys, check, answer)
        if not ok:
            said.setdefault(out, []).append(answer)
    return said


def grid(target, decimals, width=150, factors=(-1, 0.01, 0.1, 0.5, 0.8, 0.9, 1.1, 1.25, 2, 10, 100)):
    """Answers written with ``decimals`` decimals around ``target``: every step of the last digit up to
    ``width`` steps either side (near), and multiples of the target (far)."""
    unit, base = 10.0**-decimals, round(target, decimals)
    near = [f"{base + k * unit:.{decimals}f}" for k in range(-width, width + 1)]
    return near + [f"{f * target:.{decimals}f}" for f in factors]


def significant(text):
    """Significant digits of a number as written ("0.0690": 3)."""
    digits = text.lstrip("+-").replace(".", "").lstrip("0")
    return len(digits)


def assert_no_oracle(
    capsys,
    check,
    target,
    decimals,
    *,
    sig=None,
    coarse=None,
    point=3,
    width=150,
    factors=(-1, 0.01, 0.1, 0.5, 0.8, 0.9, 1.1, 1.25, 2, 10, 100),
):
    """No sequence of answers narrows ``target`` down.

    At the stated precision (``decimals``) every wrong answer near and far, on both sides, gets the same
    hint, except named mistakes, each of which only a few (``point``) exact answers get: no hint covers a
    band, so none says "close" or which way to go (``sig``: the exercise counts significant digits, and an
    answer of the grid with fewer is a coarse one). Answers with fewer digits (``coarse``, default: one
    decimal fewer, near and far) all get one hint, about their form. Returns the generic hint.
    """
    answers = grid(target, decimals, width, factors)
    if sig:
        answers = [a for a in answers if significant(a) >= sig]
    said = hints(capsys, check, answers)
    ranked = sorted(said.items(), key=lambda item: -len(item[1]))
    generic = ranked[0][0]
    for out, answers in ranked[1:]:
        assert len(answers) <= point, (out, answers)  # a hint for a band of answers would point the way
    for out in said:
        assert_no_direction(out)
    if coarse is None and decimals >= 1:
        coarse = grid(target, decimals - 1, 30, factors)
        if sig:
            coarse = [a for a in coarse if significant(a) < sig]
    if coarse:
        coarse_said = hints(capsys, check, coarse)
        ranked = sorted(coarse_said.items(), key=lambda item: -len(item[1]))
        assert "the exercise asks for" in ranked[0][0], ranked[0]
        for out, answers in ranked[1:]:
            assert len(answers) <= point, (out, answers)  # only exact named mistakes
    return generic
