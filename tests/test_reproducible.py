"""helpers.reproducible: stable statements with this machine's figures in brackets, and the sanitizer that masks them."""

import re
from pathlib import Path

import numpy as np
import pytest

from helpers.reproducible import above, below, between, on_this_machine

ROOT = Path(__file__).resolve().parent.parent


def sanitize(text):
    """What nbval does with nbval_sanitize.cfg before comparing (nbval's own parser and re.sub)."""
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns((ROOT / "nbval_sanitize.cfg").read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_two_machines_figures_compare_equal_after_the_sanitizer():
    here = f"largest difference {below(4e-10, 1e-8)}"
    there = f"largest difference {below(2e-10, 1e-8)}"
    assert here != there
    assert sanitize(here) == sanitize(there) == "largest difference below 1e-8 [this machine: ...]"


def test_the_sanitizer_masks_only_the_brackets():
    line = f"lr 1: 82.00%; lr 10: {between([70.77, 75.89], 60, 90, unit='%')}; next [1, 2]"
    assert sanitize(line) == "lr 1: 82.00%; lr 10: between 60% and 90% [this machine: ...]; next [1, 2]"
    assert sanitize("[this machine: 1e-8] and [this machine: 2e-8]") == "[this machine: ...] and [this machine: ...]"


def test_a_broken_statement_is_printed_in_full_and_differs_after_the_sanitizer():
    assert below(2e-8, 1e-8) == "2e-8, NOT below 1e-8"
    assert above(3.0, 1e6) == "3e0, NOT above 1e6"
    assert between([55.0, 70.0], 60, 90, unit="%") == "NOT all between 60% and 90%: 55.00%, 70.00%"
    assert sanitize(below(2e-8, 1e-8)) != sanitize(below(2e-9, 1e-8))
    assert "NOT" in between([float("nan")], 0, 1)


@pytest.mark.parametrize(
    "value, text",
    [
        (6e-11, "below 1e-8 [this machine: 6e-11]"),
        (0.0, "below 1e-8 [this machine: 0]"),
        (-3e-9, "below 1e-8 [this machine: -3e-9]"),
    ],
)
def test_below(value, text):
    assert below(value, 1e-8) == text


def test_above_and_between_show_this_machines_figures():
    assert above(8.1e11, 1e6) == "above 1e6 [this machine: 8e11]"
    assert above(29.0, 1.0, shown="2.9e+01 apart") == "above 1e0 [this machine: 2.9e+01 apart]"
    assert between(np.array([74.0, 70.77]), 60, 90, unit="%") == "between 60% and 90% [this machine: 70.77% to 74.00%]"
    assert between(75.0, 60, 90, unit="%") == "between 60% and 90% [this machine: 75.00%]"
    assert between([6.4], 4, 10, shown="6.4 times") == "between 4 and 10 [this machine: 6.4 times]"
    with pytest.raises(ValueError):
        between([], 0, 1)


def test_bracket_text_cannot_escape_the_mask():
    with pytest.raises(ValueError):
        on_this_machine("a] b")
    with pytest.raises(ValueError):
        on_this_machine("two\nlines")
