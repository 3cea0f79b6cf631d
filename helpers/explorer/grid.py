"""Every learning rate of the slider trained at once: the answers a slider move then only has to look up.

With the lower layers frozen, runs that differ only in their learning rate
share the features and the batches, so a rule that trains many runs together
(``rules.trains_together``: ``top``, whose ``helpers.train.train_many`` is the
stacked readout engine of ``helpers.readout``) trains all 51 slider values in one
pass for little more than the cost of a few single runs. A grid answer is the
run :func:`helpers.train.train` gives for the same config (tested to 1e-12).

The stack holds its own copy of the training features (with a column of ones)
and, at its end, a full copy of the parameters of every run: at hidden size
1024 that is 0.45 GB and 0.75 GB on top of the cached features, 2.5 GB at the
peak. Above ``STACK_MAX_BYTES`` of features the grid is therefore trained one run
after another through ``helpers.train.train`` on the cached features: no copies
(the peak stays under 1 GiB), the very runs a single change would train, and at
that width hardly slower (the products, not NumPy's per-call overhead, are the cost).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

from .. import model, rules
from ..rules import trains_together
from ..train import train, train_many
from .cache import give_back_freed_memory
from .settings import grid_index, grid_key
from .worker import Worker

STACK_MAX_BYTES = 150e6  # training features above this (H 512 and 1024 on 55,000 images): one run at a time


@dataclass
class LrGrid:
    """The finished runs of one grid: ``histories[i]`` and ``top[i]`` (W, b of the top layer) at ``lrs[i]``."""

    key: tuple
    lrs: np.ndarray
    histories: list
    top: list  # [(W, b)], None for a diverged run: the lower layers are the cache's, shared, never copied 51 times
    seconds: float

    def index(self, lr: float) -> int | None:
        return grid_index(lr, self.lrs)

    def accuracies(self) -> np.ndarray:
        """Final test accuracy of every run (nan where it diverged)."""
        return np.array([np.nan if h.diverged_at is not None else h.final_test_accuracy for h in self.histories])

    def params(self, i: int, start: dict) -> dict:
        """The full parameters of run ``i``: ``start``'s frozen layers and the run's top layer."""
        top = model.num_layers(start)
        params = dict(start)
        params[f"W{top}"], params[f"b{top}"] = (a.copy() for a in self.top[i])
        return params


def train_grid(data, config, lrs, params, features, cancel, progress=None) -> LrGrid | None:
    """Train ``config`` at every learning rate in ``lrs`` in one stacked pass; None if ``cancel`` was set.

    params, features  the start of every run (from the feature cache).
    cancel            a threading.Event; set, it stops the pass at the engine's next progress call.
    progress          optional progress(fraction in [0, 1]) for the status line.
    """
    configs = [replace(config, lr=float(lr)) for lr in lrs]
    started = time.perf_counter()
    progress = progress or (lambda fraction: None)
    if features.train.size * 8 > STACK_MAX_BYTES:  # the stack's copy is float64 whatever the cache holds
        results = _train_one_by_one(data, configs, params, features, cancel, progress)
    else:
        results = _train_stack(data, configs, {config.seed: features}, cancel, progress)
    if results is None or cancel.is_set() or any(h.cancelled for _, h in results):
        return None
    top = model.num_layers(params)
    return LrGrid(
        key=grid_key(config),
        lrs=np.asarray(lrs, dtype=float),
        histories=[h for _, h in results],
        top=[None if p is None else (p[f"W{top}"], p[f"b{top}"]) for p, _ in results],
        seconds=time.perf_counter() - started,
    )


def _train_one_by_one(data, configs, params, features, cancel, progress):
    """[(params or None if diverged, History)] of ``configs`` trained one after another; None if cancelled."""
    top = model.num_layers(params)
    results = []
    for i, config in enumerate(configs):

        def report(step, steps, i=i):
            progress((i * steps + step) / (len(configs) * max(1, steps)))
            return cancel.is_set()

        # the cache's start and features, as a single change's run gets them (app.Explorer._train): nothing redrawn
        rule = rules.RULES[config.rule](features=features)
        final, history = train(data, config, params, rule=rule, progress=report)
        if history.cancelled:
            return None
        # only the top layer is kept (the grid's own copy of the rest would be the cache's arrays again)
        results.append(
            (
                None if history.diverged_at is not None else {f"W{top}": final[f"W{top}"], f"b{top}": final[f"b{top}"]},
                history,
            )
        )
    return results


def _train_stack(data, configs, features, cancel, progress):
    def report(step, steps):
        progress(step / max(1, steps))
        return cancel.is_set()

    return train_many(data, configs, features=features, progress=report)


class GridStore:
    """The finished grids (the last ``keep``, least recently used out) and the worker that trains new ones.

    ``want(config, lrs)`` asks for the grid of ``config`` in the background (a
    newer wish cancels an unfinished one); ``get(config, lrs)`` returns it
    once it is ready, else None. ``on_ready(grid, config)`` and
    ``on_progress(config, fraction)`` report to the explorer.
    """

    def __init__(self, data, features, on_ready=None, on_progress=None, keep: int = 8):
        self.data, self.features, self.keep = data, features, keep
        self.on_ready = on_ready or (lambda grid, config: None)
        self.on_progress = on_progress or (lambda config, fraction: None)
        self._grids: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.worker = Worker(self._train, name="explorer-grid")

    @staticmethod
    def key(config, lrs) -> tuple:
        return grid_key(config), tuple(np.round(np.log10(lrs), 6))

    def get(self, config, lrs):
        if not trains_together(config.rule):
            return None
        with self._lock:
            grid = self._grids.get(self.key(config, lrs))
            if grid is not None:
                self._grids.move_to_end(self.key(config, lrs))
            return grid

    def lookup(self, config, lrs):
        """(grid, index) of ``config``'s run in its finished grid, or None (no grid yet, or an lr off the slider)."""
        grid = self.get(config, lrs)
        index = None if grid is None else grid.index(config.lr)
        return None if index is None else (grid, index)

    def want(self, config, lrs) -> None:
        request = (config, tuple(lrs))
        if trains_together(config.rule) and self.get(config, lrs) is None and self.worker.wanted(request):
            self.worker.submit(request)

    def keep_only(self, config) -> None:
        """Cancel a grid in training unless it is ``config``'s: a run for other settings is wanted first."""
        running = self.worker.running
        if running is not None and (not trains_together(config.rule) or grid_key(running[0]) != grid_key(config)):
            self.worker.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        return self.worker.wait(timeout)

    def _train(self, request, cancel):
        config, lrs = request
        params, features, _ = self.features.get(config)
        last = [0.0]

        def progress(fraction):
            if time.perf_counter() - last[0] > 0.3:  # a status line, not a redraw per step
                last[0] = time.perf_counter()
                self.on_progress(config, fraction)

        grid = train_grid(self.data, config, np.array(lrs), params, features, cancel, progress)
        give_back_freed_memory()  # the stack's copies and temporaries: gone, not only freed
        if grid is None:
            return None
        with self._lock:
            self._grids[self.key(config, lrs)] = grid
            while len(self._grids) > self.keep:
                self._grids.popitem(last=False)
        self.on_ready(grid, config)
        return grid

    def clear(self) -> None:
        """Forget every finished grid (the benchmark's way to time a grid from scratch)."""
        with self._lock:
            self._grids.clear()

    def close(self) -> None:
        self.worker.close()
