"""Baselines: what top-layer-only backprop leaves on the table, measured.

The measurements of notebook 07 and of ``python -m helpers baselines``:

- top layer only, SGD, the reference recipe, over several seeds;
- all layers trained with backprop, same recipe;
- the ceiling of the frozen features: a closed-form least-squares readout and
  a softmax readout trained to convergence;
- the learning rate and the optimizer (SGD, momentum, Adam);
- the width of the frozen layers (random features, extreme-learning-machine style).

What is vectorized. Top-layer-only runs that share the number of steps, the
batch size and the width are trained *together*, as rule ``top`` trains many
runs (:func:`helpers.train.train_many`; the engine is
``helpers.readout.ReadoutStack``): their (H + 1, 10) readouts are stacked, K
settings, and each step gathers one batch for all of them (exactly the batches
:func:`helpers.train.train` would draw). The result equals running
:func:`helpers.train.train` once per configuration (``train_many(...,
together=False)``), to rounding. The least-squares and softmax readouts
are batched over seeds.

Results file. ``python -m helpers baselines --out results/baselines.json``
saves each finished unit (a part; one width of the width sweep) in
``results/baselines.json.partial`` as it goes, so a failure or Ctrl-C keeps
what is done and the same command resumes; the results file is written whole
at the end (helpers.results). The width-2048 rows hold about 13.3 GB at once
(:func:`width_memory_bytes`): the command checks the available memory first.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import conditioning, model, results
from .cli_args import int_at_least, positive_float
from .data import Split
from .layers import shift_scores, softmax_cross_entropy_gradient, softmax_cross_entropy_losses
from .model import FrozenFeatures, frozen_features
from .optimizers import OPTIMIZERS
from .readout import with_ones
from .results import accuracy_at, summary, write_results
from .train import TrainConfig, initial_params, train, train_many

# ---------------------------------------------------------------- features


def features_for(data, seed: int, hidden_size: int = 128, init: str = "reference") -> FrozenFeatures:
    """The frozen features of the network that a run with this seed, width and init starts from."""
    return frozen_features(initial_params(TrainConfig(seed=seed, hidden_size=hidden_size, init=init)), data)


def subset(data, train_images: int | None):
    """The same data with only the first ``train_images`` training images (None: all of them)."""
    if train_images is None or train_images >= len(data.train):
        return data
    return replace(data, train=Split(data.train.images[:train_images], data.train.labels[:train_images]))


def sampling_error(accuracy: float, n: int = 10000) -> float:
    """Standard error of an accuracy measured on n independent test images: sqrt(p (1 - p) / n).

    The test set is one draw of n digits; another draw would give another accuracy, typically
    this far away (about 0.4-0.5 points at n = 10,000 for accuracies between 70% and 50%).
    """
    return math.sqrt(accuracy * (1 - accuracy) / n)


# ---------------------------------------------------------------- the ceiling of the frozen features


def least_squares_readout(features: np.ndarray, labels: np.ndarray, ridge: float = 1e-10) -> np.ndarray:
    """Closed-form linear readout: minimise |F W - Y|^2 + lam |W|^2 with one-hot targets Y.

    features (..., N, H + 1) (include the column of ones for a bias), labels (N,)
    -> W (..., H + 1, 10). Normal equations (F^T F + lam I) W = F^T Y, batched over
    leading axes (seeds); lam = ridge * mean diagonal of F^T F: tiny, it only
    keeps the system solvable when a feature is dead (a column of zeros), and
    the solution is then the least-squares one that np.linalg.lstsq finds.
    """
    onehot = np.eye(model.NUM_CLASSES)[labels]
    gram = np.matmul(features.swapaxes(-1, -2), features)  # (..., H + 1, H + 1)
    size = gram.shape[-1]
    lam = ridge * np.trace(gram, axis1=-2, axis2=-1)[..., None, None] / size
    return np.linalg.solve(gram + lam * np.eye(size), np.matmul(features.swapaxes(-1, -2), onehot))


def readout_accuracy(features: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of rows classified correctly.  features (..., N, H + 1), weights (..., H + 1, 10) -> (...)."""
    return (np.matmul(features, weights).argmax(axis=-1) == labels).mean(axis=-1)


def softmax_loss_and_gradient(features, weights, onehot, block: int = 4096):
    """Mean cross-entropy of softmax(F W) and its gradient.  (..., N, H + 1), (..., H + 1, 10) -> (...), (..., H + 1, 10).

    Computed ``block`` rows at a time: each block of F is read from memory
    once and reused from the cache for the gradient, about twice as fast.
    """
    n = features.shape[-2]
    loss = np.zeros(features.shape[:-2])
    grad = np.zeros_like(weights)
    for start in range(0, n, block):
        f, y = features[..., start : start + block, :], onehot[start : start + block]
        shifted = shift_scores(np.matmul(f, weights))
        loss += softmax_cross_entropy_losses(shifted, y).sum(axis=-1)
        grad += np.matmul(f.swapaxes(-1, -2), softmax_cross_entropy_gradient(shifted, y))  # summed: / n below
    return loss / n, grad / n


@dataclass
class SoftmaxFit:
    weights: np.ndarray  # (..., H + 1, 10)
    losses: np.ndarray  # (iterations + 1, ...) training loss before each update and at the end
    gradient_norms: np.ndarray  # (...) largest |gradient entry| at the end


def softmax_readout(
    features: np.ndarray, labels: np.ndarray, iterations: int = 150, lr: float = 1.0, momentum: float = 0.9
) -> SoftmaxFit:
    """A softmax readout trained to convergence: full-batch gradient descent, preconditioned.

    Plain gradient descent crawls here because the features are badly
    conditioned (F^T F has a condition number of 1e5 to 1e6 at H = 128,
    seeds 0-2; helpers.conditioning measures it): that is why
    SGD at lr 1e-3 is slow. Multiplying the gradient by (F^T F / N)^-1, the
    inverse of the curvature the features induce, makes every direction about
    equally steep, so heavy-ball momentum with lr 1 converges in ~100
    full passes. features (..., N, H + 1), labels (N,); batched over seeds.
    """
    onehot = np.eye(model.NUM_CLASSES)[labels]
    n, size = features.shape[-2:]
    gram = np.matmul(features.swapaxes(-1, -2), features) / n
    lam = 1e-8 * np.trace(gram, axis1=-2, axis2=-1)[..., None, None] / size
    precondition = np.linalg.inv(gram + lam * np.eye(size))
    weights = np.zeros(features.shape[:-2] + (size, model.NUM_CLASSES))
    velocity = np.zeros_like(weights)
    losses = []
    for _ in range(iterations):
        loss, grad = softmax_loss_and_gradient(features, weights, onehot)
        losses.append(loss)
        velocity = momentum * velocity + np.matmul(precondition, grad)
        weights = weights - lr * velocity
    loss, grad = softmax_loss_and_gradient(features, weights, onehot)
    losses.append(loss)
    return SoftmaxFit(weights, np.array(losses), np.abs(grad).max(axis=(-2, -1)))


def nearest_class_mean(train_images: np.ndarray, train_labels: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Predict the class whose mean training image is nearest (Euclidean).  (N, D), (N,), (M, D) -> (M,).

    |x - m_c|^2 = |x|^2 - 2 x.m_c + |m_c|^2, and |x|^2 is the same for every class.
    """
    means = np.stack([train_images[train_labels == c].mean(axis=0) for c in range(model.NUM_CLASSES)])
    return (np.sum(means**2, axis=1) - 2 * images @ means.T).argmin(axis=1)


# ---------------------------------------------------------------- the measurements, as table rows

OPTIMIZER_NAMES = {name: cls.label for name, cls in OPTIMIZERS.items()}  # "SGD", "momentum", "Adam"
DEFAULT_SWEEP = (
    ("sgd", 1e-3),
    ("sgd", 1e-2),
    ("sgd", 1e-1),
    ("sgd", 1.0),
    ("momentum", 1e-3),
    ("momentum", 1e-2),
    ("adam", 1e-3),
    ("adam", 1e-2),
)
DEFAULT_WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048)
ALL_LAYERS_LRS = (1e-3, 1e-2, 1e-1, 1.0)  # the top layer's SGD grid


def make_row(
    method: str, setting: str, steps, accuracies, seeds, wall_seconds: float, hidden_size: int = 128, **extra
) -> dict:
    """One row of the summary table.  accuracies: one test accuracy (fraction) per seed.

    spread = standard deviation over seeds (ddof=1; 0 for a single seed).
    seeds = [] for a deterministic method (no random draw: one accuracy).
    extra: train_images (how many training images the method saw; 55,000 unless a subset),
    validation_accuracies (one per seed, for runs that choose on them) and notes. A training
    row also carries its ``lr`` and ``optimizer`` (and a conditioning row its ``features``):
    select rows by these fields, not by parsing the ``setting`` label that the table shows.
    """
    s = summary(accuracies)
    return {
        "method": method,
        "setting": setting,
        "steps": steps,
        "hidden_size": hidden_size,
        "seeds": [int(seed) for seed in seeds],
        "test_accuracy_mean": s["mean"],
        "test_accuracy_spread": s["sd"],
        "test_accuracies": s["per_seed"],
        "wall_seconds": float(wall_seconds),
        **extra,
    }


def validation_at(histories, step: int) -> list:
    """Each run's validation accuracy at ``step``: what model selection reads (the test set only reports)."""
    return [accuracy_at(h, step, "validation") for h in histories]


def top_train_accuracy(params, features: FrozenFeatures, labels) -> float:
    """Training accuracy of a top-layer-only run's final readout on its frozen features (NaN when it diverged)."""
    if params is None:
        return float("nan")
    top = model.num_layers(params)
    scores = features.train @ params[f"W{top}"] + params[f"b{top}"]
    return float(np.mean(scores.argmax(axis=1) == labels))


@dataclass
class Measurement:
    """Rows for the table plus what the notebook plots."""

    rows: list
    histories: list = field(default_factory=list)  # History objects, when the rows come from training runs
    extra: dict = field(default_factory=dict)


def measure_top_only(data, seeds, checkpoints=(10000, 20000, 50000), features=None, **config) -> Measurement:
    """Top layer only, the reference recipe: one run per seed to the last checkpoint, all seeds at once."""
    steps = max(checkpoints)
    config.setdefault("eval_every", math.gcd(1000, *checkpoints))  # every checkpoint is evaluated
    configs = [TrainConfig(steps=steps, seed=s, **config) for s in seeds]
    # together: each seed's run in the lockstep engine, which makes fewer NumPy calls a step than the
    # plain loop (the same accuracies, to rounding)
    started = time.perf_counter()
    results = train_many(data, configs, features=features)
    seconds = time.perf_counter() - started
    histories = [h for _, h in results]
    features = features or {}
    final = [
        top_train_accuracy(
            p, features.get(c.seed) or features_for(data, c.seed, c.hidden_size, c.init), data.train.labels
        )
        for (p, _), c in zip(results, configs)
    ]
    lr = configs[0].lr
    rows = [
        make_row(
            "top layer only, SGD",
            f"lr {lr:g}",
            c,
            [accuracy_at(h, c) for h in histories],
            seeds,
            seconds,
            configs[0].hidden_size,
            train_images=len(data.train),
            validation_accuracies=validation_at(histories, c),
            lr=lr,
            optimizer=configs[0].optimizer,
            **({"train_accuracies": final} if c == steps else {}),
        )
        for c in sorted(checkpoints)
    ]
    return Measurement(rows, histories)


def measure_all_layers(data, seeds, steps=10000, **config) -> Measurement:
    """All layers trained with backprop, same recipe: helpers.train.train, one seed after the other."""
    results = [train(data, TrainConfig(steps=steps, seed=s, rule="backprop", **config)) for s in seeds]
    histories = [h for _, h in results]
    # at the end of each run: accuracy on the training images (the generalization gap) and the
    # dead ReLUs of each hidden layer (units that fire on no test image; see model.dead_fractions)
    at_end = {
        "train_accuracies": [
            model.accuracy(p, data.train.images, data.train.labels) if h.diverged_at is None else float("nan")
            for p, h in results
        ],
        "dead_fractions": [model.dead_fractions(p, data.test.images) for p, _ in results],
        "dead_fractions_at_init": [model.dead_fractions(initial_params(h.config), data.test.images) for h in histories],
    }
    checkpoints = sorted({steps} | {c for c in (10000, 20000, 50000) if c < steps})
    diverged = [h.config.seed for h in histories if h.diverged_at is not None]
    method = (
        "all layers"
        if histories[0].config.optimizer == "sgd"
        else f"all layers, {OPTIMIZER_NAMES[histories[0].config.optimizer]}"
    )
    rows = [
        make_row(
            method,
            f"lr {histories[0].config.lr:g}",
            c,
            [accuracy_at(h, c) for h in histories],
            seeds,
            sum(h.train_seconds for h in histories),
            histories[0].config.hidden_size,
            train_images=len(data.train),
            diverged_seeds=diverged,
            lr=histories[0].config.lr,
            optimizer=histories[0].config.optimizer,
            validation_accuracies=validation_at(histories, c),
            **(at_end if c == steps else {}),
        )
        for c in checkpoints
    ]
    return Measurement(rows, histories)


def stacked_features(data, seeds, features=None, hidden_size=128, init="reference"):
    """Every seed's frozen features with a column of ones: train (S, N, H + 1), test (S, Ntest, H + 1)."""
    features = features or {}
    chosen = [features.get(s) or features_for(data, s, hidden_size, init) for s in seeds]
    return np.stack([with_ones(f.train) for f in chosen]), np.stack([with_ones(f.test) for f in chosen])


def measure_readouts(data, seeds, features=None, softmax_iterations: int = 100, softmax_seeds=None) -> Measurement:
    """The ceiling of the frozen features: least-squares and softmax readouts, batched over seeds.

    softmax_seeds: the seeds of the softmax readout (default: ``seeds``); it is
    the slow one, ~100 full passes over the 55,000 x 129 features per seed.
    """
    softmax_seeds = list(seeds if softmax_seeds is None else softmax_seeds)
    chosen = [seeds.index(s) for s in softmax_seeds]
    seeds = list(seeds)
    train_features, test_features = stacked_features(data, seeds, features)
    started = time.perf_counter()
    weights = least_squares_readout(train_features, data.train.labels)
    ls_seconds = time.perf_counter() - started
    ls_acc = readout_accuracy(test_features, weights, data.test.labels)
    started = time.perf_counter()
    fit = softmax_readout(train_features[chosen], data.train.labels, iterations=softmax_iterations)
    sm_seconds = time.perf_counter() - started
    sm_acc = readout_accuracy(test_features[chosen], fit.weights, data.test.labels)
    train_accuracy = {
        "least-squares readout": readout_accuracy(train_features, weights, data.train.labels),
        "softmax readout": readout_accuracy(train_features[chosen], fit.weights, data.train.labels),
    }
    rows = [
        make_row(
            "least-squares readout",
            "closed form",
            None,
            ls_acc,
            seeds,
            ls_seconds,
            train_images=len(data.train),
            train_accuracies=train_accuracy["least-squares readout"].tolist(),
        ),
        make_row(
            "softmax readout",
            "to convergence",
            softmax_iterations,
            sm_acc,
            softmax_seeds,
            sm_seconds,
            train_images=len(data.train),
            final_loss=[float(x) for x in fit.losses[-1]],
            max_gradient=[float(x) for x in fit.gradient_norms],
            train_accuracies=train_accuracy["softmax readout"].tolist(),
        ),
    ]
    return Measurement(rows, extra={"softmax_fit": fit, "weights": weights, "train_accuracy": train_accuracy})


def sweep_configs(seeds, sweep=DEFAULT_SWEEP, steps=10000, **config) -> list:
    return [TrainConfig(steps=steps, seed=s, optimizer=o, lr=lr, **config) for s in seeds for o, lr in sweep]


def measure_sweep(data, seeds, sweep=DEFAULT_SWEEP, steps=10000, features=None) -> Measurement:
    """Top layer only with other learning rates and optimizers: every seed and setting in one stack."""
    configs = sweep_configs(seeds, sweep, steps)
    features = dict(features or {})
    for s in seeds:
        features.setdefault(s, features_for(data, s))
    results = train_many(data, configs, features=features)
    rows = []
    for optimizer, lr in sweep:
        chosen = [(c, p, h) for c, (p, h) in zip(configs, results) if (c.optimizer, c.lr) == (optimizer, lr)]
        runs = [h for _, _, h in chosen]
        method = "top layer only, SGD" if optimizer == "sgd" else f"top layer only, {OPTIMIZER_NAMES[optimizer]}"
        diverged = [h.config.seed for h in runs if h.diverged_at is not None]
        rows.append(
            make_row(
                method,
                f"lr {lr:g}",
                steps,
                [accuracy_at(h, steps) for h in runs],
                seeds,
                runs[0].train_seconds,
                train_images=len(data.train),
                diverged_seeds=diverged,
                validation_accuracies=validation_at(runs, steps),
                lr=lr,
                optimizer=optimizer,
                train_accuracies=[top_train_accuracy(p, features[c.seed], data.train.labels) for c, p, _ in chosen],
            )
        )
    return Measurement(rows, [h for _, h in results])


def measure_widths(data, widths=DEFAULT_WIDTHS, seeds=(0,), steps=10000, train_images=None) -> Measurement:
    """Top layer only as the frozen layers widen: SGD (reference recipe) and the least-squares readout.

    train_images: use only the first N training images (the cost of the widest
    networks' features grows as N * width^2); the test set is always complete.
    """
    data = subset(data, train_images)
    n_train = len(data.train)
    rows = []
    for width in widths:
        started = time.perf_counter()
        features = {s: features_for(data, s, width) for s in seeds}
        features_seconds = time.perf_counter() - started
        # the reference init draws W ~ N(0, 1/fan_out): each unit's output shrinks like 1/sqrt(width)
        feature_std = float(np.mean([features[s].train.std(axis=0).mean() for s in seeds]))
        # SGD at the reference lr, and at an lr proportional to the width (lr 0.001 at width 128): the
        # step-size-per-feature explanation of why a fixed lr levels off predicts that the second keeps rising
        settings = [(1e-3, f"width {width}")] + (
            [(1e-3 * width / 128, f"width {width}, lr {1e-3 * width / 128:g}")] if width != 128 else []
        )  # at width 128 it is the same run
        for lr, setting in settings:
            started = time.perf_counter()
            results = train_many(
                data,
                [TrainConfig(steps=steps, seed=s, hidden_size=width, lr=lr) for s in seeds],
                together=False,
                features=features,
            )
            rows.append(
                make_row(
                    "top layer only, SGD",
                    setting,
                    steps,
                    [accuracy_at(h, steps) for _, h in results],
                    seeds,
                    time.perf_counter() - started,
                    width,
                    features_seconds=features_seconds,
                    train_images=n_train,
                    feature_std=feature_std,
                    lr=lr,
                    optimizer="sgd",
                    validation_accuracies=validation_at([h for _, h in results], steps),
                )
            )
        # stacked one seed at a time, each seed's features freed as soon as they are copied: at width 2048
        # six seeds' features are ~7 GB, and holding them next to the stack ran out of memory
        train_features = np.ones((len(seeds), n_train, width + 1))  # the last column stays 1: the bias
        test_features = np.ones((len(seeds), len(data.test), width + 1))
        for i, s in enumerate(seeds):
            f = features.pop(s)
            train_features[i, :, :width], test_features[i, :, :width] = f.train, f.test
            del f
        del features
        started = time.perf_counter()
        weights = least_squares_readout(train_features, data.train.labels)
        seconds = time.perf_counter() - started
        rows.append(
            make_row(
                "least-squares readout",
                f"width {width}",
                None,
                readout_accuracy(test_features, weights, data.test.labels),
                seeds,
                seconds,
                width,
                features_seconds=features_seconds,
                train_images=n_train,
                train_accuracy=readout_accuracy(train_features, weights, data.train.labels).tolist(),
            )
        )
    return Measurement(rows)


def measure_all_layers_grid(data, seeds, lrs=ALL_LAYERS_LRS, steps=10000, **config) -> Measurement:
    """All layers with SGD at every learning rate of ``lrs``: the same care as the top layer's sweep."""
    parts = [measure_all_layers(data, seeds, steps, lr=lr, **config) for lr in lrs]
    return Measurement(
        [r for m in parts for r in m.rows if r["steps"] == steps], [h for m in parts for h in m.histories]
    )


def measure_raw_pixels(data, softmax_iterations: int = 100) -> Measurement:
    """No hidden layer at all: readouts of the 784 raw pixels (with a 1 for the bias), and nearest class mean.

    Deterministic (no random initialization, full-batch): one number each, no seeds.
    """
    train_pixels, test_pixels = with_ones(data.train.images), with_ones(data.test.images)
    labels, test_labels, n = data.train.labels, data.test.labels, len(data.train)
    started = time.perf_counter()
    weights = least_squares_readout(train_pixels, labels)
    ls_row = make_row(
        "least-squares readout",
        "raw pixels",
        None,
        [readout_accuracy(test_pixels, weights, test_labels)],
        [],
        time.perf_counter() - started,
        None,
        train_images=n,
        train_accuracy=float(readout_accuracy(train_pixels, weights, labels)),
    )
    started = time.perf_counter()
    fit = softmax_readout(train_pixels, labels, iterations=softmax_iterations)
    sm_row = make_row(
        "softmax readout",
        "raw pixels",
        softmax_iterations,
        [readout_accuracy(test_pixels, fit.weights, test_labels)],
        [],
        time.perf_counter() - started,
        None,
        train_images=n,
        train_accuracy=float(readout_accuracy(train_pixels, fit.weights, labels)),
        final_loss=float(fit.losses[-1]),
        max_gradient=float(fit.gradient_norms),
    )
    started = time.perf_counter()
    predicted = nearest_class_mean(data.train.images, labels, data.test.images)
    ncm_row = make_row(
        "nearest class mean",
        "raw pixels",
        None,
        [np.mean(predicted == test_labels)],
        [],
        time.perf_counter() - started,
        None,
        train_images=n,
    )
    return Measurement([ls_row, sm_row, ncm_row], extra={"softmax_fit": fit})


def measure_conditioning(
    data,
    seeds,
    features=None,
    lr: float = 1e-3,
    steps: int = 10000,
    transforms=("centered", "scaled", "standardized"),
    spectra=None,
) -> Measurement:
    """Top layer only, SGD at ``lr``, on centered and/or scaled frozen features, with the condition numbers.

    The features are transformed with their training statistics (see helpers.conditioning);
    the runs start from the same weights and draw the same batches as the plain runs.
    spectra: optional {seed: conditioning.spectra(features[seed])} (computed when missing);
    extra["spectra"] holds them: eigenvalues of the second-moment matrix (with the bias's 1) per transform.
    """
    features = dict(features or {})
    spectra = dict(spectra or {})
    for s in seeds:
        if s not in features:
            features[s] = features_for(data, s)
        if s not in spectra:
            spectra[s] = conditioning.spectra(features[s])
    rows, histories = [], []
    for name in transforms:
        how = conditioning.TRANSFORMS[name]
        changed = {s: conditioning.transform(features[s], *how) for s in seeds}
        results = train_many(data, [TrainConfig(steps=steps, seed=s, lr=lr) for s in seeds], features=changed)
        runs = [h for _, h in results]
        histories += runs
        rows.append(
            make_row(
                "top layer only, SGD",
                f"lr {lr:g}, {name} features",
                steps,
                [accuracy_at(h, steps) for h in runs],
                seeds,
                runs[0].train_seconds,
                train_images=len(data.train),
                validation_accuracies=validation_at(runs, steps),
                lr=lr,
                optimizer="sgd",
                features=name,
                train_accuracies=[
                    top_train_accuracy(p, changed[s], data.train.labels) for s, (p, _) in zip(seeds, results)
                ],
                condition_numbers=[conditioning.condition_number(spectra[s][name]) for s in seeds],
                slow_directions=[conditioning.slow_directions(spectra[s][name], lr, steps) for s in seeds],
                diverged_seeds=[h.config.seed for h in runs if h.diverged_at is not None],
            )
        )
    return Measurement(rows, histories, extra={"spectra": spectra})


def measure_speedup(data, configs, features=None) -> dict:
    """Time the same configurations vectorized and one by one, and check that they agree."""
    started = time.perf_counter()
    vectorized = train_many(data, configs, features=features)
    vectorized_seconds = time.perf_counter() - started
    started = time.perf_counter()
    one_by_one = train_many(data, configs, together=False, features=features)
    one_by_one_seconds = time.perf_counter() - started
    equal = all(
        hv.test_accuracies == ho.test_accuracies
        and np.allclose(hv.losses, ho.losses, rtol=1e-9)
        and (pv is None or all(np.allclose(pv[k], po[k], rtol=1e-9, atol=1e-12) for k in pv))
        for (pv, hv), (po, ho) in zip(vectorized, one_by_one)
    )
    weight_difference = max(
        float(np.max(np.abs(pv[k] - po[k])))
        for (pv, _), (po, _) in zip(vectorized, one_by_one)
        if pv is not None
        for k in pv
    )
    accuracy_difference = max(
        abs(a - b)
        for (_, hv), (_, ho) in zip(vectorized, one_by_one)
        for a, b in zip(hv.test_accuracies, ho.test_accuracies)
    )
    return {
        "runs": len(configs),
        "steps": configs[0].steps,
        "vectorized_seconds": vectorized_seconds,
        "one_by_one_seconds": one_by_one_seconds,
        "speedup": one_by_one_seconds / vectorized_seconds,
        "equal": equal,
        "max_weight_difference": weight_difference,
        "max_accuracy_difference": accuracy_difference,
    }


# ---------------------------------------------------------------- the table


def format_table(rows, times: bool = True) -> str:
    """The summary table as text: method, setting, steps, training images, test accuracy mean ± s.d., seeds (and wall time).

    seeds "-": a deterministic method. "n/a (diverged)": every seed diverged; a row
    where only some seeds diverged says how many did.
    """
    header = ["method", "setting", "steps", "train images", "test accuracy", "seeds"] + (["wall time"] if times else [])
    lines = []
    for r in rows:
        mean, spread = 100 * r["test_accuracy_mean"], 100 * r["test_accuracy_spread"]
        finite = [a for a in r["test_accuracies"] if not math.isnan(a)]
        if not finite:
            accuracy = "n/a (diverged)"
        elif len(finite) < len(r["test_accuracies"]):
            accuracy = f"{100 * np.mean(finite):.2f}% ({len(r['test_accuracies']) - len(finite)} diverged)"
        else:
            accuracy = f"{mean:.2f}% ± {spread:.2f}" if len(r["seeds"]) > 1 else f"{mean:.2f}%"
        images = r.get("train_images")
        cells = [
            r["method"],
            r["setting"],
            "-" if r["steps"] is None else f"{r['steps']:,}",
            "-" if images is None else f"{images:,}",
            accuracy,
            str(len(r["seeds"])) if r["seeds"] else "-",
        ]
        if times:
            cells.append(f"{r['wall_seconds']:.2f} s")
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in lines]
    return "\n".join(out)


# ---------------------------------------------------------------- python -m helpers baselines

PARTS = ("top", "all-layers", "readouts", "raw-pixels", "conditioning", "sweep", "widths", "speedup")
QUICK = {
    "seeds": [0, 1],
    "steps": [500, 1000],
    "sweep_steps": 500,
    "all_layers_steps": 200,
    "all_layers_lrs": [0.001, 0.1],
    "widths": [16, 32],
    "width_seeds": [0, 1],
    "width_steps": 500,
    "width_train_images": 5000,
    "softmax_iterations": 20,
}
# the width sweep gets six seeds: with three, SGD's seed-to-seed spread (several points) hides or fakes a trend
FULL = {
    "seeds": [0, 1, 2],
    "steps": [10000, 20000, 50000],
    "sweep_steps": 10000,
    "all_layers_steps": 10000,
    "all_layers_lrs": list(ALL_LAYERS_LRS),
    "widths": list(DEFAULT_WIDTHS),
    "width_seeds": [0, 1, 2, 3, 4, 5],
    "width_steps": 10000,
    "width_train_images": None,
    "softmax_iterations": 100,
}
RESULTS_PATH = Path(__file__).resolve().parent.parent / "results" / "baselines.json"
RESULTS_COMMAND = "python -m helpers baselines --out results/baselines.json"
MODULES = results.NUMERICAL_MODULES + ("helpers.conditioning", __name__)  # the code the baselines' numbers come from
# top-level names that do not make numbers (printing, the command line, the file's bookkeeping): left out of
# this module's digest (helpers.results.provenance), so editing them keeps the results fresh
NOT_NUMERICAL = (
    "format_table",
    "add_arguments",
    "resolve_settings",
    "run",
    "table_text",
    "provenance",
    "code_version",
    "load_results",
    "results_problems",
    "load_partial",
    "available_memory",
    "width_memory_bytes",
    "check_memory",
    "_describe",
    "RESULTS_PATH",
    "RESULTS_COMMAND",
    "MODULES",
    "NOT_NUMERICAL",
)


def add_arguments(parser) -> None:
    """The options of ``python -m helpers baselines``; unset ones take the full (or --quick) defaults."""
    count, seed = int_at_least(1), int_at_least(0)
    parser.add_argument("--seeds", type=seed, nargs="+", help="seeds (default 0 1 2)")
    parser.add_argument(
        "--steps",
        type=count,
        nargs="+",
        help="top layer only, SGD lr 0.001: steps to report (default 10000 20000 50000)",
    )
    parser.add_argument(
        "--sweep-steps", type=count, help="steps of the learning-rate / optimizer sweep (default 10000)"
    )
    parser.add_argument("--all-layers-steps", type=count, help="steps of the all-layers runs (default 10000)")
    parser.add_argument(
        "--all-layers-lrs",
        type=positive_float,
        nargs="+",
        help="learning rates of the all-layers runs (default 0.001 0.01 0.1 1)",
    )
    parser.add_argument(
        "--widths", type=count, nargs="+", help="hidden widths of the width sweep (default 16 32 ... 2048)"
    )
    parser.add_argument(
        "--width-seeds",
        type=seed,
        nargs="+",
        help="seeds of the width sweep (default 0 1 2 3 4 5, or --seeds if given)",
    )
    parser.add_argument("--width-steps", type=count, help="SGD steps at each width (default 10000)")
    parser.add_argument(
        "--width-train-images",
        type=int_at_least(100),
        help="train the width sweep on the first N training images (default all 55000)",
    )
    parser.add_argument(
        "--softmax-iterations", type=count, help="full-batch iterations of the softmax readout (default 100)"
    )
    parser.add_argument("--only", nargs="+", choices=PARTS, help="measure only these parts")
    parser.add_argument(
        "--quick", action="store_true", help="a reduced run (seconds, for tests): 2 seeds, few steps, widths 16 32"
    )
    parser.add_argument("--data-dir", default=None, help="directory with the four MNIST .gz files")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (rows, settings, speedup) instead of the table"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="write the JSON results to this file (checked before any measuring; "
        "each finished part is kept in PATH.partial, and a rerun of the same command resumes from it)",
    )


def resolve_settings(args) -> dict:
    """The settings of a run: explicit options, else the --quick or full defaults.  Raises ValueError."""
    base = QUICK if args.quick else FULL
    settings = {key: getattr(args, key) if getattr(args, key) is not None else value for key, value in base.items()}
    if args.width_seeds is None and args.seeds is not None:
        settings["width_seeds"] = settings["seeds"]
    settings["parts"] = list(args.only or PARTS)
    for key in ("seeds", "steps", "widths", "width_seeds", "all_layers_lrs"):
        if len(set(settings[key])) != len(settings[key]):
            raise ValueError(f"--{key.replace('_', '-')} has a repeated value: {' '.join(map(str, settings[key]))}")
    if settings["width_train_images"] is not None and settings["width_train_images"] > 55000:
        raise ValueError(f"--width-train-images must be at most 55000, got {settings['width_train_images']}")
    return settings


def units(settings) -> list:
    """The measurements of a run, in order: its parts, with the width sweep one unit per width (each is saved when done)."""
    out = []
    for part in PARTS:
        if part in settings["parts"]:
            out += [f"widths {w}" for w in settings["widths"]] if part == "widths" else [part]
    return out


def measure_unit(data, settings, unit, features) -> dict:
    """One unit of :func:`units`: {"rows": [...], "speedup": dict or None}.  ``features``: {seed: FrozenFeatures}, filled as needed."""
    seeds = settings["seeds"]
    if unit in ("top", "readouts", "conditioning", "sweep", "speedup"):
        for s in seeds:
            if s not in features:
                features[s] = features_for(data, s)
    speedup = None
    if unit == "top":
        rows = measure_top_only(data, seeds, settings["steps"], features).rows
    elif unit == "all-layers":
        rows = measure_all_layers_grid(data, seeds, settings["all_layers_lrs"], settings["all_layers_steps"]).rows
    elif unit == "readouts":
        rows = measure_readouts(data, seeds, features, settings["softmax_iterations"]).rows
    elif unit == "raw-pixels":
        rows = measure_raw_pixels(data, settings["softmax_iterations"]).rows
    elif unit == "conditioning":
        rows = measure_conditioning(data, seeds, features, steps=settings["sweep_steps"]).rows
    elif unit == "sweep":
        rows = measure_sweep(data, seeds, DEFAULT_SWEEP, settings["sweep_steps"], features).rows
    elif unit.startswith("widths "):
        width = int(unit.split()[1])
        check_memory(width, settings["width_seeds"], settings["width_train_images"])
        rows = measure_widths(
            data, [width], settings["width_seeds"], settings["width_steps"], settings["width_train_images"]
        ).rows
    elif unit == "speedup":
        rows, speedup = (
            [],
            measure_speedup(data, sweep_configs(seeds, DEFAULT_SWEEP, min(2000, settings["sweep_steps"])), features),
        )
    else:
        raise ValueError(f"unknown unit {unit!r}; the units are {', '.join(units(dict(settings, parts=list(PARTS))))}")
    return {"rows": rows, "speedup": speedup}


def _describe(settings, unit) -> str:
    seeds = settings["seeds"]
    if unit.startswith("widths "):
        return f"width {unit.split()[1]}, seeds {settings['width_seeds']}"
    return {
        "top": f"top layer only, SGD lr 0.001, {max(settings['steps'])} steps, seeds {seeds}",
        "all-layers": f"all layers, {settings['all_layers_steps']} steps per seed, seeds {seeds}, lr {settings['all_layers_lrs']}",
        "readouts": "least-squares and softmax readouts",
        "raw-pixels": "readouts of the raw pixels and nearest class mean",
        "conditioning": f"top layer only on centered / scaled features, {settings['sweep_steps']} steps",
        "sweep": f"learning rates and optimizers, {settings['sweep_steps']} steps (one stack)",
        "speedup": f"speed-up: the sweep's {len(seeds) * len(DEFAULT_SWEEP)} runs, vectorized vs one by one",
    }[unit]


def measure_all(data, settings, log=None, partial=None) -> dict:
    """Every measurement in ``settings`` (see :func:`resolve_settings`).  Returns {rows, speedup, settings, provenance, ...}.

    partial: optional path of a resume file. Each finished unit (a part; one width of the width
    sweep) is saved there at once (whole: helpers.results.write_results); a later call with the
    same settings and code skips the units it holds. A file of other settings or code is replaced.
    """
    log = log or (lambda message: None)
    record = provenance()
    done = load_partial(partial, settings, record, log) if partial is not None else {}
    features = {}
    for unit in units(settings):
        if unit in done:
            log(f"{_describe(settings, unit)}: kept from {partial}")
            continue
        log(_describe(settings, unit))
        done[unit] = measure_unit(data, settings, unit, features)
        if partial is not None:
            write_results(partial, {"settings": settings, "provenance": record, "units": done})
    speedup = done["speedup"]["speedup"] if "speedup" in done else None
    # the sweep's SGD lr 0.001 run is the top-only run at that step count (same seeds, batches, updates): list it
    # once, with every part it belongs to ("parts": select a part's rows by it, not by their labels)
    unique = {}
    for unit in units(settings):
        for row in done[unit]["rows"]:
            kept = unique.setdefault(
                (row["method"], row["setting"], row["steps"], row["hidden_size"]), dict(row, parts=[])
            )
            kept["parts"].append(unit.split()[0])
    return {
        "rows": list(unique.values()),
        "speedup": speedup,
        "settings": settings,
        "code_version": results.code_version(record),
        "provenance": record,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load_partial(path, settings, record, log) -> dict:
    """The finished units a resume file holds, {unit: {rows, speedup}}; {} if there is none or it is of other settings or code."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        saved = results.load_results(path)
    except (OSError, ValueError) as exc:
        log(f"ignoring {path}: it does not load ({exc}); measuring everything")
        return {}
    if (
        saved.get("settings") != results.finite(settings)
        or saved.get("provenance", {}).get("modules") != record["modules"]
    ):
        log(f"ignoring {path}: made with other settings or code; measuring everything")
        return {}
    return dict(saved.get("units", {}))


def provenance() -> dict:
    """The digests of the code the baselines' numbers come from (helpers.results.provenance)."""
    return results.provenance(MODULES)


def code_version() -> str:
    """One digest (16 hex digits) of :func:`provenance`: the ``code_version`` a results file records."""
    return results.code_version(provenance())


def load_results(path=None) -> dict:
    """The results file that ``python -m helpers baselines --out`` wrote (default results/baselines.json), nan restored."""
    return results.load_results(path or RESULTS_PATH)


def results_problems(result: dict) -> list:
    """Why a results file was not made by the current full configuration and code ([] when it was)."""
    return results.results_problems(result, dict(FULL, parts=list(PARTS)), provenance(), RESULTS_COMMAND)


# ---------------------------------------------------------------- memory for the widest networks


def width_memory_bytes(
    width: int, seeds, train_images=None, test_images: int = 10000, validation_images: int = 5000
) -> int:
    """Bytes (float64) that :func:`measure_widths` holds at once at ``width``: every seed's frozen features
    (train, test, validation) and, next to them, their stack with a column of ones for the least-squares readout."""
    n_train = 55000 if train_images is None else train_images
    features = len(seeds) * (n_train + test_images + validation_images) * width * 8
    stack = len(seeds) * (n_train + test_images) * (width + 1) * 8
    return features + stack


def available_memory() -> int | None:
    """Bytes this process can still allocate without swapping (Linux: MemAvailable, and a container's limit); None if unknown."""
    candidates = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                candidates.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    try:  # cgroup v2 (a container or a systemd slice): its limit minus what it uses
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            candidates.append(int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text()))
    except (OSError, ValueError):
        pass
    return min(candidates) if candidates else None


def check_memory(width: int, seeds, train_images=None) -> None:
    """Raise MemoryError naming the size and the fix unless the width-``width`` rows fit in the available memory."""
    need, have = width_memory_bytes(width, seeds, train_images), available_memory()
    if have is not None and need > have:
        n = 55000 if train_images is None else train_images
        raise MemoryError(
            f"the width-{width} rows need about {need / 1e9:.1f} GB of memory ({len(seeds)} seeds' frozen "
            f"features of {n:,} training images x {width} units, and their stack for the least-squares "
            f"readout); {have / 1e9:.1f} GB is available: free memory, or leave the width out (--widths), "
            "or use fewer seeds (--width-seeds) or images (--width-train-images)"
        )


def run(args) -> int:
    """``python -m helpers baselines``: print the summary table (or one JSON object with --json); --out writes the file."""
    from .data import MnistError, load_mnist

    prog = "python -m helpers baselines"
    try:
        settings = resolve_settings(args)
        if args.out is not None:
            results.check_output_path(args.out)
        if "widths" in settings["parts"]:  # the widest first: say now, not after the other parts, that it cannot fit
            check_memory(max(settings["widths"]), settings["width_seeds"], settings["width_train_images"])
        data = load_mnist(args.data_dir)
    except (ValueError, MnistError, MemoryError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""), file=sys.stderr)
        return 2
    partial = Path(f"{args.out}.partial") if args.out is not None else None
    kept = (
        f"the finished parts are kept in {partial}: rerun the same command to resume"
        if partial
        else "nothing is kept: with --out PATH each finished part is saved and a rerun resumes"
    )
    where = ["the start"]

    def log(message):
        where[0] = message
        print(f"measuring: {message}", file=sys.stderr, flush=True)

    try:
        result = measure_all(data, settings, log=log, partial=partial)
        if args.out is not None:
            write_results(args.out, result)
            partial.unlink(missing_ok=True)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted at {where[0]}; {kept}", file=sys.stderr)
        return 130
    except MemoryError as exc:
        print(
            f"{prog}: error: not enough memory at {where[0]} ({exc or 'an allocation failed'}); {kept}", file=sys.stderr
        )
        return 1
    except OSError as exc:
        path = exc.filename or args.out
        print(
            f"{prog}: error: {exc.strerror or exc}"
            + (f": {path}" if path else "")
            + (f" (the old {args.out} is unchanged; {kept})" if args.out else ""),
            file=sys.stderr,
        )
        return 1
    print(results.to_json(result) if args.json else table_text(result))
    return 0


def table_text(result: dict) -> str:
    """What ``python -m helpers baselines`` prints for a result of :func:`measure_all` (or a loaded results file)."""
    lines = [
        "Baselines: MLP 784-128-128-10 (or the width given), batch 32; test accuracy on the 10,000 test images, "
        "mean ± s.d. over seeds ('-': deterministic)",
        format_table(result["rows"]),
    ]
    if result["speedup"]:
        s = result["speedup"]
        lines.append(
            f"\nvectorized: {s['runs']} runs x {s['steps']} steps in {s['vectorized_seconds']:.2f} s; one by one "
            f"{s['one_by_one_seconds']:.2f} s ({s['speedup']:.1f}x faster); largest weight difference "
            f"{s['max_weight_difference']:.0e}, test accuracies differ by at most "
            f"{100 * s['max_accuracy_difference']:.2f} points"
        )
    if "widths" in result["settings"]["parts"]:
        lines.append("width rows: wall times exclude the features (features_seconds in --json)")
    return "\n".join(lines)
