"""One training loop for "top layer only" and "all layers", with its optimizers and history.

The loop follows the reference notebook's recipe: SGD on mini-batches, a
running loss smoothed with factor 0.99, the running loss logged every
``log_every`` steps and the test accuracy every ``eval_every`` steps, in the
reference's log format. Step 0 is the untrained network: its accuracy and
the loss of the first batch. Step t is the state after t updates.

Top-layer-only training has a fast path: the frozen layers' output h2 of
every image never changes, so it is computed once (55,000 x H floats) and
each step is then a (batch x H) @ (H x 10) product. Same mathematics, same
batches; the weights agree with the per-batch full forward to ~1e-12.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from . import model
from .data import BatchSampler
from .layers import affine_backward, affine_forward, softmax_cross_entropy

OPTIMIZERS = ("sgd", "momentum", "adam")


# ---------------------------------------------------------------- optimizers


class SGD:
    """Plain gradient descent: p -= lr * g."""

    def __init__(self, lr: float):
        self.lr = lr

    def update(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place (the trainer owns them) from ``grads``."""
        for name, g in grads.items():
            params[name] -= self.lr * g


class Momentum(SGD):
    """Heavy-ball momentum: v = beta v + g; p -= lr v."""

    BETA = 0.9

    def __init__(self, lr: float, beta: float = BETA):
        super().__init__(lr)
        self.beta, self.velocity = beta, {}

    def update(self, params, grads):
        for name, g in grads.items():
            v = self.velocity[name] = self.beta * self.velocity.get(name, 0.0) + g
            params[name] -= self.lr * v


class Adam(SGD):
    """Adam (Kingma & Ba, 2015) with bias-corrected moment estimates."""

    BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

    def __init__(self, lr: float, beta1: float = BETA1, beta2: float = BETA2, eps: float = EPS):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            m = self.m[name] = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * g
            v = self.v[name] = self.beta2 * self.v.get(name, 0.0) + (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(name: str, lr: float) -> SGD:
    classes = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return classes[name](lr)


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
        if self.init not in model.INIT_SCHEMES:
            raise ValueError(f"unknown init scheme {self.init!r}; choose one of {', '.join(model.INIT_SCHEMES)}")
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


def with_ones(features: np.ndarray) -> np.ndarray:
    """Append a column of ones, so that a readout's bias is its last row.  (..., N, H) -> (..., N, H + 1)."""
    return np.concatenate([features, np.ones(features.shape[:-1] + (1,))], axis=-1)


def seeded_streams(seed: int):
    """Two independent generators, (init, batches): changing the width or the
    learning rate then leaves the other stream, and so the batch order, alone."""
    init_seq, batch_seq = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(init_seq), np.random.default_rng(batch_seq)


def initial_params(config: TrainConfig) -> dict:
    """The parameters a run with this config starts from."""
    rng, _ = seeded_streams(config.seed)
    return model.init_params(model.layer_sizes(config.hidden_size), config.init, rng)


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

    def test_accuracy(self) -> float:
        return model.accuracy(self.params, self.data.test.images, self.data.test.labels)

    def result(self) -> dict:
        return self.params


class FrozenFeatureSteps:
    """Top-layer-only steps on precomputed frozen features: about 20-40 us a step here.

    At this size NumPy's per-call overhead, not arithmetic, is the cost, so
    each step makes as few calls as it can:
    - the bias is folded into the weights: features get a column of ones and
      [W3; b3] is one (H + 1, 10) matrix, so one product gives scores and one
      gives both gradients;
    - labels are one-hot rows, subtracted without fancy indexing;
    - the loss is not needed to take the step, so the (shifted) scores are
      kept and a chunk's losses computed afterwards in one vectorized pass.
    The arithmetic is that of softmax_cross_entropy and affine_backward.
    A chunk whose loss diverges has still been stepped to its end: the
    returned parameters of a diverged run are of no use anyway.
    """

    MAX_CHUNK_FLOATS = 1 << 22  # 32 MB of gathered features per chunk

    def __init__(self, params, data, config, sampler, optimizer, features):
        self.params, self.config, self.sampler, self.optimizer = params, config, sampler, optimizer
        self.top = model.num_layers(params)
        self.train_features = with_ones(features.train)
        self.test_features = with_ones(features.test)
        self.train_onehot = np.eye(model.NUM_CLASSES)[data.train.labels]
        self.test_labels = data.test.labels
        self.weights = np.vstack([params[f"W{self.top}"], params[f"b{self.top}"]])  # (H + 1, 10)
        self.max_chunk = max(1, self.MAX_CHUNK_FLOATS // (config.batch_size * self.train_features.shape[1]))

    def run(self, count: int) -> np.ndarray:
        losses = []
        while count > 0:
            losses.append(self._run_chunk(min(count, self.max_chunk)))
            count -= len(losses[-1])
            if not losses[-1][-1] <= self.config.max_loss:
                break
        return np.concatenate(losses)

    def _run_chunk(self, count: int) -> np.ndarray:
        idx = np.stack([self.sampler.next() for _ in range(count)])  # (count, batch)
        shifted = np.empty(idx.shape + (model.NUM_CLASSES,))  # each step's scores minus their row max
        weights, update, scale = {"Wb": self.weights}, self.optimizer.update, 1.0 / idx.shape[1]
        sgd_rate = self.optimizer.lr * scale if type(self.optimizer) is SGD else None
        row_max, row_sum = np.maximum.reduce, np.add.reduce
        for t in range(count):
            feats, onehot = self.train_features[idx[t]], self.train_onehot[idx[t]]
            s = np.matmul(feats, self.weights, out=shifted[t])
            s -= row_max(s, axis=1, keepdims=True)  # softmax is shift-invariant; exp cannot overflow
            probs = np.exp(s)
            probs /= row_sum(probs, axis=1, keepdims=True)
            probs -= onehot  # dscores = (softmax - onehot) / N, the 1/N applied below
            if sgd_rate is not None:  # plain SGD inline: saves two calls a step
                self.weights -= sgd_rate * (feats.T @ probs)
            else:
                probs *= scale
                update(weights, {"Wb": feats.T @ probs})
        # each batch's loss from the scores it was computed with: mean(logsumexp - score of the true class)
        onehot = self.train_onehot[idx]
        losses = (np.log(np.exp(shifted).sum(axis=2)) - (shifted * onehot).sum(axis=2)).mean(axis=1)
        bad = np.flatnonzero(~(losses <= self.config.max_loss))
        return losses[: bad[0] + 1] if len(bad) else losses

    def test_accuracy(self) -> float:
        return float(np.mean((self.test_features @ self.weights).argmax(axis=1) == self.test_labels))

    def result(self) -> dict:
        self.params[f"W{self.top}"] = self.weights[:-1].copy()
        self.params[f"b{self.top}"] = self.weights[-1].copy()
        return self.params


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
    _, batch_rng = seeded_streams(config.seed)
    sampler = BatchSampler(len(data.train.labels), config.batch_size, batch_rng)
    optimizer = make_optimizer(config.optimizer, config.lr)
    history = History(config)
    say = verbose if callable(verbose) else print

    def evaluate(step):
        history.eval_steps.append(step)
        history.test_accuracies.append(stepper.test_accuracy())
        if verbose:
            say(f"accuracy: {100 * history.test_accuracies[-1]:.2f}%")

    def log(step, running):
        history.steps.append(step)
        history.losses.append(float(running))
        if verbose:
            say(f"\tstep {step}: loss: {running:.4f}")

    started = time.perf_counter()
    # a huge learning rate overflows; that is reported as divergence, not as warnings
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if fast and config.train == "top":
            features = features or frozen_features(params, data)
            stepper = FrozenFeatureSteps(params, data, config, sampler, optimizer, features)
        else:
            stepper = FullForwardSteps(params, data, config, sampler, optimizer)
        every = [config.log_every, config.eval_every] + ([progress_every] if progress else [])
        step, running = 0, None
        evaluate(0)  # the untrained network
        while step < config.steps:
            # run up to the next step where something is logged, evaluated or reported
            stop = min(config.steps, *((step // e + 1) * e for e in every))
            losses = stepper.run(stop - step)
            for loss in losses:
                if not loss <= config.max_loss:  # also catches nan
                    history.diverged_at, history.diverged_loss = step + 1, float(loss)
                    break
                if running is None:  # step 0 shows the loss of the first batch, before any update
                    running = loss
                    log(0, running)
                running = config.smoothing * running + (1 - config.smoothing) * loss
                step += 1
            history.steps_done = step
            if history.diverged_at is not None:
                break
            if step % config.eval_every == 0 or step == config.steps:
                evaluate(step)
            if step % config.log_every == 0:
                log(step, running)
            reporting = progress is not None and (step % progress_every == 0 or step == config.steps)
            if reporting and progress(step, config.steps):
                history.cancelled = step < config.steps
                break
        params = stepper.result()
    history.train_seconds = time.perf_counter() - started
    if verbose and (history.diverged_at is not None or history.cancelled):
        say(history.message)
    return params, history
