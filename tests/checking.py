"""What the checker tests share: call a checker and read the one line it prints; what a hint may not say."""

import re

# words that point at where the answer lies instead of naming the mistake ("look a little further right")
DIRECTION = re.compile(r"\b(further|a little|look (left|right)|to the (left|right)|wider|narrower|try a|"
                       r"the next|higher|lower)\b", re.I)


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
