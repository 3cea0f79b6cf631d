"""The explorer: controls, a request worker, the learning-rate grid and the pictures, wired together."""

from __future__ import annotations

import time
import traceback

from ..rules import TopLayerOnly
from ..train import train
from . import text
from .cache import FeatureCache
from .controls import Controls
from .figure import CurvePlot
from .grid import GridStore
from .landscape import Landscape
from .settings import describe, explorer_config, format_lr, rule_label
from .worker import Worker


class Explorer:
    """Sliders for one training run, answered from the learning-rate grid or retrained on every change.

    data    MNIST as from ``helpers.data.load_mnist()`` (loaded if None).
    config  the starting point (default: the reference run, ``TrainConfig()``).
    wait    answer the first run before returning, so the widget shows curves at once.
    grid    train every learning rate of the slider in the background (top layer only).

    ``widget`` is the thing to display; ``update(**values)`` is what every
    control calls; ``history`` and ``previous`` are the last two shown runs.
    """

    def __init__(self, data=None, config=None, *, wait: bool = True, cache_bytes: float = 2e9, grid: bool = True):
        if data is None:
            from ..data import load_mnist

            data = load_mnist()
        self.data, self._base, self.use_grid = data, explorer_config(config), grid
        self.features = FeatureCache(data, cache_bytes)
        self.plot = CurvePlot()
        self.history = self.previous = None
        self.controls = Controls(self._base)
        for name in ("lr", "hidden_size", "steps", "batch_size", "seed", "init", "optimizer", "rule", "stop",
                     "progress", "status", "legend", "image", "landscape"):
            setattr(self, name, getattr(self.controls, name))
        self.widget = self.controls.view
        self.grids = GridStore(data, self.features, on_ready=self._grid_ready,
                               on_progress=lambda config, fraction: self.landscape_view.progress(config, fraction))
        self.landscape_view = Landscape(self.landscape, self.grids, self.controls.lr_grid)
        self.runner = Worker(self._answer, name="explorer-runs", on_idle=lambda: self.widget.remove_class("explorer-busy"))
        self.controls.on_change(lambda: self._submit(self.config(), wait=False))
        self.stop.on_click(lambda _: self.cancel())
        self._submit(self.config(), wait=wait)

    def config(self):
        """The TrainConfig the controls show now."""
        return explorer_config(self._base, **self.controls.values())

    def update(self, wait: bool = True, timeout: float | None = None, **values):
        """Set controls (lr=, hidden_size=, steps=, batch_size=, seed=, init=, optimizer=, rule=) and answer.

        With ``wait`` it returns the shown run's History once the figure is
        redrawn (None if a newer change superseded it); otherwise the request id.
        """
        self.controls.check_names(values)
        explorer_config(self.config(), **values)  # a bad value raises ValueError before any control moves
        self.controls.set_values(**values)
        return self._submit(self.config(), wait=wait, timeout=timeout)

    def cancel(self) -> None:
        """Cancel the running run and drop the waiting one (the stop button)."""
        self.runner.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no run is running or waiting; False if ``timeout`` passed first."""
        return self.runner.wait(timeout)

    def wait_for_grid(self, timeout: float | None = None):
        """Block until the grid of the current settings is trained; return it (None: timeout or all layers)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.runner.wait(timeout)
        self.grids.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self.grids.get(self.config(), self.controls.lr_grid())

    def close(self) -> None:
        """Stop both worker threads and close the widgets."""
        self.runner.close()
        self.grids.close()
        for widget in self.controls.all():
            widget.close()
        self.widget.close()

    @property
    def status_text(self) -> str:
        """The status line without HTML tags (what the reader sees)."""
        return text.plain(self.status.value)

    @property
    def runs_started(self) -> int:
        return self.runner.started

    # ------------------------------------------------------------ answering a request (the runner thread)

    def _submit(self, config, wait: bool, timeout: float | None = None):
        self.widget.add_class("explorer-busy")  # for styling and for tests: an answer is on its way
        self.grids.keep_only(config)  # a grid for other settings would slow this answer down
        from_grid = self._grid_answer(config) is not None
        self.status.value = text.working(f"from the grid: lr {format_lr(config.lr)} ..." if from_grid
                                         else f"training {describe(config)} ...")
        return self.runner.submit(config, wait=wait, timeout=timeout)

    def _grid_answer(self, config):
        return self.grids.lookup(config, self.controls.lr_grid()) if self.use_grid else None

    def _answer(self, config, cancel):
        started = time.perf_counter()
        try:
            answer = self._grid_answer(config)
            if answer is not None:
                grid, index = answer
                history, how = grid.histories[index], f"from the grid ({len(grid.lrs)} learning rates trained together)"
            else:
                history, how = self._train(config, cancel)
                if history is None:
                    return None
            self._show(history, how, started)
            self.lr.continuous_update = self._grid_answer(config) is not None  # live while dragging, once ready
            if self.use_grid and config.rule == "top":
                self.grids.want(config, self.controls.lr_grid())  # the whole landscape, in the background
            return history
        except Exception as error:  # show it in the app; the thread must live on
            self.status.value = text.error(error, traceback.format_exc(limit=3))
            return None

    def _train(self, config, cancel):
        """Train ``config`` (all layers: with progress and stop); return (History or None if cancelled, how)."""
        slow = config.rule != "top"
        params = rule = cached = None
        if not slow:
            if config not in self.features:
                self.status.value = text.working(f"computing the frozen features for hidden size {config.hidden_size} ...")
            params, features, cached = self.features.get(config)
            rule = TopLayerOnly(features)
        self.lr.continuous_update = False
        self.controls.training(config.steps if slow else None)
        started = time.perf_counter()

        def progress(step, steps):
            if slow:
                self.progress.value = step
                self.status.value = text.working(f"training ({rule_label(config.rule)}): step {step:,} / {steps:,} "
                                                 f"({time.perf_counter() - started:.1f} s; any change or 'stop' cancels)")
            return cancel.is_set()

        _, history = train(self.data, config, params, rule=rule, progress=progress,
                           progress_every=50 if slow else config.log_every)
        self.controls.training(None)
        if history.cancelled:
            if not self.runner.pending:  # stopped, not superseded: say what the curves show
                self.status.value = text.stopped(history, self.history)
                self.legend.value = text.legend(self.history, self.previous, text.stopped_note(history))
            return None, ""
        how = f"trained in {history.train_seconds:.2f} s"
        return history, how + ("" if slow else f"; frozen features for H={config.hidden_size} "
                                                f"{'reused' if cached else 'computed'}")

    def _show(self, history, how: str, started: float) -> None:
        if self.history is not None:
            self.previous = self.history
        self.history = history
        self.image.value = self.plot.png(history, self.previous)
        self.legend.value = text.legend(history, self.previous)
        self.status.value = text.summary(history, how, time.perf_counter() - started)
        self.landscape_view.draw(history)

    def _grid_ready(self, grid, config) -> None:
        if self.landscape_view.concerns(config):
            self.landscape_view.draw()
            self.lr.continuous_update = self.config().rule == "top" and self._grid_answer(self.config()) is not None
