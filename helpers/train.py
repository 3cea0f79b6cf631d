"""The training loop: one plain loop for every learning rule, and the history it records.

The loop follows the reference notebook's recipe: SGD on mini-batches, a
running loss smoothed with factor 0.99, the running loss logged every
``log_every`` steps and the test accuracy every ``eval_every`` steps (and
both at the last step), in the reference's log format. Step 0 is the
untrained network: its accuracy and the loss of the first batch. Step t is
the state after t updates.

What is trained, and how, is the learning rule's business (``helpers.rules``):
the loop asks it for the loss and the descent directions, and the optimizer
(``helpers.optimizers``) applies them. Many runs at once (a learning-rate
grid, seeds) go through :func:`train_many`, which lets the rule decide how
they train: one by one through this loop, or together (``top``: one lockstep
stack on the frozen features, ``helpers.readout``, tested against this loop).
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from . import model, rules
from .data import BatchSampler, images_dtype
from .optimizers import OPTIMIZERS, make_optimizer
from .threads import one_blas_thread

# ---------------------------------------------------------------- configuration and history


def _is_integer(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


@dataclass
class TrainConfig:
    """Hyperparameters of one run; the defaults are the reference experiment."""

    steps: int = 10000
    lr: float = 1e-3
    batch_size: int = 32
    hidden_size: int = 128
    seed: int = 0
    rule: str = "top"  # a name in helpers.rules.RULES: "top" (top layer only), "backprop" (all layers), ...
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
            if not _is_integer(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.batch_size > 55000:
            raise ValueError(f"batch_size must be at most 55000 (the training set), got {self.batch_size}")
        if not _is_integer(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not _is_number(self.lr) or not math.isfinite(self.lr) or self.lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {self.lr!r}")
        if not _is_number(self.max_loss) or not self.max_loss > 0:
            raise ValueError(f"max_loss must be a number > 0, got {self.max_loss!r}")
        if not _is_number(self.smoothing) or not 0 <= self.smoothing < 1:
            raise ValueError(f"smoothing must be a number in [0, 1), got {self.smoothing!r}")
        rules.check_rule(self.rule)
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
    validation_accuracies: list = field(default_factory=list)  # at eval_steps too: what model selection reads
    steps_done: int = 0
    diverged_at: int | None = None  # step whose batch loss was not finite or above config.max_loss
    diverged_loss: float | None = None
    cancelled: bool = False
    train_seconds: float = 0.0  # the loop's time; the rule's setup (e.g. the frozen features) is not in it

    @property
    def final_test_accuracy(self) -> float:
        """The last evaluation's test accuracy; nan for a diverged run (its weights are not a result)."""
        if self.diverged_at is not None or not self.test_accuracies:
            return float("nan")
        return self.test_accuracies[-1]

    @property
    def final_validation_accuracy(self) -> float:
        if self.diverged_at is not None or not self.validation_accuracies:
            return float("nan")
        return self.validation_accuracies[-1]

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
        """Plain Python values only (json.dumps takes it; nan for a diverged run's accuracy)."""
        return {
            "config": {k: (v.item() if isinstance(v, np.generic) else v) for k, v in asdict(self.config).items()},
            "steps": int(self.steps_done),
            "final_test_accuracy": float(self.final_test_accuracy),
            "final_validation_accuracy": float(self.final_validation_accuracy),
            "diverged_at": None if self.diverged_at is None else int(self.diverged_at),
            "diverged_loss": None if self.diverged_loss is None else float(self.diverged_loss),
            "cancelled": bool(self.cancelled),
            "train_seconds": float(self.train_seconds),
            "history": {
                "steps": [int(s) for s in self.steps],
                "running_loss": [float(x) for x in self.losses],
                "eval_steps": [int(s) for s in self.eval_steps],
                "test_accuracy": [float(a) for a in self.test_accuracies],
                "validation_accuracy": [float(a) for a in self.validation_accuracies],
            },
        }


def seeded_streams(seed: int):
    """Three independent generators, (init, batches, rule): changing the width, the learning rate
    or the rule leaves the other streams, and so the starting weights and the batch order, alone.

    SeedSequence children do not depend on how many are spawned, so the first two
    are the (init, batches) streams that runs drew before rules had a stream.
    """
    return tuple(np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))


def initial_params(config: TrainConfig, dtype=np.float64) -> dict:
    """The parameters a run with this config starts from (drawn in float64, then given in ``dtype``)."""
    init_rng = seeded_streams(config.seed)[0]
    params = model.init_params(model.layer_sizes(config.hidden_size), config.init, init_rng)
    return {name: value.astype(dtype, copy=False) for name, value in params.items()}


# ---------------------------------------------------------------- the loop


def train(
    data,
    config: TrainConfig | None = None,
    params: dict | None = None,
    *,
    rule=None,
    verbose=False,
    progress=None,
    progress_every: int = 100,
):
    """Train and return ``(params, history)``; the input ``params`` are not modified.

    data      an object with ``train``, ``validation`` and ``test`` splits (``helpers.data.load_mnist()``);
              the run computes in its images' dtype (float64, or float32: ``load_mnist(dtype="float32")``).
    params    starting parameters (copied in the images' dtype); default: drawn from ``config.seed``.
    rule      a prepared rules.LearningRule for ``config.rule`` (e.g. ``rules.TopLayerOnly(features)``
              to reuse frozen features); default: a fresh one from the registry.
    verbose   print the log in the reference notebook's format (True), or pass
              each log line to this function instead of ``print``.
    progress  called as ``progress(step, steps)`` every ``progress_every`` steps and at the last;
              returning True cancels the run (``history.cancelled``).
    """
    config = (config or TrainConfig()).validate()
    dtype = images_dtype(data)  # what the run computes in (see data above): the parameters are copied in it
    params = {name: value.astype(dtype) for name, value in (params or initial_params(config)).items()}
    config = replace(config, hidden_size=params["W1"].shape[1])  # the width actually trained
    if rule is None:
        rule = rules.make_rule(config.rule)
    elif getattr(rule, "name", None) != config.rule:
        raise ValueError(
            f"the rule object is {getattr(rule, 'name', rule)!r} but config.rule is {config.rule!r}; "
            f"pass TrainConfig(rule={getattr(rule, 'name', '...')!r})"
        )
    say = (verbose if callable(verbose) else print) if verbose else None
    history = History(config)
    _, batch_rng, rule_rng = seeded_streams(config.seed)
    context = rules.RunContext(config=config, rng=rule_rng)
    rule.setup(params, data, context)  # e.g. top: the frozen features; fa: the feedback matrices
    started = time.perf_counter()  # train_seconds: the loop only, not the setup
    sampler = BatchSampler(len(data.train.labels), config.batch_size, batch_rng)
    optimizer = make_optimizer(config.optimizer, config.lr)

    def evaluate(step):
        history.eval_steps.append(step)
        history.test_accuracies.append(rule.accuracy(params, data.test))
        history.validation_accuracies.append(rule.accuracy(params, data.validation))
        if say:
            say(f"accuracy: {100 * history.test_accuracies[-1]:.2f}%")

    def log(step, running):
        history.steps.append(step)
        history.losses.append(running)
        if say:
            say(f"\tstep {step}: loss: {running:.4f}")

    # a huge learning rate overflows: that is reported as divergence, not as warnings.
    # The per-step products are small: one BLAS thread runs them fastest, most of all on a busy machine.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        evaluate(0)  # the untrained network
        running = None
        for step in range(1, config.steps + 1):
            index = sampler.next()
            context.step = step
            loss, directions = rule.loss_and_directions(params, index)
            if step == 1:
                rules.check_directions(rule, directions, params)
            if not loss <= config.max_loss:  # also true for nan: stop before the update
                history.diverged_at, history.diverged_loss = step, float(loss)
                break
            if running is None:  # step 0 shows the loss of the first batch, before any update
                running = loss
                log(0, running)
            optimizer.update(params, directions)
            rule.after_update(params, directions, context)
            running = config.smoothing * running + (1 - config.smoothing) * loss
            history.steps_done = step
            last = step == config.steps
            if step % config.eval_every == 0 or last:  # the reference prints the accuracy first
                evaluate(step)
            if step % config.log_every == 0 or last:
                log(step, running)
            if progress is not None and (step % progress_every == 0 or last) and progress(step, config.steps):
                history.cancelled = not last
                break
    history.train_seconds = time.perf_counter() - started
    if say and (history.diverged_at is not None or history.cancelled):
        say(history.message)
    return params, history


def train_many(data, configs, *, together: bool = True, features=None, hyperparameters=None, progress=None) -> list:
    """Train runs of one rule and return ``[(params, History), ...]`` in the order of ``configs``.

    The rule decides how (``rules.RULES[name].train_many``): one by one through :func:`train`
    by default; ``top`` trains them together in one lockstep stack (``together=False``: one by
    one, the plain loop the stack is tested against).
    features         {seed: FrozenFeatures} for rules that read frozen features (top); computed when missing.
    hyperparameters  the rule's own, as for ``rules.make_rule`` ({"decay": 1e-3}).
    progress         called as ``progress(step, steps)`` with the share of all runs done; True cancels.
    """
    configs = list(configs)
    if not configs:
        raise ValueError("no configurations to train")
    names = sorted({config.rule for config in configs})
    if len(names) > 1:
        raise ValueError(f"train_many trains the runs of one rule, got rules {names}; call it once per rule")
    learning_rule = rules.RULES[rules.check_rule(names[0])]
    return learning_rule.train_many(
        data, configs, together=together, features=features, hyperparameters=hyperparameters or {}, progress=progress
    )
