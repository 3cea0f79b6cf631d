"""The explorer: controls, a request worker, the learning-rate grid and the pictures, wired together."""

from __future__ import annotations

import os
import threading
import time
import traceback
import weakref
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from .. import rules
from ..data import check_dtype, images_dtype
from ..rules import trains_together
from ..train import train
from . import text
from .cache import DEFAULT_MAX_BYTES, FeatureCache, give_back_freed_memory
from .compact import load_compact_mnist
from .controls import Controls
from .figure import CurvePlot
from .grid import GridStore
from .landscape import Landscape
from .notice import Notice
from .settings import LR_EXPONENTS, explorer_config, status_label
from .worker import Worker

# Every explorer not yet closed. Re-running the explorer cell, or making a second Explorer, closes the
# older ones: IPython's output history keeps their widgets (and through the widgets' callbacks the
# explorers, with their features and grids) alive, so without this every re-run would add some 100 MB.
_LIVE: "weakref.WeakSet[Explorer]" = weakref.WeakSet()

INTERACTION_GAP_S = 0.6  # slider changes closer than this are one interaction (a drag): one "previous" run
PROGRESS_EVERY_S = 0.25  # a retrained run redraws its progress at most this often: the steps go first
# how often a run checks for stop: a step on frozen features is a small product; other rules' steps are full passes
CANCEL_EVERY_STEPS = {True: 200, False: 10}


@dataclass(eq=False)
class Request:
    """One change asking for an answer: its config, whether to train even where the grid could answer,
    when it arrived and since when the reader has been waiting (an unanswered change it superseded)."""

    config: object
    retrain: bool
    submitted: float
    since: float


def kernel_started() -> float:
    """When this process (the kernel) started, as a ``time.perf_counter()`` value; now if it cannot be read."""
    try:
        import psutil  # installed with Jupyter's server and kernel

        created = psutil.Process().create_time()
    except Exception:  # noqa: BLE001 - no psutil, or no access to the process table: count from now
        return time.perf_counter()
    return time.perf_counter() - max(0.0, time.time() - created)


def wait_for_visitor() -> float:
    """For the app page: when its visitor began waiting, as a ``time.perf_counter()`` value.

    Under Voila with pre-heated kernels (``make app``), a spare kernel runs the page up to here before
    anyone opens it; it waits here for its visitor, so that a spare holds the imports only (not MNIST, the
    features and the grid: some 700 MB and 10 CPU-seconds each), and returns the moment the visitor came.
    A kernel started for its visitor returns at once with its own start: the visitor waited for it too.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":
        from voila.utils import wait_for_request

        wait_for_request()
        return time.perf_counter()
    return kernel_started()


def _after_cell(result=None) -> None:
    give_back_freed_memory()


def give_back_memory_after_every_cell() -> bool:
    """In a Jupyter kernel, hand freed heap back to the system after every cell (once registered, for good).

    A notebook with an explorer trains beside it (notebook 6): the temporaries of its cells' runs are freed
    into malloc's arenas and would stay resident, 50-100 MB more after Run All from one run to the next.
    True if registered (or already), False outside IPython.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    if _after_cell not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _after_cell)
    return True


def close_all() -> None:
    """Close every live explorer (what a new Explorer does first)."""
    for explorer in list(_LIVE):
        explorer.close(note="closed: a newer explorer replaced this one (it runs where it was created).")


class Explorer:
    """Sliders for one training run, answered from the learning-rate grid or retrained on every change.

    data    MNIST as from ``helpers.data.load_mnist()`` (loaded if None; reused from the explorer this one replaces).
    config  the starting point (default: the reference run, ``TrainConfig()``); "reset" returns to it.
    wait    answer the first run before returning, so the widget shows curves at once.
    grid    train every learning rate of the slider in the background (top layer only).
    cache_bytes  the bound on the cached frozen features (the newest entry is always kept).
    since   when the reader began waiting for the first run (a ``time.perf_counter()`` value; default: now).
            The app passes its kernel's start (``kernel_started()``), so that the first "waited" counts the
            kernel's start, the imports and MNIST's load, not only the training.
    dtype   "float64" (the default: the notebooks' digits) or "float32": every run and the learning-rate grid
            compute in float32 (the grid in about 0.7 of the time, docs/measurements.md; the status says so).

    ``widget`` is the thing to display; ``update(**values)`` is what every
    control calls; ``history`` is the shown run and ``previous`` the run shown
    before the interaction that led to it (a drag is one interaction).
    Creating an Explorer closes the ones made before it (``close``).
    """

    def __init__(
        self,
        data=None,
        config=None,
        *,
        wait: bool = True,
        cache_bytes: float = DEFAULT_MAX_BYTES,
        grid: bool = True,
        since: float | None = None,
        dtype="float64",
    ):
        arrived = time.perf_counter() if since is None else since
        self.dtype = check_dtype(dtype)
        inherited = next((e._own_data for e in list(_LIVE) if e._own_data is not None), None)
        close_all()
        give_back_memory_after_every_cell()
        self._own_data = None  # MNIST this explorer loaded itself: a successor may reuse it
        if data is None:
            data = inherited
            if data is None:
                notice = Notice("loading MNIST (70,000 images) ...")
                data = load_compact_mnist()  # its pixels as bytes: 55 MB, not load_mnist's 0.44 GB of float64
                notice.done()
            self._own_data = data
        if images_dtype(data) != self.dtype:
            if not hasattr(data, "astype"):
                raise ValueError(
                    f"dtype={self.dtype.name!r} needs data from helpers.data.load_mnist() or load_compact_mnist(), "
                    f"got a {type(data).__name__}; pass data already in {self.dtype.name}, or leave data out"
                )
            data = data.astype(self.dtype)  # MNIST as bytes: the same pixels, read as float32 (no copy)
        self.data, self._base, self.use_grid = data, explorer_config(config), grid
        self.closed = False
        self.features = FeatureCache(data, cache_bytes)
        self.plot = CurvePlot()
        self.history = self.previous = None
        self.last_waited = self.stop_latency = None  # seconds: the last answer's wait, the last stop's answer
        self._lock = threading.Lock()
        self._last_change = -1e9
        self._interaction_before = None  # the run shown when the current interaction began
        self._unanswered_since = None  # when the oldest change still without an answer arrived
        self._stop_clicked = None
        self._grid_fraction = 0.0
        self.controls = Controls(self._base)
        for name in (
            "lr",
            "hidden_size",
            "steps",
            "batch_size",
            "seed",
            "init",
            "optimizer",
            "rule",
            "stop",
            "again",
            "reset",
            "progress",
            "status",
            "legend",
            "image",
            "landscape",
        ):
            setattr(self, name, getattr(self.controls, name))
        self.widget = self.controls.view
        self.grids = GridStore(data, self.features, on_ready=self._grid_ready, on_progress=self._grid_progress)
        self.landscape_view = Landscape(self.landscape, self.grids, self.controls.lr_grid)
        self.runner = Worker(
            self._answer, name="explorer-runs", on_idle=lambda: self.widget.remove_class("explorer-busy")
        )
        self.controls.on_change(lambda: self._submit(self.config(), wait=False, from_code=False))
        self.stop.on_click(lambda _: self.cancel())
        self.again.on_click(lambda _: self.run_again(wait=False))
        self.reset.on_click(lambda _: self.reset_to_defaults(wait=False))
        _LIVE.add(self)
        self._unanswered_since = arrived
        self._submit(self.config(), wait=wait)

    def config(self):
        """The TrainConfig the controls show now."""
        return explorer_config(self._base, **self.controls.values())

    def update(self, wait: bool = True, timeout: float | None = None, **values):
        """Set controls (lr=, hidden_size=, steps=, batch_size=, seed=, init=, optimizer=, rule=) and answer.

        With ``wait`` it returns the shown run's History once the figure is
        redrawn (None if a newer change superseded it); otherwise the request id.
        """
        self._check_open()
        self.controls.check_names(values)
        explorer_config(self.config(), **values)  # a bad value raises ValueError before any control moves
        self.controls.set_values(**values)
        return self._submit(self.config(), wait=wait, timeout=timeout)

    def run_again(self, wait: bool = True, timeout: float | None = None):
        """Train the settings the controls show again (the "run again" button), even where the grid has them."""
        self._check_open()
        return self._submit(self.config(), wait=wait, timeout=timeout, retrain=True)

    def reset_to_defaults(self, wait: bool = True, timeout: float | None = None):
        """Every control back to the explorer's starting config (the "reset" button), and its run shown."""
        self._check_open()
        low, high, _ = LR_EXPONENTS
        self.lr.min, self.lr.max = min(low, self.lr.min), max(high, self.lr.max)
        self.controls.set_values(**{name: getattr(self._base, name) for name in self.controls.values_by_name})
        self.lr.min, self.lr.max = low, high  # the slider's own range again (a value off it widened it)
        return self._submit(self.config(), wait=wait, timeout=timeout)

    def cancel(self) -> None:
        """Cancel the running run and drop the waiting one (the stop button): a stopped run is shown as it is."""
        self._stop_clicked = time.perf_counter()
        self.runner.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no run is running or waiting; False if ``timeout`` passed first."""
        return self.runner.wait(timeout)

    def wait_for_grid(self, timeout: float | None = None):
        """Block until the grid of the current settings is trained; return it (None: timeout, or not top only).

        In a notebook the cell shows what it waits for and how far the grid is.
        """
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout

        def left():
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        config = self.config()
        if not self.use_grid or not trains_together(config.rule):
            self.runner.wait(timeout)
            return None
        lrs = self.controls.lr_grid()
        notice = None
        if self.runner.busy or self.grids.get(config, lrs) is None:
            notice = Notice(
                f"waiting for the learning-rate grid: {len(lrs)} runs of {config.steps:,} steps "
                "trained together in the background (the explorer's small plot fills in) ..."
            )
        started = time.monotonic()
        self.runner.wait(timeout)
        while not self.grids.wait(min(0.5, left()) if deadline is not None else 0.5):
            if deadline is not None and time.monotonic() >= deadline:
                break
            if notice is not None:
                notice.update(
                    f"waiting for the learning-rate grid: {len(lrs)} runs of {config.steps:,} steps, "
                    f"{self._grid_fraction:.0%} done ({time.monotonic() - started:.0f} s)"
                )
        grid = self.grids.get(self.config(), self.controls.lr_grid())
        if notice is not None:
            notice.done(
                f"the learning-rate grid is ready: {len(lrs)} learning rates, trained together"
                if grid is not None
                else "stopped waiting for the learning-rate grid"
            )
        return grid

    def close(self, note: str = "closed: re-run the cell that made this explorer to use it again.") -> None:
        """Stop both worker threads, free the features, grids and figure, and close the widgets.

        The displayed view stays, holding one line (``note``) instead of the controls.
        """
        if self.closed:
            return
        self.closed = True
        _LIVE.discard(self)
        self.runner.close()
        self.grids.close()
        self.grids.clear()
        self.features.clear()
        self.plot.close()
        self.landscape_view.shown = None
        for widget in self.controls.all():
            widget.close()
        self.widget.children = [widgets.HTML(f"<i style='color:#555'>{note}</i>")]
        self.data = self._own_data = None

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(
                "this explorer is closed (a newer Explorer replaced it, or close() was called); "
                "make a new one: Explorer()"
            )

    @property
    def status_text(self) -> str:
        """The status line without HTML tags (what the reader sees)."""
        return text.plain(self.status.value)

    @property
    def legend_text(self) -> str:
        return text.plain(self.legend.value)

    @property
    def runs_started(self) -> int:
        return self.runner.started

    # ------------------------------------------------------------ a change arrives (the kernel's main thread)

    def _submit(self, config, wait: bool, timeout: float | None = None, retrain: bool = False, from_code: bool = True):
        now = time.perf_counter()
        with self._lock:
            # a call from code is one interaction; slider changes in quick succession (a drag) are one together
            if from_code or now - self._last_change > INTERACTION_GAP_S:
                self._interaction_before = self.history
            self._last_change = -1e9 if from_code else now  # only slider changes chain into a drag
            since = now if self._unanswered_since is None else self._unanswered_since
            self._unanswered_since = since
        request = Request(config, retrain, now, since)
        self.widget.add_class("explorer-busy")  # for styling and for tests: an answer is on its way
        self.grids.keep_only(config)  # a grid for other settings would slow this answer down
        label = status_label(config)
        if not retrain and self._grid_answer(config) is not None:
            self.status.value = text.working(f"looking up {label} in the grid ...")
        elif trains_together(config.rule):
            self.status.value = text.working(f"training {label} ...")
        else:  # progress and stop from the first moment, before the worker even starts
            self.controls.training(config.steps)
            self.status.value = text.working(f"training {label}: starting ... · stop or any change cancels")
        notice = None
        if wait and not trains_together(config.rule):
            notice = Notice(f"training {label}: the explorer shows its progress; its stop button cancels")
        try:
            return self.runner.submit(request, wait=wait, timeout=timeout)
        finally:
            if notice is not None:
                notice.done(f"done: {self.status_text}")

    def _grid_answer(self, config):
        return self.grids.lookup(config, self.controls.lr_grid()) if self.use_grid else None

    # ------------------------------------------------------------ answering a request (the runner thread)

    def _answer(self, request, cancel):
        config = request.config
        try:
            answer = None if request.retrain else self._grid_answer(config)
            if answer is not None:
                grid, index = answer
                history, how = grid.histories[index], "from the grid"
                if self.dtype != np.float64:
                    how += f" ({self.dtype})"
                self.features.release_all_but(config)
            else:
                history, how = self._train(request, cancel)
                if history is None:
                    return None
            self._show(history, how, request)
            self.lr.continuous_update = self._grid_answer(config) is not None  # live while dragging, once ready
            if self.use_grid and trains_together(config.rule):
                self.grids.want(config, self.controls.lr_grid())  # the whole landscape, in the background
            return history
        except Exception as error:  # show it in the app; the thread must live on
            self.status.value = text.error(error, traceback.format_exc(limit=3))
            return None
        finally:
            self.controls.training(None)

    def _train(self, request, cancel):
        """Train ``request.config`` (other rules than top: with progress and stop); return (History or None, how).

        None: a newer change superseded the run. A run stopped with the button is returned (cancelled), with
        its test accuracy at the step it stopped, and shown as it is.
        """
        config = request.config
        rule_class = rules.RULES[config.rule]
        slow = not rule_class.uses_frozen_features
        label = status_label(config)
        params = None
        last_drawn = [0.0]

        def due(last: bool) -> bool:  # throttled redraws: the work goes first
            now = time.perf_counter()
            if last or now - last_drawn[0] >= PROGRESS_EVERY_S:
                last_drawn[0] = now
                return True
            return False

        if slow:
            rule = rules.make_rule(config.rule)
        else:
            if config not in self.features:
                self.status.value = text.working(
                    f"computing the frozen features for H {config.hidden_size}, then training {label} ..."
                )

            def features_progress(done, total):  # at H = 1024 this takes seconds: the status counts them
                if due(done == total):
                    self.status.value = text.working(
                        f"computing the frozen features for H {config.hidden_size}: {done:,} of {total:,} images "
                        f"({time.perf_counter() - request.since:.1f} s), then training {label} ..."
                    )

            params, features, cached = self.features.get(config, progress=features_progress)
            rule = rule_class(features=features)
        self.lr.continuous_update = False
        if slow:
            self.controls.training(config.steps)

        def progress(step, steps):
            if due(step == steps):
                if slow:
                    self.progress.value = step
                # a top run's status counts too: at a large hidden size it takes seconds
                tail = " · stop or any change cancels" if slow else ""
                self.status.value = text.working(
                    f"training {label}: step {step:,} of {steps:,} ({time.perf_counter() - request.since:.1f} s){tail}"
                )
            return cancel.is_set()

        final, history = train(
            self.data, config, params, rule=rule, progress=progress, progress_every=CANCEL_EVERY_STEPS[not slow]
        )
        if history.cancelled:
            if self.runner.pending:  # superseded by a newer change: that one is answered instead
                return None, ""
            # stopped: shown as it is, the curves up to its last log and evaluation. No extra evaluation at
            # the stop: on a busy machine it alone takes longer than the half second "stop" may take
        how = text.how(history)
        if slow and self.dtype != np.float64:
            how += f" ({self.dtype})"
        if not slow:
            how += f", features for H={config.hidden_size} {'reused' if cached else 'computed'}"
            if features.train.dtype != np.float64:
                how += f" ({features.train.dtype})"  # wide features are kept in float32: said, not hidden
        return history, how

    def _show(self, history, how: str, request) -> None:
        with self._lock:
            before = self._interaction_before
        previous = before if before is not history else None
        self.previous, self.history = previous, history
        picture = self.plot.png(history, previous)
        now = time.perf_counter()
        self.last_waited = now - request.since
        # status, legend and curves change together: no moment shows one run's words over another's picture
        self.status.value = text.summary(history, how, self.last_waited)
        self.legend.value = text.legend(history, previous, self.plot.previous_drawn)
        self.image.value = picture
        if history.cancelled and self._stop_clicked is not None:
            self.stop_latency, self._stop_clicked = now - self._stop_clicked, None
        self.landscape_view.draw(history)
        with self._lock:  # this change is answered: a change that came meanwhile waits from its own arrival
            pending = self.runner.pending_payload
            if pending is None:
                self._unanswered_since = None
            else:
                pending.since = self._unanswered_since = pending.submitted

    def _grid_progress(self, config, fraction: float) -> None:
        self._grid_fraction = fraction
        self.landscape_view.progress(config, fraction)

    def _grid_ready(self, grid, config) -> None:
        self._grid_fraction = 1.0
        if self.landscape_view.concerns(config):
            self.landscape_view.draw()
            self.lr.continuous_update = (
                trains_together(self.config().rule) and self._grid_answer(self.config()) is not None
            )
