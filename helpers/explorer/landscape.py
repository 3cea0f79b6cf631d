"""The accuracy-vs-lr widget: redrawn when a run is shown, while its grid trains, and when the grid is ready."""

from __future__ import annotations

import threading

import numpy as np

from ..rules import trains_together
from .figure import NOTE_LINES, _wrap, landscape_svg
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
            stored = (
                stored_landscape(shown.config.rule, with_settings=True)
                if grid is None and shown is not None and not trains_together(shown.config.rule)
                else None
            )
            title, marked_lr = "final test accuracy vs learning rate", None if shown is None else shown.config.lr
            if stored is not None:
                lrs, accuracies, stored_note, stored_settings = stored
                title = "validation accuracy vs learning rate"  # the stored grid's curve: validation means
                # the dot only where the shown run is one of the stored runs' settings (its seed aside), and at its
                # validation accuracy, what the curve shows; a run of other settings is no point on this curve
                other = _differing_settings(shown.config, stored_settings)
                if not other and not lrs[0] <= shown.config.lr <= lrs[-1]:
                    other = f"lr\u00a0{format_lr(shown.config.lr)}, outside {format_lr(lrs[0])} to {format_lr(lrs[-1])}"
                if other:
                    marked_lr = None
                    stored_note = f"{stored_note}; no dot: the shown run has {other}"
                    if len(_wrap(stored_note, 42)) > NOTE_LINES:
                        stored_note = stored_note.split("; no dot")[0] + "; no dot: the shown run has other settings"
                else:
                    accuracy = None if shown.diverged_at is not None else shown.final_validation_accuracy
                    stored_note += "; the dot is the shown run"
            if note is None:
                note = (
                    f"{len(grid.lrs)} runs of {shown.config.steps:,} steps; the dot is the shown run"
                    if grid
                    else stored_note
                    if stored is not None
                    else f"empty for rule {shown.config.rule}: the learning-rate grid trains the top layer only "
                    "and results/rules.json has no row for it"
                    if shown is not None and not trains_together(shown.config.rule)
                    else ""
                )
            if stored is None:  # the live grid: a run outside it gets a note, not a dot off the plot
                off = outside(marked_lr, lrs)
                if off:
                    note, marked_lr = (f"{off}. {note}" if note else off), None
            self.widget.value = landscape_svg(lrs, accuracies, marked_lr, accuracy, note, title=title)

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


def _differing_settings(config, settings: dict) -> str:
    """The settings of ``config`` that the stored grid's runs did not have ('H 32, 1,000 steps'), or ''."""
    stored = {
        "hidden_size": settings["hidden_size"],
        "steps": settings["select_steps"],
        "batch_size": settings["batch_size"],
        "init": settings["init"],
        "optimizer": settings["optimizer"],
    }
    # no-break spaces: the note's line breaks never part a number from its name
    words = {
        "hidden_size": "H\u00a0{:,}",
        "steps": "{:,}\u00a0steps",
        "batch_size": "batch\u00a0{:,}",
        "init": "{}\u00a0init",
        "optimizer": "{}",
    }
    return ", ".join(
        words[key].format(getattr(config, key)) for key, value in stored.items() if getattr(config, key) != value
    )


def stored_landscape(rule: str, with_settings: bool = False):
    """(lrs, validation accuracies, note) of ``rule``'s row in results/rules.json, or None (no file, no row);
    ``with_settings``: the file's settings (hidden size, steps, ...) as a fourth item.

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
    note = (
        f"stored results (results/rules.json), H\u00a0{settings['hidden_size']}, {settings['select_steps']:,}\u00a0steps, "
        f"mean of seeds {seeds}"
    )
    return (lrs, accuracies, note, settings) if with_settings else (lrs, accuracies, note)
