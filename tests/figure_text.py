"""The smallest text of each figure a notebook stores, in points: what a PNG does not record.

A stored figure is a PNG: its pixels and its dpi, not the font sizes it was drawn with. Those are set by the
helper that drew it (helpers.plots, helpers.explorer.figure), not by the data: so each figure is drawn again
here by the helper its cell calls, on the stored results where the cell uses them (results/*.json) and on small
made-up data elsewhere, with the call's own arguments where they can be read without the notebook's variables
(sizes, columns, titles; an f-string's fields count as four characters each), and the texts drawn into its
PNG are recorded at their size (a log tick's exponent, drawn about 0.7 times smaller, counts at its label's
size, as in tests/test_plots_projector.py). A cell that changes its figure after the helper drew it (``fig.``)
is refused: that change would go unmeasured.

``stored_figures`` pairs every PNG output of a notebook with that census; a PNG whose cell calls no helper
known here is an error, so a new figure cannot go unmeasured. The redrawn figure's width is kept too: far from
the stored PNG's, the stored output is not what the helper draws. ``drawn_figures`` gives the same census for
every figure call of a notebook's code, outputs or none: what a re-executed notebook will store.

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

# the helpers that draw the stored figures of notebooks 01-08 (a census for each in draw())
FIGURE_CALL = re.compile(
    r"\b(?:plots\.)?(explorer_view_figure|accuracy_vs_lr_figure|computational_graph|gradcheck_sweep|"
    r"training_curves|direction_decay|feature_spectra|optimizer_sweep|width_curves|"
    r"baselines_bars|rule_curves|alignment_angles|digit_grid|class_balance|pixel_histogram|"
    r"activation_histograms|forward_pass_picture|running_loss_start|weight_images|"
    r"confusion_matrix|misclassified_digits)\("
)
CHANGED_AFTER = re.compile(r"\bfig\.(?!savefig)\w+")  # fig.suptitle(...), fig.axes[0].set_title(...): unmeasured


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
        return (
            f"{self.notebook} cell {self.cell}"
            + (f" figure {self.output + 1}" if self.output else "")
            + f" ({self.helper})"
        )


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


def _value(node: ast.expr):
    """A keyword argument's value as far as it can be known without the notebook's variables: a literal or an
    expression of literals and range() (titles=[f"unit {j}" for j in range(20)]); an f-string on the
    notebook's variables with each field as "0000"; else None (the census then uses its own)."""
    try:
        return eval(compile(ast.Expression(node), "<cell>", "eval"), {"__builtins__": {}, "range": range})
    except Exception:  # a name of the notebook's: not knowable here
        pass
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "0000" for part in node.values)
    return None


def _call_kwargs(source: str, helper: str, occurrence: int = 0) -> dict:
    """The knowable keyword arguments of the ``occurrence``-th call of ``helper`` in ``source``
    (e.g. computational_graph(width=8), digit_grid(..., ncols=6, cell=0.9))."""
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == helper
    ]
    calls.sort(key=lambda node: (node.lineno, node.col_offset))  # the order FIGURE_CALL finds them in
    if occurrence >= len(calls):
        return {}
    kwargs = {k.arg: _value(k.value) for k in calls[occurrence].keywords if k.arg}
    return {k: v for k, v in kwargs.items() if v is not None}


def draw(helper: str, source: str, root: Path, occurrence: int = 0):
    """The figure ``helper`` draws for the cell ``source`` (its ``occurrence``-th call there): stored results
    where the notebook uses them, made-up data of the notebook's shapes elsewhere, the call's knowable arguments."""
    from helpers import baselines, comparison, plots
    from helpers.explorer import figure

    kwargs = _call_kwargs(source, helper, occurrence)
    title = kwargs.get("title")
    sizes = {k: v for k, v in kwargs.items() if k in ("ncols", "cell", "count", "suptitle", "titles", "width")}
    rng = np.random.default_rng(0)
    if helper == "computational_graph":
        return plots.computational_graph(**sizes)
    if helper == "gradcheck_sweep":
        steps = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
        names = ("W1", "b1", "W2", "b2", "W3", "b3")
        return plots.gradcheck_sweep({h: {n: 1e-9 / h + h for n in names} for h in steps}, title=title)
    if helper == "explorer_view_figure":
        return figure.explorer_view_figure(_grid(), 1e-3)
    if helper == "accuracy_vs_lr_figure":
        return figure.accuracy_vs_lr_figure(_grid(), marked=[1e-3], **({"title": title} if title else {}))
    if helper == "training_curves":  # five runs: the most any notebook draws, the longest legend
        return plots.training_curves(
            [_history(a) for a in (0.14, 0.48, 0.77, 0.84, 0.82)],
            labels=["lr 0.0001", "lr 0.001", "lr 0.01", "lr 0.1", "lr 1"],
            title=title,
        )
    if helper == "direction_decay":
        x = np.logspace(-4, 3, 129)
        runs = {
            f"{name}, lr {lr:g}": (lr * 1e4 * x, np.exp(-0.045 * x))
            for name, lr in [("raw", 1e-3), ("centered", 1e-3), ("scaled", 1e-3), ("standardized", 1e-3), ("raw", 1e-2)]
        }
        return plots.direction_decay(runs, 0.045, title=title)
    if helper == "feature_spectra":
        spectra = {
            f"{name} features": np.logspace(2, -5, 129) for name in ("raw", "centered", "scaled", "standardized")
        }
        return plots.feature_spectra(
            spectra, threshold=0.22, threshold_label=kwargs.get("threshold_label"), title=title
        )
    if helper == "digit_grid":  # 30 images unless the call titles them one by one
        n = len(sizes.get("titles", range(30)))
        return plots.digit_grid(rng.random((n, 784)), rng.integers(0, 10, n), **sizes)
    if helper == "misclassified_digits":
        labels = rng.integers(0, 10, 100)
        return plots.misclassified_digits(
            rng.random((100, 784)), labels, (labels + 1) % 10, probs=rng.dirichlet(np.ones(10), 100), **sizes
        )
    if helper == "weight_images":  # W1's columns are 28 x 28 pictures, W3's 8 x 16
        rows, columns = (784, 20) if '"W1"' in source else (128, 10)
        return plots.weight_images(rng.normal(size=(rows, len(sizes.get("titles", range(columns))))), **sizes)
    if helper == "class_balance":
        splits = {name: rng.integers(0, 10, n) for name, n in (("train", 55000), ("validation", 5000), ("test", 10000))}
        return plots.class_balance(splits, title=title)
    if helper == "pixel_histogram":
        images = rng.random((200, 784))
        return plots.pixel_histogram(np.where(images < 0.8, 0.0, np.where(images > 0.95, 1.0, images)))
    if helper == "activation_histograms":  # notebook 2's three schemes and two hidden layers
        hidden = [np.maximum(rng.normal(size=(100, 128)), 0) for _ in range(2)]
        return plots.activation_histograms({name: hidden for name in ("reference", "Glorot", "He")}, title=title)
    if helper == "forward_pass_picture":
        return plots.forward_pass_picture(
            rng.random(784), rng.random(128), rng.random(128), rng.dirichlet(np.ones(10)), label=3, title=title
        )
    if helper == "running_loss_start":
        losses = 2.3 + 0.3 * rng.standard_normal(300)
        return plots.running_loss_start(losses, np.linspace(2.0, 2.3, 300), 0.99, title=title)
    if helper == "confusion_matrix":  # four-digit counts on the diagonal: the widest a test set of 10,000 gives
        confusion = rng.integers(0, 60, (10, 10)) + np.diag(rng.integers(900, 1100, 10))
        return plots.confusion_matrix(confusion, title=title)
    rows = baselines.load_results(root / "results" / "baselines.json")["rows"]
    if helper == "optimizer_sweep":
        return plots.optimizer_sweep(
            [r for r in rows if "sweep" in r["parts"]],
            reference=85.7,
            reference_label=kwargs.get("reference_label"),
            title=title,
        )
    if helper == "width_curves":
        return plots.width_curves([r for r in rows if "widths" in r["parts"]], title=title)
    if helper == "baselines_bars":
        return plots.baselines_bars(rows[:16], title=title)
    rules = comparison.load_results(root / "results" / "rules.json")["rules"]
    if helper == "rule_curves":
        return plots.rule_curves(rules, title=title)
    if helper == "alignment_angles":
        return plots.alignment_angles(rules, title=title)
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


@dataclass
class DrawnFigure:
    """A figure call of a notebook's code, drawn by its helper: the PNG a (re-)executed notebook stores."""

    notebook: str
    cell: int
    helper: str
    width: int  # pixels, saved as the notebook saves it (bbox "tight")
    dpi: float
    smallest_pt: float
    smallest_text: str

    @property
    def name(self) -> str:
        return f"{self.notebook} cell {self.cell} ({self.helper})"

    @property
    def smallest_px(self) -> float:
        """The smallest text's height on a projector: shrunk to the output area when wider than it."""
        from helpers.plots import SHOWN_WIDTH_PX

        return self.smallest_pt * self.dpi / 72 * min(1.0, SHOWN_WIDTH_PX / self.width)


def _figure_calls(cell_source: str, where: str) -> list:
    """The helpers a code cell calls to draw its figures, in order; a cell that changes a figure afterwards is refused."""
    helpers = FIGURE_CALL.findall(cell_source)
    changed = CHANGED_AFTER.findall(cell_source)
    if helpers and changed:
        raise ValueError(
            f"{where} changes its figure after the helper drew it ({changed}): tests/figure_text.py "
            "measures what the helper draws; pass it as the helper's argument"
        )
    return helpers


def _census(helper: str, source: str, root: Path, occurrence: int):
    """(saved width px, dpi, smallest size pt, its text) of the figure ``helper`` draws for ``source``."""
    import matplotlib.pyplot as plt

    fig = draw(helper, source, root, occurrence)
    try:
        width, texts = drawn_texts(fig)
        size, text = min(texts)
        return width, float(fig.dpi), size, text
    finally:
        plt.close(fig)


def drawn_figures(notebook: Path, root: Path) -> list:
    """Every figure call in ``notebook``'s code cells as a DrawnFigure, in the notebook's order (outputs unread)."""
    import matplotlib

    matplotlib.use("Agg")
    found = []
    for index, cell in enumerate(json.loads(notebook.read_text())["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        helpers = _figure_calls(source, f"{notebook.name} cell {index}")
        for k, helper in enumerate(helpers):
            census = _census(helper, source, root, occurrence=helpers[:k].count(helper))
            found.append(DrawnFigure(notebook.name, index, helper, *census))
    return found


def stored_figures(notebook: Path, root: Path) -> list:
    """Every PNG output of ``notebook`` as a StoredFigure, in the notebook's order."""
    import matplotlib

    matplotlib.use("Agg")
    from PIL import Image

    found = []
    cells = json.loads(notebook.read_text())["cells"]
    for index, cell in enumerate(cells):
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if not pngs:
            continue
        source = "".join(cell["source"])
        helpers = _figure_calls(source, f"{notebook.name} cell {index}")
        if len(helpers) != len(pngs):
            raise ValueError(
                f"{notebook.name} cell {index} stores {len(pngs)} figure(s) and calls {helpers}: "
                "tests/figure_text.py has no census for it"
            )
        for k, (helper, png) in enumerate(zip(helpers, pngs)):
            image = Image.open(io.BytesIO(base64.b64decode(png)))
            width, _, size, text = _census(helper, source, root, helpers[:k].count(helper))
            found.append(
                StoredFigure(
                    notebook.name, index, k, helper, image.size[0], float(image.info["dpi"][0]), size, text, width
                )
            )
    return found
