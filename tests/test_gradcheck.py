"""helpers.gradcheck: finite differences, the relative error, and how it is printed."""

import numpy as np
import pytest

from helpers.gradcheck import check_param_gradients, error_line, format_error, numerical_gradient, relative_error


@pytest.mark.parametrize(
    "error, text",
    [(3.2e-11, "3e-11"), (9.6e-11, "1e-10"), (7.619e-11, "8e-11"), (0.9394, "9e-1"), (1e-5, "1e-5"), (0.0, "0"),
     (2.0, "2e0"), (float("nan"), "nan"), (float("inf"), "inf")],
)
def test_format_error_keeps_one_significant_digit(error, text):
    assert format_error(error) == text
    assert format_error(np.float64(error)) == text


def test_format_error_hides_the_digits_that_depend_on_the_thread_count():
    # two runs that differ in the 4th digit (a different summation order) print the same text
    assert format_error(3.394e-10) == format_error(3.3941e-10) == "3e-10"


def test_error_line_states_the_target_and_flags_a_miss():
    assert error_line("W3", 7.6e-11) == "W3: relative error 8e-11 (target: below 1e-7)"
    assert error_line("W2", 0.23).endswith("<- above the target")
    assert "below 1e-5" in error_line("b", 1e-9, target=1e-5)


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


def test_sweep_lines_exact_where_truncation_decides_bounded_where_rounding_does():
    from helpers.gradcheck import sweep_lines

    sweep = {1e-2: {"W3": 1.73e-6, "W2": 2.92e-2}, 1e-5: {"W3": 7.96e-11, "W2": 7.4e-11}, 1e-9: {"W3": 1.0e-6, "W2": 1.2e-6}}
    lines = sweep_lines(sweep)
    assert lines[0].split() == ["ε", "|", "W3", "W2"]  # the step as notebook 4 names it: h is a layer there
    assert lines[1].split() == ["1e-2", "|", "2e-6", "3e-2"]
    assert lines[2] == "  1e-5 | every entry below 1e-8 [this machine: 8e-11 7e-11]"
    assert lines[3] == "  1e-9 | every entry below 1e-4 [this machine: 1e-6 1e-6]"
    # a row that breaks its bound is printed in full, so nbval sees it
    assert "NOT below" in sweep_lines({1e-5: {"W3": 3e-7}})[1]


def test_cosine_is_one_for_a_rescaled_gradient_and_less_when_one_part_is_scaled():
    from helpers.gradcheck import cosine

    g = np.array([[3.0, 4.0], [0.0, 1.0]])
    assert cosine(g, g / 32) == pytest.approx(1.0)
    assert cosine(g, -g) == pytest.approx(-1.0)
    assert cosine([1.0, 0.0], [0.0, 2.0]) == pytest.approx(0.0)
    partly = g.copy()
    partly[1] /= 32  # one part scaled, like db = dout.mean(axis=0)
    assert 0.9 < cosine(g, partly) < 1 - 1e-3
