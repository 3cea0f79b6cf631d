"""The accelerator for grids: many top-layer-only runs trained in lockstep on frozen features.

With the lower layers frozen, the features h2 of every image never change:
computed once, each step of top-layer training is then a (batch x H) by
(H x 10) product. At that size NumPy's per-call overhead, not arithmetic, is
the cost, so :class:`ReadoutStack` trains S x K readouts at once, sharing
every call but the two products: S feature sets (seeds, each with its own features and batches)
by K runs per feature set (learning rates, optimizers), which share their
seed's batches. :func:`train_top_layers` drives it on the schedule of
``helpers.train.train`` and gives the same runs (tested against that loop);
use it for grids (the explorer's 51 learning rates, the baselines' sweeps).
A single run is faster and clearer through ``helpers.train.train``.

Each step makes as few calls as it can:
- the bias is folded into the weights: features get a column of ones and
  [W3; b3] is one (H + 1, 10) matrix, so one product gives the scores and one
  gives both gradients;
- the softmax, its gradient and the update are one call each for all S x K
  runs (only the two products are per run, which keeps every run's arithmetic
  that of a run trained alone);
- labels are one-hot rows, subtracted without fancy indexing;
- the loss is not needed to take a step: the shifted scores are kept and a
  chunk's losses computed afterwards in one vectorized pass.
The arithmetic is that of helpers.layers and helpers.optimizers, element for
element, so a stacked run equals the same run trained alone.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from . import model
from .data import BatchSampler, images_dtype
from .layers import shift_scores, softmax_cross_entropy_gradient, softmax_cross_entropy_losses
from .model import NUM_CLASSES, frozen_features
from .optimizers import make_optimizer
from .threads import one_blas_thread
from .train import History, initial_params, seeded_streams


def with_ones(features: np.ndarray) -> np.ndarray:
    """Append a column of ones, so that a readout's bias is its last row.  (..., N, H) -> (..., N, H + 1)."""
    return np.concatenate([features, np.ones(features.shape[:-1] + (1,), dtype=features.dtype)], axis=-1)


def _rate(rates: np.ndarray):
    """One number when every run has the same learning rate (cheaper to apply), else the array."""
    return float(rates.flat[0]) if (rates == rates.flat[0]).all() else rates


class ReadoutStack:
    """S x K top-layer readouts trained in lockstep: S feature sets (with their batch samplers) by K runs each.

    weights (S, K, H + 1, 10), the bias in the last row. Every run's products are
    its own 2-d np.dot calls, so a run's arithmetic does not depend on what else
    is in the stack: a grid of K runs equals each run trained alone, bit for bit.
    The rest of a step (softmax, gradient, update) is one call for all runs.
    Runs may use different registered optimizers: each optimizer steps every
    readout, with a learning rate that is 0 for the other optimizers' readouts.
    """

    MAX_CHUNK_FLOATS = 1 << 22  # gathered features, scores and labels of a chunk: 32 MB

    def __init__(
        self, train_features, test_features, train_labels, test_labels, samplers, start_weights, lrs, optimizers
    ):
        """train_features: S arrays (N, H); test_features: S arrays (Ntest, H); samplers: S BatchSamplers
        of one batch size; start_weights (S, H + 1, 10); lrs, optimizers: S lists of K learning rates and names.
        Every array is in start_weights' dtype (float64, or float32 with float32 features)."""
        S, K = len(lrs), len(lrs[0])
        dtype = start_weights.dtype
        lr = np.array(lrs, dtype=dtype)[:, :, None, None]  # (S, K, 1, 1)
        kinds = np.array(optimizers)[:, :, None, None]
        # make_optimizer refuses an unregistered name (it is never trained as another optimizer)
        names = dict.fromkeys(n for row in optimizers for n in row)
        self.optimizers = [make_optimizer(name, _rate(np.where(kinds == name, lr, 0.0))) for name in names]
        n_train, hidden = train_features[0].shape
        # every seed's training features in one (S * N, H + 1) matrix: a chunk gathers all seeds' batches in one take
        self.train_features = np.ones((S * n_train, hidden + 1), dtype=dtype)
        for i, f in enumerate(train_features):
            self.train_features[i * n_train : (i + 1) * n_train, :hidden] = f
        self.offsets = (np.arange(S) * n_train)[:, None]  # (S, 1): where each seed's rows start
        self.test_features = [with_ones(f) for f in test_features]  # S arrays (Ntest, H + 1)
        self.train_onehot = np.eye(NUM_CLASSES, dtype=dtype)[train_labels]
        self.test_labels = test_labels
        self.samplers, B = samplers, samplers[0].batch_size
        self.weights = np.repeat(start_weights[:, None], K, axis=1)  # (S, K, H + 1, 10)
        # scratch arrays that every chunk reuses: fresh ones would cost page faults every time
        chunk = self.max_chunk = max(1, self.MAX_CHUNK_FLOATS // (S * B * (2 * K * NUM_CLASSES + hidden + 1)))
        self.features = np.empty((chunk, S, B, hidden + 1), dtype=dtype)  # each step's batches
        self.scores = np.empty((chunk, S, K, B, NUM_CLASSES), dtype=dtype)  # their scores, shifted in place
        self.onehot = np.empty((chunk, S, K, B, NUM_CLASSES), dtype=dtype)  # their labels, once per readout
        self.dscores = np.empty((S, K, B, NUM_CLASSES), dtype=dtype)
        self.grads = np.empty_like(self.weights)

    def run(self, count: int) -> np.ndarray:
        """Take ``count`` steps with every readout; return their batch losses (count, S, K)."""
        losses = []
        while count > 0:
            losses.append(self._run_chunk(min(count, self.max_chunk)))
            count -= len(losses[-1])
        return np.concatenate(losses)

    def _run_chunk(self, count: int) -> np.ndarray:
        S, K, width, classes = self.weights.shape
        B = self.dscores.shape[2]
        idx = np.empty((count, S, B), dtype=np.int64)
        for t in range(count):
            for i, sampler in enumerate(self.samplers):
                idx[t, i] = sampler.next()
        features, scores, onehot = self.features[:count], self.scores[:count], self.onehot[:count]
        np.take(self.train_features, (idx + self.offsets).ravel(), axis=0, out=features.reshape(-1, width), mode="clip")
        labels = np.broadcast_to(idx[:, :, None], (count, S, K, B)).ravel()  # each run sees its seed's batch
        np.take(self.train_onehot, labels, axis=0, out=onehot.reshape(-1, classes), mode="clip")
        # one row of 10 scores per (seed, run, example): the softmax then works on 2-d arrays,
        # which costs NumPy about half the time of 5-d ones
        shifted, onehot = scores.reshape(count, -1, classes), onehot.reshape(count, -1, classes)
        dscores_rows = self.dscores.reshape(-1, classes)
        runs = [(s, k) for s in range(S) for k in range(K)]
        named_weights, named_grads = {"Wb": self.weights}, {"Wb": self.grads}
        for feats, scores_t, shifted_t, onehot_t in zip(features, scores, shifted, onehot):  # one step each
            for s, k in runs:  # 2-d np.dot: a third of the overhead of a batched matmul
                np.dot(feats[s], self.weights[s, k], out=scores_t[s, k])
            shift_scores(shifted_t, out=shifted_t)
            softmax_cross_entropy_gradient(shifted_t, onehot_t, B, out=dscores_rows)
            for s, k in runs:
                np.dot(feats[s].T, self.dscores[s, k], out=self.grads[s, k])
            for optimizer in self.optimizers:
                optimizer.update(named_weights, named_grads)
        # each batch's mean loss, from the scores its step was computed with
        return softmax_cross_entropy_losses(shifted, onehot).reshape(count, S, K, B).mean(axis=-1)

    def test_accuracies(self) -> np.ndarray:
        """Test accuracy of every readout, (S, K)."""
        return self.accuracies(self.test_features, self.test_labels)

    def accuracies(self, features: list, labels) -> np.ndarray:
        """Accuracy of every readout on S feature arrays (N, H + 1) with labels (N,): (S, K)."""
        S, K = self.weights.shape[:2]
        return np.array(
            [
                [np.mean(np.dot(features[s], self.weights[s, k]).argmax(axis=1) == labels) for k in range(K)]
                for s in range(S)
            ]
        )

    def readout(self, s: int, k: int) -> tuple:
        """The top layer's (W, b) of run k of feature set s: copies, (H, 10) and (10,)."""
        return self.weights[s, k, :-1].copy(), self.weights[s, k, -1].copy()


# ---------------------------------------------------------------- many runs on train()'s schedule

# the fields that the runs of one stack share: they fix the features' shape, the batches and the schedule
SHARED_FIELDS = (
    "steps",
    "batch_size",
    "hidden_size",
    "init",
    "rule",
    "log_every",
    "eval_every",
    "smoothing",
    "max_loss",
)


def check_stackable(configs) -> None:
    """Raise ValueError unless ``configs`` are valid top-layer-only runs that share SHARED_FIELDS."""
    if not configs:
        raise ValueError("no configurations to train")
    for config in configs:
        config.validate()
        if config.rule != "top":
            raise ValueError(
                f"train_top_layers trains the top layer only (rule 'top'), got rule {config.rule!r}; "
                "use helpers.train.train for other rules"
            )
        for name in SHARED_FIELDS:
            if getattr(config, name) != getattr(configs[0], name):
                raise ValueError(
                    f"all configurations must share {name}: got {getattr(configs[0], name)!r} and {getattr(config, name)!r}"
                )


def train_top_layers(data, configs, *, features=None, progress=None, progress_every: int = 100) -> list:
    """Train several top-layer-only runs at once: the runs :func:`helpers.train.train` gives one by one.

    configs   TrainConfigs with rule "top" that share SHARED_FIELDS; seeds, learning
              rates and optimizers may differ. Runs with one seed share the frozen
              features and the batches (exactly those train() draws) and step together.
    features  optional {seed: FrozenFeatures} (computed when missing).
    progress  called as ``progress(step, steps)`` every ``progress_every`` steps;
              returning True cancels every run (``history.cancelled``).
    Returns [(params, History), ...] in the order of ``configs``; params is None for a
    diverged run (the stack steps on past a divergence: its weights are not a result).
    Every History's ``train_seconds`` is the wall time of the whole call.
    """
    configs = list(configs)
    check_stackable(configs)
    features = dict(features or {})
    started = time.perf_counter()
    results = [None] * len(configs)
    seeds = list(dict.fromkeys(c.seed for c in configs))
    for seed in seeds:
        rows = [i for i, c in enumerate(configs) if c.seed == seed]
        start = initial_params(configs[rows[0]], images_dtype(data))
        if seed not in features:
            features[seed] = frozen_features(start, data)
        found = features[seed]
        if found.validation is None:
            found = replace(found, validation=model.hidden_features(start, data.validation.images))
        done = len([r for r in results if r is not None])

        def report(step, steps, done=done, rows=rows):  # the fraction of every run's steps done so far
            return progress((done * steps + len(rows) * step) // len(configs), steps)

        runs = _train_one_stack(
            data, [configs[i] for i in rows], start, found, report if progress else None, progress_every
        )
        for i, run in zip(rows, runs):
            results[i] = run
        if any(h.cancelled for _, h in runs):
            break
    seconds = time.perf_counter() - started
    for i, config in enumerate(configs):
        if results[i] is None:  # cancelled before its seed's turn
            results[i] = (None, History(config, cancelled=True))
        results[i][1].train_seconds = seconds
    return results


def _train_one_stack(data, configs, start, features, progress, progress_every) -> list:
    """K runs of one seed in one ReadoutStack, on the schedule of helpers.train.train."""
    config, top = configs[0], model.num_layers(start)
    sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
    stack = ReadoutStack(
        [features.train],
        [features.test],
        data.train.labels,
        data.test.labels,
        [sampler],
        np.vstack([start[f"W{top}"], start[f"b{top}"]])[None],
        [[c.lr for c in configs]],
        [[c.optimizer for c in configs]],
    )
    validation = [with_ones(features.validation)]
    histories = [History(replace(c, hidden_size=start["W1"].shape[1])) for c in configs]
    alive = np.ones(len(configs), dtype=bool)

    def evaluate(step):
        tests, vals = stack.test_accuracies()[0], stack.accuracies(validation, data.validation.labels)[0]
        for r in np.flatnonzero(alive):
            histories[r].eval_steps.append(step)
            histories[r].test_accuracies.append(float(tests[r]))
            histories[r].validation_accuracies.append(float(vals[r]))

    def log(step, running, runs):
        for r in runs:
            histories[r].steps.append(step)
            histories[r].losses.append(float(running[r]))

    every = [config.log_every, config.eval_every] + ([progress_every] if progress else [])
    step, running = 0, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        evaluate(0)
        while step < config.steps:
            # run up to the next step where something is logged, evaluated or reported
            stop = min(config.steps, *((step // e + 1) * e for e in every))
            losses = stack.run(stop - step)[:, 0]  # (count, K)
            fine = losses <= config.max_loss  # False for nan too
            if running is None:  # step 0 shows the loss of the first batch, before any update
                running = losses[0].copy()
                log(0, running, np.flatnonzero(fine[0]))
            first_bad = np.where(fine.all(axis=0), len(losses), np.argmin(fine, axis=0))
            for r in np.flatnonzero(alive & (first_bad < len(losses))):
                h = histories[r]
                h.diverged_at, h.diverged_loss = int(step + first_bad[r] + 1), float(losses[first_bad[r], r])
                h.steps_done = int(step + first_bad[r])
            alive &= first_bad == len(losses)
            if not alive.any():
                break
            for mixed in (1 - config.smoothing) * losses:  # running = smoothing * running + (1 - smoothing) * loss
                running = config.smoothing * running + mixed
            step = stop
            for r in np.flatnonzero(alive):
                histories[r].steps_done = step
            last = step == config.steps
            if step % config.eval_every == 0 or last:  # the reference prints the accuracy first
                evaluate(step)
            if step % config.log_every == 0 or last:
                log(step, running, np.flatnonzero(alive))
            if progress is not None and (step % progress_every == 0 or last) and progress(step, config.steps):
                for r in np.flatnonzero(alive):
                    histories[r].cancelled = not last
                break
    results = []
    for k, history in enumerate(histories):
        params = None
        if history.diverged_at is None:
            params = {name: value.copy() for name, value in start.items()}
            params[f"W{top}"], params[f"b{top}"] = stack.readout(0, k)
        results.append((params, history))
    return results
