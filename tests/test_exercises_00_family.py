"""The checkers are one family: one number parser, one return guard, one dtype-relative tolerance.

These tests pin the shared rules in helpers/exercises/_check.py and then run every
checker of a function through the wrong return types a class produces (None, a
layer's (out, cache), a dict, a string, a list of the wrong length): each says
"not yet" with a hint naming what to return, none raises.
"""

from decimal import Decimal

import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import _check

from checking import run


@pytest.mark.parametrize(
    "text, value",
    [
        ("63/65", Decimal(63) / Decimal(65)),
        ("3/80", Decimal("0.0375")),
        ("1/2", Decimal("0.5")),
        ("7,840,016", 7840016),
        ("7_840_016", 7840016),
        ("7 840 016", 7840016),
        ("269,322", 269322),
        ("0x801", 2049),
        ("1e-3", Decimal("0.001")),
        (" 0.5 ", Decimal("0.5")),
        (".5", Decimal("0.5")),
        (2049, 2049),
        (2049.0, 2049),
        (np.int64(5), 5),
        (np.float32(0.5), Decimal("0.5")),
        ([3], 3),
        (np.array(2.5), Decimal("2.5")),
        (np.array([[0.25]]), Decimal("0.25")),
    ],
)
def test_one_parser_reads_every_way_of_writing_a_number(text, value):
    assert _check.read_number(text) == value


def test_percent_only_where_the_exercise_allows_it():
    assert _check.read_number("51.4%", percent=True) == Decimal("0.514")
    assert _check.read_number("6.2%", points=True) == Decimal("6.2")
    assert _check.share(Decimal("51.4")) == Decimal("0.514") and _check.share(Decimal("0.514")) == Decimal("0.514")
    with pytest.raises(_check.Hint, match="% sign"):
        _check.read_number("51.4%")


@pytest.mark.parametrize(
    "answer, hint",
    [
        ("abc", "digits"),
        ("1,2345", "decimals with a point"),
        ("0,969", "decimals with a point"),
        ("12,34,567", "digits"),
        ("1/0", "digits"),
        (True, "True or False"),
        ([1, 2], "one number"),
        (np.zeros(3), "one number"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ({"a": 1}, "dict"),
    ],
)
def test_the_parser_names_what_to_give_instead(answer, hint):
    with pytest.raises(_check.Hint, match=hint):
        _check.read_number(answer)
    with pytest.raises(_check.Hint, match="whole number"):
        _check.read_number(7840016.5, whole=True)


def test_stated_precision_accepts_every_rounding_and_nothing_else():
    fraction = 0.5139372822299652  # 05 ex 1: 590 / 1148, to a whole percent
    for answer in ("51", "51.4", "0.51", "0.514", "51.39", "0.5139", "590/1148", "51%"):
        assert _check.at_precision(
            _check.share(_check.read_number(answer, percent=True)), fraction, decimals=0, scale=-2
        ), answer
    for answer in ("52", "50", "51.8", "0.52", "0.5"):
        assert not _check.at_precision(
            _check.share(_check.read_number(answer, percent=True)), fraction, decimals=0, scale=-2
        ), answer
    assert _check.at_precision(Decimal("2.303"), np.log(10), decimals=3)
    assert not _check.at_precision(Decimal("2.302"), np.log(10), decimals=3)  # cut off, not rounded
    assert _check.at_precision(Decimal("0.0312"), 0.0311626, sig=3)
    assert not _check.at_precision(Decimal("0.031"), 0.0311626, sig=3)
    assert _check.at_precision(Decimal("51.5"), 51.46, decimals=0)  # a correct rounding at a finer precision
    assert _check.at_precision(Decimal("51.45"), 51.45, decimals=0) and _check.at_precision(
        Decimal("52"), 51.5, decimals=0
    )


def test_the_tolerance_follows_the_students_dtype():
    want = np.array([0.1, 0.2, 0.7])
    assert _check.agree(want.astype(np.float32), want)
    assert not _check.agree(want + 1e-9, want)  # float64 rounding is far smaller
    assert _check.agree(want / (1 + 1e-12), want)  # an epsilon of 1e-12 in a denominator is not a mistake
    assert _check.agree((want + 1e-9).astype(np.float32), want)
    assert not _check.agree(want * 1.001, want.astype(np.float32)) and not _check.agree(
        (want * 1.001).astype(np.float32), want
    )
    assert not _check.agree(np.array([np.nan, 0.2, 0.7]), want) and not _check.agree(want[:2], want)


FUNCTION_CHECKERS = [
    (exercises.check_nearest_mean, 3),
    (exercises.check_glorot_uniform, 3),
    (exercises.check_he_uniform, 3),
    (exercises.check_softmax, 1),
    (exercises.check_smoothed_cross_entropy, 3),
    (exercises.check_softmax_temperature, 3),
    (exercises.check_l2_top_layer, 5),
    (exercises.check_momentum_step, 5),
    (exercises.check_standardize, 2),
]
WRONG_RETURNS = {
    "None": lambda first: None,
    "a tuple like (out, cache)": lambda first: (first, {"x": first}),
    "a tuple of three": lambda first: (first, first, first),
    "a dict": lambda first: {"out": first},
    "a string": lambda first: "done",
    "a list of lists": lambda first: [[1, 2], [3]],
    "an array of the wrong shape": lambda first: np.zeros((2, 3, 4)),
    "a list of one array": lambda first: [first],
}


@pytest.mark.parametrize("checker, arity", FUNCTION_CHECKERS, ids=lambda c: getattr(c, "__name__", ""))
@pytest.mark.parametrize("kind", WRONG_RETURNS)
def test_a_wrong_return_gets_a_hint_naming_what_to_return_never_a_traceback(capsys, checker, arity, kind):
    def student(*args):
        assert len(args) == arity
        first = np.array(args[0], dtype=float, copy=True) if np.ndim(args[0]) else np.zeros((3, 3))
        return WRONG_RETURNS[kind](first)

    with np.errstate(all="ignore"):
        ok, out = run(capsys, checker, student)
    assert not ok
    assert "return" in out, out  # the hint names what to return
    assert "Traceback" not in out


@pytest.mark.parametrize("checker", [c for c, _ in FUNCTION_CHECKERS], ids=lambda c: c.__name__)
def test_a_function_that_raises_is_reported(capsys, checker):
    ok, out = run(capsys, checker, lambda *args: 1 / 0)
    assert not ok and "ZeroDivisionError" in out
    ok, out = run(capsys, checker, lambda *args: (_ for _ in ()).throw(NotImplementedError()))
    assert not ok and "no answer yet" in out


NUMERIC_CHECKERS = [
    exercises.check_label_magic_number,
    exercises.check_idx_file_size,
    exercises.check_parameter_count,
    exercises.check_weight_std,
    exercises.check_uniform_loss,
    exercises.check_forward_multiply_adds,
    exercises.check_backward_multiply_adds,
    exercises.check_double_mean_error,
    exercises.check_ema_start_weight,
    exercises.check_divergence_threshold,
    exercises.check_momentum_lr,
    exercises.check_slow_eigenvalue,
    exercises.check_lr_chosen_on_validation,  # its first answer; the second (a test accuracy) in test_exercises_06
]


@pytest.mark.parametrize("checker", NUMERIC_CHECKERS, ids=lambda c: c.__name__)
def test_every_numeric_checker_says_the_same_for_no_answer_and_for_what_is_no_number(capsys, checker):
    args = ("xavier",) if checker is exercises.check_weight_std else ()
    ok, out = run(capsys, checker, None, *args)
    assert not ok and out == f"not yet: {_check.NO_ANSWER}\n"
    for answer, hint in (
        ("a lot", "digits"),
        ([1, 2], "one number"),
        (True, "True or False"),
        (float("nan"), "finite"),
    ):
        ok, out = run(capsys, checker, answer, *args)
        assert not ok and hint in out, (answer, out)


def forms(value):
    """How an answer could show in a line of text."""
    value = float(value)
    texts = {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", f"{value:.3g}", f"{value:.4g}", repr(value)}
    if value == int(value):
        texts |= {str(int(value)), f"{int(value):,}"}
    return {t for t in texts if len(t.strip("0.-")) >= 2}  # "0.00" would match any small number


CHEAP_NUMERIC = [  # (checker, extra arguments, module whose expected_numbers() lists its answer)
    (exercises.check_label_magic_number, (), exercises.ex01_data),
    (exercises.check_idx_file_size, (), exercises.ex01_data),
    (exercises.check_parameter_count, (), exercises.ex02_initialization),
    (exercises.check_forward_multiply_adds, (), exercises.ex03_forward_pass),
    (exercises.check_uniform_loss, (), exercises.ex03_forward_pass),
    (exercises.check_backward_multiply_adds, (), exercises.ex04_backward_pass),
    (exercises.check_double_mean_error, (), exercises.ex04_backward_pass),
    (exercises.check_divergence_threshold, (), exercises.ex06_explorer),
    (exercises.check_raw_pixel_gain, (), exercises.ex07_baselines),
    (exercises.check_slow_eigenvalue, (), exercises.ex07_baselines),
    (exercises.check_momentum_lr, (), exercises.ex07_baselines),
]


@pytest.mark.parametrize("checker, args, module", CHEAP_NUMERIC, ids=lambda c: getattr(c, "__name__", ""))
def test_no_wrong_answer_makes_a_checker_print_the_answer(capsys, checker, args, module, monkeypatch):
    if module is exercises.ex06_explorer:  # its expected_numbers() trains; exercise 3's answer is derived
        answer = 0.5
    else:
        answer = module.expected_numbers()[checker.__name__][0]
    wrong = [answer * f for f in (-1, 0.5, 0.9, 0.99, 0.999, 1.001, 1.01, 1.1, 2, 10, 100, 0.01)]
    wrong += [answer + d for d in (-1, 1, -0.01, 0.01)] + [0, 1, "1/3", "12,345"]
    for value in wrong:
        ok, out = run(capsys, checker, value, *args)
        if ok:  # within the stated precision of the answer (0.999 times it, say), never 10% off
            assert not isinstance(value, str) and abs(value / answer - 1) < 0.02, (value, out)
            continue
        for text in forms(answer):
            assert text not in out, (value, text, out)


ALL_NUMERIC = [  # (checker, arguments after the answer): the answer is read before anything else is computed
    (exercises.check_label_magic_number, ()),
    (exercises.check_idx_file_size, ()),
    (exercises.check_parameter_count, ()),
    (exercises.check_weight_std, ("xavier",)),
    (exercises.check_z1_rms, ()),
    (exercises.check_uniform_loss, ()),
    (exercises.check_loss_as_probability, ()),
    (exercises.check_forward_multiply_adds, ()),
    (exercises.check_backward_multiply_adds, ()),
    (exercises.check_double_mean_error, ()),
    (exercises.check_digit_precision, (None, None)),
    (exercises.check_ema_start_weight, ()),
    (exercises.check_batch_doubling, (0.5, None)),
    (exercises.check_lr_chosen_on_validation, ()),
    (exercises.check_divergence_threshold, ()),
    (exercises.check_smallest_width, ()),
    (exercises.check_raw_pixel_gain, ()),
    (exercises.check_slow_eigenvalue, ()),
    (exercises.check_momentum_lr, ()),
    (exercises.check_fa_gap, ()),
    (exercises.check_dfa_savings, ()),
]


@pytest.mark.parametrize("checker, args", ALL_NUMERIC, ids=lambda c: getattr(c, "__name__", ""))
@pytest.mark.parametrize(
    "answer",
    [1e309, -1e309, 10**400, -(10**400), "9" * 5000, "1e400", "-1e999999", "9" * 400 + "/3", np.float64(np.inf)],
    ids=lambda a: str(a)[:12],
)
def test_a_number_no_float_holds_gets_a_hint_never_an_overflow(capsys, checker, args, answer):
    ok, out = run(capsys, checker, answer, *args)
    assert not ok and "finite number" in out, out


def test_a_tiny_number_is_read_as_zero_not_an_error():
    assert _check.read_number("1e-500") == 0 and _check.read_number("0." + "0" * 600 + "1") == 0


def test_a_precision_hint_depends_on_the_answers_form_only():
    stated = "three decimals"
    coarse = {
        _check.form_hint(_check.read_number(a), 2.302585, decimals=3, stated=stated)
        for a in ("2.3", "2.30", "2.31", "2.2", "9.9", "0.1", "2", "-2.3")
    }
    assert len(coarse) == 1 and "three decimals" in coarse.pop()  # near or far: the same words
    for a in ("2.301", "2.304", "2.300", "2.350", "9.999", "2.3020"):
        assert _check.form_hint(_check.read_number(a), 2.302585, decimals=3, stated=stated) is None, a
    assert "cut" in _check.form_hint(_check.read_number("2.302"), 2.302585, decimals=3, stated=stated)
    # significant digits are counted as written: "0.0690" has three
    assert _check.form_hint(_check.read_number("0.0690"), 0.0693, sig=3, stated="x") is None
    assert _check.form_hint(_check.read_number("0.069"), 0.0693, sig=3, stated="x") is not None


def test_a_mistake_is_named_only_at_the_exercises_precision_or_exactly():
    assert _check.matches(_check.read_number("0.9688"), 31 / 32, decimals=4)
    assert _check.matches(_check.read_number("31/32"), 31 / 32, decimals=4)
    assert not _check.matches(_check.read_number("0.969"), 31 / 32, decimals=4)  # too coarse to tell apart
    assert not _check.matches(_check.read_number("0.9690"), 31 / 32, decimals=4)
    assert _check.matches(_check.read_number("1"), 1.0, decimals=3)  # exactly the mistake, however written


def test_numpys_broadcast_error_becomes_a_hint():
    with pytest.raises(_check.Hint, match="keepdims=True") as raised:
        _check.call(lambda x: x / x.sum(axis=1), np.ones((4, 10)))
    assert "operands" not in str(raised.value)


@pytest.mark.parametrize(
    "got, want, words",
    [
        ((1, 10), (10,), "length 1"),
        ((10, 1), (10,), "length 1"),
        ((10, 6), (6, 10), "transposed"),
        ((3, 4), (5, 6), ""),
    ],
)
def test_a_wrong_shape_is_named(got, want, words):
    note = _check.shape_note(got, want)
    assert (words in note) if words else note == ""
