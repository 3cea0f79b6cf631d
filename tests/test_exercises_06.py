"""Checkers of notebook 06's exercises: right answers pass, common wrong ones get their hint, None is 'not yet'."""

import numpy as np
import pytest

from helpers.exercises import _check
from helpers.exercises import check_divergence_threshold, check_first_lr_above_80, check_smallest_width
from helpers.exercises.ex06_explorer import expected_numbers, first_lr_above_80, smallest_width

from checking import assert_no_direction


def said(capsys, check, answer) -> str:
    assert check(answer) is None
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return out


@pytest.mark.parametrize("check", [check_first_lr_above_80, check_divergence_threshold, check_smallest_width])
def test_no_answer_is_not_yet(capsys, check):
    assert said(capsys, check, None) == f"not yet: {_check.NO_ANSWER}"  # the family's words


def test_first_lr_above_80(capsys):
    expected = first_lr_above_80()
    assert 0.01 < expected < 0.1
    assert said(capsys, check_first_lr_above_80, expected).startswith("correct:")
    assert said(capsys, check_first_lr_above_80, round(expected, 3)).startswith("correct:")  # as the readout shows it
    out = said(capsys, check_first_lr_above_80, 0.1)  # the power of ten printed in the notebook
    assert out.startswith("not yet:") and "not the smallest" in out
    assert_no_direction(out)
    out = said(capsys, check_first_lr_above_80, expected / 10**0.1)
    assert out.startswith("not yet:") and "at or below 80%" in out
    assert_no_direction(out)
    assert "steps of 10^0.1" in said(capsys, check_first_lr_above_80, 1.4 * expected)
    assert "digits" in said(capsys, check_first_lr_above_80, "fast")
    assert "positive" in said(capsys, check_first_lr_above_80, -0.1)
    out = said(capsys, check_first_lr_above_80, 20.0)  # past the slider's end: no "look further right"
    assert "slider can take" in out
    assert_no_direction(out)
    assert said(capsys, check_first_lr_above_80, f"{expected:.2g}").startswith("correct:")  # the readout's text
    for out in capsys.readouterr().out, said(capsys, check_first_lr_above_80, 0.1):
        assert f"{expected:.2g}" not in out


def test_divergence_threshold(capsys):
    assert said(capsys, check_divergence_threshold, 0.5).startswith("correct:")
    assert said(capsys, check_divergence_threshold, 1 / 2).startswith("correct:")
    out = said(capsys, check_divergence_threshold, 0.25)
    assert out.startswith("not yet:") and "exactly on the minimum" in out and "0.5" not in out
    assert_no_direction(out)
    assert "multiplies the curvature" in said(capsys, check_divergence_threshold, 8)
    assert said(capsys, check_divergence_threshold, 1.0).startswith("not yet:")


def test_smallest_width(capsys):
    expected = smallest_width()
    assert said(capsys, check_smallest_width, expected).startswith("correct:")
    assert said(capsys, check_smallest_width, float(expected)).startswith("correct:")  # 128.0 where an int is asked
    assert said(capsys, check_smallest_width, str(expected)).startswith("correct:")
    wider = said(capsys, check_smallest_width, 2 * expected)
    assert wider.startswith("not yet:") and "not the smallest" in wider and str(expected) not in wider
    narrower = said(capsys, check_smallest_width, expected // 2)
    assert narrower.startswith("not yet:") and "at or below 70%" in narrower
    for out in (wider, narrower):
        assert_no_direction(out)
    off_list = said(capsys, check_smallest_width, 100)
    assert "choose one of" in off_list and str(expected) not in off_list


def test_expected_numbers_lists_every_numeric_checker():
    numbers = expected_numbers()
    assert set(numbers) == {"check_first_lr_above_80", "check_divergence_threshold", "check_smallest_width"}
    assert numbers["check_divergence_threshold"] == [0.5]
    assert numbers["check_smallest_width"] == [smallest_width()]


def test_divergence_threshold_forms_and_the_a1_border(capsys):
    assert said(capsys, check_divergence_threshold, "1/2").startswith("correct:")  # a fraction typed as text
    assert said(capsys, check_divergence_threshold, 0.5000001).startswith("correct:")
    out = said(capsys, check_divergence_threshold, 2)  # the border of section 3's a = 1, not of a = 4
    assert out.startswith("not yet:") and "a = 4" in out and "0.5" not in out
    assert said(capsys, check_divergence_threshold, "fast").startswith("not yet:")
    for answer in ("2/4", " 1/2 ", "0.50", np.float32(0.5)):
        assert said(capsys, check_divergence_threshold, answer).startswith("correct:"), answer
    assert "% sign" in said(capsys, check_divergence_threshold, "50%")
