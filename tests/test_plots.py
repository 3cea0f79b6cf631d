"""The notebooks' figures: right number of panels, titles a reader relies on, no side effects."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots
from helpers.train import History, TrainConfig


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    return rng.random((12, 784)), rng.integers(0, 10, 12)


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_digit_grid_one_titled_axes_per_image(digits):
    images, labels = digits
    fig = plots.digit_grid(images, labels, ncols=5)
    assert len(fig.axes) == 12  # no spare empty panels in the last row
    assert [ax.get_title() for ax in fig.axes] == [str(y) for y in labels]
    assert fig.axes[0].images[0].get_array().shape == (28, 28)


def test_digit_grid_marks_wrong_predictions_in_red(digits):
    images, labels = digits
    predictions = labels.copy()
    predictions[3] = (labels[3] + 1) % 10
    fig = plots.digit_grid(images, labels, predictions=predictions)
    assert fig.axes[3].get_title() == f"{labels[3]} \u2192 {predictions[3]}"
    assert fig.axes[3].title.get_color() != fig.axes[0].title.get_color()


def test_digit_grid_accepts_square_images_and_custom_titles():
    fig = plots.digit_grid(np.zeros((3, 28, 28)), titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]


def test_class_balance_one_bar_per_digit_and_split():
    labels = {"train": np.arange(100) % 10, "test": np.arange(50) % 10}
    fig = plots.class_balance(labels)
    (ax,) = fig.axes
    assert ax.get_title() == "Class balance"
    assert len(ax.patches) == 20
    assert {round(p.get_height(), 6) for p in ax.patches} == {10.0}  # balanced labels: 10% each


def test_class_balance_draws_into_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.class_balance({"train": np.arange(10)}, ax=right) is fig
    assert len(right.patches) == 10 and not left.patches


def test_activation_histograms_grid_of_schemes_by_layers():
    rng = np.random.default_rng(1)
    acts = {s: [np.maximum(rng.normal(size=(32, 16)), 0) for _ in range(2)] for s in ("reference", "he", "xavier")}
    fig = plots.activation_histograms(acts)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:2]] == ["reference: h1", "reference: h2"]
    assert fig.axes[-1].get_title() == "xavier: h2"


def make_history(final_accuracy):
    h = History(TrainConfig(steps=1000))
    h.steps, h.losses = [0, 250, 500], [2.5, 2.0, 1.8]
    h.eval_steps, h.test_accuracies = [0, 1000], [0.1, final_accuracy]
    return h


def test_training_curves_one_line_per_history_with_legend():
    fig = plots.training_curves([make_history(0.4), make_history(0.6)], labels=["a", "b"])
    loss_ax, acc_ax = fig.axes
    assert (loss_ax.get_title(), acc_ax.get_title()) == ("Running loss", "Test accuracy")
    assert len(loss_ax.get_lines()) == 2
    np.testing.assert_allclose(acc_ax.get_lines()[1].get_ydata(), [10.0, 60.0])  # plotted in percent
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]  # one legend, under both panels


def test_training_curves_single_history_and_label_mismatch():
    assert len(plots.training_curves(make_history(0.5)).axes) == 2
    with pytest.raises(ValueError):
        plots.training_curves([make_history(0.5)], labels=["a", "b"])


def test_weight_images_top_layer_and_first_layer_shapes():
    rng = np.random.default_rng(2)
    top = plots.weight_images(rng.normal(size=(128, 10)))
    assert len(top.axes) == 10
    assert top.axes[0].images[0].get_array().shape == (8, 16)
    first = plots.weight_images(rng.normal(size=(784, 16)), ncols=8)
    assert len(first.axes) == 16
    assert first.axes[0].images[0].get_array().shape == (28, 28)
    # one symmetric colour scale for all panels, so colours compare across panels
    limits = {ax.images[0].get_clim() for ax in first.axes}
    assert len(limits) == 1 and limits.pop()[0] < 0


def test_misclassified_digits_shows_only_wrong_ones(digits):
    images, labels = digits
    predictions = labels.copy()
    predictions[[2, 7]] = (labels[[2, 7]] + 1) % 10
    probs = np.full((12, 10), 0.1)
    fig = plots.misclassified_digits(images, labels, predictions, probs=probs)
    assert len(image_axes(fig)) == 2
    assert fig.axes[0].get_title().startswith(f"{labels[2]} \u2192 {predictions[2]}")
    assert fig.axes[0].get_title().endswith("10%")
    assert (
        plots.misclassified_digits(images, labels, predictions, count=1).axes[0].get_title().startswith(str(labels[2]))
    )


def test_misclassified_digits_when_all_correct(digits):
    images, labels = digits
    fig = plots.misclassified_digits(images, labels, labels)
    assert not image_axes(fig) and fig.axes[0].get_title() == "no misclassified digits"


def test_helpers_do_not_leave_rc_changes(digits):
    before = dict(plt.rcParams)
    plots.digit_grid(*digits)
    assert dict(plt.rcParams) == before


def test_forward_pass_picture_shows_each_stage_and_marks_the_true_class():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10))
    fig = plots.forward_pass_picture(rng.random(784), rng.random(128), rng.random(128), probs, label=3)
    image_axes = [ax for ax in fig.axes if ax.images]
    assert [ax.images[0].get_array().shape for ax in image_axes] == [(28, 28), (8, 16), (8, 16)]
    bars = fig.axes[3].patches
    assert len(bars) == 10 and np.allclose([b.get_height() for b in bars], probs)
    assert bars[3].get_facecolor() != bars[0].get_facecolor()
    plt.close(fig)


def test_training_curves_label_the_chance_line():
    fig = plots.training_curves(make_history(0.5))
    accuracy_ax = fig.axes[1]
    assert [t.get_text() for t in accuracy_ax.texts] == ["chance (10%)"]
    assert any(list(line.get_ydata()) == [10, 10] for line in accuracy_ax.lines)


def test_gradcheck_sweep_one_line_per_parameter_and_the_target():
    sweep = {1e-2: {"W3": 2e-6, "W2": 3e-2}, 1e-5: {"W3": 8e-11, "W2": 7e-11}, 1e-9: {"W3": 1e-6, "W2": 1e-6}}
    fig = plots.gradcheck_sweep(sweep, title="the U")
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["W3", "W2", "target: below 1e-07"]
    assert list(ax.get_lines()[1].get_ydata()) == [3e-2, 7e-11, 1e-6]  # large h first
    assert ax.get_xscale() == ax.get_yscale() == "log" and ax.xaxis_inverted()
    assert ax.get_title() == "the U"
