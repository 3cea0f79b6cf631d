"""The figures of notebooks 04 and 05: the computational graph, the running loss's start, the confusion matrix."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba

from helpers import plots


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_computational_graph_marks_what_top_only_training_uses():
    fig = plots.computational_graph()
    ax = fig.axes[0]
    labels = texts(fig)
    for name in ("X", "z1", "h1", "z2", "h2", "scores", "L", "W3, b3", "dW3, db3", "dW1, db1"):
        assert name in labels
    assert any("(P - Y) / N" in t and "only 1/N" in t for t in labels)  # where the batch mean's 1/N lives
    red, grey = to_rgba(plots.GRAPH_COLORS["top"]), to_rgba(plots.GRAPH_COLORS["all"])
    colors = [to_rgba(a.arrow_patch.get_edgecolor()) for a in ax.texts if hasattr(a, "arrow_patch") and a.arrow_patch]
    assert colors.count(red) == 2  # L -> scores and the step to dW3, db3
    assert colors.count(grey) == 6  # four backward arrows and two parameter gradients of frozen layers
    assert [h.get_text() for h in ax.get_legend().get_texts()][1].startswith("backward: what top-only")
    assert "dW3" in ax.get_title()
    assert to_rgba(fig.get_facecolor()) == (1, 1, 1, 1)
    plt.close(fig)


def test_running_loss_start_draws_batches_running_loss_and_their_mean():
    batch = np.array([2.9, 3.4, 3.2, 3.3, 3.1, 3.0])
    running = np.array([2.9, 2.905, 2.908, 2.912, 2.914, 2.915])
    fig = plots.running_loss_start(batch, running, 0.99, typical_steps=4)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.array_equal(lines["loss of each batch"].get_ydata(), batch)
    assert np.array_equal(lines["running loss (factor 0.99)"].get_ydata(), running)
    typical = lines["mean batch loss, steps 0-3"].get_ydata()
    assert np.allclose(typical, batch[:4].mean())
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "cross-entropy"
    assert "one batch" in ax.get_title()
    assert plots.running_loss_start(batch, running, 0.99, title="mine").axes[0].get_title() == "mine"
    plt.close("all")


def test_confusion_matrix_writes_every_count():
    confusion = np.arange(100).reshape(10, 10)
    fig = plots.confusion_matrix(confusion, title="takeaway")
    ax = fig.axes[0]
    assert sorted(int(t) for t in texts(fig)) == list(range(100))
    assert ax.get_xlabel() == "predicted digit" and ax.get_ylabel() == "true digit"
    assert ax.get_title() == "takeaway"
    assert len(fig.axes) == 2  # the matrix and its colour bar
    assert to_rgba(fig.get_facecolor()) == (1, 1, 1, 1)
    plt.close(fig)


def test_computational_graph_is_readable_on_a_projector():
    # saved as a notebook saves it and shrunk to a 592 px wide output (1024 px screen, file browser open), every
    # text keeps MIN_TEXT_PX
    import io

    from PIL import Image

    fig = plots.computational_graph()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi)
    scale = min(1.0, plots.SHOWN_WIDTH_PX / Image.open(buffer).size[0])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    shown = [t for t in ax.texts if t.get_text()] + list(ax.get_legend().get_texts()) + [ax.title]
    sizes = {t.get_text(): t.get_fontsize() * fig.dpi / 72 * scale for t in shown}
    assert min(sizes.values()) >= plots.MIN_TEXT_PX, sizes
    # and no label sits on another one
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    overlapping = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1 :] if box_a.overlaps(box_b)]
    assert not overlapping, overlapping
    plt.close(fig)
