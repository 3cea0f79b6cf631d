"""A one-line sign of work under the running cell: what a call that blocks the cell is waiting for.

In a Jupyter kernel the line is an HTML widget displayed in the cell's output and updated in place (so
a cell that waits shows what it waits for, with its progress); elsewhere (scripts, tests, benchmarks)
nothing is shown. Where widgets cannot render, and for nbval, the output's text/plain is one fixed line:
it never holds a number that changes from run to run.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

PLAIN = "(a progress line of the explorer: shown while this cell waits)"


class _Line(widgets.HTML):
    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = PLAIN
        return bundle


def in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Notice:
    """``Notice(text)`` shows ``text`` (in a kernel); ``update(text)`` rewrites it; ``done(text)`` ends it
    (None: the line disappears)."""

    def __init__(self, text: str):
        self.widget = None
        if in_kernel():
            from IPython.display import display

            self.widget = _Line(self._html(text, busy=True))
            display(self.widget)

    @staticmethod
    def _html(text: str, busy: bool) -> str:
        color = "#555" if busy else "#222"
        return f"<span style='color:{color}'>{'&#8987; ' if busy else ''}{html.escape(text)}</span>"

    def update(self, text: str) -> None:
        if self.widget is not None:
            self.widget.value = self._html(text, busy=True)

    def done(self, text: str | None = None) -> None:
        if self.widget is None:
            return
        if text is None:
            self.widget.layout.display = "none"
        else:
            self.widget.value = self._html(text, busy=False)
