"""The notebooks' figures on a projector: 1024 px wide with the file browser open leaves an output area about
592 px wide (issue 23). Saved as the notebook saves them (bbox "tight"), the figures of notebooks 06 and 07 must
fit it unscaled, and every text must be at least MIN_TEXT_PX high there; the bar chart's labels must not sit on
one another. And every figure call of notebooks 01-08, drawn as the cell calls it (tests/figure_text.py, no
notebook executed): its smallest text, shrunk with the figure if it is wider than the output area, is at least
MIN_TEXT_PX (the browser test measures the stored PNGs as JupyterLab shows them)."""

import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_text import drawn_figures
from matplotlib.text import Text
from PIL import Image

from helpers import baselines, plots
from helpers.train import History, TrainConfig


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def saved_width(fig) -> int:
    """Width in pixels of the PNG the notebook stores (IPython's inline backend: bbox 'tight', the figure's dpi)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi)
    return Image.open(io.BytesIO(buffer.getvalue())).size[0]


def smallest_texts(fig, shown_width):
    """(size in px on screen, text) of every visible, non-empty text, smallest first, at ``shown_width`` px."""
    scale = min(1.0, plots.SHOWN_WIDTH_PX / shown_width)
    texts = {t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()}
    return sorted((t.get_fontsize() * fig.dpi / 72 * scale, t.get_text()) for t in texts)


def assert_readable(fig):
    width = saved_width(fig)
    assert width <= plots.SHOWN_WIDTH_PX, f"saved {width} px wide: shrunk to fit a {plots.SHOWN_WIDTH_PX} px output"
    sizes = smallest_texts(fig, width)
    assert sizes[0][0] >= plots.MIN_TEXT_PX, sizes[:3]


def history(final, steps=50000, seed=0):
    h = History(TrainConfig(steps=steps, seed=seed))
    h.steps, h.losses = list(range(0, steps + 1, 250)), list(np.linspace(2.3, 0.9, steps // 250 + 1))
    h.eval_steps = list(range(0, steps + 1, 1000))
    h.test_accuracies = list(np.linspace(0.1, final, len(h.eval_steps)))
    return h


def row(method, setting, accuracies, steps=10000, hidden_size=128, train_images=55000, **data):
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


def test_training_curves_fit_with_five_labels_and_a_long_title():
    # notebook 6's five learning rates and its longest title
    fig = plots.training_curves(
        [history(a) for a in (0.14, 0.48, 0.77, 0.84, 0.82)],
        labels=["lr 0.0001", "lr 0.001", "lr 0.01", "lr 0.1", "lr 1"],
        title="Top layer only: lr 10 is noisier and higher, yet still far above chance",
    )
    assert_readable(fig)
    assert len(fig.legends) == 1 and [t.get_text() for t in fig.legends[0].get_texts()][-1] == "lr 1"


def test_spectra_and_direction_decay_fit_with_their_legends():
    spectra = {f"{name} features": np.logspace(2, -5, 129) for name in ("raw", "centered", "scaled", "standardized")}
    assert_readable(
        plots.feature_spectra(
            spectra,
            threshold=2.2,
            threshold_label="1 / (c x lr x steps) at lr 0.001, 10,000 steps",
            title="Seed 0: scaling lifts the eigenvalues; centering only removes the largest",
        )
    )
    x = np.logspace(-4, 3, 129)
    runs = {
        f"{name}, lr {lr:g}": (lr * 1e4 * x, np.exp(-0.045 * x))
        for name, lr in [("raw", 1e-3), ("centered", 1e-3), ("scaled", 1e-3), ("standardized", 1e-3), ("raw", 1e-2)]
    }
    assert_readable(
        plots.direction_decay(
            runs, 0.045, title="Every direction needs lr x eigenvalue x steps near 1/c to lose its error"
        )
    )


def test_width_and_optimizer_figures_fit_with_their_legends():
    width_rows = []
    for width in (16, 128, 2048):
        width_rows.append(row("top layer only, SGD", f"width {width}", [0.4, 0.45, 0.5], hidden_size=width, lr=0.001))
        width_rows.append(row("least-squares readout", f"width {width}", [0.8, 0.81], steps=None, hidden_size=width))
        if width != 128:
            width_rows.append(
                row(
                    "top layer only, SGD",
                    f"width {width}, lr {0.001 * width / 128:g}",
                    [0.5, 0.6],
                    hidden_size=width,
                    lr=0.001 * width / 128,
                )
            )
    assert_readable(
        plots.width_curves(
            width_rows, title="SGD at lr 0.001 levels off with width; with lr proportional to width it keeps rising"
        )
    )
    sweep = [
        row(f"top layer only, {opt}", f"lr {lr:g}", [0.7, 0.8], lr=lr, optimizer=opt.lower())
        for opt in ("SGD", "momentum", "Adam")
        for lr in (0.001, 0.01)
    ]
    assert_readable(
        plots.optimizer_sweep(
            sweep,
            reference=85.66,
            reference_label="softmax readout, converged (mean of seeds 0-2)",
            title="Top layer only, 10,000 steps: the learning rate decides (mean ± s.d., 3 seeds)",
        )
    )


def test_bars_fit_and_no_label_sits_on_another():
    # notebook 7's summary: 16 rows, the longest names it has
    names = [
        ("top layer only, SGD", "lr 0.001, standardized features"),
        ("top layer only, momentum", "lr 0.001"),
        ("least-squares readout", "width 2048"),
        ("softmax readout", "raw pixels"),
        ("all layers", "lr 0.1"),
    ]
    rows = [
        row(method, setting, [0.4 + 0.03 * i, 0.45 + 0.03 * i, 0.5 + 0.03 * i])
        for i in range(16)
        for method, setting in [names[i % len(names)]]
    ]
    rows.append(row("least-squares readout", "width 512", [0.9, 0.91], steps=None, train_images=10000))
    rows.append(row("all layers", "lr 10", [float("nan")] * 3))
    fig = plots.baselines_bars(rows, title="The reference recipe (top bar) is the weakest row")
    assert_readable(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    overlapping = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1 :] if box_a.overlaps(box_b)]
    assert not overlapping, overlapping[:3]
    bars = [p.get_window_extent(renderer) for p in ax.patches]
    covered = [a for a, box in boxes if any(box.overlaps(bar) for bar in bars) and not a.endswith("%")]
    assert not covered, covered[:3]  # a row's name is above its bar, not on one


ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-8]_*.ipynb"))


@pytest.mark.slow  # redraws every figure call of the notebooks; the helpers' own figures are checked above
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_a_notebook_draws_is_readable_on_a_projector(notebook):
    figures = drawn_figures(notebook, ROOT)
    assert figures, f"{notebook.name}: no figure call found"
    too_small = [
        f"{f.name}: {f.width} px, {f.smallest_pt:g} pt {f.smallest_text!r} is {f.smallest_px:.1f} px"
        for f in figures
        if f.smallest_px < plots.MIN_TEXT_PX
    ]
    assert not too_small, f"shown in a {plots.SHOWN_WIDTH_PX} px output area:\n" + "\n".join(too_small)


def test_the_census_counts_a_figure_that_overflows_and_refuses_a_cell_that_changes_its_figure(tmp_path):
    # the check above can fail: ten 1.1 in columns are 1,093 px, shrunk to 592 px their 9 pt titles are 6.8 px
    cells = [
        {
            "cell_type": "code",
            "source": ['fig = plots.weight_images(W, titles=[f"digit {d}" for d in range(10)], ncols=10)'],
        },
        {"cell_type": "code", "source": ["fig = plots.class_balance(splits)\n", "fig.axes[0].legend(fontsize=8)"]},
    ]
    notebook = tmp_path / "09_made_up.ipynb"
    notebook.write_text(json.dumps({"cells": cells[:1]}))
    (figure,) = drawn_figures(notebook, ROOT)
    assert figure.width > plots.SHOWN_WIDTH_PX and figure.smallest_px < plots.MIN_TEXT_PX, figure
    notebook.write_text(json.dumps({"cells": cells[1:]}))
    with pytest.raises(ValueError, match="changes its figure"):
        drawn_figures(notebook, ROOT)
