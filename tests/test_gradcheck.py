"""helpers.gradcheck: finite differences, the relative error, and how it is printed."""

import numpy as np
import pytest

from helpers.gradcheck import check_param_gradients, error_line, format_error, numerical_gradient, relative_error

pytestmark = pytest.mark.usefixtures("one_blas_thread")  # finite differences: many small products (conftest.py)


@pytest.mark.parametrize(
    "error, text",
    [
        (3.2e-11, "3e-11"),
        (9.6e-11, "1e-10"),
        (7.619e-11, "8e-11"),
        (0.9394, "9e-1"),
        (1e-5, "1e-5"),
        (0.0, "0"),
        (2.0, "2e0"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_format_error_keeps_one_significant_digit(error, text):
    assert format_error(error) == text
    assert format_error(np.float64(error)) == text


def test_format_error_hides_the_digits_that_depend_on_the_thread_count():
    # two runs that differ in the 4th digit (a different summation order) print the same text
    assert format_error(3.394e-10) == format_error(3.3941e-10) == "3e-10"


def test_error_line_states_the_target_and_flags_a_miss():
    assert error_line("W3", 7.6e-11) == "W3: relative error 8e-11 (target < 1e-7)"
    assert error_line("W2", 0.23) == "W2: relative error 2e-1 (target < 1e-7)  FAILS"
    assert error_line("b", 1e-9, target=1e-5) == "b: relative error 1e-9 (target < 1e-5)"


def sanitize(text):
    """What nbval does with nbval_sanitize.cfg before comparing (nbval's own parser and re.sub)."""
    import re
    from pathlib import Path

    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(
        (Path(__file__).resolve().parent.parent / "nbval_sanitize.cfg").read_text()
    ):
        text = re.sub(regex, replace, text)
    return text


def test_the_sanitizer_masks_a_gradient_check_below_the_target_only():
    # two processors' rounding noise compare equal; an error at or above the target is compared digit for digit
    assert sanitize(error_line("W1", 4e-10)) == sanitize(error_line("W1", 2e-11)) == sanitize(error_line("W1", 0.0))
    assert sanitize(error_line("W1", 9e-8)) == sanitize(error_line("W1", 4e-10))
    assert sanitize(error_line("W1", 1e-7)) != sanitize(error_line("W1", 4e-10))
    assert sanitize(error_line("dW3", 0.94)) == error_line("dW3", 0.94)
    assert sanitize(error_line("dW2", 3e-6)) == error_line("dW2", 3e-6)


def test_the_sanitizer_masks_rounding_level_figures_only():
    assert (
        sanitize("gap 5e-17 (rounding level)")
        == sanitize("gap 0 (rounding level)")
        == sanitize("gap 1e-13 (rounding level)")
    )
    assert sanitize("gap 1e-12 (rounding level)") == "gap 1e-12 (rounding level)"  # at the bound: compared
    assert sanitize("gap 3e-5 (rounding level)") == "gap 3e-5 (rounding level)"


def test_numerical_gradient_of_a_quadratic_and_restores_x():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**2)), x)
    assert np.allclose(grad, 2 * before, atol=1e-8)
    assert np.array_equal(x, before)
    partial = numerical_gradient(lambda: float(np.sum(x**2)), x, indices=[(0, 1)])
    assert partial[0, 1] == pytest.approx(-4.0) and np.count_nonzero(partial) == 1


def test_relative_error_is_scale_free():
    a = np.array([1.0, 2.0, 3.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(a, a / 32) == pytest.approx(31 / 33)  # the 1/N applied twice, N = 32
    assert relative_error(1e6 * a, 1e6 * a / 32) == pytest.approx(31 / 33)
    assert relative_error(np.array([1e-9]), np.array([2e-9])) == pytest.approx(1 / 3)
    assert relative_error(np.array([3.0, 0.0]), np.array([0.0, 4.0])) == pytest.approx(5 / 7)  # norms, not entries


def test_check_param_gradients_on_real_digits(small_batch):
    from helpers.train import TrainConfig, initial_params

    X, y = small_batch
    params = initial_params(TrainConfig())
    errors = check_param_gradients(params, X, y, train="all", samples=5)
    assert list(errors) == ["W3", "b3", "W2", "b2", "W1", "b1"]
    assert max(errors.values()) < 1e-7
    assert list(check_param_gradients(params, X, y, train="top", samples=5)) == ["W3", "b3"]


def test_step_size_sweep_has_the_u_shape_and_the_kinks(small_batch):
    from helpers.gradcheck import step_size_sweep
    from helpers.train import TrainConfig, initial_params

    X, y = small_batch
    sweep = step_size_sweep(initial_params(TrainConfig()), X, y, [1e-2, 1e-5, 1e-9], samples=5)
    assert list(sweep) == [1e-2, 1e-5, 1e-9]
    for name in ("W3", "b3", "W2", "W1"):
        assert sweep[1e-5][name] < min(sweep[1e-2][name], sweep[1e-9][name])  # truncation left, rounding right
    assert sweep[1e-2]["W2"] > 1e-4 > sweep[1e-2]["W3"]  # kinks: only the layers below a ReLU, and far above the target


def test_sweep_lines_one_format_and_the_sanitizer_masks_only_the_rounding_rows():
    from helpers.gradcheck import sweep_lines

    sweep = {
        1e-2: {n: 2.92e-2 for n in NAMES},
        1e-3: {n: 2e-8 for n in NAMES},
        1e-5: {n: 7.96e-11 for n in NAMES},
        1e-9: {n: 1.2e-6 for n in NAMES},
    }
    lines = sweep_lines(sweep)
    assert lines[0].split() == ["ε", "|", *NAMES]  # the step as notebook 4 names it: h is a layer there
    assert [line.split() for line in lines[1:]] == [
        ["1e-2", "|"] + ["3e-2"] * 6,
        ["1e-3", "|"] + ["2e-8"] * 6,
        ["1e-5", "|"] + ["8e-11"] * 6,
        ["1e-9", "|"] + ["1e-6"] * 6,
    ]
    assert max(len(line) for line in lines) <= 70  # a 1024 px projector shows it without wrapping
    masked = sanitize("\n".join(lines)).splitlines()
    assert masked[:3] == lines[:3]  # truncation and kinks decide these rows: compared digit for digit
    other = {eps: {n: 3 * e for n, e in errors.items()} for eps, errors in sweep.items()}
    assert sanitize("\n".join(sweep_lines(other))).splitlines()[3:] == masked[3:]  # rounding rows: masked


NAMES = ["W3", "b3", "W2", "b2", "W1", "b1"]


def notebook_4_batch(mnist):
    from helpers.train import TrainConfig, initial_params

    return initial_params(TrainConfig()), mnist.train.images[:32], mnist.train.labels[:32]


def test_notebook_4s_gradient_check_is_far_below_its_target(mnist):
    # nbval masks these figures' digits (they differ by processor): this test holds their bound, a tenth of the target
    params, X, y = notebook_4_batch(mnist)
    errors = check_param_gradients(params, X, y, train="all")
    assert list(errors) == NAMES
    assert max(errors.values()) < 1e-8, errors


def test_notebook_4s_sweep_stays_below_the_rounding_bound(mnist):
    # the sweep's rows from 1e-4 down are masked by nbval: every entry stays below rounding / eps + eps^2
    from helpers.gradcheck import rounding_bound, step_size_sweep

    params, X, y = notebook_4_batch(mnist)
    steps = [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
    sweep = step_size_sweep(params, X, y, steps)
    worst = {eps: max(errors.values()) for eps, errors in sweep.items()}
    assert all(worst[eps] < rounding_bound(eps) for eps in steps), worst
    assert worst[1e-9] > 10 * worst[1e-5]  # and rounding does grow as the step shrinks


def test_cosine_is_one_for_a_rescaled_gradient_and_less_when_one_part_is_scaled():
    from helpers.gradcheck import cosine

    g = np.array([[3.0, 4.0], [0.0, 1.0]])
    assert cosine(g, g / 32) == pytest.approx(1.0)
    assert cosine(g, -g) == pytest.approx(-1.0)
    assert cosine([1.0, 0.0], [0.0, 2.0]) == pytest.approx(0.0)
    partly = g.copy()
    partly[1] /= 32  # one part scaled, like db = dout.mean(axis=0)
    assert 0.9 < cosine(g, partly) < 1 - 1e-3
