"""Notebook 07's figures: log-scale spectra, bars whose labels clear their error bars, width curves with error bars."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import baselines, plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def row(method, setting, accuracies, steps=10000, train_images=55000, hidden_size=128, **data):
    return baselines.make_row(
        method,
        setting,
        steps,
        accuracies,
        list(range(len(accuracies))),
        1.0,
        hidden_size,
        train_images=train_images,
        **data,
    )


def test_feature_spectra_is_log_scale_and_skips_zeros():
    fig = plots.feature_spectra(
        {"raw": [10.0, 1.0, 1e-4, 0.0], "standardized": [3.0, 1.0, 0.5]},
        threshold=0.1,
        threshold_label="1 / (lr T)",
        title="takeaway",
    )
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "takeaway"
    assert len(ax.lines[0].get_xdata()) == 3  # the zero eigenvalue is not drawn
    assert ax.get_xlabel() and ax.get_ylabel()
    assert fig.get_facecolor()[3] == 1  # opaque


def test_bars_labels_clear_the_error_bars_and_mark_other_training_sets():
    rows = [
        row("top layer only, SGD", "lr 0.001", [0.40, 0.48, 0.45]),
        row("least-squares readout", "width 512", [0.90, 0.92, 0.91], steps=None, train_images=10000),
        row("all layers", "lr 10", [float("nan")] * 3),
    ]
    fig = plots.baselines_bars(rows)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.texts if "," in t.get_text()]  # each row's name, written above its bar
    assert "[10,000 train images]" in names[1] and "[" not in names[0]
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1
    texts = {t.get_text(): t for t in ax.texts}
    assert "diverged" in texts
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for r in rows[:2]:
        mean, spread = 100 * r["test_accuracy_mean"], 100 * r["test_accuracy_spread"]
        text = texts[f"{mean:.1f}%"]
        left = ax.transData.inverted().transform(text.get_window_extent(renderer))[0][0]
        assert left > mean + spread  # the label starts right of its error bar's cap


def test_width_curves_draw_error_bars_and_say_the_training_set():
    rows = []
    for width in (16, 32, 64):
        rows.append(
            row(
                "top layer only, SGD",
                f"width {width}",
                [0.3, 0.35, 0.32],
                hidden_size=width,
                train_images=10000,
                lr=1e-3,
                optimizer="sgd",
            )
        )
        rows.append(
            row(
                "least-squares readout",
                f"width {width}",
                [0.5, 0.52, 0.51],
                steps=None,
                hidden_size=width,
                train_images=10000,
            )
        )
    fig = plots.width_curves(rows)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert all("10,000 train images" in t and "3 seeds" in t for t in legend)
    assert len(ax.containers) == 2  # two errorbar containers


def test_width_curves_pick_rows_by_their_data_not_their_labels():
    rows = [
        row("top layer only, SGD", "a label", [0.3, 0.4], hidden_size=w, lr=lr, optimizer="sgd", parts=["widths"])
        for w in (64, 128, 256)
        for lr in {1e-3, 1e-3 * w / 128}
    ]
    rows.append(
        row("top layer only, SGD", "width 128", [0.5, 0.5], lr=1e-3, optimizer="sgd", parts=["top"])
    )  # another part
    ax = plots.width_curves(rows).axes[0]
    fixed, scaled = (c.lines[0].get_xdata() for c in ax.containers)
    assert list(fixed) == [64, 128, 256] and list(scaled) == [64, 128, 256]  # the scaled line starts at width 128's run


def test_optimizer_sweep_one_line_per_optimizer():
    rows = [
        row("top layer only, SGD", "lr 0.001", [0.4, 0.5], lr=0.001, optimizer="sgd"),
        row("top layer only, SGD", "lr 0.1", [0.8, 0.82], lr=0.1, optimizer="sgd"),
        row("top layer only, Adam", "lr 0.001", [0.83, 0.84], lr=0.001, optimizer="adam"),
        row(
            "top layer only, SGD",
            "lr 0.001, standardized features",
            [0.6, 0.62],
            lr=0.001,
            optimizer="sgd",
            features="standardized",
        ),
    ]
    fig = plots.optimizer_sweep(rows, reference=85.6, reference_label="converged")
    ax = fig.axes[0]
    assert len(ax.containers) == 2 and ax.get_xscale() == "log"
    assert list(ax.containers[0].lines[0].get_xdata()) == [
        0.001,
        0.1,
    ]  # the standardized-features row is not an lr point
    assert {"SGD", "Adam"} <= {t.get_text() for t in fig.legends[0].get_texts()}


def test_direction_decay_draws_every_run_and_the_prediction():
    x = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    fig = plots.direction_decay({"raw": (x, np.exp(-0.05 * x)), "scaled": (10 * x, np.exp(-0.5 * x))}, c=0.05)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 3
    assert len(ax.get_lines()[0].get_xdata()) == 4  # x = 0 has no place on a log scale
    assert "c = 0.050" in [t.get_text() for t in fig.legends[0].get_texts()][-1]
