"""No numeric checker is an oracle: no sequence of answers narrows its target down.

For every numeric exercise a grid of wrong answers at the stated precision, near the target and far from
it, on both sides, gets one hint (named mistakes aside, each for a single exact answer), and answers with
fewer digits all get one hint about their form, whatever their digits. A hint never says "close" or which
way to go. Targets that need data or training are replaced by fixed values (``monkeypatch``): the hints'
logic is what is tested here; the modules' own tests check the targets.
"""

import math

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import (
    ex02_initialization as ex02,
    ex03_forward_pass as ex03,
    ex05_training as ex05,
    ex06_explorer as ex06,
    ex07_baselines as ex07,
    ex08_rules as ex08,
)

from checking import assert_no_direction, assert_no_oracle, hints, run

MEAN_SQUARE = 0.11204472942973984  # E[x^2] of the 55,000 training images (notebook 2)


@pytest.mark.parametrize(
    "check, target, decimals, sig",
    [
        (exercises.check_uniform_loss, math.log(10), 3, None),
        (exercises.check_double_mean_error, 63 / 65, 4, None),
        (lambda a: exercises.check_z1_rms(a, 2048, MEAN_SQUARE), ex02._z1_rms(2048, MEAN_SQUARE), 3, 3),
        (exercises.check_slow_eigenvalue, ex07._slow_eigenvalue(), 4, 3),
        (exercises.check_momentum_lr, 0.0015 / 0.04, 4, 3),
        (exercises.check_raw_pixel_gain, ex07._raw_pixel_gains()[0], 1, None),
        (exercises.check_fa_gap, ex08._fa_gap(), 1, None),
        (exercises.check_divergence_threshold, 0.5, 3, None),
    ],
    ids=[
        "03.0 uniform loss",
        "04.2 double mean",
        "02.3 z1 rms",
        "07.2 slow eigenvalue",
        "07.3 momentum lr",
        "07.1 raw pixel gain",
        "08.1 fa gap",
        "06.3 divergence",
    ],
)
def test_decimal_answers_get_no_warmer_colder(capsys, check, target, decimals, sig):
    coarse = [] if check is exercises.check_divergence_threshold else None  # "exactly": no digits to count
    assert_no_oracle(capsys, check, target, decimals, sig=sig, coarse=coarse)


def test_loss_as_probability_gets_no_warmer_colder(capsys, monkeypatch):
    p = math.exp(-3.4685)
    monkeypatch.setattr(ex03, "_loss_as_probability", lambda data=None: p)
    monkeypatch.setattr(ex03, "_first_batch_probabilities", lambda data=None: np.array([0.01, 0.2, 0.05, 0.4]))
    assert_no_oracle(capsys, exercises.check_loss_as_probability, p, 4, sig=3)


@pytest.mark.parametrize(
    "check, target",
    [
        (exercises.check_label_magic_number, 2049),
        (exercises.check_idx_file_size, 7_840_016),
        (exercises.check_parameter_count, 269_322),
        (exercises.check_forward_multiply_adds, 3_776_512),
        (exercises.check_backward_multiply_adds, 21_561_344),
        (exercises.check_dfa_savings, 483_328),
        (exercises.check_ema_start_weight, 459),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_counts_get_no_warmer_colder(capsys, check, target):
    assert_no_oracle(capsys, check, target, 0)


def test_truncation_is_named_for_the_cut_value_alone(capsys):
    ok, out = run(capsys, exercises.check_uniform_loss, "2.302")  # log 10 = 2.302585: cut, not rounded
    assert not ok and "cut the digits off" in out and "2.303" not in out
    said = hints(capsys, exercises.check_uniform_loss, [f"{2.2 + k / 1000:.3f}" for k in range(200)])
    assert [answers for out, answers in said.items() if "cut" in out] == [["2.302"]]


def test_weight_std_within_two_percent_gets_no_warmer_colder(capsys):
    target = math.sqrt(2 / 1296)
    check = lambda a: exercises.check_weight_std(a, "xavier", layer=1, hidden_size=512)  # noqa: E731
    answers = [f"{target * (1 + k * 0.004):.6f}" for k in range(-200, 201)]
    accepted = sum(run(capsys, check, a)[0] for a in answers)
    said = sorted(hints(capsys, check, answers).items(), key=lambda item: -len(item[1]))
    assert 0 < accepted <= 11
    for out, wrong in said[1:]:  # a named mistake (the half-width) covers no more than the +-2% the answer does
        values = [float(a) for a in wrong]
        assert max(values) / min(values) <= 1.02 / 0.98 and min(values) > 1.1 * target, (out, wrong)


def tiny_data():
    """Eight test images; the network predicts 7 for the first seven: 5 of them are 7s (precision 5/7 = 71.43%),
    6 images are 7s (recall 5/6)."""

    class Data:
        class test:
            images = np.eye(8, 784)
            labels = np.array([7, 7, 7, 7, 7, 3, 1, 7])

    W1 = np.zeros((784, 10))
    W1[np.arange(8), [7, 7, 7, 7, 7, 7, 7, 2]] = 1.0
    return {"W1": W1, "b1": np.zeros(10)}, Data


def test_digit_precision_gets_no_warmer_colder(capsys):
    params, data = tiny_data()
    check = lambda a: exercises.check_digit_precision(a, params, data)  # noqa: E731
    assert run(capsys, check, "71%")[0] and run(capsys, check, "5/7")[0]
    assert_no_oracle(
        capsys,
        check,
        500 / 7,
        0,
        coarse=[f"{k / 10:.1f}" for k in range(1, 10)],
        width=60,
        factors=(0.5, 0.8, 0.9, 1.1, 1.25),
    )


def test_batch_doubling_gets_no_warmer_colder(capsys, monkeypatch):
    runs = {
        64: np.array([[0.4451, 0.2811], [0.4387, 0.2790], [0.4460, 0.2950]]),
        32: np.array([[0.4441, 0.3800], [0.4430, 0.3820], [0.4460, 0.3790]]),
    }
    monkeypatch.setattr(ex05, "_batch_runs", lambda data, batch_size: runs[batch_size])
    at_10k, at_5k = runs[64].mean(axis=0)
    assert run(capsys, exercises.check_batch_doubling, at_10k, at_5k, None)[0]
    for check, target in (
        (lambda a: exercises.check_batch_doubling(a, at_5k, None), at_10k),
        (lambda a: exercises.check_batch_doubling(at_10k, a, None), at_5k),
    ):
        assert_no_oracle(capsys, check, 100 * target, 1)
    # the median of the seeds (seed 0 here) and one seed alone are named, as whole runs
    ok, out = run(capsys, exercises.check_batch_doubling, np.median(runs[64][:, 0]), at_5k, None)
    assert not ok and "median" in out
    ok, out = run(capsys, exercises.check_batch_doubling, "43.9%", at_5k, None)
    assert not ok and "seed 1 alone" in out


@pytest.fixture
def slider(monkeypatch):
    """Made-up runs: validation accuracy crosses 80% at 10^-1.5, test accuracy already at 10^-1.7."""

    def accuracies(lrs):
        return tuple(
            (
                0.7 + 0.1 * (math.log10(lr) + 1.55) / 0.2
                if lr < 10**-1.5 * 1.01 and lr < 0.0302
                else 0.81 + 0.001 * math.log10(lr / 0.0316),
                0.85 if lr > 10**-1.75 else 0.75,
            )
            for lr in lrs
        )

    monkeypatch.setattr(ex06, "_accuracies", accuracies)
    from helpers.explorer import lr_grid

    values = [float(v) for v in lr_grid()]
    chosen = next(v for v in values if accuracies((v,))[0][0] > 0.8)
    assert math.isclose(chosen, 10**-1.5) and math.isclose(ex06.lr_chosen_on_test(), 10**-1.7)
    return values, chosen, accuracies((chosen,))[0]


def test_the_slider_choice_gets_one_hint_for_every_wrong_value(capsys, slider):
    """A binary search needs "too small" and "too large": every wrong value gets the same words (the test set's
    choice, one value, is named as that mistake)."""
    values, chosen, (_, test) = slider
    said = hints(capsys, lambda a: exercises.check_lr_chosen_on_validation(a, 100 * test), [f"{v:.2g}" for v in values])
    ranked = sorted(said.items(), key=lambda item: -len(item[1]))
    assert len(ranked[0][1]) == len(values) - 2  # all but the answer and the test set's choice
    assert [len(a) for _, a in ranked[1:]] == [1] and "test set would make" in ranked[1][0]
    for out in said:
        assert_no_direction(out)
        assert "at or below" not in out and "not the smallest value of the slider that does" not in out
    assert_no_oracle(capsys, lambda a: exercises.check_lr_chosen_on_validation(chosen, a), 100 * test, 2)


def test_the_width_choice_gets_one_hint_for_every_wrong_width(capsys, monkeypatch):
    accuracy = {16: 0.55, 32: 0.66, 64: 0.73, 128: 0.78, 256: 0.80}
    monkeypatch.setattr(ex06, "_width_accuracy", lambda width: accuracy[width])
    said = hints(capsys, exercises.check_smallest_width, [16, 32, 128, 256])
    assert len(said) == 1, said  # narrower and wider widths get the same words
    assert run(capsys, exercises.check_smallest_width, 64)[0]


HUGE = [1e309, 10**400, "9" * 5000, "1e400"]


def test_second_answers_that_no_float_holds_get_a_hint(capsys, slider, monkeypatch):
    _, chosen, _ = slider
    monkeypatch.setattr(ex05, "_batch_runs", lambda data, batch_size: np.full((3, 2), 0.4))
    for answer in HUGE:
        for check, args in (
            (exercises.check_lr_chosen_on_validation, (chosen, answer)),
            (exercises.check_batch_doubling, (0.4, answer, None)),
        ):
            ok, out = run(capsys, check, *args)
            assert not ok and "finite number" in out, (answer, out)
