"""The explorer's words: status line and legend, as small HTML snippets.

The status names what the curves show (rule, lr, hidden size, steps, seed:
``settings.status_label``), how it was obtained (from the grid, trained,
stopped, diverged) and how long the reader waited for it, counted from the
change that asked for it. The legend uses the same label, so the two never
disagree.
"""

from __future__ import annotations

import html
import re

from .figure import BEFORE, NOW
from .settings import differences, status_label


def swatch(colors) -> str:
    return "".join(f"<span style='color:{color}'>&#9644;</span>" for color in colors)


def legend(shown, previous=None, previous_drawn: bool = True) -> str:
    """One line: which curve is the shown run, and what the grey previous run changed against it.

    The drawn run is called "shown", never "now": while a new run trains,
    the curves are still those of an older run.
    """
    parts = []
    if shown is not None:
        parts.append(f"{swatch(NOW)} shown: {html.escape(status_label(shown.config))}")
    if previous is not None:
        if previous_drawn:
            parts.append(f"{swatch(BEFORE)} previous: {html.escape(differences(shown.config, previous.config))}")
        else:
            parts.append("previous run not drawn (a diverged run has the axes of its own steps)")
    return f"<small>{' &nbsp; '.join(parts)}</small>"


def how(history) -> str:
    """The one word of how a shown run was obtained: from the grid, trained, stopped, diverged."""
    if history.diverged_at is not None:
        return "diverged"
    if history.cancelled:
        return "stopped"
    return "trained"


def summary(history, how_obtained: str, waited: float) -> str:
    """The status line of a shown run: its result and settings, how it was obtained, how long the reader waited.

    how_obtained  'from the grid', 'trained', 'trained, features for H=128 computed', 'stopped', ...
    waited        seconds from the change that asked for it (not the training alone).
    """
    label = html.escape(status_label(history.config))
    if history.diverged_at is not None:
        headline = (
            f"<b style='color:#b00'>diverged at step {history.diverged_at:,}</b> "
            f"(batch loss {history.diverged_loss:.3g}; try a smaller lr)"
        )
    elif history.cancelled:
        evaluated = (
            f"test accuracy {100 * history.test_accuracies[-1]:.2f}% at step {history.eval_steps[-1]:,}"
            if history.test_accuracies
            else "not evaluated yet"
        )
        headline = f"<b>stopped at step {history.steps_done:,} of {history.config.steps:,}</b> ({evaluated})"
    else:
        headline = f"<b>test accuracy {100 * history.final_test_accuracy:.2f}%</b>"
    return " &middot; ".join([headline, label, html.escape(how_obtained), f"waited {waited:.2f} s"])


def working(text: str) -> str:
    """A status that says an answer is on its way."""
    return f"<i style='color:#555'>{html.escape(text)}</i>"


def error(exception, trace: str) -> str:
    return f"<span style='color:#b00'>error: {html.escape(repr(exception))}</span><pre>{html.escape(trace)}</pre>"


def plain(snippet: str) -> str:
    """The text a reader sees in an HTML snippet (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", snippet.replace("<br>", "\n")))
