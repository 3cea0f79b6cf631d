"""The explorer's two pictures: the curves of the shown run (matplotlib, one persistent figure) and the
learning-rate landscape of the grid (a small SVG written as text: a slider move only moves its marker)."""

from __future__ import annotations

import html
import io

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..plots import PROJECTOR_WIDTH, STYLE
from .settings import CHANCE, format_lr, status_label

NOW, BEFORE = ("#1f77b4", "#d62728"), ("#aaa", "#aaa")  # line colours: (loss, accuracy) of the shown / previous run


LOSS_LINE = dict(color=NOW[0], lw=1.8)  # the shown run's curves
ACCURACY_LINE = dict(color=NOW[1], marker="o", ms=4, lw=1.8)


def set_up_curve_axes(loss_ax, acc_ax, chance_fontsize: float) -> None:
    """The two curve panels' labels, titles, accuracy range, chance line and step ticks (0, 2.5k, 10k)."""
    loss_ax.set(xlabel="step", ylabel="running loss", title="training loss")
    acc_ax.set(xlabel="step", ylabel="test accuracy (%)", title="test accuracy", ylim=(0, 100))
    acc_ax.axhline(100 * CHANCE, color="0.6", lw=0.8, ls=":")
    acc_ax.text(
        0.99,
        100 * CHANCE + 1.5,
        "chance",
        color="0.5",
        ha="right",
        fontsize=chance_fontsize,
        transform=acc_ax.get_yaxis_transform(),
    )
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(_steps_label))


class CurvePlot:
    """Loss and test-accuracy curves of the shown run, the previous one faint behind it.

    One persistent Agg figure whose lines get new data: redrawing costs one
    draw and a PNG encode, not a new figure. ``png(current, previous)`` -> bytes.
    """

    def __init__(self, width: float = 7.3, height: float = 2.7, dpi: int = 80):
        # 584 x 216 px: the width of a notebook's output on a 1024 px projector with the file browser open,
        # so it is shown unscaled; 11 pt at 80 dpi is 12 px text
        with mpl.rc_context({**STYLE, "font.size": 11, "axes.titlesize": 11}):
            # fixed margins: a layout engine would cost a second full draw per frame
            self.figure = Figure(figsize=(width, height), dpi=dpi)
            FigureCanvasAgg(self.figure)
            self.loss_ax, self.acc_ax = self.figure.subplots(1, 2)
            self.figure.subplots_adjust(left=0.085, right=0.985, bottom=0.19, top=0.89, wspace=0.3)
            set_up_curve_axes(self.loss_ax, self.acc_ax, chance_fontsize=10)
            faint = dict(color=BEFORE[0], alpha=0.8, lw=1.2)
            (self.prev_loss,) = self.loss_ax.plot([], [], **faint)
            (self.prev_acc,) = self.acc_ax.plot([], [], marker=".", **faint)
            (self.loss_line,) = self.loss_ax.plot([], [], **LOSS_LINE)
            (self.acc_line,) = self.acc_ax.plot([], [], **ACCURACY_LINE)
            self.diverged_lines = [
                ax.axvline(0, color="#b00", ls="--", lw=1, visible=False) for ax in (self.loss_ax, self.acc_ax)
            ]
            self.diverged_text = self.loss_ax.text(
                0.5,
                0.5,
                "",
                color="#b00",
                ha="center",
                va="center",
                transform=self.loss_ax.transAxes,
                fontsize=11,
                bbox=dict(fc="white", ec="#b00", alpha=0.85),
            )
            for ax in (self.loss_ax, self.acc_ax):
                ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(4))  # fewer labels: a faster draw, no overlaps
        self.previous_drawn = False  # False when the previous run is left out (a divergence has its own axes)

    def png(self, current, previous=None) -> bytes:
        """Draw the two runs (``History`` objects; previous may be None) and return the PNG bytes.

        A diverged run is drawn on the axes of its own steps (0 to a little past the divergence) and the
        previous run is left out there (``previous_drawn`` False): on that range it would be a flat stub.
        """
        diverged = current.diverged_at is not None
        self.previous_drawn = previous is not None and not diverged
        pairs = [
            (self.loss_line, self.acc_line, current),
            (self.prev_loss, self.prev_acc, previous if self.previous_drawn else None),
        ]
        for loss_line, acc_line, history in pairs:
            if history is None:
                loss_line.set_data([], [])
                acc_line.set_data([], [])
                continue
            loss_line.set_data(history.steps, history.losses)
            acc_line.set_data(history.eval_steps, 100 * np.asarray(history.test_accuracies))
            # a single logged point (an early divergence) is invisible as a line: show a marker
            loss_line.set_marker("o" if len(history.steps) < 3 else "None")
        for line in self.diverged_lines:
            line.set_xdata([current.diverged_at or 0] * 2)
            line.set_visible(diverged)
        self.diverged_text.set_text(f"diverged at step {current.diverged_at:,}" if diverged else "")
        x_max = max(10, 1.25 * current.diverged_at) if diverged else current.config.steps * 1.02
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlim(0, x_max)
        self.loss_ax.relim()
        self.loss_ax.autoscale_view(scalex=False)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})  # fast, still small
        return buffer.getvalue()

    def close(self) -> None:
        """Drop the figure's artists (an explorer that is closed keeps no pictures)."""
        self.figure.clear()


def _steps_label(value, position=None) -> str:
    """Step ticks short enough not to collide in a 270 px panel: 0, 500, 5k, 10k, 50k."""
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


NOTE_LINES = 4  # under the landscape's title: more would leave its plot too little height


def landscape_svg(
    lrs=None,
    accuracies=None,
    current_lr=None,
    current_accuracy=None,
    note: str = "",
    width: int = 280,
    height: int = 240,
    title: str = "final test accuracy vs learning rate",
) -> str:
    """The grid's accuracy against the learning rate as inline SVG: its curve, its diverged learning rates
    shaded, and a marker (class ``explorer-marker``) at the shown run.

    lrs, accuracies   the grid (accuracies as fractions, nan where a run diverged); None: no grid yet.
    current_lr, current_accuracy   the marker (accuracy None or nan: the shown run diverged); current_lr None: no marker.
    note              up to four lines under the title (e.g. what is being trained); a longer one ends in an ellipsis.
    title             what the curve is (a stored grid of validation accuracies says so).
    """
    notes = _wrap(note, 42)  # at most about 42 characters of 12 px text fit in 280 px
    if len(notes) > NOTE_LINES:  # a cut that shows: the explorer's own notes fit (tests/test_plots_stored_landscape.py)
        notes = notes[: NOTE_LINES - 1] + [notes[NOTE_LINES - 1][:40] + " \u2026"]
    left, right, top, bottom = 40, 10, 24 + 14 * max(2, len(notes)), 34
    x_lo, x_hi = (-4.0, 1.0) if lrs is None else (np.log10(lrs[0]), np.log10(lrs[-1]))
    span = max(x_hi - x_lo, 1e-9)

    def x(lr):
        return left + (np.log10(lr) - x_lo) / span * (width - left - right)

    def y(accuracy):
        return top + (1 - accuracy) * (height - top - bottom)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' class='explorer-landscape-svg' width='{width}' "
        f"height='{height}' style='background:white;font:12px sans-serif'>",
        f"<text x='4' y='14' font-weight='bold'>{html.escape(title)}</text>",
    ]
    for row, line in enumerate(notes):
        parts.append(f"<text x='4' y='{30 + 14 * row}' fill='#555'>{html.escape(line)}</text>")
    if lrs is not None:
        step = span / max(1, len(lrs) - 1)
        for i in np.flatnonzero(np.isnan(accuracies)):  # each diverged lr: a band one slider step wide
            x0, x1 = (
                left + (np.log10(lrs[i]) - x_lo + d) / span * (width - left - right) for d in (-step / 2, step / 2)
            )
            x0, x1 = max(x0, left), min(x1, width - right)
            parts.append(
                f"<rect class='explorer-diverged' x='{x0:.1f}' y='{top}' width='{x1 - x0:.1f}' "
                f"height='{height - top - bottom}' fill='#f4c7c3'/>"
            )
        if np.isnan(accuracies).any():
            first = lrs[np.flatnonzero(np.isnan(accuracies))[0]]
            right_half = x(first) > (left + width - right) / 2  # the word then ends at the band, inside the frame
            anchor = "end" if right_half else "start"
            parts.append(
                f"<text x='{x(first) + (-3 if right_half else 3):.1f}' y='{top + 12}' fill='#b00' "
                f"text-anchor='{anchor}'>diverged</text>"
            )
    # axes: a frame, chance, ticks at the powers of ten and at 0 / 50 / 100 %
    parts.append(
        f"<rect x='{left}' y='{top}' width='{width - left - right}' height='{height - top - bottom}' "
        "fill='none' stroke='#888'/>"
    )
    parts.append(
        f"<line x1='{left}' x2='{width - right}' y1='{y(CHANCE):.1f}' y2='{y(CHANCE):.1f}' "
        "stroke='#999' stroke-dasharray='2,2'/>"
    )
    for exponent in range(int(np.ceil(x_lo)), int(np.floor(x_hi)) + 1):
        px = x(10.0**exponent)
        parts.append(
            f"<line x1='{px:.1f}' x2='{px:.1f}' y1='{height - bottom}' y2='{height - bottom + 4}' stroke='#888'/>"
            f"<text x='{px:.1f}' y='{height - bottom + 16}' text-anchor='middle'>{_power_label(exponent)}</text>"
        )
    for accuracy in (0.0, 0.5, 1.0):
        parts.append(f"<text x='{left - 4}' y='{y(accuracy) + 4:.1f}' text-anchor='end'>{100 * accuracy:.0f}%</text>")
    parts.append(
        f"<text x='{(left + width - right) / 2:.0f}' y='{height - 2}' text-anchor='middle' fill='#555'>"
        "learning rate (log scale)</text>"
    )
    if lrs is not None:
        segments, points = [], []
        for lr, accuracy in zip(lrs, accuracies):
            if np.isnan(accuracy):
                segments.append(points)
                points = []
            else:
                points.append(f"{x(lr):.1f},{y(accuracy):.1f}")
        for points in segments + [points]:
            if points:
                parts.append(
                    f"<polyline points='{' '.join(points)}' fill='none' stroke='{NOW[1]}' stroke-width='1.5'/>"
                )
    if current_lr is not None:
        ok = current_accuracy is not None and not np.isnan(current_accuracy)
        cy = y(current_accuracy) if ok else height - bottom
        parts.append(
            f"<circle class='explorer-marker' data-lr='{format_lr(current_lr)}' cx='{x(current_lr):.1f}' "
            f"cy='{cy:.1f}' r='5' fill='{NOW[0] if ok else '#b00'}' stroke='white'/>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _wrap(text: str, width: int) -> list:
    import textwrap

    return textwrap.wrap(text, width) if text else []


def _power_label(exponent: int) -> str:
    """Tick labels of the lr axis that fit 50 px apart: 1e-4 ... 0.1, 1, 10."""
    return format_lr(10.0**exponent) if exponent >= -1 else f"1e{exponent}"


def _draw_landscape(ax, grid, marked=()) -> None:
    """The grid's final test accuracies (%) against the learning rate on ``ax``: diverged learning rates shaded,
    chance dotted, a dot and a label at each lr in ``marked``."""
    accuracies = 100 * grid.accuracies()
    ax.semilogx(grid.lrs, accuracies, color=NOW[1], lw=1.8, marker=".", ms=4)
    step = np.log10(grid.lrs[1] / grid.lrs[0]) / 2 if len(grid.lrs) > 1 else 0.05
    for lr in grid.lrs[np.isnan(accuracies)]:
        ax.axvspan(lr / 10**step, lr * 10**step, color="#f4c7c3", lw=0)
    for lr in marked:
        i = grid.index(lr)
        ax.plot(grid.lrs[i], accuracies[i], "o", color=NOW[0], ms=8, zorder=3)
        ax.annotate(
            f"lr {format_lr(lr)}",
            (grid.lrs[i], accuracies[i]),
            textcoords="offset points",
            xytext=(6, -14),
            fontsize=9,
            color=NOW[0],
        )
    ax.axhline(100 * CHANCE, color="0.6", lw=0.8, ls=":")
    ax.set(xlabel="learning rate (log scale)", ylabel="final test accuracy (%)", ylim=(0, 100))


def accuracy_vs_lr_figure(grid, marked=(), title: str = "final test accuracy vs learning rate"):
    """The landscape as a static matplotlib figure (for readers without a kernel): the grid's final test
    accuracies against the learning rate, diverged learning rates shaded, a dot at each lr in ``marked``."""
    import matplotlib.pyplot as plt

    with mpl.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(PROJECTOR_WIDTH, 3.2))  # shown unshrunk on a projector: 9 pt is 12.5 px
        _draw_landscape(ax, grid, marked)
        ax.set_title(title)
        fig.tight_layout()
    return fig


def explorer_view_figure(grid, lr: float):
    """What the explorer shows for the grid's run at ``lr``, as one static figure (a page without a kernel
    shows it in the widget's place): that run's running loss and test accuracy against the step, in the
    explorer's colours, and under them the grid's accuracy-vs-learning-rate landscape with the run marked.
    The title is the run's status label. -> matplotlib Figure, 3 panels (loss, accuracy, landscape)."""
    import matplotlib.pyplot as plt

    history = grid.histories[grid.index(lr)]
    # two rows, at most 592 px wide as saved: shown unshrunk in a projector's output area (and in a book's
    # column), where 9 pt at 100 dpi is 12.5 px; three panels in a row would be shrunk to two thirds
    with mpl.rc_context(STYLE):
        fig = plt.figure(figsize=(PROJECTOR_WIDTH, 5.4))
        rows = fig.add_gridspec(2, 2, height_ratios=[1, 1.1])
        loss_ax, acc_ax, lr_ax = fig.add_subplot(rows[0, 0]), fig.add_subplot(rows[0, 1]), fig.add_subplot(rows[1, :])
        loss_ax.plot(history.steps, history.losses, **LOSS_LINE)
        acc_ax.plot(history.eval_steps, 100 * np.asarray(history.test_accuracies), **ACCURACY_LINE)
        set_up_curve_axes(loss_ax, acc_ax, chance_fontsize=9)
        _draw_landscape(lr_ax, grid, marked=[lr])
        lr_ax.set_title("final test accuracy vs learning rate")
        headline = (
            f"test accuracy {100 * history.final_test_accuracy:.2f}%"
            if history.diverged_at is None
            else f"diverged at step {history.diverged_at:,}"
        )
        fig.suptitle(f"{headline} · from the grid\n{status_label(history.config)}", fontsize=10)
        fig.tight_layout()
    return fig
