"""One training loop for "top layer only" and "all layers", and the history it records.

The loop follows the reference notebook's recipe: SGD on mini-batches, a
running loss smoothed with factor 0.99, the running loss logged every
``log_every`` steps and the test accuracy every ``eval_every`` steps, in the
reference's log format. Step 0 is the untrained network: its accuracy and
the loss of the first batch. Step t is the state after t updates.

Steps are taken one of two ways, and :func:`run_schedule` drives both:
- the full forward: forward and (selective) backward per batch, any mode;
- top layer only, the fast path: the frozen layers' output h2 of every image
  never changes, so it is computed once (55,000 x H floats) and each step is a
  (batch x H) @ (H x 10) product. ``helpers.readout.ReadoutStack`` takes such
  steps for many runs at once (:func:`train_top_layers`); one run is its 1 x 1
  case. Same mathematics, same batches; the weights agree with the full
  forward to ~1e-12.
The optimizers live in ``helpers.optimizers`` (re-exported here).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import model
from .data import BatchSampler
from .layers import softmax_cross_entropy
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, make_optimizer  # noqa: F401 (re-exported)
from .readout import ReadoutStack, with_ones  # noqa: F401 (with_ones re-exported)


# ---------------------------------------------------------------- configuration and history


@dataclass
class TrainConfig:
    """Hyperparameters of one run; the defaults are the reference experiment."""

    steps: int = 10000
    lr: float = 1e-3
    batch_size: int = 32
    hidden_size: int = 128
    seed: int = 0
    train: str = "top"  # "top": top layer only, "all": every layer
    init: str = "reference"
    optimizer: str = "sgd"
    log_every: int = 250
    eval_every: int = 1000
    smoothing: float = 0.99  # running loss = smoothing * running + (1 - smoothing) * loss
    # a batch loss above this (or not finite) stops the run as diverged. At
    # initialization it is about 3; past 1000 the true class is e^-1000 times
    # less likely than the favourite: the steps have overshot, not learned.
    max_loss: float = 1000.0

    def validate(self) -> "TrainConfig":
        """Raise ValueError naming the first bad value and what is allowed."""
        for name in ("steps", "batch_size", "hidden_size", "log_every", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size > 55000:
            raise ValueError(f"batch_size must be at most 55000 (the training set), got {self.batch_size}")
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.lr, (int, float)) or not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not (isinstance(self.max_loss, (int, float)) and self.max_loss > 0):
            raise ValueError(f"max_loss must be a number > 0, got {self.max_loss!r}")
        if not 0 <= self.smoothing < 1:
            raise ValueError(f"smoothing must be in [0, 1), got {self.smoothing!r}")
        model.check_trainable(self.train)
        model.check_init_scheme(self.init)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        return self


@dataclass
class History:
    """What a run recorded: enough to plot its curves and to report it."""

    config: TrainConfig
    steps: list = field(default_factory=list)  # steps at which the running loss was logged
    losses: list = field(default_factory=list)  # running loss at those steps
    eval_steps: list = field(default_factory=list)
    test_accuracies: list = field(default_factory=list)  # fractions in [0, 1]
    steps_done: int = 0
    diverged_at: int | None = None  # step whose batch loss was not finite or above config.max_loss
    diverged_loss: float | None = None
    cancelled: bool = False
    train_seconds: float = 0.0

    @property
    def final_test_accuracy(self) -> float:
        return self.test_accuracies[-1] if self.test_accuracies else float("nan")

    @property
    def message(self) -> str:
        if self.diverged_at is not None:
            return (
                f"diverged at step {self.diverged_at}: batch loss {self.diverged_loss:.4g} "
                f"(limit {self.config.max_loss:g}); lr {self.config.lr:g} is too large, try a smaller one"
            )
        if self.cancelled:
            return f"cancelled at step {self.steps_done}"
        return f"test accuracy after {self.steps_done} steps: {100 * self.final_test_accuracy:.2f}%"

    def to_dict(self) -> dict:
        return {
            "config": asdict(self.config),
            "steps": self.steps_done,
            "final_test_accuracy": self.final_test_accuracy,
            "diverged_at": self.diverged_at,
            "diverged_loss": self.diverged_loss,
            "cancelled": self.cancelled,
            "train_seconds": self.train_seconds,
            "history": {
                "steps": self.steps,
                "running_loss": self.losses,
                "eval_steps": self.eval_steps,
                "test_accuracy": self.test_accuracies,
            },
        }


@dataclass
class FrozenFeatures:
    """The frozen layers' output for the training and test images: (55000, H), (10000, H)."""

    train: np.ndarray
    test: np.ndarray


def frozen_features(params: dict, data) -> FrozenFeatures:
    """Compute h2 of every training and test image once (about 0.2 s at H = 128)."""
    return FrozenFeatures(
        model.hidden_features(params, data.train.images), model.hidden_features(params, data.test.images)
    )


def seeded_streams(seed: int):
    """Two independent generators, (init, batches): changing the width or the
    learning rate then leaves the other stream, and so the batch order, alone."""
    init_seq, batch_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init_seq), np.random.default_rng(batch_seq)


def initial_params(config: TrainConfig) -> dict:
    """The parameters a run with this config starts from."""
    rng, _ = seeded_streams(config.seed)
    return model.init_params(model.layer_sizes(config.hidden_size), config.init, rng)


# ---------------------------------------------------------------- the schedule


def run_schedule(stepper, histories: list, *, say=None, progress=None, progress_every: int = 100) -> None:
    """Step every run to ``config.steps`` and record the reference's schedule in ``histories`` (one per run).

    stepper   ``run(count)`` takes up to ``count`` steps with every run and returns their batch
              losses (count, ...), fewer rows only once every run has diverged;
              ``test_accuracies()`` returns every run's test accuracy (...).
    histories one History per run, in the order of the flattened (...) axes; they share the schedule
              (``histories[0].config``). A run whose batch loss is not finite or above ``max_loss``
              has diverged: it leaves the logs and evaluations, the others go on.
    say       given a log line of the first run (the reference's format), for a single run.
    progress  called as ``progress(step, steps)`` every ``progress_every`` steps and at the end;
              returning True cancels every run.
    """
    config = histories[0].config
    alive = np.ones(len(histories), dtype=bool)

    def evaluate(step):
        accuracies = np.ravel(stepper.test_accuracies())
        for r in np.flatnonzero(alive):
            histories[r].eval_steps.append(step)
            histories[r].test_accuracies.append(float(accuracies[r]))
        if say:
            say(f"accuracy: {100 * accuracies[0]:.2f}%")

    def log(step, running, runs):
        for r in runs:
            histories[r].steps.append(step)
            histories[r].losses.append(float(running[r]))
        if say and len(runs):
            say(f"\tstep {step}: loss: {running[0]:.4f}")

    every = [config.log_every, config.eval_every] + ([progress_every] if progress else [])
    step, running = 0, None
    evaluate(0)  # the untrained network
    while step < config.steps:
        # run up to the next step where something is logged, evaluated or reported
        stop = min(config.steps, *((step // e + 1) * e for e in every))
        losses = np.reshape(stepper.run(stop - step), (-1, len(histories)))
        fine = losses <= config.max_loss  # False for nan too
        if running is None:  # step 0 shows the loss of the first batch, before any update
            running = losses[0].copy()
            log(0, running, np.flatnonzero(fine[0]))
        first_bad = np.where(fine.all(axis=0), len(losses), np.argmin(fine, axis=0))
        for r in np.flatnonzero(alive & (first_bad < len(losses))):
            h = histories[r]
            h.diverged_at, h.diverged_loss = step + first_bad[r] + 1, float(losses[first_bad[r], r])
            h.steps_done = step + first_bad[r]
        alive &= first_bad == len(losses)
        if not alive.any():
            break
        for mixed in (1 - config.smoothing) * losses:  # running = smoothing * running + (1 - smoothing) * loss
            running *= config.smoothing
            running += mixed
        step = stop
        for r in np.flatnonzero(alive):
            histories[r].steps_done = step
        if step % config.eval_every == 0 or step == config.steps:
            evaluate(step)
        if step % config.log_every == 0:
            log(step, running, np.flatnonzero(alive))
        if progress is not None and (step % progress_every == 0 or step == config.steps) and progress(step, config.steps):
            for r in np.flatnonzero(alive):
                histories[r].cancelled = step < config.steps
            break


# ---------------------------------------------------------------- the two ways to take steps


class FullForwardSteps:
    """Steps the straightforward way: full forward and (selective) backward per batch."""

    def __init__(self, params, data, config, sampler, optimizer):
        self.params, self.data, self.config = params, data, config
        self.sampler, self.optimizer = sampler, optimizer

    def run(self, count: int) -> np.ndarray:
        """Take ``count`` steps; return their batch losses (count,), shorter if one diverged."""
        losses = np.empty(count)
        images, labels = self.data.train.images, self.data.train.labels
        for i in range(count):
            idx = self.sampler.next()
            scores, cache = model.forward(self.params, images[idx])
            losses[i], dscores = softmax_cross_entropy(scores, labels[idx])
            if not losses[i] <= self.config.max_loss:  # also true for nan
                return losses[: i + 1]
            self.optimizer.update(self.params, model.backward(dscores, cache, self.config.train))
        return losses

    def test_accuracies(self) -> float:
        return model.accuracy(self.params, self.data.test.images, self.data.test.labels)


# the fields that every run of one stack shares: they fix the features' shape, the batches and the schedule
SHARED_FIELDS = ("steps", "batch_size", "hidden_size", "init", "log_every", "eval_every", "smoothing", "max_loss")


def check_stackable(configs) -> None:
    """Raise ValueError unless ``configs`` are valid top-layer-only runs that share SHARED_FIELDS."""
    if not configs:
        raise ValueError("no configurations to train")
    for config in configs:
        config.validate()
        if config.train != "top":
            raise ValueError("train_top_layers trains the top layer only; use helpers.train.train for train='all'")
        for name in SHARED_FIELDS:
            if getattr(config, name) != getattr(configs[0], name):
                raise ValueError(f"all configurations must share {name}: got {getattr(configs[0], name)!r} and {getattr(config, name)!r}")


def _train_stack(data, grid, starts, features, **schedule) -> list:
    """Train grid[s][k] (S lists of K configs, a feature set each) from starts[s]; S lists of K (params, History)."""
    first, top = grid[0][0], model.num_layers(starts[0])
    samplers = [BatchSampler(len(data.train.labels), first.batch_size, seeded_streams(row[0].seed)[1]) for row in grid]
    stack = ReadoutStack(
        [f.train for f in features], [f.test for f in features], data.train.labels, data.test.labels, samplers,
        np.stack([np.vstack([p[f"W{top}"], p[f"b{top}"]]) for p in starts]),
        [[c.lr for c in row] for row in grid], [[c.optimizer for c in row] for row in grid],
    )
    histories = [History(c) for row in grid for c in row]
    run_schedule(stack, histories, **schedule)
    results = []
    for s, row in enumerate(grid):
        results.append([])
        for k in range(len(row)):
            params = {name: value.copy() for name, value in starts[s].items()}
            params[f"W{top}"], params[f"b{top}"] = stack.readout(s, k)
            results[-1].append((params, histories[s * len(row) + k]))
    return results


def train_top_layers(data, configs, *, features=None, progress=None, progress_every: int = 100) -> list:
    """Train several top-layer-only runs at once; the same results as :func:`train` once per config.

    configs   TrainConfigs with train="top" that share SHARED_FIELDS; seeds, learning
              rates and optimizers may differ. Runs with the same seed share the
              frozen features and the batches (exactly those :func:`train` draws).
    features  optional {seed: FrozenFeatures} (computed when missing).
    progress  called as ``progress(step, steps)`` every ``progress_every`` steps;
              returning True cancels every run (``history.cancelled``).
    Returns [(params, History), ...] in the order of ``configs``. Every
    History's ``train_seconds`` is the wall time of the whole stack.
    """
    configs = list(configs)
    check_stackable(configs)
    features = dict(features or {})
    seeds = list(dict.fromkeys(c.seed for c in configs))
    rows = [[i for i, c in enumerate(configs) if c.seed == seed] for seed in seeds]
    K = max(len(r) for r in rows)
    rows = [r + [r[-1]] * (K - len(r)) for r in rows]  # pad with copies of a run: the grid must be full
    starts = [initial_params(replace(configs[0], seed=seed)) for seed in seeds]
    for seed, params in zip(seeds, starts):
        if seed not in features:
            features[seed] = frozen_features(params, data)
    started = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grid = _train_stack(data, [[configs[i] for i in r] for r in rows], starts, [features[s] for s in seeds],
                            progress=progress, progress_every=progress_every)
    seconds = time.perf_counter() - started
    results = [None] * len(configs)
    for s, row in enumerate(rows):
        for k, i in enumerate(row):
            results[i] = results[i] or grid[s][k]
            results[i][1].train_seconds = seconds
    return results


# ---------------------------------------------------------------- the loop


def train(
    data,
    config: TrainConfig | None = None,
    params: dict | None = None,
    *,
    fast: bool = True,
    features: FrozenFeatures | None = None,
    verbose=False,
    progress=None,
    progress_every: int = 100,
):
    """Train and return ``(params, history)``; the input ``params`` are not modified.

    data      an object with ``train`` and ``test`` splits (``helpers.data.load_mnist()``).
    params    starting parameters; default: drawn from ``config.seed``.
    fast      top layer only: use the frozen features instead of a full forward per batch.
    features  precomputed :class:`FrozenFeatures` for ``params`` (skips computing them).
    verbose   print the log in the reference notebook's format (True), or pass
              each log line to this function instead of ``print``.
    progress  called as ``progress(step, steps)`` every ``progress_every`` steps;
              returning True cancels the run (``history.cancelled``).
    """
    config = (config or TrainConfig()).validate()
    params = {k: v.copy() for k, v in (params or initial_params(config)).items()}
    say = (verbose if callable(verbose) else print) if verbose else None
    schedule = dict(say=say, progress=progress, progress_every=progress_every)
    started = time.perf_counter()
    # a huge learning rate overflows; that is reported as divergence, not as warnings
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if fast and config.train == "top":
            features = features or frozen_features(params, data)
            [[(params, history)]] = _train_stack(data, [[config]], [params], [features], **schedule)
        else:
            _, batch_rng = seeded_streams(config.seed)
            sampler = BatchSampler(len(data.train.labels), config.batch_size, batch_rng)
            history = History(config)
            stepper = FullForwardSteps(params, data, config, sampler, make_optimizer(config.optimizer, config.lr))
            run_schedule(stepper, [history], **schedule)
    history.train_seconds = time.perf_counter() - started
    if say and (history.diverged_at is not None or history.cancelled):
        say(history.message)
    return params, history
