"""The smallest text of each figure a notebook stores, in points: what a PNG does not record.

A stored figure is a PNG: its pixels and its dpi, not the font sizes it was drawn with. Those are set by the
helper that drew it (helpers.plots, helpers.explorer.figure), not by the data: so each figure is drawn again
here by the helper its cell calls, on the stored results where the cell uses them (results/*.json) and on small
made-up data elsewhere, with the call's size arguments (computational_graph's width), and the texts drawn into
its PNG are recorded at their size (a log tick's exponent, drawn about 0.7 times smaller, counts at its label's
size, as in tests/test_plots_projector.py). ``stored_figures`` pairs every PNG output of a notebook with that
census; a PNG whose cell calls no helper known here is an error, so a new figure cannot go unmeasured. The
redrawn figure's width is kept too: far from the stored PNG's, the stored output is not what the helper draws.

The browser test (tests/test_browser.py) measures how much JupyterLab shrinks each stored PNG; with the PNG's
dpi and this smallest size in points that gives the smallest text's height on the screen.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# the helpers that draw the stored figures of notebooks 04, 06, 07 and 08 (a census for each in draw())
FIGURE_CALL = re.compile(r"\b(?:plots\.)?(explorer_view_figure|accuracy_vs_lr_figure|computational_graph|gradcheck_sweep|"
                         r"training_curves|direction_decay|feature_spectra|optimizer_sweep|width_curves|"
                         r"baselines_bars|rule_curves|alignment_angles)\(")


@dataclass
class StoredFigure:
    """One PNG output of a notebook and the smallest text of the figure its helper draws."""

    notebook: str  # file name
    cell: int  # index in the notebook's cells
    output: int  # index of the PNG among the cell's PNG outputs
    helper: str  # the helper that drew it
    png_width: int  # pixels, as stored
    png_dpi: float  # pixels per inch, as stored (the PNG's pHYs)
    smallest_pt: float  # the smallest visible text of the helper's figure, in points
    smallest_text: str  # that text
    redrawn_width: int  # pixels of the helper's figure saved as the notebook saves it (bbox "tight")

    @property
    def name(self) -> str:
        return f"{self.notebook} cell {self.cell}" + (f" figure {self.output + 1}" if self.output else "") + \
            f" ({self.helper})"


def _history(final: float, lr: float = 1e-3, steps: int = 10000, seed: int = 0):
    from helpers.train import History, TrainConfig

    h = History(TrainConfig(lr=lr, steps=steps, seed=seed))
    h.steps, h.losses = list(range(0, steps + 1, 250)), list(np.linspace(2.3, 0.9, steps // 250 + 1))
    h.eval_steps = list(range(0, steps + 1, 1000))
    h.test_accuracies = list(np.linspace(0.1, final, len(h.eval_steps)))
    h.steps_done = steps
    return h


def _grid():
    """An explorer grid (every slider value) of made-up runs, the last few diverged."""
    from helpers.explorer.grid import LrGrid
    from helpers.explorer.settings import lr_grid

    lrs = lr_grid()
    histories = [_history(0.1 + 0.8 * i / len(lrs), lr=float(lr)) for i, lr in enumerate(lrs)]
    for h in histories[-4:]:
        h.diverged_at = 100
    return LrGrid(key=(), lrs=lrs, histories=histories, top=[None] * len(lrs), seconds=0.0)


def _call_kwargs(source: str, helper: str) -> dict:
    """The literal keyword arguments of ``helper``'s call in ``source`` (e.g. computational_graph(width=8))."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == helper:
            return {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
    return {}


def draw(helper: str, source: str, root: Path):
    """The figure ``helper`` draws for the cell ``source``: stored results where the notebook uses them."""
    from helpers import baselines, comparison, plots
    from helpers.explorer import figure

    title = "A title as long as the notebooks' longest, which the helper wraps onto a second line"
    if helper == "computational_graph":
        return plots.computational_graph(**{k: v for k, v in _call_kwargs(source, helper).items() if k == "width"})
    if helper == "gradcheck_sweep":
        steps = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
        names = ("W1", "b1", "W2", "b2", "W3", "b3")
        return plots.gradcheck_sweep({h: {n: 1e-9 / h + h for n in names} for h in steps}, title=title)
    if helper == "explorer_view_figure":
        return figure.explorer_view_figure(_grid(), 1e-3)
    if helper == "accuracy_vs_lr_figure":
        return figure.accuracy_vs_lr_figure(_grid(), marked=[1e-3], title=title)
    if helper == "training_curves":
        return plots.training_curves([_history(a) for a in (0.14, 0.48, 0.77, 0.84, 0.82)],
                                     labels=["lr 0.0001", "lr 0.001", "lr 0.01", "lr 0.1", "lr 1"], title=title)
    if helper == "direction_decay":
        x = np.logspace(-4, 3, 129)
        runs = {f"{name}, lr {lr:g}": (lr * 1e4 * x, np.exp(-0.045 * x)) for name, lr in
                [("raw", 1e-3), ("centered", 1e-3), ("scaled", 1e-3), ("standardized", 1e-3), ("raw", 1e-2)]}
        return plots.direction_decay(runs, 0.045, title=title)
    if helper == "feature_spectra":
        spectra = {f"{name} features": np.logspace(2, -5, 129) for name in ("raw", "centered", "scaled", "standardized")}
        return plots.feature_spectra(spectra, threshold=0.22, threshold_label="1 / (c x lr x steps) at lr 0.001", title=title)
    rows = baselines.load_results(root / "results" / "baselines.json")["rows"]
    if helper == "optimizer_sweep":
        return plots.optimizer_sweep([r for r in rows if "sweep" in r["parts"]], reference=85.7,
                                     reference_label="softmax readout, converged (mean of seeds 0-2)", title=title)
    if helper == "width_curves":
        return plots.width_curves([r for r in rows if "widths" in r["parts"]], title=title)
    if helper == "baselines_bars":
        return plots.baselines_bars(rows[:16], title=title)
    rules = comparison.load_results(root / "results" / "rules.json")["rules"]
    if helper == "rule_curves":
        return plots.rule_curves(rules)
    if helper == "alignment_angles":
        return plots.alignment_angles(rules)
    raise ValueError(f"no census for {helper}")


def drawn_texts(fig) -> tuple:
    """(width in pixels of the PNG a notebook stores of ``fig``, [(size in points, text)] of every text drawn in it).

    Saved as IPython's inline backend saves it (bbox "tight", the figure's dpi), with Agg's text drawing
    recorded: only what lands in the PNG counts (not the tick labels of an axis that is switched off).
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from PIL import Image

    drawn, original = [], RendererAgg.draw_text

    def recording(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if s.strip():
            drawn.append((prop.get_size_in_points(), s))
        return original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    buffer = io.BytesIO()
    RendererAgg.draw_text = recording
    try:
        fig.savefig(buffer, format="png", bbox_inches="tight", dpi=fig.dpi)
    finally:
        RendererAgg.draw_text = original
    return Image.open(io.BytesIO(buffer.getvalue())).size[0], drawn


def stored_figures(notebook: Path, root: Path) -> list:
    """Every PNG output of ``notebook`` as a StoredFigure, in the notebook's order."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    found = []
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if not pngs:
            continue
        source = "".join(cell["source"])
        helpers = FIGURE_CALL.findall(source)
        if len(helpers) != len(pngs):
            raise ValueError(f"{notebook.name} cell {index} stores {len(pngs)} figure(s) and calls {helpers}: "
                             "tests/figure_text.py has no census for it")
        for k, (helper, png) in enumerate(zip(helpers, pngs)):
            image = Image.open(io.BytesIO(base64.b64decode(png)))
            fig = draw(helper, source, root)
            try:
                width, texts = drawn_texts(fig)
                size, text = min(texts)
                found.append(StoredFigure(notebook.name, index, k, helper, image.size[0], float(image.info["dpi"][0]),
                                          size, text, width))
            finally:
                plt.close(fig)
    return found
