"""Checkers of notebook 06's exercises: right answers pass, common wrong ones get their hint, None is 'not yet'."""

import numpy as np
import pytest

from helpers.exercises import (
    _check,
    check_divergence_threshold,
    check_lr_chosen_on_validation,
    check_smallest_width,
    ex06_explorer as ex06,
)
from helpers.exercises.ex06_explorer import expected_numbers, lr_chosen_on_test, lr_chosen_on_validation, smallest_width

from checking import assert_no_direction


def said(capsys, check, *answers) -> str:
    assert check(*answers) is None
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return out


@pytest.mark.parametrize("check", [check_lr_chosen_on_validation, check_divergence_threshold, check_smallest_width])
def test_no_answer_is_not_yet(capsys, check):
    assert said(capsys, check, None) == f"not yet: {_check.NO_ANSWER}"  # the family's words


@pytest.mark.slow  # trains the learning-rate grid
def test_lr_chosen_on_validation(capsys):
    chosen = lr_chosen_on_validation()
    assert 0.01 < chosen < 0.1
    ((validation, test),) = ex06._accuracies((chosen,))
    assert validation > ex06.TARGET  # the choice is made on validation ...
    left_validation, left_test = ex06._accuracies((chosen / 10**0.1,))[0]
    assert left_validation <= ex06.TARGET
    # correct answers, in several styles: exact floats, the readout's two digits, a string, percent or fraction
    for answers in (
        (chosen, test),
        (round(chosen, 3), round(100 * test, 2)),
        (f"{chosen:.2g}", f"{100 * test:.2f}%"),
        (np.float32(chosen), np.float32(test)),
        (str(chosen), f"{test:.4f}"),
        (chosen, f"{100 * test:.3f}"),
    ):
        assert said(capsys, check_lr_chosen_on_validation, *answers).startswith("correct:"), answers
    out = said(capsys, check_lr_chosen_on_validation, chosen)  # the choice alone: the report is still missing
    assert out.startswith("not yet:") and "test accuracy" in out
    larger = said(capsys, check_lr_chosen_on_validation, 0.1, 100 * test)  # the power of ten printed in the notebook
    smaller = said(capsys, check_lr_chosen_on_validation, chosen / 10**0.3, 100 * test)
    assert larger == smaller and "not the smallest value of the slider" in larger  # no "too small" / "too large"
    assert_no_direction(larger)
    assert "steps of 10^0.1" in said(capsys, check_lr_chosen_on_validation, 1.4 * chosen)
    assert "digits" in said(capsys, check_lr_chosen_on_validation, "fast")
    assert "positive" in said(capsys, check_lr_chosen_on_validation, -0.1)
    out = said(capsys, check_lr_chosen_on_validation, 20.0)  # past the slider's end: no "look further right"
    assert "slider can take" in out
    assert_no_direction(out)
    # the right learning rate with the wrong report: its validation accuracy, too coarse, another number, no number
    wrong_reports = {
        round(100 * validation, 2): "validation accuracy",
        round(100 * test, 1): "fewer digits",
        "50.00": "not its run's test accuracy",
        50: "fewer digits",
        "most": "digits",
    }
    if round(100 * test, 1) == round(100 * test, 2):  # a test accuracy with one decimal cannot be given too coarsely
        wrong_reports[round(100 * test)] = wrong_reports.pop(round(100 * test, 1))
    for report, hint in wrong_reports.items():
        out = said(capsys, check_lr_chosen_on_validation, chosen, report)
        assert out.startswith("not yet:") and hint in out, (report, out)
        assert f"{100 * test:.2f}" not in out and f"{test:.4f}" not in out
        assert_no_direction(out)
    for out in capsys.readouterr().out, said(capsys, check_lr_chosen_on_validation, 0.1):
        assert f"{chosen:.2g}" not in out


def test_the_choice_the_test_set_would_make_is_rejected(capsys):
    chosen, on_test = lr_chosen_on_validation(), lr_chosen_on_test()
    assert on_test < chosen  # on these runs the two splits choose differently: the exercise's point
    test_of_test_choice = ex06._accuracies((on_test,))[0][1]
    for answers in ((on_test,), (on_test, test_of_test_choice), (f"{on_test:.2g}", f"{100 * test_of_test_choice:.2f}")):
        out = said(capsys, check_lr_chosen_on_validation, *answers)
        assert out.startswith("not yet:") and "validation set chooses" in out, out
        assert f"{chosen:.2g}" not in out
        assert_no_direction(out)


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
    assert narrower == wider  # the same words on either side: no binary search
    for out in (wider, narrower):
        assert_no_direction(out)
    off_list = said(capsys, check_smallest_width, 100)
    assert "choose one of" in off_list and str(expected) not in off_list


def test_smallest_width_is_chosen_on_validation(mnist):
    """Exercise 4's answer is the first listed width whose run ends above 70% on the validation split."""
    from helpers.train import TrainConfig, train

    expected = smallest_width()
    ends = {width: train(mnist, TrainConfig(hidden_size=width, lr=0.1))[1] for width in (expected // 2, expected)}
    assert ends[expected].final_validation_accuracy > 0.7
    assert ends[expected // 2].final_validation_accuracy <= 0.7


def test_expected_numbers_lists_every_numeric_checker():
    numbers = expected_numbers()
    assert set(numbers) == {"check_lr_chosen_on_validation", "check_divergence_threshold", "check_smallest_width"}
    test = ex06._accuracies((lr_chosen_on_validation(),))[0][1]
    assert numbers["check_lr_chosen_on_validation"] == [lr_chosen_on_validation(), 100 * test, test]
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
