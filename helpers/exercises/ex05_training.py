"""Checkers for the exercises of notebook 05 (training the top layer).

1. read:   the precision of one digit, read from the confusion matrix by column
2. derive: how many steps until the running loss's starting value weighs less than 1%
3. code:   one step of heavy-ball momentum, matching helpers.train.Momentum on three steps
4. code:   predict, then measure: doubling the batch size at a fixed learning rate
"""

from __future__ import annotations

import math

import numpy as np

from .. import model
from ._check import _as_number, _no_answer, _report

__all__ = ["check_digit_precision", "check_ema_start_weight", "check_momentum_step", "check_batch_doubling"]


# ---------------------------------------------------------------- exercise 1 (read)


def _precision_and_recall(params, data, digit: int) -> tuple:
    """(share of the images predicted as ``digit`` that are ``digit``, share of the ``digit`` images predicted as it)."""
    predicted = model.predict(params, data.test.images)
    labels = data.test.labels
    hits = np.sum((predicted == digit) & (labels == digit))
    return hits / max(np.sum(predicted == digit), 1), hits / max(np.sum(labels == digit), 1), int(hits)


def check_digit_precision(answer, params, data, digit: int = 7) -> None:
    """Exercise 1: of the test images predicted as ``digit``, the share that really are ``digit`` (a fraction or a percent)."""
    if _no_answer(answer):
        return
    value = _as_number(answer)
    precision, recall, hits = _precision_and_recall(params, data, digit)
    fraction = None if value is None else (value / 100 if value > 1 else value)
    tolerance = 5e-4  # three decimals of a fraction, or one of a percent
    if fraction is not None and abs(fraction - precision) <= tolerance:
        return _report(True, f"about {100 * (1 - precision):.0f}% of the network's {digit}s are other digits.", "")
    if value is None:
        hint = "give a number: a share (a fraction, or a percent)."
    elif value == hits:
        hint = "that is a count (the diagonal entry); the exercise asks for a share of the column."
    elif abs(fraction - recall) <= tolerance:
        hint = (f"that divides by the row, the true {digit}s: it is the share of {digit}s recognised (the recall). "
                f"The exercise divides by the column: every image predicted as {digit}.")
    elif abs(fraction - (1 - precision)) <= tolerance:
        hint = f"that is the share of the column that is NOT a {digit}."
    else:
        hint = f"take the column of predicted {digit}s: its diagonal entry divided by its total."
    return _report(False, "", hint)


# ---------------------------------------------------------------- exercise 2 (derive)


def _steps_until(share: float, smoothing: float) -> tuple:
    """(first whole step t with smoothing**t < share, the real solution of smoothing**t = share)."""
    exact = math.log(share) / math.log(smoothing)
    return math.floor(exact) + 1, exact


def check_ema_start_weight(answer, smoothing: float = 0.99, share: float = 0.01) -> None:
    """Exercise 2: the first step at which the starting value's weight ``smoothing**t`` is below ``share``."""
    if _no_answer(answer):
        return
    value = _as_number(answer)
    first, exact = _steps_until(share, smoothing)
    if value is not None and (value == first or abs(value - exact) < 0.05):
        return _report(True, f"the start still weighs {100 * smoothing ** (first - 1):.3f}% one step earlier.", "")
    if value is None:
        hint = "give a number of steps."
    elif value == first - 1:
        hint = "at that step the weight is just above the threshold: the first step below it is the next."
    elif abs(value - 1 / (1 - smoothing)) < 0.5:
        hint = ("that is 1 / (1 - smoothing), the EMA's time constant: after it the start still weighs about 1/e, "
                "37%. Solve smoothing**t < share for t.")
    elif abs(value - math.log(2) / -math.log(smoothing)) < 1:
        hint = "that is when the start's weight has halved; the exercise asks for 1%."
    else:
        hint = f"solve {smoothing}**t < {share} for t: take logarithms (both are negative)."
    return _report(False, "", hint)


# ---------------------------------------------------------------- exercise 3 (code)


def _reference_momentum_steps(weights, grads, lr):
    from ..train import Momentum  # the library's optimizer is the reference

    optimizer, params, history = Momentum(lr), {"w": np.array(weights, copy=True)}, []
    for g in grads:
        optimizer.update(params, {"w": g})
        history.append(params["w"].copy())
    return history


def check_momentum_step(student_fn, lr: float = 0.1, beta: float = 0.9) -> None:
    """Exercise 3: ``student_fn(weights, velocity, grad, lr, beta) -> (new_weights, new_velocity)``,
    compared with ``helpers.train.Momentum`` over three steps from a zero velocity."""
    rng = np.random.default_rng(53)
    start = rng.normal(size=(4, 3))
    grads = [rng.normal(size=start.shape) for _ in range(3)]
    want = _reference_momentum_steps(start, grads, lr)
    weights, velocity, got = start.copy(), np.zeros_like(start), []
    for g in grads:
        try:
            result = student_fn(weights.copy(), velocity.copy(), g.copy(), lr, beta)
        except Exception as exc:  # noqa: BLE001 - the student's error is reported, not raised
            return _report(False, "", f"your function raised {type(exc).__name__}: {exc}")
        if not isinstance(result, (tuple, list)) or len(result) != 2 or any(r is None for r in result):
            return _report(False, "", "return two arrays: (new_weights, new_velocity).")
        weights, velocity = (np.asarray(r, dtype=float) for r in result)
        if weights.shape != start.shape or velocity.shape != start.shape:
            return _report(False, "", f"both arrays keep the weights' shape, {start.shape}.")
        got.append(weights)
    if all(np.allclose(a, b) for a, b in zip(got, want)):
        return _report(True, "three steps match helpers.train.Momentum.", "")
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
        if all(np.allclose(a, b) for a, b in zip(got, path)):
            return _report(False, "", hint)
    first_ok = np.allclose(got[0], want[0])
    return _report(False, "", "the first step matches, later ones do not: check how the velocity carries over."
                   if first_ok else "your first step already differs: run one step of Momentum from a zero velocity, "
                   "print the change of the weights, and compare it with lr * grad.")


# ---------------------------------------------------------------- exercise 4 (code)

_SEEDS = (0, 1, 2)
_runs_cache: dict = {}


def _batch_runs(data, batch_size: int):
    """Test accuracies (fractions) after 10,000 and after 5,000 steps, one row per seed, lr 1e-3.

    The three seeds train as one stack (the same results as ``train`` one by
    one, in less time): the checker repeats the student's runs.
    """
    from ..baselines import train_top_layers
    from ..train import TrainConfig

    key = (id(data), batch_size)
    if key not in _runs_cache:
        runs = train_top_layers(data, [TrainConfig(seed=seed, batch_size=batch_size) for seed in _SEEDS])
        results = [(h.final_test_accuracy, h.test_accuracies[h.eval_steps.index(5000)]) for _, h in runs]
        _runs_cache[key] = (data, np.array(results))  # data kept alive, so its id stays unique
    return _runs_cache[key][1]


def _as_fraction(value):
    return None if value is None else (value / 100 if value > 1 else value)


def check_batch_doubling(accuracy_10k, accuracy_5k, data) -> None:
    """Exercise 4: mean test accuracy over seeds 0, 1, 2 of batch 64 at lr 1e-3,
    after 10,000 and after 5,000 steps (a fraction or a percent)."""
    if accuracy_10k is None or accuracy_5k is None:
        _no_answer(None)
        return
    got = [_as_fraction(_as_number(a)) for a in (accuracy_10k, accuracy_5k)]
    if None in got:
        return _report(False, "", "give two numbers: the mean test accuracy after 10,000 and after 5,000 steps.")
    tolerance = 1e-4  # answers rounded to 2 decimals of a percent pass; the batch-32 means are further away
    want = _batch_runs(data, 64)
    means = want.mean(axis=0)
    if all(abs(g - m) <= tolerance for g, m in zip(got, means)):
        return _report(True, "both means match the runs of seeds 0, 1, 2 at batch 64.", "")
    batch_32 = _batch_runs(data, 32).mean(axis=0)
    names = ("after 10,000 steps", "after 5,000 steps")
    for g, m, m32, seed0, name in zip(got, means, batch_32, want[0], names):
        if abs(g - m) <= tolerance:
            continue
        if abs(g - m32) <= tolerance:
            return _report(False, "", f"{name}: that is (a rounding of) the mean of batch 32; set batch_size=64 and "
                           "give two decimals of a percent.")
        if abs(g - seed0) <= tolerance:
            return _report(False, "", f"{name}: that is seed 0 alone; average over seeds 0, 1 and 2.")
        other = means[1] if name == names[0] else means[0]
        if abs(g - other) <= tolerance:
            return _report(False, "", "the two numbers are swapped: 10,000 steps first, then 5,000.")
        if abs(g - m) <= 5e-3:
            return _report(False, "", f"{name}: close; give at least two decimals of a percent.")
        return _report(False, "", f"{name}: train TrainConfig(seed=seed, batch_size=64) for seeds 0, 1, 2 and read "
                       "the test accuracy at that step from history.eval_steps and history.test_accuracies.")
    return None  # not reached: some number was off


def expected_numbers(data=None) -> dict:
    """{checker name: [the numbers it accepts]}, for the tests that no output above an exercise prints them.

    Computed from runs on ``data`` (default ``load_mnist()``, about 5 s): the
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
