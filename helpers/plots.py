"""The figures the notebooks show: digits, class balance, activations, curves, weights.

Every function returns its matplotlib ``Figure`` (or draws into a given
``Axes`` and returns its figure) and never calls ``plt.show()``: the
notebook cell ends with ``plt.show()``, which keeps nbval's text output to
one sanitized figure repr. All figures use one fixed style (``STYLE``), so a
re-run draws the same picture.

Shapes: images are (n, 784) or (n, 28, 28) floats in [0, 1]; labels and
predictions are (n,) ints in 0..9.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "image.interpolation": "nearest",
    "axes.prop_cycle": plt.cycler(color=["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]),
}
DIGIT_CMAP = "gray_r"  # ink dark on white paper, as the digits were written
WEIGHT_CMAP = "RdBu_r"  # diverging: red positive, blue negative, white zero

# Every notebook's figures are drawn for a projector (issue 23): 1024 px wide with JupyterLab's file browser open
# leaves an output area about 592 px wide, and a wider PNG is shrunk to fit it. So a figure is at most
# SHOWN_WIDTH_PX wide as saved (bbox "tight", as the notebook saves it) and no text is smaller than 9 pt, which
# is 12.5 px at 100 dpi, at least MIN_TEXT_PX; the one wider figure (the computational graph, 8 in) has larger
# text that keeps MIN_TEXT_PX once shrunk (tests/test_plots_projector.py measures each notebook's calls).
SHOWN_WIDTH_PX, MIN_TEXT_PX = 592, 12.0
PROJECTOR_WIDTH = 5.7  # inches: 570 px at STYLE's 100 dpi, room left for tick labels that stick out


def _wrapped(text: str, width: int = 62) -> str:
    """A title broken into lines of at most ``width`` characters, so it stays inside a projector-sized figure."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) if text else text


def _suptitle(fig, text) -> None:
    """A title over the whole figure, wrapped to its width (about 9 characters of 10.8 pt text per inch)."""
    if text:
        fig.suptitle(_wrapped(text, int(9 * fig.get_figwidth())))


def _legend_below(fig, ax, handles=None, labels=None, ncol: int = 1):
    """One legend under the axes (and their x label): clear of the data and inside the figure's width."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    return fig.legend(
        handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, framealpha=1, frameon=False
    )


def _as_square(image, shape=None):
    """One flat vector (d,) -> a 2-D picture; 784 -> 28 x 28, other d -> rows x cols near-square."""
    image = np.asarray(image)
    if image.ndim == 2:
        return image
    return image.reshape(shape or _picture_shape(image.size))


def _picture_shape(size: int) -> tuple:
    """The most nearly square (rows, cols) with rows * cols == size, rows <= cols (128 -> 8 x 16)."""
    rows = max(r for r in range(1, math.isqrt(size) + 1) if size % r == 0)
    return rows, size // rows


def _image_grid(n: int, ncols: int, cell: float, title_lines: int = 1, aspect: float = 1.0):
    """A figure with exactly n image axes (no spare ones), ncols per row, ticks off; ``aspect`` = height / width
    of the pictures (8 x 16: 0.5), so that the rows are as tall as the pictures, not as wide."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    row_height = cell * (aspect + 0.25 * title_lines)  # room for the titles above each image
    # constrained layout: tight_layout put the titles of a row of short pictures (8 x 16) onto the row above
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(cell * ncols, row_height * nrows), squeeze=False, layout="constrained"
    )
    axes = axes.ravel()
    for ax in axes[n:]:
        fig.delaxes(ax)
    for ax in axes[:n]:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():  # a light frame: the paper's edge, not an axis
            spine.set_visible(True)
            spine.set_color("#cccccc")
    return fig, axes[:n]


def digit_grid(images, labels=None, predictions=None, titles=None, ncols: int = 5, cell: float = 1.0, suptitle=None):
    """A grid of digits, one axes per image, titled with its label.

    images       (n, 784) or (n, 28, 28) in [0, 1]
    labels       (n,) ints, shown as the title, or None
    predictions  (n,) ints: titles become "label -> prediction" (red when wrong)
    titles       (n,) strings that replace the automatic titles
    ncols, cell  images per row and inches per image: ncols x cell at most 5.7 in keeps it unshrunk on a projector
    Returns a Figure with n axes.
    """
    images = np.asarray(images)
    title_lines = 1 + max((str(t).count("\n") for t in titles), default=0) if titles is not None else 1
    with plt.rc_context(STYLE):
        fig, axes = _image_grid(len(images), ncols, cell, title_lines)
        for i, ax in enumerate(axes):
            ax.imshow(_as_square(images[i]), cmap=DIGIT_CMAP, vmin=0.0, vmax=1.0)
            color = "black"
            if titles is not None:
                title = titles[i]
            elif predictions is not None:
                title = f"{labels[i]} \u2192 {predictions[i]}"
                color = "black" if labels[i] == predictions[i] else "#d62728"
            elif labels is not None:
                title = str(labels[i])
            else:
                title = ""
            ax.set_title(title, color=color, pad=2)
        _suptitle(fig, suptitle)
    return fig


def class_balance(splits: dict, ax=None, title=None):
    """Grouped bars: the share of each digit 0..9 in each split.

    splits  {name: labels (n,) ints}, e.g. {"train": ..., "test": ...}
    title   the takeaway (default "Class balance"), wrapped to the figure's width
    Draws into ``ax`` if given; returns the Figure (one axes, the legend in a row above the bars).
    """
    with plt.rc_context(STYLE):
        if ax is None:
            fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.2))
        fig = ax.figure
        width = 0.8 / len(splits)
        tallest = 0.0
        for j, (name, labels) in enumerate(splits.items()):
            share = 100 * np.bincount(np.asarray(labels), minlength=10) / len(labels)
            tallest = max(tallest, share.max())
            ax.bar(np.arange(10) + (j - (len(splits) - 1) / 2) * width, share, width, label=f"{name} ({len(labels):,})")
        ax.axhline(10, color="gray", lw=0.8, ls="--")  # perfect balance
        ax.set_ylim(0, 1.3 * tallest)  # room above the bars for the legend
        ax.set_xticks(range(10))
        ax.set_xlabel("digit")
        ax.set_ylabel("share of the split (%)")
        ax.set_title(_wrapped(title or "Class balance"))
        ax.legend(loc="upper center", ncol=len(splits), frameon=False)
        fig.tight_layout()
    return fig


def pixel_histogram(images, bins: int = 51):
    """Histogram of the pixel values of ``images`` (n, 784) in [0, 1], counts on a log scale.

    The exactly-0 pixels (background) and exactly-1 pixels (full ink) get their
    own bars at the two ends, so the mass at 0 is not hidden in the first bin.
    The title states the share of zeros. Returns the Figure (one axes).
    """
    values = np.asarray(images).ravel()
    zeros, ones = np.count_nonzero(values == 0), np.count_nonzero(values == 1)
    between = values[(values > 0) & (values < 1)]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.4))
        edges = np.linspace(0, 1, bins + 1)
        ax.hist(
            between, bins=edges, color="C0", label=f"strictly between 0 and 1 ({100 * between.size / values.size:.1f}%)"
        )
        width = edges[1] - edges[0]
        ax.bar([-width], [zeros], width, color="C1", label=f"exactly 0 ({100 * zeros / values.size:.1f}%)")
        ax.bar([1 + width], [ones], width, color="C2", label=f"exactly 1 ({100 * ones / values.size:.1f}%)")
        ax.set_yscale("log")
        ax.set_xlabel("pixel value (0 = background, 1 = full ink)")
        ax.set_ylabel("number of pixels (log scale)")
        ax.set_title(
            _wrapped(f"{100 * zeros / values.size:.0f}% of the pixels are exactly 0: most of an image is background")
        )
        ax.legend(loc="upper center")
        fig.tight_layout()
    return fig


def activation_histograms(activations: dict, bins: int = 50, title=None):
    """Histograms of each hidden layer's activations, one row per init scheme.

    activations  {scheme: [h1 (N, H), h2 (N, H), ...]}: post-ReLU activations of a batch
    title        a takeaway over the grid (optional), wrapped to its width
    Each axes is titled "<scheme>: h<k>" and notes the mean, std and share of zeros;
    all share one x scale. Two layers fit a projector's output area (2.85 in per layer).
    Returns a Figure with len(activations) x (number of layers) axes.
    """
    schemes = list(activations)
    layers = len(activations[schemes[0]])
    with plt.rc_context(STYLE):
        # one shared x scale: the schemes' differences in size are the point of the figure
        fig, axes = plt.subplots(
            len(schemes), layers, figsize=(2.85 * layers, 2.2 * len(schemes)), squeeze=False, sharex=True
        )
        for r, scheme in enumerate(schemes):
            for k, h in enumerate(activations[scheme]):
                h = np.asarray(h).ravel()
                ax = axes[r, k]
                ax.hist(h[h > 0], bins=bins, color=f"C{r}")  # the zeros (a spike) are reported, not drawn
                ax.set_title(f"{scheme}: h{k + 1}")
                ax.text(
                    0.97,
                    0.95,
                    f"mean {h.mean():.3f}\nstd {h.std():.3f}\nzeros {100 * np.mean(h == 0):.0f}%",
                    transform=ax.transAxes,
                    ha="right",
                    va="top",
                )
                ax.set_yticks([])
            axes[r, 0].set_ylabel("count (> 0)")
        for ax in axes[-1]:
            ax.set_xlabel("activation")
        _suptitle(fig, title)
        fig.tight_layout()
    return fig


def training_curves(histories, labels=None, title=None):
    """Running loss and test accuracy against the step, for one or several runs.

    histories  a ``helpers.train.History`` or a list of them
    labels     one legend entry per history (optional): one legend under both panels
    title      a takeaway over both panels (optional), wrapped to the figure's width
    Returns a Figure with two axes titled "Running loss" and "Test accuracy", sized for a projector
    (at most SHOWN_WIDTH_PX wide, text at least MIN_TEXT_PX).
    """
    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    if labels is not None and len(labels) != len(histories):
        raise ValueError(f"got {len(labels)} labels for {len(histories)} histories")
    with plt.rc_context(STYLE):
        fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(PROJECTOR_WIDTH, 3.0))
        for i, history in enumerate(histories):
            label = labels[i] if labels is not None else None
            loss_ax.plot(history.steps, history.losses, color=f"C{i}", label=label)
            acc_ax.plot(
                history.eval_steps, 100 * np.asarray(history.test_accuracies), "o-", ms=3, color=f"C{i}", label=label
            )
        loss_ax.set_title("Running loss")
        loss_ax.set_xlabel("step")
        loss_ax.set_ylabel("cross-entropy (smoothed)")
        acc_ax.set_title("Test accuracy")
        acc_ax.set_xlabel("step")
        acc_ax.set_ylabel("accuracy (%)")
        acc_ax.axhline(10, color="gray", lw=0.8, ls="--")
        # under the chance line, where no run's accuracy goes: above it, the label would sit on a run near chance
        acc_ax.set_ylim(bottom=0)
        acc_ax.annotate(
            "chance (10%)",
            xy=(1, 10),
            xycoords=("axes fraction", "data"),
            xytext=(-4, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            color="gray",
        )
        for ax in (loss_ax, acc_ax):  # 0, 25k, 50k: step labels that do not run into each other in a 250 px panel
            ax.xaxis.set_major_locator(plt.MaxNLocator(3))
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"))
        if title:
            fig.suptitle(_wrapped(title), fontsize=STYLE["font.size"] + 1)
        fig.tight_layout()
        if labels is not None:
            _legend_below(fig, loss_ax, ncol=min(len(labels), 5))
    return fig


# ---------------------------------------------------------------- notebooks 04 and 05: the graph, the running loss, the mistakes

GRAPH_COLORS = {"forward": "#333333", "top": "#d62728", "all": "#767676"}  # grey: 4.5:1 on white, readable projected


def computational_graph(width: float = 8.0):
    """The network's forward and backward pass as a graph, marking what top-only training uses.

    Values (X, z1, h1, z2, h2, scores, L) sit on a row, joined left to right
    by the forward operations (black); the parameters feed in from above.
    Under the row the backward pass runs right to left, and each affine
    operation hands its parameters' gradients down. Red: the arrows top-only
    training follows; grey, dashed: needed only to train every layer. The 1/N
    of the batch mean is marked where it enters: in dscores.
    Sized for a projector: 8 in wide, it is shrunk to the SHOWN_WIDTH_PX output
    area and its smallest text stays at least MIN_TEXT_PX pixels high
    (tests/test_plots_training.py). ``width`` (inches; the height follows): the
    text keeps its size in points, so a wider figure shrunk to the same area
    has smaller text.
    Returns a Figure (one Axes, axis off).
    """
    values = ["X", "z1", "h1", "z2", "h2", "scores", "L"]
    ops = ["affine", "ReLU", "affine", "ReLU", "affine", "softmax +\ncross-entropy"]
    xs = [0.0, 2.2, 3.9, 6.1, 7.8, 10.0, 12.4]
    half_width = [0.35, 0.4, 0.4, 0.4, 0.4, 0.75, 0.35]  # of each value's box, where arrows stop
    big, small = 15, 12  # points; 8 in (793 px saved) shown in 592 px: 15.6 and 12.4 px
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, 5.2 * width / 9))
        fig.patch.set_facecolor("white")
        ax.set_xlim(-0.6, 13.0)
        ax.set_ylim(-3.3, 2.4)
        ax.axis("off")
        box = dict(boxstyle="round,pad=0.3", fc="white", ec="#333333", lw=1)

        def arrow(x0, y0, x1, y1, color, dashed=False):
            ax.annotate(
                "",
                xy=(x1, y1),
                xytext=(x0, y0),
                zorder=2,
                arrowprops=dict(
                    arrowstyle="-|>", color=color, lw=1.8, ls="--" if dashed else "-", shrinkA=0, shrinkB=0
                ),
            )

        for x, name in zip(xs, values):
            ax.text(x, 0, name, ha="center", va="center", fontsize=big, bbox=box, zorder=3)
        ax.text(
            xs[4] - 0.25, 0.62, "fixed while\nW1, W2 frozen", ha="center", va="bottom", fontsize=small, color="#555555"
        )
        for i, op in enumerate(ops):
            left, right, mid = (
                xs[i] + half_width[i] + 0.05,
                xs[i + 1] - half_width[i + 1] - 0.05,
                (xs[i] + xs[i + 1]) / 2,
            )
            arrow(left, 0.1, right, 0.1, GRAPH_COLORS["forward"])
            ax.text(mid, 0.22, op, ha="center", va="bottom", fontsize=small)
            if i == 0:  # nobody updates the images: their gradient is never computed
                ax.text(
                    xs[0] + 0.55,
                    -0.3,
                    "dX: never\ncomputed",
                    ha="center",
                    va="top",
                    fontsize=small,
                    color=GRAPH_COLORS["all"],
                )
                continue
            top_only = i == 5  # only L -> scores feeds W3, b3; the rest feeds the frozen layers
            color = GRAPH_COLORS["top" if top_only else "all"]
            arrow(right, -0.15, left, -0.15, color, dashed=not top_only)
            label = "dscores =\n(P - Y) / N\n(the only 1/N)" if top_only else f"d{values[i]}"
            # left of the middle: the arrow to the parameters' gradients leaves from the right end
            ax.text(mid + (0.25 if top_only else -0.3), -0.3, label, ha="center", va="top", fontsize=small, color=color)
        for layer, i in ((1, 0), (2, 2), (3, 4)):
            mid = (xs[i] + xs[i + 1]) / 2
            color = GRAPH_COLORS["top" if layer == 3 else "all"]
            ax.text(mid, 1.95, f"W{layer}, b{layer}", ha="center", va="center", fontsize=big, bbox=box, zorder=3)
            arrow(mid, 1.6, mid, 0.75, GRAPH_COLORS["forward"])
            ax.text(
                mid,
                -2.05,
                f"dW{layer}, db{layer}",
                ha="center",
                va="center",
                fontsize=big,
                color=color,
                bbox=dict(box, ec=color),
                zorder=3,
            )
            start = xs[i + 1] - half_width[i + 1] - 0.15  # from the gradient arriving at the layer's output
            arrow(start, -0.3, mid + 0.3, -1.7, color, dashed=layer != 3)
        handles = [
            plt.Line2D([], [], color=GRAPH_COLORS["forward"], lw=1.8, label="forward pass"),
            plt.Line2D([], [], color=GRAPH_COLORS["top"], lw=1.8, label="backward: what top-only training computes"),
            plt.Line2D(
                [], [], color=GRAPH_COLORS["all"], lw=1.8, ls="--", label="backward: needed only to train every layer"
            ),
        ]
        ax.legend(
            handles=handles, loc="lower center", bbox_to_anchor=(0.5, -0.06), ncol=1, fontsize=small, frameon=False
        )
        ax.set_title("Top-only training takes one backward step:\nfrom L through dscores to dW3 and db3", fontsize=big)
        fig.tight_layout()
    return fig


def running_loss_start(batch_losses, running, smoothing: float, typical_steps: int = 100, title=None):
    """The first steps of a run: each batch's loss (dots), the running loss (line) and the typical batch loss.

    batch_losses  (T,) the loss of the batch at each step 0 .. T-1
    running       (T,) the running loss after each of those steps
    smoothing     the running loss's factor (drawn in the legend)
    typical_steps the dashed line is the mean batch loss over the first ``typical_steps`` steps
    """
    batch_losses, running = np.asarray(batch_losses, dtype=float), np.asarray(running, dtype=float)
    steps = np.arange(len(batch_losses))
    typical = batch_losses[:typical_steps].mean()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.4))
        fig.patch.set_facecolor("white")
        ax.plot(steps, batch_losses, ".", ms=3, color="#9a9a9a", label="loss of each batch")
        ax.plot(steps, running, color="C0", lw=2, label=f"running loss (factor {smoothing:g})")
        ax.axhline(typical, color="C1", ls="--", lw=1.2, label=f"mean batch loss, steps 0-{typical_steps - 1}")
        ax.plot([0], [batch_losses[0]], "o", color="C0", ms=7, mfc="white", label="start: the first batch's loss")
        ax.set_xlabel("step")
        ax.set_ylabel("cross-entropy")
        ax.set_title(_wrapped(title or "The running loss starts at one batch's loss"))
        ax.legend(loc="upper right", framealpha=1)
        fig.tight_layout()
    return fig


def confusion_matrix(confusion, title=None):
    """A 10 x 10 confusion matrix: row = true digit, column = predicted digit, each cell's count written in it.

    Colour is the count on a log scale (0 left white), so that the few
    hundred mistakes stay visible next to the diagonal's correct answers.
    """
    from matplotlib.colors import LogNorm

    confusion = np.asarray(confusion)
    n = confusion.shape[0]
    shown = np.ma.masked_equal(confusion, 0)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 5.4))
        fig.patch.set_facecolor("white")
        image = ax.imshow(shown, cmap="Blues", norm=LogNorm(vmin=1, vmax=max(confusion.max(), 2)))
        threshold = np.sqrt(max(confusion.max(), 2))  # the middle of the log colour scale
        for (i, j), count in np.ndenumerate(confusion):
            ax.text(j, i, str(count), ha="center", va="center", color="white" if count > threshold * 3 else "black")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.set_title(_wrapped(title or "Confusion matrix (test images)"))
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="test images (log scale)")
        fig.tight_layout()
    return fig


def weight_images(W, shape=None, titles=None, ncols: int = 5, cell: float = 1.1, suptitle=None):
    """Each column of a weight matrix drawn as a picture, on one symmetric colour scale.

    W       (D, M): column j holds the weights into unit j (or class j for the top layer)
    shape   picture shape of a column; default 28 x 28 for D = 784, else near-square (128 -> 8 x 16)
    titles  M strings (default "0", "1", ...)
    Red is positive, blue negative, white zero. Returns a Figure with M axes.
    """
    W = np.asarray(W)
    vmax = float(np.abs(W).max()) or 1.0
    rows, columns = shape or _picture_shape(W.shape[0])
    with plt.rc_context(STYLE):
        fig, axes = _image_grid(W.shape[1], ncols, cell, aspect=rows / columns)
        for j, ax in enumerate(axes):
            ax.imshow(_as_square(W[:, j], shape), cmap=WEIGHT_CMAP, vmin=-vmax, vmax=vmax)
            ax.set_title(titles[j] if titles is not None else str(j), pad=2)
        _suptitle(fig, suptitle)
    return fig


def misclassified_digits(images, labels, predictions, probs=None, count: int = 10, ncols: int = 5):
    """The first ``count`` digits whose prediction is wrong, titled "true -> predicted".

    images (n, 784), labels (n,), predictions (n,); probs (n, 10) adds the
    network's confidence in its wrong answer. Returns a Figure with
    min(count, number wrong) axes (a figure with one empty axes if none is wrong).
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    wrong = np.flatnonzero(labels != predictions)[:count]
    if len(wrong) == 0:
        with plt.rc_context(STYLE):
            fig, ax = plt.subplots(figsize=(3, 1))
            ax.axis("off")
            ax.set_title("no misclassified digits")
        return fig
    titles = [
        f"{labels[i]} \u2192 {predictions[i]}"
        + (f"\n{100 * probs[i, predictions[i]]:.0f}%" if probs is not None else "")
        for i in wrong
    ]
    fig = digit_grid(np.asarray(images)[wrong], titles=titles, ncols=ncols, cell=1.0 if probs is None else 1.1)
    for ax in fig.axes:
        ax.title.set_color("#d62728")
    return fig


def feature_spectra(spectra: dict, threshold=None, threshold_label=None, title=None):
    """Eigenvalues, largest first, on a log scale: one line per matrix.

    spectra: {label: eigenvalues}; threshold: a horizontal dashed line (e.g.
    1 / (lr * steps), below which gradient descent barely moves a direction).
    Zero eigenvalues are not drawn (a log scale has no 0). Sized for a projector, the legend under the axes.
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.2))
        for label, values in spectra.items():
            values = np.sort(np.asarray(values, dtype=float))[::-1]
            shown = values > 0
            ax.plot(np.arange(1, len(values) + 1)[shown], values[shown], lw=1.6, label=label)
        if threshold is not None:
            ax.axhline(threshold, color="#555555", ls="--", lw=1, label=threshold_label)
        ax.set_yscale("log")
        ax.set_xlabel("eigenvalue rank (1 = largest)")
        ax.set_ylabel("eigenvalue (log scale)")
        ax.set_title(_wrapped(title or "Eigenvalues of the features' second-moment matrix"))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, ax, ncol=2)
    return fig


def direction_decay(runs: dict, c: float, title=None):
    """The error left along each eigendirection against lr * lambda * t (log scale), with the law exp(-c x).

    runs: {label: (x, ratio)}, one point per eigendirection, x = lr * lambda_i * t and ratio =
    error_i(t) / error_i(0); c: the measured factor of the dashed prediction exp(-c x).
    Sized for a projector, the legend under the axes.
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.4))
        for (label, (x, ratio)), marker in zip(runs.items(), "os^vD"):
            x, ratio = np.asarray(x, dtype=float), np.asarray(ratio, dtype=float)
            shown = x > 0
            ax.plot(x[shown], ratio[shown], marker, ms=3.5, alpha=0.7, ls="none", label=label)
        grid = np.logspace(-4, 4, 200)
        ax.plot(grid, np.exp(-c * grid), color="black", ls="--", lw=1.2, label=f"prediction exp(-c x), c = {c:.3f}")
        ax.set_xscale("log")
        ax.set_ylim(0, 1.25)
        ax.set_xlabel("x = lr \u00d7 eigenvalue \u00d7 steps (log scale)")
        ax.set_ylabel("error left along the direction\n(fraction of its start)")
        ax.set_title(_wrapped(title or "Each direction's error shrinks like exp(-c x)"))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, ax, ncol=2)
    return fig


def _row_label(row: dict, full_train_images: int) -> str:
    label = f"{row['method']}, {row['setting']}"
    if row.get("steps") and "readout" not in row["method"]:
        label += f", {row['steps']:,} steps"
    images = row.get("train_images")
    if images is not None and images != full_train_images:
        label += f" [{images:,} train images]"
    return label


def _row_color(row: dict) -> str:
    if row["method"].startswith("all layers"):
        return "#ff7f0e"
    if row["setting"] == "raw pixels":
        return "#2ca02c"
    if "readout" in row["method"]:
        return "#9467bd"
    return "#1f77b4"


def baselines_bars(rows, full_train_images: int = 55000, title=None):
    """Horizontal bars of test accuracy (%) with the s.d. over seeds as error bars; one bar per table row, top to bottom.

    Each row's name is written above its bar, across the figure's width (as tick labels beside the bars they
    would leave the bars a third of a projector-sized figure); each value label sits to the right of its error
    bar, never on it. Rows trained on another number of training images than ``full_train_images`` are
    hatched and say so in their name; a diverged row shows "diverged".
    Colours: top layer only (blue), all layers (orange), readouts of the
    frozen features (purple), raw pixels, no hidden layer (green).
    """
    rows = list(rows)
    means = np.array([100 * r["test_accuracy_mean"] for r in rows], dtype=float)
    spreads = np.nan_to_num(np.array([100 * r["test_accuracy_spread"] for r in rows], dtype=float))
    y = np.arange(len(rows))[::-1]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 0.42 * len(rows) + 1.0))
        for yi, row, mean, spread in zip(y, rows, means, spreads):
            other = row.get("train_images") not in (None, full_train_images)
            ax.text(0.5, yi + 0.2, _row_label(row, full_train_images), va="bottom", ha="left")
            if math.isnan(mean):
                ax.text(1, yi - 0.05, "diverged", va="center")
                continue
            ax.barh(
                yi - 0.05,
                mean,
                height=0.42,
                color=_row_color(row),
                hatch="///" if other else None,
                edgecolor="white" if not other else "black",
                linewidth=0.5,
            )
            if spread > 0:
                ax.errorbar(mean, yi - 0.05, xerr=spread, color="black", capsize=2, lw=0.8)
            ax.text(mean + spread + 1.0, yi - 0.05, f"{mean:.1f}%", va="center")
        ax.set_yticks([])
        ax.set_ylim(-0.6, len(rows) - 0.1)
        ax.spines["left"].set_visible(False)
        from matplotlib.patches import Patch  # imported here: only this figure needs it

        kinds = {
            "#1f77b4": "top layer only",
            "#ff7f0e": "all layers",
            "#9467bd": "readout of the frozen features",
            "#2ca02c": "raw pixels, no hidden layer",
        }
        shown = [c for c in kinds if any(_row_color(r) == c for r in rows)]
        handles = [Patch(color=c, label=kinds[c]) for c in shown]
        if any(r.get("train_images") not in (None, full_train_images) for r in rows):
            handles.append(
                Patch(
                    facecolor="white",
                    edgecolor="black",
                    hatch="///",
                    label=f"not trained on all {full_train_images:,} images",
                )
            )
        ax.axvline(10, color="gray", lw=0.8, ls="--", zorder=3)
        ax.annotate(
            "chance (10%)", xy=(10.5, 1.0), xycoords=("data", "axes fraction"), ha="left", va="bottom", color="gray"
        )
        ax.set_xlim(0, 110)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel("test accuracy (%), mean \u00b1 s.d. over seeds")
        ax.set_title(_wrapped(title or "Baselines on MNIST"), pad=16)  # above the chance label
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, ax, handles, [h.get_label() for h in handles], ncol=2)
    return fig


def width_curves(rows, full_train_images: int = 55000, title=None):
    """Test accuracy (%) against the width of the frozen layers, mean \u00b1 s.d. over seeds, one line per method.

    rows: the width rows (``baselines.measure_widths``, or a results file's rows of the part "widths"), each
    with its ``hidden_size`` and, for SGD, its ``lr``: lr 0.001 is the solid line, lr 0.001 x width / 128 the
    dashed one (with the width-128 run as its first point). Points trained on another number of
    training images than ``full_train_images`` are drawn hollow and the legend says how many.
    Sized for a projector, the legend under the axes.
    """
    # rows are picked by their data (the part they belong to, their lr), never by parsing the table's labels;
    # rows made by baselines.measure_widths directly carry no "parts": all of them are width rows
    width_rows = [r for r in rows if "widths" in r.get("parts", ["widths"])]

    def fixed(method):
        return [r for r in width_rows if r["method"] == method and r.get("lr", 1e-3) == 1e-3]

    scaled = [
        r
        for r in width_rows
        if r["method"] == "top layer only, SGD"
        and r["hidden_size"] != 128
        and r.get("lr") == 1e-3 * r["hidden_size"] / 128
    ]
    if scaled:
        scaled += [r for r in fixed("top layer only, SGD") if r["hidden_size"] == 128]
    lines = [
        (fixed("least-squares readout"), "least-squares readout", "s", "#9467bd", "-"),
        (fixed("top layer only, SGD"), "top layer only, SGD lr 0.001", "o", "#1f77b4", "-"),
        (scaled, "top layer only, SGD lr 0.001 x width / 128", "^", "#1f77b4", "--"),
    ]
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.2))
        for chosen, method, marker, color, style in lines:
            chosen = sorted(chosen, key=lambda r: r["hidden_size"])
            if not chosen:
                continue
            widths = [r["hidden_size"] for r in chosen]
            means = [100 * r["test_accuracy_mean"] for r in chosen]
            spreads = [100 * r["test_accuracy_spread"] for r in chosen]
            seeds = len(chosen[0]["seeds"])
            label = f"{method} ({seeds} seeds)"
            images = {r.get("train_images") for r in chosen}
            hollow = images != {full_train_images} and None not in images
            if hollow:
                label += f", {', '.join(f'{n:,}' for n in sorted(images))} train images"
            ax.errorbar(
                widths,
                means,
                yerr=spreads,
                marker=marker,
                capsize=3,
                color=color,
                label=label,
                ls=style,
                mfc="white" if hollow else color,
            )
        ax.set_xscale("log", base=2)
        all_widths = sorted({r["hidden_size"] for r in width_rows})
        ax.set_xticks(all_widths, [str(w) for w in all_widths])
        ax.set_xlabel("hidden units per frozen layer (log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(_wrapped(title or "Top layer only on random features of growing width"))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, ax)
    return fig


def optimizer_sweep(rows, reference=None, reference_label=None, title=None):
    """Test accuracy (%) against the learning rate for each optimizer, mean \u00b1 s.d. over seeds.

    rows: table rows of the sweep (``baselines.measure_sweep``: each with its ``optimizer`` and ``lr``);
    reference: an optional horizontal line (e.g. the converged softmax readout: a landmark, not a ceiling on
    accuracy), named by reference_label.
    Sized for a projector, the legend under the axes.
    """
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.2))
        # the sweep's rows, by their data: their optimizer and lr (conditioning rows carry "features", width
        # rows another hidden size); rows from a results file name their part
        sweep = [
            r
            for r in rows
            if "sweep" in r.get("parts", ["sweep"])
            and "features" not in r
            and r.get("lr") is not None
            and r["hidden_size"] == 128
        ]
        for optimizer, label, marker in [("sgd", "SGD", "o"), ("momentum", "momentum", "s"), ("adam", "Adam", "^")]:
            chosen = sorted((r for r in sweep if r.get("optimizer") == optimizer), key=lambda r: r["lr"])
            if not chosen:
                continue
            lrs = [r["lr"] for r in chosen]
            ax.errorbar(
                lrs,
                [100 * r["test_accuracy_mean"] for r in chosen],
                yerr=[100 * r["test_accuracy_spread"] for r in chosen],
                marker=marker,
                capsize=3,
                label=label,
            )
        if reference is not None:
            ax.axhline(reference, color="gray", ls="--", lw=1, label=reference_label)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(_wrapped(title or "Top layer only: the learning rate decides"))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, ax, ncol=2)
    return fig


def forward_pass_picture(image, hidden_1, hidden_2, probs, label=None, title=None):
    """One image's trip through the network, in reading order (two rows of two): pixels, h1, then h2, class probabilities.

    image (784,), hidden_1 (H,), hidden_2 (H,), probs (10,); label: the true digit (its bar is drawn red);
    title: a takeaway over the four panels (optional), wrapped to the figure's width.
    Hidden layers are drawn as near-square pictures (128 -> 8 x 16), dark = strongly active, white = 0.
    Two rows, not one: four panels side by side would be shrunk to half size in a projector's output area.
    """
    with plt.rc_context(STYLE):
        # constrained layout: tight_layout leaves the two-line panel titles of the second row on the first row's pictures
        fig, axes = plt.subplots(2, 2, figsize=(PROJECTOR_WIDTH, 4.8), layout="constrained")
        axes = axes.ravel()
        panels = [
            (image, "input x: 784 pixels"),
            (hidden_1, f"h1 = relu(x W1 + b1):\n{np.size(hidden_1)} units"),
            (hidden_2, f"h2 = relu(h1 W2 + b2):\n{np.size(hidden_2)} units"),
        ]
        for ax, (values, panel_title) in zip(axes, panels):
            ax.imshow(_as_square(values), cmap=DIGIT_CMAP, vmin=0)
            ax.set_title(panel_title)
            ax.set_xticks([])
            ax.set_yticks([])
        bars = axes[3].bar(range(len(probs)), probs, color="#999999")
        if label is not None:
            bars[label].set_color("#d62728")
        axes[3].set_xticks(range(len(probs)))
        axes[3].set_ylim(0, 1)
        axes[3].set_title("softmax(h2 W3 + b3)" + (f":\ntrue digit {label} in red" if label is not None else ""))
        axes[3].set_xlabel("digit")
        axes[3].set_ylabel("probability")
        _suptitle(fig, title)
    return fig


# ---------------------------------------------------------------- learning rules (results/rules.json)


def _steps_axis(ax, steps):
    # step 0 (the untrained network) belongs on the axis: linear up to 10, logarithmic beyond
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, max(steps) * 1.2)
    ax.set_xlabel("training step (0, then log scale)")


def _aligned_rows(rows) -> list:
    """The rows the alignment figure draws: those with a W2 angle. Backprop is the reference (0 degrees
    throughout), and a rule that trains no hidden layer has no W2 angle."""
    return [r for r in rows if r.get("alignment") and "W2" in r["alignment"]["update"] and r["rule"] != "backprop"]


def alignment_angles(rows, title=None):
    """Angle (degrees) between each rule's update and backprop's, per hidden layer, over training.

    rows: rows of results/rules.json (``helpers.comparison``) with an ``alignment`` entry;
    lines are the mean over seeds, bands the range of the seeds. A third panel shows FA's
    angle between each W_k and its feedback matrix B_k. The default title names the rules
    whose W2 update turned toward backprop's (the angle fell from the first to the last step).
    """
    rows = _aligned_rows(rows)
    if not rows:
        raise ValueError("no row has W2 alignment angles; pass the rows of results/rules.json")
    feedback_rows = [r for r in rows if r["alignment"]["feedback"]]
    style = dict(STYLE, **{"font.size": 11, "axes.titlesize": 11})
    with plt.rc_context(style):
        # panels stacked, at most SHOWN_WIDTH_PX wide as saved: shown unshrunk on a projector, labels readable
        count = 2 + bool(feedback_rows)
        fig, axes = plt.subplots(count, 1, figsize=(PROJECTOR_WIDTH, 2.9 * count + 0.9), sharex=True, sharey=True)
        names = ", ".join(r["rule"] for r in feedback_rows)
        panels = [
            (axes[0], "update", "W1", "W1 (first layer): update vs backprop's"),
            (axes[1], "update", "W2", "W2 (second layer): update vs backprop's"),
        ]
        panels += (
            [(axes[2], "feedback", None, f"forward weights W_k vs feedback B_k ({names})")] if feedback_rows else []
        )
        for ax, kind, name, panel_title in panels:
            for i, row in enumerate(rows):
                a = row["alignment"]
                names = [name] if name else sorted(a[kind])
                for j, n in enumerate(names):
                    if n not in a[kind]:
                        continue
                    per_seed = np.asarray(a[kind][n]["per_seed"], dtype=float)
                    label = row["rule"] if name else f"{row['rule']}: {n} vs B{n[1:]}"
                    color = RULE_COLORS[
                        i % len(RULE_COLORS)
                    ]  # a rule's colour in every panel; its layers by line style
                    ax.plot(
                        a["steps"],
                        a[kind][n]["mean"],
                        marker="o",
                        ms=3,
                        color=color,
                        label=label,
                        ls="-" if j == 0 else "--",
                    )
                    ax.fill_between(a["steps"], per_seed.min(axis=0), per_seed.max(axis=0), color=color, alpha=0.15)
            ax.axhline(90, color="gray", lw=0.8, ls=":")  # below 90 degrees: a descent direction; above: ascent
            _steps_axis(ax, rows[0]["alignment"]["steps"])
            ax.set_title(panel_title)
            ax.set_ylabel("angle (degrees)")
            if kind == "feedback":  # its own lines (one per layer): a legend of its own, where the lines end low
                ax.legend(fontsize=9, framealpha=1, loc="lower left")
        for ax in axes[:-1]:
            ax.set_xlabel("")
        axes[0].set_ylim(0, 180)
        fig.suptitle(_wrapped(title or _alignment_takeaway(rows)))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        _legend_below(fig, axes[-1], *axes[0].get_legend_handles_labels(), ncol=4)  # the update panels' rules
    return fig


def _alignment_takeaway(rows) -> str:
    rows = _aligned_rows(rows)
    turned = [
        r["rule"]
        for r in rows
        if r["alignment"]["update"]["W2"]["mean"][-1] < r["alignment"]["update"]["W2"]["mean"][0]
    ]
    others = [r["rule"] for r in rows if r["rule"] not in turned]
    text = (
        f"{', '.join(turned)}: the W2 update turns toward backprop's during training"
        if turned
        else "No rule's W2 update turns toward backprop's"
    )
    return text + (f"; {', '.join(others)}: it does not" if turned and others else "")


def alignment_alt_text(rows) -> str:
    """Alt text for :func:`alignment_angles`: what it shows, with the first and last mean angles."""
    rows = _aligned_rows(rows)
    parts = []
    for r in rows:
        a = r["alignment"]
        w2 = a["update"]["W2"]["mean"]
        parts.append(f"{r['rule']} from {w2[0]:.0f} to {w2[-1]:.0f} degrees")
    steps = rows[0]["alignment"]["steps"]
    return (
        f"Line plots of the angle between each rule's update of W1 and W2 and backprop's, from step {steps[0]} "
        f"to step {steps[-1]:,} (log scale), mean over seeds with their range shaded. W2's angle goes: "
        + "; ".join(parts)
        + "."
    )


RULE_COLORS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


def rule_curves(rows, title=None):
    """Test accuracy (%) and running loss against the step (log scale) of each rule at its chosen lr: mean over
    seeds, band = range of seeds. Two panels stacked, sized for a ~600 px wide output area.

    rows: rows of results/rules.json (``helpers.comparison``); rows without curves (failed, every lr diverged)
    are skipped. The default title is the takeaway: which rule ends highest, which end below top layer only.
    """
    rows = [r for r in rows if r.get("curves")]
    style = dict(STYLE, **{"font.size": 11, "axes.titlesize": 11})
    with plt.rc_context(style):
        fig, (acc_ax, loss_ax) = plt.subplots(2, 1, figsize=(6.4, 7.2), sharex=True)
        for i, row in enumerate(rows):
            c, color = row["curves"], RULE_COLORS[i % len(RULE_COLORS)]
            per_seed = np.asarray(
                [s + [np.nan] * (len(c["eval_steps"]) - len(s)) for s in c["test_accuracy_per_seed"]], float
            )
            label = f"{row['rule']} (lr {row['chosen_lr']:g})"
            # step 0 (the shared untrained network) is left out: evaluations are eval_every steps apart, and a
            # line from step 0 to the first would draw a climb on the log axis that no run made
            steps, mean = np.asarray(c["eval_steps"]), 100 * np.asarray(c["test_accuracy_mean"], float)
            acc_ax.plot(steps[1:], mean[1:], color=color, label=label)
            acc_ax.fill_between(
                steps[1:],
                100 * np.nanmin(per_seed, axis=0)[1:],
                100 * np.nanmax(per_seed, axis=0)[1:],
                color=color,
                alpha=0.15,
            )
            loss_ax.plot(c["loss_steps"][1:], c["running_loss_mean"][1:], color=color, label=label)
        acc_ax.set_ylabel("test accuracy (%)")
        acc_ax.set_title("Test accuracy (band: range over seeds)")
        loss_ax.set_ylabel("cross-entropy (smoothed)")
        loss_ax.set_yscale("log")
        loss_ax.set_title("Running loss, mean over seeds")
        first = min(r["curves"]["loss_steps"][1] for r in rows if len(r["curves"]["loss_steps"]) > 1)
        last = max(r["curves"]["eval_steps"][-1] for r in rows)
        loss_ax.set_xscale("log")
        loss_ax.set_xlim(first * 0.8, last * 1.1)
        loss_ax.set_xlabel("training step (log scale)")
        fig.suptitle(title or _curves_takeaway(rows))
        fig.patch.set_facecolor("white")
        fig.tight_layout()
        # below the panels: inside, it would cover the early steps' lines
        _legend_below(fig, loss_ax, *acc_ax.get_legend_handles_labels(), ncol=3)
    return fig


def _curves_takeaway(rows) -> str:
    final = {r["rule"]: r["curves"]["test_accuracy_mean"][-1] for r in rows}
    best = max(final, key=lambda rule: final[rule] if np.isfinite(final[rule]) else -1)
    text = f"{best} ends highest"
    if "top" in final:
        below = [rule for rule, value in final.items() if rule != "top" and value < final["top"]]
        text += (
            f"; {', '.join(below)} end{'s' if len(below) == 1 else ''} below top layer only"
            if below
            else "; every rule ends above top layer only"
        )
    return text


def gradcheck_sweep(sweep: dict, target: float = 1e-7, title=None):
    """Relative error of a gradient check against its step eps, log-log: one line per parameter.

    sweep: {eps: {name: relative error}} (``helpers.gradcheck.step_size_sweep``);
    target: a dashed line, the usual "a correct gradient is below" rule.
    The x axis runs from large h to small, the way a student tries them.
    """
    steps = np.array(sorted(sweep, reverse=True))
    names = list(sweep[steps[0]])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(
            figsize=(5.7, 3.6)
        )  # at most 592 px wide, so shown at full size in a 592 px output area: 9 pt is 12.5 px
        for name in names:
            ax.plot(steps, [max(sweep[h][name], 1e-300) for h in steps], marker="o", ms=3, lw=1.4, label=name)
        ax.axhline(target, color="#555555", ls="--", lw=1, label=f"target: below {target:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.invert_xaxis()
        ax.set_xlabel("finite-difference step ε (log scale, large to small)")
        ax.set_ylabel("relative error (log scale)")
        ax.set_title(title or "Gradient check against the step size")
        ax.legend(ncol=2, loc="upper center", framealpha=1)
        fig.patch.set_facecolor("white")
        fig.tight_layout()
    return fig
