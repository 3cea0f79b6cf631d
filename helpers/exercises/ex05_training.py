"""Checkers for the exercises of notebook 05 (training the top layer).

1. read:   the precision of one digit, read from the confusion matrix by column
2. derive: how many steps until the running loss's starting value weighs less than 1%
3. code:   one step of heavy-ball momentum, matching helpers.optimizers.Momentum on three steps
4. code:   predict, then measure: doubling the batch size at a fixed learning rate
"""

from __future__ import annotations

import math

import numpy as np

from .. import model
from ._check import (
    Hint,
    _no_answer,
    _report,
    agree,
    at_precision,
    call,
    form_hint,
    guarded,
    matches,
    read_number,
    returned_array,
    returned_tuple,
    share,
    working_dtype,
)

__all__ = ["check_digit_precision", "check_ema_start_weight", "check_momentum_step", "check_batch_doubling"]


# ---------------------------------------------------------------- exercise 1 (read)


def _precision_and_recall(params, data, digit: int) -> tuple:
    """(share of the images predicted as ``digit`` that are ``digit``, share of the ``digit`` images predicted as it)."""
    predicted = model.predict(params, data.test.images)
    labels = data.test.labels
    hits = np.sum((predicted == digit) & (labels == digit))
    return hits / max(np.sum(predicted == digit), 1), hits / max(np.sum(labels == digit), 1), int(hits)


@guarded
def check_digit_precision(answer, params, data, digit: int = 7) -> None:
    """Exercise 1: of the test images predicted as ``digit``, the share that really are ``digit``:
    to the nearest whole percent or finer, as the exercise says, given as a fraction (0.51), a percent
    (51 or "51%") or a fraction of counts ("590/1148")."""
    if _no_answer(answer):
        return
    value = read_number(answer, percent=True)
    precision, recall, hits = _precision_and_recall(params, data, digit)

    fraction = share(value)
    if at_precision(fraction, precision, decimals=0, scale=-2):  # whole percents
        return _report(True, f"about {100 * (1 - precision):.0f}% of the network's {digit}s are other digits.", "")
    mistakes = [
        (
            recall,
            f"that divides by the row, the true {digit}s: it is the share of {digit}s recognised (the recall). "
            f"The exercise divides by the column: every image predicted as {digit}.",
        ),
        (1 - precision, f"that is the share of the column that is NOT a {digit}."),
    ]
    if value == hits:
        hint = "that is a count (the diagonal entry); the exercise asks for a share of the column."
    else:
        hint = next((h for m, h in mistakes if matches(fraction, m, decimals=0, scale=-2)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(fraction, precision, decimals=0, scale=-2, stated="a whole percent or finer")
        or f"take the column of predicted {digit}s: its diagonal entry divided by its total.",
    )


# ---------------------------------------------------------------- exercise 2 (derive)


def _steps_until(share: float, smoothing: float) -> tuple:
    """(first whole step t with smoothing**t < share, the real solution of smoothing**t = share)."""
    exact = math.log(share) / math.log(smoothing)
    return math.floor(exact) + 1, exact


@guarded
def check_ema_start_weight(answer, smoothing: float = 0.99, share: float = 0.01) -> None:
    """Exercise 2: the first step at which the starting value's weight ``smoothing**t`` is below ``share``:
    a whole number of steps."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    first, exact = _steps_until(share, smoothing)
    if value == first:
        return _report(True, f"the start still weighs {100 * smoothing ** (first - 1):.3f}% one step earlier.", "")
    if abs(float(value) - exact) < 0.05:
        hint = (
            f"that is the real solution of {smoothing}**t = {share}; a number of steps is a whole number, and the "
            "exercise asks for the first step at which the weight is below the threshold."
        )
    elif value == first - 1:
        hint = (
            f"that is the real solution of {smoothing}**t = {share} rounded down; the step asked for must "
            f"satisfy {smoothing}**t < {share}."
        )
    elif abs(float(value) - 1 / (1 - smoothing)) < 0.5:
        hint = (
            "that is 1 / (1 - smoothing), the EMA's time constant: after it the start still weighs about 1/e, "
            "37%. Solve smoothing**t < share for t."
        )
    elif abs(float(value) - math.log(2) / -math.log(smoothing)) < 1:
        hint = "that is when the start's weight has halved; the exercise asks for 1%."
    elif value != value.to_integral_value():
        hint = "give a whole number of steps."
    else:
        hint = f"solve {smoothing}**t < {share} for t: take logarithms (both are negative)."
    return _report(False, "", hint)


# ---------------------------------------------------------------- exercise 3 (code)


def _reference_momentum_steps(weights, grads, lr, beta):
    from ..optimizers import Momentum  # the library's optimizer (helpers.train re-exports it) is the reference

    optimizer, params, history = Momentum(lr, beta=beta), {"w": np.array(weights, copy=True)}, []
    for g in grads:
        optimizer.update(params, {"w": g})
        history.append(params["w"].copy())
    return history


def _student_momentum_steps(student_fn, start, grads, lr, beta, swapped=False):
    """The weights after each of the student's steps from a zero velocity, and the coarsest dtype they used
    (``swapped``: read the returned pair as (new_velocity, new_weights))."""
    weights, velocity, got, dtypes = start.copy(), np.zeros_like(start), [], []
    for g in grads:
        result, _ = call(student_fn, weights.copy(), velocity.copy(), g.copy(), lr, beta)
        new_weights, new_velocity = returned_tuple(result, ("new_weights", "new_velocity"), "arrays")
        if swapped:
            new_weights, new_velocity = new_velocity, new_weights
        weights = returned_array(
            new_weights, start.shape, "new_weights, shaped like the weights", "the new_weights you returned is"
        )
        velocity = returned_array(
            new_velocity, start.shape, "new_velocity, shaped like the weights", "the new_velocity you returned is"
        )
        dtypes.append(working_dtype(weights, velocity))
        weights, velocity = np.asarray(weights, dtype=float), np.asarray(velocity, dtype=float)
        got.append(weights)
    return got, max(dtypes, key=lambda d: np.finfo(d).eps)


@guarded
def check_momentum_step(student_fn, lr: float = 0.1, beta: float = 0.9) -> None:
    """Exercise 3: ``student_fn(weights, velocity, grad, lr, beta) -> (new_weights, new_velocity)``,
    compared with ``helpers.optimizers.Momentum`` over three steps from a zero velocity (in place or not,
    float64 or float32)."""
    rng = np.random.default_rng(53)
    start = rng.normal(size=(4, 3))
    grads = [rng.normal(size=start.shape) for _ in range(3)]
    want = _reference_momentum_steps(start, grads, lr, beta)
    got, dtype = _student_momentum_steps(student_fn, start, grads, lr, beta)

    def same_path(path, got):
        return all(agree(a, b, dtype, scale=10) for a, b in zip(got, path))

    if same_path(want, got):
        # a second learning rate and beta: an answer with 0.1 and 0.9 written in matches the first run only
        other_lr, other_beta = lr / 2, beta / 2
        other, _ = _student_momentum_steps(student_fn, start, grads, other_lr, other_beta)
        if not same_path(_reference_momentum_steps(start, grads, other_lr, other_beta), other):
            return _report(
                False,
                "",
                f"right for lr {lr:g} and beta {beta:g} only (with lr {other_lr:g} and beta "
                f"{other_beta:g} the steps differ): does your code use the lr and beta it is given?",
            )
        return _report(True, "three steps match helpers.optimizers.Momentum, for two learning rates and betas.", "")
    # what common variants would have produced, step by step
    variants = {
        "ema": "your steps are 1 - beta times Momentum's: run one step of Momentum from a zero velocity and compare "
        "its change of the weights with lr * grad.",
        "sgd": "that is plain SGD: the step should follow the velocity, not the current gradient alone (and the "
        "new velocity must be returned, so that the next step can use it).",
        "sign": "the weights should move against the velocity (downhill), not along it.",
    }
    for name, hint in variants.items():
        w, v, path = start.copy(), np.zeros_like(start), []
        for g in grads:
            v = beta * v + (1 - beta) * g if name == "ema" else beta * v + g
            step = g if name == "sgd" else v
            w = w + lr * step if name == "sign" else w - lr * step
            path.append(w)
        if same_path(path, got):
            return _report(False, "", hint)
    swapped, _ = _student_momentum_steps(student_fn, start, grads, lr, beta, swapped=True)
    if same_path(want, swapped):
        return _report(False, "", "the two arrays are swapped: return (new_weights, new_velocity), in that order.")
    first_ok = agree(got[0], want[0], dtype, scale=10)
    return _report(
        False,
        "",
        "the first step matches, later ones do not: check how the velocity carries over."
        if first_ok
        else "your first step already differs: run one step of Momentum from a zero velocity, "
        "print the change of the weights, and compare it with lr * grad.",
    )


# ---------------------------------------------------------------- exercise 4 (code)

_SEEDS = (0, 1, 2)
_runs_cache: dict = {}


def _batch_runs(data, batch_size: int):
    """Test accuracies (fractions) after 10,000 and after 5,000 steps, one row per seed, lr 1e-3.

    The three seeds train as one stack (the same results as ``train`` one by
    one, in less time): the checker repeats the student's runs.
    """
    from ..readout import train_top_layers
    from ..train import TrainConfig

    key = (id(data), batch_size)
    if key not in _runs_cache:
        runs = _with_progress(
            f"checking: training batch {batch_size} for seeds 0, 1, 2 (10,000 steps each)",
            lambda progress: train_top_layers(
                data,
                [TrainConfig(seed=seed, batch_size=batch_size) for seed in _SEEDS],
                progress=progress,
                progress_every=500,
            ),
        )
        results = [(h.final_test_accuracy, h.test_accuracies[h.eval_steps.index(5000)]) for _, h in runs]
        _runs_cache[key] = (data, np.array(results))  # data kept alive, so its id stays unique
    return _runs_cache[key][1]


def _with_progress(label: str, run):
    """``run(progress)`` with a line under the cell that counts its steps (a check of several seconds
    otherwise shows only ``[*]``); the line goes when the runs are done."""
    import time

    from ..explorer.notice import Notice

    notice, started, last = Notice(f"{label} ..."), time.perf_counter(), [0.0]

    def progress(step, steps):
        now = time.perf_counter()
        if now - last[0] >= 0.5 or step == steps:
            last[0] = now
            notice.update(f"{label}: {step / steps:.0%} ({now - started:.0f} s)")
        return False  # never cancels

    try:
        return run(progress)
    finally:
        notice.done()


@guarded
def check_batch_doubling(accuracy_10k, accuracy_5k, data) -> None:
    """Exercise 4: mean test accuracy over seeds 0, 1, 2 of batch 64 at lr 1e-3, after 10,000 and after
    5,000 steps: fractions or percents, to one decimal of a percent or finer, as the exercise says.

    At that precision batch 32's means are the same after 10,000 steps (the exercise's lesson) but not
    after 5,000, so an answer from batch-32 runs does not pass.
    """
    if accuracy_10k is None or accuracy_5k is None:
        _no_answer(None)
        return
    got = []
    for answer in (accuracy_10k, accuracy_5k):
        try:
            got.append(share(read_number(answer, percent=True)))
        except Hint as hint:
            raise Hint(f"{hint} Give two numbers: the mean test accuracy after 10,000 and after 5,000 steps.") from None
    want = _batch_runs(data, 64)
    means = want.mean(axis=0)

    def same(value, expected):
        return at_precision(value, expected, decimals=1, scale=-2)  # one decimal of a percent

    def exactly(value, expected):  # within 0.005 points: the student's number is that run's, not a rounding
        return abs(float(value) - float(expected)) <= 5e-5

    if all(same(g, m) for g, m in zip(got, means)):
        return _report(True, "both means match the runs of seeds 0, 1, 2 at batch 64.", "")
    batch_32 = _batch_runs(data, 32).mean(axis=0)
    names = ("after 10,000 steps", "after 5,000 steps")
    for column, (g, m, m32, name) in enumerate(zip(got, means, batch_32, names)):
        if same(g, m):
            continue
        if exactly(g, m32):
            return _report(False, "", f"{name}: that is the mean of batch 32; set batch_size=64.")
        median = np.median(want[:, column])  # with three seeds, one of them
        for seed, run in zip(_SEEDS, want[:, column]):
            if matches(g, run, decimals=1, scale=-2):
                alone = "the median of the three seeds" if run == median else f"seed {seed} alone"
                return _report(
                    False, "", f"{name}: that is {alone}; the exercise asks for the mean over seeds 0, 1 and 2."
                )
        other = means[1 - column]
        if matches(g, other, decimals=1, scale=-2):
            return _report(False, "", "the two numbers are swapped: 10,000 steps first, then 5,000.")
        note = form_hint(g, m, decimals=1, scale=-2, stated="one decimal of a percent or finer")
        if note:
            return _report(False, "", f"{name}: {note}")
        return _report(
            False,
            "",
            f"{name}: train TrainConfig(seed=seed, batch_size=64) for seeds 0, 1, 2 and read "
            "the test accuracy at that step from history.eval_steps and history.test_accuracies.",
        )
    return None  # not reached: some number was off


def expected_numbers(data=None) -> dict:
    """{checker name: [the numbers it accepts]}, for the tests that no output above an exercise prints them.

    Computed from runs on ``data`` (default ``load_mnist()``; it trains runs, so it takes seconds): the
    precision of 7 under the reference run (seed 0), as the notebook asks for
    it, and the batch-doubling means; each as a percent to 2 decimals and as a
    fraction to 4.
    """
    if data is None:
        from ..data import load_mnist

        data = load_mnist()
    from ..train import TrainConfig, train

    first, exact = _steps_until(0.01, 0.99)
    means = _batch_runs(data, 64).mean(axis=0)
    precision = float(_precision_and_recall(train(data, TrainConfig())[0], data, 7)[0])
    return {
        "check_digit_precision": _forms(precision),
        "check_ema_start_weight": [first, round(exact, 1), round(exact, 2)],
        "check_batch_doubling": [x for m in means for x in _forms(float(m))],
    }


def _forms(fraction: float) -> list:
    """How an output would print a share: a percent to 2 decimals, a fraction to 4."""
    return [round(100 * fraction, 2), round(fraction, 4)]
