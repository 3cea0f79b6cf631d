"""The learning-rule figures: alignment angles (title from the data, axes labelled) and learning curves."""

import matplotlib.pyplot as plt
import pytest

from helpers import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def aligned_row(rule, w2, feedback=False):
    steps = [0, 10, 100, 1000]
    angles = {
        "W1": {"mean": [90, 85, 80, 75], "per_seed": [[90, 85, 80, 75], [91, 86, 81, 76]]},
        "W2": {"mean": w2, "per_seed": [w2, [a + 1 for a in w2]]},
        "W3": {"mean": [0] * 4, "per_seed": [[0] * 4] * 2},
    }
    fb = {"W2": {"mean": [90, 80, 70, 60], "per_seed": [[90, 80, 70, 60]] * 2}} if feedback else {}
    curves = {
        "eval_steps": [0, 500, 1000],
        "test_accuracy_mean": [0.1, 0.8, 0.9],
        "test_accuracy_per_seed": [[0.1, 0.8, 0.9], [0.1, 0.8]],
        "loss_steps": [0, 500, 1000],
        "running_loss_mean": [2.3, 0.5, 0.3],
    }
    return {
        "rule": rule,
        "chosen_lr": 0.03,
        "alignment": {"steps": steps, "update": angles, "feedback": fb},
        "curves": curves,
    }


def test_alignment_title_names_the_rules_whose_update_turned_toward_backprop():
    rows = [
        aligned_row("fa", [90, 85, 75, 70], feedback=True),
        aligned_row("uloss", [50, 80, 100, 110]),
        {"rule": "top", "alignment": None},
    ]
    fig = plots.alignment_angles(rows)
    assert (
        " ".join(fig._suptitle.get_text().split())
        == "fa: the W2 update turns toward backprop's during training; uloss: it does not"
    )
    assert len(fig.axes) == 3 and fig.axes[2].get_title().startswith("forward weights W_k vs feedback B_k (fa)")
    for ax in fig.axes:  # stacked panels share the step axis: its label once, under the last
        assert ax.get_xscale() == "symlog" and ax.get_ylabel() == "angle (degrees)"
    assert fig.axes[-1].get_xlabel() and fig.get_size_inches()[0] <= 6.5
    # one colour per rule in every panel: fa's feedback lines have fa's update colour
    fa_update = fig.axes[1].get_lines()[0].get_color()
    assert {line.get_color() for line in fig.axes[2].get_lines() if line.get_label().startswith("fa:")} == {fa_update}
    assert fig.get_facecolor()[3] == 1  # opaque
    text = plots.alignment_alt_text(rows)
    assert "fa from 90 to 70 degrees" in text and "uloss from 50 to 110 degrees" in text


def test_alignment_without_fa_has_two_panels_and_without_angles_is_refused():
    assert len(plots.alignment_angles([aligned_row("dfa", [90, 80, 70, 60])]).axes) == 2
    with pytest.raises(ValueError, match="no row has W2 alignment angles"):
        plots.alignment_angles([{"rule": "top", "alignment": None}])
    # backprop (the reference, 0 degrees) and a rule that trains no hidden layer have no line of their own
    top_only = aligned_row("mine", [0] * 4)
    top_only["alignment"]["update"] = {"W3": top_only["alignment"]["update"]["W3"]}
    fig = plots.alignment_angles([aligned_row("backprop", [0] * 4), top_only, aligned_row("dfa", [90, 80, 70, 60])])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["dfa"]


def test_rule_curves_draw_each_rule_with_its_lr_and_tolerate_a_shorter_seed():
    fig = plots.rule_curves([aligned_row("fa", [90] * 4), {"rule": "x", "curves": None}])
    acc_ax, loss_ax = fig.axes
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["fa (lr 0.03)"]
    assert (
        acc_ax.get_ylabel() == "test accuracy (%)" and loss_ax.get_yscale() == "log" and loss_ax.get_xscale() == "log"
    )
    assert fig.get_size_inches()[0] <= 6.5  # shown at ~600 px without shrinking its labels


def test_rule_curves_title_is_the_takeaway():
    top, fa, low = aligned_row("top", [0] * 4), aligned_row("fa", [90] * 4), aligned_row("uloss", [90] * 4)
    top["curves"] = dict(top["curves"], test_accuracy_mean=[0.1, 0.5, 0.6])
    low["curves"] = dict(low["curves"], test_accuracy_mean=[0.1, 0.3, 0.4])
    assert plots.rule_curves([top, fa, low])._suptitle.get_text() == "fa ends highest; uloss ends below top layer only"
    assert plots.rule_curves([top, fa])._suptitle.get_text() == "fa ends highest; every rule ends above top layer only"
