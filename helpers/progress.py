"""A one-line progress bar on stderr for the command line (``train`` and ``rules`` draw it)."""

from __future__ import annotations

import sys


class TerminalProgress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    Log lines go through :meth:`print_line`, which clears the bar first so
    that the two never share a line. ``label`` (e.g. "fa lr 0.03 seed 1") is
    drawn after the count.
    """

    def __init__(self, stream=None, unit: str = "step"):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.unit, self.label = unit, ""

    def __call__(self, step, total):
        if self.enabled:
            filled = int(30 * step / total)
            label = f"  {self.label}" if self.label else ""
            self.stream.write(f"\r\x1b[K[{'#' * filled}{'.' * (30 - filled)}] {self.unit} {step}/{total}{label}")
            if step == total:
                self.clear()
            self.stream.flush()
        return False  # never cancels

    def clear(self):
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def print_line(self, line: str):
        self.clear()
        print(line, flush=True)
