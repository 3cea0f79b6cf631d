"""An ipywidgets explorer: move a slider, the curves of that training run appear.

    from helpers.explorer import Explorer
    explorer = Explorer()          # loads MNIST, answers the reference run once
    explorer.widget                # display it (JupyterLab, Voila)
    explorer.update(lr=0.1)        # what a slider does, callable from code; returns the History

Why it answers fast. With the lower layers frozen, their output for every
image (the frozen features, 55,000 x H) depends only on (hidden size, seed,
init): it is cached per key (``cache``), and a learning-rate, steps or
batch-size change retrains only the top layer (a few tenths of a second).
Once a run is shown, a background worker trains every value the
learning-rate slider can take in one stacked pass (``grid``); a
learning-rate change is then looked up, not trained, and the slider answers
while it is dragged. "All layers" runs have no such shortcut: they retrain
with a progress bar and a stop button.

Memory (a class shares one server; ``benchmarks/bench_memory.py`` measures it).
The explorer's MNIST (the app loads it; notebook 6 passes the same) keeps the
pixels as bytes (``compact``: 55 MB instead of 0.44 GB of float64) and converts
the rows a computation reads (a batch, a chunk of features): every rule's runs
are those of ``load_mnist()``'s float64 images, bit for bit. In a Jupyter kernel,
freed heap is handed back after every cell; the feature cache holds 200 MB (one H = 1024 entry only while it is
the newest); features above 150 MB in float64 (H 512, 1024) are kept in
float32 and train their grid one run at a time, not in the stack that copies
them; freed heap is handed back after each grid. Up to H 256 no number shown
changes: the features are the same bits. At H 512 and 1024 the status says
"(float32)": measured at H 512, the same test accuracies to the hundredth of a
percent and running losses within 4e-9 relative of float64 features; and a grid
trained one run at a time is ``train()``'s runs (equal to the stack's to 1e-12,
except in the chaotic range, lr 3 and above, where no two orders of summation
agree past the first steps).

``Explorer(dtype="float32")`` is the opt-in float32: MNIST's bytes read as float32,
and every run, feature and grid computed in float32 (the grid in about 0.7 of the
float64 time, docs/measurements.md); the status says "(float32)". Digits move
(at chaotic learning rates, points), so the notebooks keep the float64 default.

One module per job: ``settings`` (what the controls offer, how values are
written), ``controls`` (widgets and layout), ``worker`` (a thread that runs
only the newest request), ``cache`` (frozen features), ``compact`` (MNIST as
bytes), ``grid`` (the learning-rate grid), ``landscape`` (the small plot),
``notice`` (a progress line under a cell), ``figure`` (the curves and the
landscape), ``text`` (status and legend), ``app`` (the Explorer that wires them).
"""

from .app import Explorer, kernel_started, wait_for_visitor
from .cache import FeatureCache
from .controls import READABLE, Controls, ExplorerView
from .figure import CurvePlot, landscape_svg
from .grid import GridStore, LrGrid, train_grid
from .settings import (
    BATCH_SIZES,
    CHANCE,
    HIDDEN_SIZES,
    LR_READOUT_FORMAT,
    STEP_COUNTS,
    describe,
    explorer_config,
    format_lr,
    grid_index,
    grid_key,
    init_options,
    lr_grid,
    optimizer_options,
)
from .worker import Worker

__all__ = [
    "BATCH_SIZES",
    "CHANCE",
    "HIDDEN_SIZES",
    "LR_READOUT_FORMAT",
    "READABLE",
    "STEP_COUNTS",
    "Controls",
    "CurvePlot",
    "Explorer",
    "ExplorerView",
    "FeatureCache",
    "GridStore",
    "LrGrid",
    "Worker",
    "describe",
    "explorer_config",
    "format_lr",
    "grid_index",
    "grid_key",
    "init_options",
    "landscape_svg",
    "kernel_started",
    "lr_grid",
    "optimizer_options",
    "train_grid",
    "wait_for_visitor",
]
