"""The explorer's words: status line and legend, as small HTML snippets."""

from __future__ import annotations

import html
import re

from .figure import BEFORE, NOW
from .settings import describe


def swatch(colors) -> str:
    return "".join(f"<span style='color:{color}'>&#9644;</span>" for color in colors)


def legend(shown, previous=None, note: str = "") -> str:
    """Which curve is which run: 'shown' (the drawn run) and 'previous', plus a note (a run on its way or stopped).

    The drawn run is called "shown", never "now": while a new run trains,
    or after one is stopped, the curves are still those of an older run.
    """
    rows = []
    if shown is not None:
        rows.append(f"{swatch(NOW)} <small>shown: {html.escape(describe(shown.config))}</small>")
    if previous is not None:
        rows.append(f"{swatch(BEFORE)} <small>previous: {html.escape(describe(previous.config))}</small>")
    if note:
        rows.append(f"<small><i>{html.escape(note)}</i></small>")
    return "<br>".join(rows)


def summary(history, how: str, seconds: float) -> str:
    """The status line of a finished run: its result, how it was obtained, how long the answer took."""
    if history.diverged_at is not None:
        headline = f"<b style='color:#b00'>diverged at step {history.diverged_at:,}</b>"
        detail = html.escape(history.message.split(": ", 1)[-1])
    else:
        headline = f"<b>test accuracy {100 * history.final_test_accuracy:.2f}%</b> after {history.steps_done:,} steps"
        detail = ""
    parts = [headline, detail, html.escape(how), f"answered in {seconds:.2f} s"]
    return " &middot; ".join(part for part in parts if part)


def stopped(history, shown) -> str:
    """The status after 'stop': where the run stopped and which run the curves show instead."""
    what = f"the curves show {describe(shown.config)}" if shown is not None else "no run is shown"
    return html.escape(f"stopped at step {history.steps_done:,} of {history.config.steps:,}; {what}")


def stopped_note(history) -> str:
    """The legend's line for a stopped run: it is not drawn."""
    return f"stopped at step {history.steps_done:,} (not shown): {describe(history.config)}"


def working(text: str) -> str:
    """A status that says an answer is on its way."""
    return f"<i style='color:#555'>{html.escape(text)}</i>"


def error(exception, trace: str) -> str:
    return (f"<span style='color:#b00'>error: {html.escape(repr(exception))}</span>"
            f"<pre>{html.escape(trace)}</pre>")


def plain(snippet: str) -> str:
    """The text a reader sees in an HTML snippet (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", snippet.replace("<br>", "\n")))
