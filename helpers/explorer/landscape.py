"""The accuracy-vs-lr widget: redrawn when a run is shown, while its grid trains, and when the grid is ready."""

from __future__ import annotations

import threading

import numpy as np

from .figure import landscape_svg
from .settings import format_lr, grid_key


class Landscape:
    """Keeps ``widget`` (an HTML widget) showing the grid of the shown run, with a dot at that run.

    grids    the explorer's GridStore; lr_grid() the slider's values now.
    Both worker threads draw here, so drawing takes a lock.
    """

    def __init__(self, widget, grids, lr_grid):
        self.widget, self.grids, self.lr_grid = widget, grids, lr_grid
        self.shown = None  # the History whose dot is drawn
        self._lock = threading.Lock()

    def draw(self, shown=None, note: str | None = None) -> None:
        """Redraw for ``shown`` (default: the run drawn last); ``note`` replaces the line under the title."""
        with self._lock:
            self.shown = shown = shown or self.shown
            grid = None if shown is None else self.grids.get(shown.config, self.lr_grid())
            accuracy = None if shown is None or shown.diverged_at is not None else shown.final_test_accuracy
            lrs, accuracies = (None, None) if grid is None else (grid.lrs, grid.accuracies())
            # rule top has its live grid (training, or ready); other rules show their stored grid
            stored = (stored_landscape(shown.config.rule)
                      if grid is None and shown is not None and shown.config.rule != "top" else None)
            if stored is not None:
                lrs, accuracies, stored_note = stored
            if note is None:
                note = (f"{len(grid.lrs)} runs of {shown.config.steps:,} steps; the dot is the shown run" if grid
                        else stored_note if stored is not None
                        else f"empty for rule {shown.config.rule}: the learning-rate grid trains the top layer only "
                             "and results/rules.json has no row for it" if shown is not None and shown.config.rule != "top"
                        else "")
            marked = None if shown is None else shown.config.lr
            off = outside(marked, lrs)
            if off:  # a dot there would sit outside the plot: say where the run is instead
                note, marked = f"{off}. {note}" if note else off, None
            self.widget.value = landscape_svg(lrs, accuracies, marked, accuracy, note)

    def concerns(self, config) -> bool:
        """True if a grid for ``config`` is the grid of the shown run."""
        return self.shown is not None and grid_key(config) == grid_key(self.shown.config)

    def progress(self, config, fraction: float) -> None:
        if self.concerns(config):
            self.draw(note=f"training every learning rate of the slider ... {fraction:.0%}")


def outside(lr, lrs) -> str:
    """'' if ``lr`` lies within the grid ``lrs`` (or either is None), else why the plot has no dot for it:
    'no dot: lr 10 is outside 0.001-0.1' (one line of the small plot)."""
    if lr is None or lrs is None or len(lrs) == 0:
        return ""
    low, high = float(np.min(lrs)), float(np.max(lrs))
    if low * (1 - 1e-9) <= lr <= high * (1 + 1e-9):
        return ""
    return f"no dot: lr {format_lr(lr)} is outside {format_lr(low)}-{format_lr(high)}"


def stored_landscape(rule: str):
    """(lrs, validation accuracies, note) of ``rule``'s row in results/rules.json, or None (no file, no row).

    Retraining a rule other than top at every learning rate takes minutes; the stored comparison
    (``python -m helpers rules``) already holds its grid, measured on the baseline's protocol.
    """
    from ..comparison import load_results

    try:
        results = load_results()
    except (OSError, ValueError):
        return None
    row = next((r for r in results.get("rules", []) if r["rule"] == rule), None)
    if row is None:
        return None
    settings = results["settings"]
    lrs = np.array([g["lr"] for g in row["grid"]], dtype=float)
    accuracies = np.array([g["validation_mean"] for g in row["grid"]], dtype=float)
    seeds = ", ".join(str(s) for s in settings["seeds"])
    return lrs, accuracies, (f"stored results (results/rules.json): validation accuracy at {settings['select_steps']:,} "
                             f"steps, mean of seeds {seeds}; the dot is the shown run")
