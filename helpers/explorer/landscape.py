"""The accuracy-vs-lr widget: redrawn when a run is shown, while its grid trains, and when the grid is ready."""

from __future__ import annotations

import threading

from .figure import landscape_svg
from .settings import grid_key


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
            if note is None:
                note = (f"{len(grid.lrs)} runs of {shown.config.steps:,} steps; the dot is the shown run" if grid
                        else f"empty for rule {shown.config.rule}: the learning-rate grid trains the top layer only "
                             "(rule top fills it)" if shown is not None and shown.config.rule != "top"
                        else "")
            self.widget.value = landscape_svg(None if grid is None else grid.lrs,
                                              None if grid is None else grid.accuracies(),
                                              None if shown is None else shown.config.lr, accuracy, note)

    def concerns(self, config) -> bool:
        """True if a grid for ``config`` is the grid of the shown run."""
        return self.shown is not None and grid_key(config) == grid_key(self.shown.config)

    def progress(self, config, fraction: float) -> None:
        if self.concerns(config):
            self.draw(note=f"training every learning rate of the slider ... {fraction:.0%}")
