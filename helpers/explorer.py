"""An ipywidgets explorer: move a slider, the network retrains, the curves redraw.

    from helpers.explorer import Explorer
    explorer = Explorer()          # loads MNIST, trains the reference run once
    explorer.widget                # display it (JupyterLab, Voila)
    explorer.update(lr=0.1)        # what a slider does, callable from code; returns the History

Why it answers fast: with the lower layers frozen, their output for every
image (``FrozenFeatures``, 55,000 x H) depends only on (hidden size, seed,
init), so it is cached per key and a learning-rate, steps or batch-size
change only retrains the top layer (about 0.3 s for 10,000 steps).

Why a background thread: "all layers" training takes seconds. Runs happen in
one worker thread, so the kernel keeps handling slider events; a new change
cancels the running run (through ``train``'s ``progress`` callback) and only
the newest request waits, so requests never pile up.

The curves are drawn with matplotlib's Agg canvas (no pyplot, so it is safe
in the worker thread and leaves the notebook's own figures alone) into an
``ipywidgets.Image`` that is replaced in place, no flicker.
"""

from __future__ import annotations

import html
import io
import math
import re
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import replace

import ipywidgets as widgets
import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .model import INIT_SCHEMES
from .plots import STYLE
from .train import TrainConfig, frozen_features, initial_params, train

HIDDEN_SIZES = (16, 32, 64, 128, 256, 512, 1024)
STEP_COUNTS = (1000, 2000, 5000, 10000, 20000, 50000)
BATCH_SIZES = (8, 16, 32, 64, 128, 256)
INIT_LABELS = {"reference": "reference: N(0,1)/sqrt(fan_out)", "xavier": "Xavier / Glorot", "he": "He"}
MODE_LABELS = {"top": "top layer only", "all": "all layers"}
CHANCE = 0.1  # ten classes: accuracy of guessing


def explorer_config(base: TrainConfig | None = None, **values) -> TrainConfig:
    """The TrainConfig of an explorer run: ``base`` with ``values`` replaced.

    The log and evaluation intervals scale with the number of steps (a tenth
    for the accuracy, a fortieth for the loss), which gives the reference's
    250 / 1000 at 10,000 steps and a readable curve at any length.
    """
    config = replace(base or TrainConfig(), **values)
    return replace(config, log_every=max(1, config.steps // 40), eval_every=max(1, config.steps // 10)).validate()


class FeatureCache:
    """Initial parameters and frozen features per (hidden_size, seed, init), least recently used out.

    ``max_bytes`` bounds the memory: at H = 1024 one entry is 0.5 GB. The
    newest entry is always kept, whatever its size.
    """

    def __init__(self, data, max_bytes: float = 2e9):
        self.data, self.max_bytes = data, max_bytes
        self.entries: OrderedDict = OrderedDict()  # key -> (params, FrozenFeatures)
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(config: TrainConfig) -> tuple:
        return (config.hidden_size, config.seed, config.init)

    def get(self, config: TrainConfig):
        """(params, features) for ``config``, and whether they came from the cache."""
        key = self.key(config)
        with self._lock:
            if key in self.entries:
                self.hits += 1
                self.entries.move_to_end(key)
                return self.entries[key] + (True,)
        params = initial_params(config)
        entry = (params, frozen_features(params, self.data))
        with self._lock:
            self.misses += 1
            self.entries[key] = entry
            while len(self.entries) > 1 and self.nbytes() > self.max_bytes:
                self.entries.popitem(last=False)
        return entry + (False,)

    def nbytes(self) -> int:
        return sum(f.train.nbytes + f.test.nbytes for _, f in self.entries.values())

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()


def describe(config: TrainConfig) -> str:
    """A short legend label: 'lr 0.1, H 128, 10000 steps, batch 32, seed 0, reference, top'."""
    return (
        f"lr {config.lr:.3g}, H {config.hidden_size}, {config.steps} steps, batch {config.batch_size}, "
        f"seed {config.seed}, {config.init}, {config.train}"
    )


class CurvePlot:
    """Loss and test-accuracy curves of the current run, the previous one faint behind it.

    One persistent Agg figure whose lines get new data: redrawing costs a
    PNG encode (~50 ms), not a new figure. ``png(current, previous)`` -> bytes.
    """

    def __init__(self, width: float = 9.0, height: float = 3.3, dpi: int = 80):
        with mpl.rc_context(STYLE):
            # fixed margins: a layout engine would cost a second full draw per frame
            self.figure = Figure(figsize=(width, height), dpi=dpi)
            FigureCanvasAgg(self.figure)
            self.loss_ax, self.acc_ax = self.figure.subplots(1, 2)
            self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.91, wspace=0.22)
            self.loss_ax.set(xlabel="step", ylabel="running loss", title="training loss")
            self.acc_ax.set(xlabel="step", ylabel="test accuracy (%)", title="test accuracy", ylim=(0, 100))
            self.acc_ax.axhline(100 * CHANCE, color="0.6", lw=0.8, ls=":")
            self.acc_ax.text(0.99, 100 * CHANCE + 1.5, "chance", color="0.5", ha="right", fontsize=8,
                             transform=self.acc_ax.get_yaxis_transform())
            faint = dict(color="0.55", alpha=0.45, lw=1.2)
            self.prev_loss, = self.loss_ax.plot([], [], **faint)
            self.prev_acc, = self.acc_ax.plot([], [], marker=".", **faint)
            self.loss_line, = self.loss_ax.plot([], [], color="#1f77b4", lw=1.8)
            self.acc_line, = self.acc_ax.plot([], [], color="#d62728", marker="o", ms=4, lw=1.8)
            self.diverged_lines = [ax.axvline(0, color="#b00", ls="--", lw=1, visible=False)
                                   for ax in (self.loss_ax, self.acc_ax)]
            self.diverged_text = self.loss_ax.text(0.5, 0.5, "", color="#b00", ha="center", va="center",
                                                   transform=self.loss_ax.transAxes, fontsize=10,
                                                   bbox=dict(fc="white", ec="#b00", alpha=0.85))
            for ax in (self.loss_ax, self.acc_ax):
                ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(5))  # fewer labels: a faster draw

    def png(self, current, previous=None) -> bytes:
        """Draw the two runs (``History`` objects; previous may be None) and return the PNG bytes."""
        pairs = [(self.loss_line, self.acc_line, current), (self.prev_loss, self.prev_acc, previous)]
        for loss_line, acc_line, history in pairs:
            if history is None:
                loss_line.set_data([], [])
                acc_line.set_data([], [])
                continue
            loss_line.set_data(history.steps, history.losses)
            acc_line.set_data(history.eval_steps, 100 * np.asarray(history.test_accuracies))
            # a single logged point (an early divergence) is invisible as a line: show a marker
            loss_line.set_marker("o" if len(history.steps) < 3 else "None")
        diverged = current.diverged_at is not None
        for line in self.diverged_lines:
            line.set_xdata([current.diverged_at or 0] * 2)
            line.set_visible(diverged)
        self.diverged_text.set_text(f"diverged at step {current.diverged_at}" if diverged else "")
        # the previous run is clipped to the current one's length; a divergence is zoomed in on
        x_max = max(10, 1.25 * current.diverged_at) if diverged else current.config.steps
        for ax in (self.loss_ax, self.acc_ax):
            ax.set_xlim(0, x_max * 1.02 if not diverged else x_max)
        self.loss_ax.relim()
        self.loss_ax.autoscale_view(scalex=False)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})  # fast, still small
        return buffer.getvalue()


class Explorer:
    """Sliders for one training run, retrained and redrawn on every change.

    data    MNIST as from ``helpers.data.load_mnist()`` (loaded if None).
    config  the starting point (default: the reference run, ``TrainConfig()``).
    wait    train the first run before returning, so the widget shows curves at once.

    ``widget`` is the thing to display; ``update(**values)`` is what every
    control calls; ``history`` and ``previous`` are the last two finished runs.
    """

    def __init__(self, data=None, config: TrainConfig | None = None, *, wait: bool = True,
                 cache_bytes: float = 2e9):
        if data is None:
            from .data import load_mnist

            data = load_mnist()
        self.data = data
        self.features = FeatureCache(data, cache_bytes)
        self.plot = CurvePlot()
        self.history = self.previous = None
        self._build_controls(explorer_config(config))
        # the worker's state: the newest waiting request, the running one's cancel flag, finished ids
        self._cond = threading.Condition()
        self._pending = None  # (request id, config)
        self._cancel = threading.Event()
        self._next_id = 0
        self._done: dict = {}  # request id -> History or None (superseded), for update(wait=True)
        self._closed = False
        self._running = False
        self.runs_started = 0  # how many runs the worker began (superseded requests never start)
        self._worker = threading.Thread(target=self._work, name="explorer-worker", daemon=True)
        self._worker.start()
        self._submit(self.config(), wait=wait)

    # ------------------------------------------------------------ controls

    def _build_controls(self, config: TrainConfig) -> None:
        style = {"description_width": "90px"}
        layout = widgets.Layout(width="420px")
        self.lr = widgets.FloatLogSlider(
            value=config.lr, base=10, min=-4, max=1, step=0.1, description="learning rate",
            readout_format=".2g", continuous_update=False, style=style, layout=layout)
        self.hidden_size = widgets.SelectionSlider(
            options=sorted(set(HIDDEN_SIZES) | {config.hidden_size}), value=config.hidden_size,
            description="hidden size", continuous_update=False, style=style, layout=layout)
        self.steps = widgets.SelectionSlider(
            options=sorted(set(STEP_COUNTS) | {config.steps}), value=config.steps, description="steps",
            continuous_update=False, style=style, layout=layout)
        self.batch_size = widgets.SelectionSlider(
            options=sorted(set(BATCH_SIZES) | {config.batch_size}), value=config.batch_size,
            description="batch size", continuous_update=False, style=style, layout=layout)
        self.seed = widgets.BoundedIntText(
            value=config.seed, min=0, max=2**31 - 1, description="seed", continuous_update=False,
            style=style, layout=widgets.Layout(width="200px"))
        self.init = widgets.Dropdown(
            options=[(label, name) for name, label in INIT_LABELS.items() if name in INIT_SCHEMES],
            value=config.init, description="init", style=style, layout=widgets.Layout(width="330px"))
        self.train_mode = widgets.ToggleButtons(
            options=[(label, mode) for mode, label in MODE_LABELS.items()], value=config.train,
            style={"button_width": "120px"})
        self.stop = widgets.Button(description="stop", icon="stop", disabled=True,
                                   tooltip="cancel the running training",
                                   layout=widgets.Layout(width="80px", margin="2px 4px 2px 98px"))
        self.progress = widgets.IntProgress(value=0, min=0, max=config.steps, description="",
                                            layout=widgets.Layout(width="300px", visibility="hidden"))
        self.status = widgets.HTML(value="starting ...")
        self.legend = widgets.HTML()  # which run is which: text in HTML costs nothing to redraw
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="720px"))
        self._base = config
        self._controls = {"lr": self.lr, "hidden_size": self.hidden_size, "steps": self.steps,
                          "batch_size": self.batch_size, "seed": self.seed, "init": self.init,
                          "train": self.train_mode}
        for control in self._controls.values():
            control.observe(self._on_change, names="value")
        self.stop.on_click(lambda _: self.cancel())
        # CSS classes: handles for the browser tests and for anyone styling the app
        self.lr.add_class("explorer-lr")
        self.status.add_class("explorer-status")
        self.image.add_class("explorer-curves")
        self._quiet = False
        self.widget = widgets.VBox([
            # no shrinking: a narrow notebook column would clip the sliders' readouts
            widgets.HBox([widgets.VBox([self.lr, self.hidden_size, self.steps, self.batch_size],
                                       layout=widgets.Layout(min_width="430px")),
                          # ToggleButtons put their description above the buttons: a label beside them instead
                          widgets.VBox([widgets.HBox([widgets.Label("train", layout=widgets.Layout(
                              width="90px", display="flex", justify_content="flex-end")), self.train_mode]),
                                        self.init, self.seed,
                                        widgets.HBox([self.stop, self.progress])])]),
            self.status,
            self.legend,
            self.image,
        ])
        self.widget.add_class("explorer")

    def config(self) -> TrainConfig:
        """The TrainConfig the controls show now."""
        return explorer_config(self._base, **{name: c.value for name, c in self._controls.items()})

    def _on_change(self, change) -> None:
        if not self._quiet:
            self._submit(self.config(), wait=False)

    # ------------------------------------------------------------ requests

    def update(self, wait: bool = True, timeout: float | None = None, **values):
        """Set controls (lr=, hidden_size=, steps=, batch_size=, seed=, init=, train=) and retrain.

        This is what a control change does. With ``wait`` it returns the
        finished run's History once the figure is redrawn (None if a newer
        change superseded it); otherwise the request id at once.
        """
        unknown = set(values) - set(self._controls)
        if unknown:
            raise TypeError(f"unknown control(s) {', '.join(sorted(unknown))}; choose from {', '.join(self._controls)}")
        explorer_config(self.config(), **values)  # a bad value raises ValueError before any control moves
        self._quiet = True  # one run for all the values, not one per control
        try:
            for name, value in values.items():
                control = self._controls[name]
                if isinstance(control, widgets.SelectionSlider) and value not in control.options:
                    control.options = sorted(set(control.options) | {value})  # e.g. hidden size 100
                if control is self.lr:  # widen the log slider rather than clamp the value
                    exponent = math.log10(value)
                    self.lr.min = min(self.lr.min, math.floor(exponent))
                    self.lr.max = max(self.lr.max, math.ceil(exponent))
                control.value = value
        finally:
            self._quiet = False
        return self._submit(self.config(), wait=wait, timeout=timeout)

    def cancel(self) -> None:
        """Cancel the running run and drop the waiting one."""
        with self._cond:
            if self._pending is not None:
                self._done[self._pending[0]] = None
                self._pending = None
            if not self._running:
                self.widget.remove_class("explorer-busy")
            self._cancel.set()
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the worker thread and close the widgets."""
        self.cancel()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join(timeout=30)
        for child in [*self._controls.values(), self.stop, self.progress, self.status, self.legend, self.image]:
            child.close()
        self.widget.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no run is running or waiting; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and self._pending is None, timeout)

    def _submit(self, config: TrainConfig, wait: bool, timeout: float | None = None):
        with self._cond:
            request = self._next_id
            self._next_id += 1
            if self._pending is not None:  # superseded before it started: it never runs
                self._done[self._pending[0]] = None
            self._pending = (request, config)
            self._cancel.set()  # a running run stops at its next progress call
            self.widget.add_class("explorer-busy")  # for styling and for tests: an answer is on its way
            self._cond.notify_all()
            if not wait:
                return request
            if not self._cond.wait_for(lambda: request in self._done or self._closed, timeout):
                raise TimeoutError(f"explorer run {request} did not finish within {timeout} s")
            return self._done.pop(request, None)

    # ------------------------------------------------------------ the worker thread

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._closed:
                    return
                request, config = self._pending
                self._pending = None
                self._cancel = cancel = threading.Event()
                self._running = True
                self.runs_started += 1
            try:
                history = self._run(config, cancel)
            except Exception as error:  # show it in the app; the thread must live on
                history = None
                self.status.value = (f"<span style='color:#b00'>error: {html.escape(repr(error))}</span>"
                                     f"<pre>{html.escape(traceback.format_exc(limit=3))}</pre>")
            with self._cond:
                self._running = False
                if self._pending is None:
                    self.widget.remove_class("explorer-busy")
                self._done[request] = history
                if len(self._done) > 1000:  # results nobody waits for
                    for old in sorted(self._done)[:-100]:
                        del self._done[old]
                self._cond.notify_all()

    def _run(self, config: TrainConfig, cancel: threading.Event):
        """Train ``config`` and redraw; return its History, or None if cancelled."""
        started = time.perf_counter()
        slow = config.train == "all"
        self.stop.disabled = not slow
        self.progress.max, self.progress.value = config.steps, 0
        self.progress.layout.visibility = "visible" if slow else "hidden"
        if slow:
            self.status.value = f"training all layers ({describe(config)}) ..."
            params, features, cached = None, None, None
        else:
            if self.features.key(config) not in self.features.entries:
                self.status.value = f"computing the frozen features for hidden size {config.hidden_size} ..."
            params, features, cached = self.features.get(config)

        def progress(step, steps):
            if slow:
                self.progress.value = step
                self.status.value = (f"training all layers: step {step:,} / {steps:,} "
                                     f"({time.perf_counter() - started:.1f} s; any change or 'stop' cancels)")
            return cancel.is_set()

        if cancel.is_set():
            return None
        _, history = train(self.data, config, params, features=features, progress=progress,
                           progress_every=50 if slow else config.log_every)
        self.stop.disabled = True
        self.progress.layout.visibility = "hidden"
        if history.cancelled:
            self.status.value = f"cancelled at step {history.steps_done:,}"
            return None
        if self.history is not None:
            self.previous = self.history
        self.history = history
        self.image.value = self.plot.png(history, self.previous)
        self.legend.value = self._legend(history, self.previous)
        self.status.value = self._summary(history, cached, time.perf_counter() - started)
        return history

    @staticmethod
    def _legend(current, previous) -> str:
        rows = [(("#1f77b4", "#d62728"), "now", current)]
        if previous is not None:
            rows.append((("#aaa", "#aaa"), "previous", previous))
        return "<br>".join(
            "".join(f"<span style='color:{color}'>&#9644;</span>" for color in colors)
            + f" <small>{label}: {html.escape(describe(run.config))}</small>"
            for colors, label, run in rows
        )

    @staticmethod
    def _summary(history, cached, seconds: float) -> str:
        config = history.config
        if history.diverged_at is not None:
            headline = f"<b style='color:#b00'>diverged at step {history.diverged_at:,}</b>"
            detail = html.escape(history.message.split(": ", 1)[-1])
        else:
            accuracy = 100 * history.final_test_accuracy
            headline = f"<b>test accuracy {accuracy:.2f}%</b> after {history.steps_done:,} steps"
            detail = f"training took {history.train_seconds:.2f} s"
        if cached is not None:
            detail += f"; frozen features for H={config.hidden_size} {'reused' if cached else 'computed'}"
        return f"{headline} &middot; {detail} &middot; answered in {seconds:.2f} s"

    @property
    def status_text(self) -> str:
        """The status line without HTML tags (what the reader sees)."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))
