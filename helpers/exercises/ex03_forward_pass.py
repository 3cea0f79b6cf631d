"""Checkers for the exercises of notebook 03 (forward pass)."""

from __future__ import annotations

import math

import numpy as np

from .. import layers, model
from ._check import (
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
    returned_number,
    share,
    working_dtype,
)

__all__ = [
    "check_uniform_loss",
    "check_loss_as_probability",
    "check_forward_multiply_adds",
    "check_softmax",
    "check_smoothed_cross_entropy",
]


@guarded
def check_uniform_loss(answer) -> None:
    """Exercise: the cross-entropy of a network that gives every one of 10 classes the same probability (3 decimals)."""
    if _no_answer(answer):
        return
    value = read_number(answer)
    if at_precision(value, math.log(10), decimals=3):
        return _report(
            True,
            "that is the loss of a network that knows nothing; compare it with the untrained network's loss above.",
            "",
        )
    mistakes = [
        (1.0, "that is log base 10; cross-entropy uses the natural log (np.log)."),
        (0.1, "0.1 is the probability of the true class; the loss is minus its log."),
        (-math.log(10), "check the sign: the loss is MINUS the log of the probability, so it is positive."),
    ]
    hint = next((h for m, h in mistakes if matches(value, m, decimals=3)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(value, math.log(10), decimals=3, stated="three decimals")
        or "the loss is -log of the probability of the true class; with 10 equally likely classes what is that "
        "probability? (natural log)",
    )


def _first_batch_probabilities(data=None):
    """Probabilities the untrained reference network (seed 0) gives the true digits of the first 32 training images."""
    from ..data import load_mnist
    from ..train import TrainConfig, initial_params

    data = load_mnist() if data is None else data
    images, labels = data.train.images[:32], data.train.labels[:32]
    probs = layers.softmax(model.forward(initial_params(TrainConfig()), images)[0])
    return probs[np.arange(len(labels)), labels]


def _loss_as_probability(data=None) -> float:
    return float(np.exp(np.mean(np.log(_first_batch_probabilities(data)))))  # exp(-L), the geometric mean


@guarded
def check_loss_as_probability(answer, data=None) -> None:
    """Exercise: the single probability p with -log p equal to the batch loss of notebook 3's batch of 32
    (the geometric mean of the probabilities given to the true digits), to 3 significant digits as the
    exercise says; a percent (3.12 or "3.12%") is accepted."""
    if _no_answer(answer):
        return
    value = read_number(answer, percent=True)
    expected = _loss_as_probability(data)
    loss = -math.log(expected)
    if at_precision(share(value), expected, sig=3):
        return _report(
            True, "the loss is minus the log of that probability; compare it with the 1/10 of an even bet.", ""
        )
    mistakes = [
        (value, 0.1, "0.1 is the probability an even bet gives every digit; use the batch loss printed above."),
        (value, 1 / loss, "the loss is -log p, not 1 / p: undo the logarithm with exp."),
        (value, math.exp(loss), "check the sign: L = -log p, and a probability lies between 0 and 1."),
        (value, 10 ** (-loss), "cross-entropy uses the natural log: undo it with exp, not with a power of 10."),
        (
            share(value),
            float(np.mean(_first_batch_probabilities(data))),
            "that is the arithmetic mean of the 32 "
            "probabilities; the loss averages their logs, so undo the logarithm of the mean loss instead.",
        ),
    ]
    hint = next((h for v, m, h in mistakes if matches(v, m, sig=3)), None)
    return _report(
        False,
        "",
        hint
        or form_hint(share(value), expected, sig=3, stated="three significant digits")
        or "solve L = -log p for p, with L the batch loss printed above (natural log).",
    )


def _forward_multiply_adds(batch_size: int, hidden_size: int) -> int:
    sizes = model.layer_sizes(hidden_size)
    return batch_size * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


@guarded
def check_forward_multiply_adds(answer, batch_size: int = 32, hidden_size: int = 128) -> None:
    """Exercise: the multiply-adds of the three matrix products of one forward pass of a batch (exact)."""
    if _no_answer(answer):
        return
    expected = _forward_multiply_adds(batch_size, hidden_size)
    value = int(read_number(answer, whole=True))
    if value == expected // batch_size:
        return _report(False, "", "that is the count for one image; the batch has more.")
    if value == 2 * expected:
        return _report(False, "", "you counted a multiply and an add separately; count each multiply-add once.")
    sizes = model.layer_sizes(hidden_size)
    if value == expected + batch_size * sum(sizes[1:]):
        return _report(
            False, "", "adding a bias is an addition without a multiplication; count only the matrix products."
        )
    return _report(
        value == expected,
        f"three products (N x a)(a x b), each N*a*b multiply-adds, for N = {batch_size}.",
        "an (N x a) @ (a x b) product computes N*b outputs, each a sum of a products; add the three layers.",
    )


def _softmax_cases():
    """Score matrices a stable softmax must get right, each catching one plausible mistake first:
    0 moderate scores (a wrong formula); 1, 2 rows near +1000 and -1000 (no shift at all); 3 notebook 3's
    big_scores, one row 2,000 below the other (one maximum for the whole batch underflows that row to 0/0);
    4 [0, 800], [0, 1500], [-1500, 0] (the row minimum leaves exp(800), the row mean exp(750): inf);
    5 a square case, where a shift or a sum without keepdims broadcasts along the wrong axis instead of failing."""
    rng = np.random.default_rng(3)
    return [
        rng.normal(size=(4, 10)),
        1000 + 50 * rng.normal(size=(3, 10)),
        -1000 + rng.normal(size=(2, 5)),
        np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1010.0]]),
        np.array([[0.0, 800.0], [0.0, 1500.0], [-1500.0, 0.0]]),
        np.array([[1.0, 2.0, 3.0], [10.0, 0.0, -10.0], [5.0, 5.0, 6.0]]),
    ]


_NOT_FINITE = {
    3: "finite while the rows lie close together, nan when one row lies 2,000 below another (big_scores): one "
    "maximum for the whole batch underflows that row to 0 / 0. Shift each row by a value of its own "
    "(axis=1, keepdims=True).",
    4: "finite near +-1000 but nan or inf on rows such as [0, 1500]: subtracting the row minimum or the row mean "
    "leaves some exponents far above 0, where exp() overflows.",
}


@guarded
def check_softmax(student_fn) -> None:
    """Exercise: a numerically stable softmax, scores (N, C) -> probs (N, C), in float64 or float32."""
    for number, scores in enumerate(_softmax_cases()):
        probs, modified = call(student_fn, scores)
        probs = returned_array(probs, scores.shape, "the array of probabilities, one row per row of scores")
        if not np.all(np.isfinite(probs)):
            return _report(
                False,
                "",
                _NOT_FINITE.get(
                    number,
                    "you get nan or inf: exp() overflows for large scores "
                    "(and underflows to 0 for very negative ones). What can you subtract from each row without "
                    "changing the result?",
                ),
            )
        if modified:
            return _report(False, "", "your function modified its input in place; compute into a new array.")
        scale = float(np.abs(scores).max())
        if not agree(probs, layers.softmax(scores), scale=scale):
            sums = np.asarray(probs, dtype=float).sum(axis=1)
            if (
                agree(probs / sums[:, None], layers.softmax(scores), working_dtype(probs), scale=scale)
                and np.all(sums < 1)
                and np.all(sums > 1 - 1e-3)
            ):
                return _report(
                    False,
                    "",
                    "each row sums to slightly less than 1: an epsilon in the denominator. "
                    "After the shift the largest term is exp(0) = 1, so the sum is at least 1 and "
                    "needs no epsilon.",
                )
            if not agree(sums, np.ones(len(scores)), working_dtype(probs), scale=scale):
                return _report(
                    False, "", "the rows do not sum to 1: normalize each row over the classes (axis=1, keepdims=True)."
                )
            return _report(
                False,
                "",
                "each row sums to 1 but the probabilities differ from softmax's: a row's "
                "entries must all be shifted by the same number, that row's own (keepdims=True).",
            )
    return _report(True, "stable for scores near +-1000 and 1500 apart, rows sum to 1, input untouched.", "")


def _log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _smoothed_loss(scores, y, eps, off_target: float | None = None, log_probs=None):
    classes = scores.shape[1]
    target = np.full(scores.shape, eps / classes if off_target is None else off_target)
    target[np.arange(len(y)), y] = 1 - eps + (eps / classes if off_target is None else 0.0)
    log_probs = _log_softmax(scores) if log_probs is None else log_probs
    return float(-(target * log_probs).sum() / len(y))


def _smoothed_cases():
    """(scores, y, eps, far): moderate scores first (a wrong formula shows there), then rows whose scores lie far
    apart ([0, 1500]: no shift, or the row minimum or mean, overflows), then rows far from each other (one row
    ~750 below another's maximum, and notebook 3's big_scores: one maximum for the batch underflows to log 0)."""
    rng = np.random.default_rng(5)
    return [
        (rng.normal(size=(6, 10)), rng.integers(0, 10, 6), 0.1, None),
        (3 * rng.normal(size=(4, 5)), rng.integers(0, 5, 4), 0.3, None),
        (
            np.array([[0.0, 800.0, -5.0], [1000.0, 990.0, 999.0], [0.0, 1500.0, -5.0]]),
            np.array([0, 1, 2]),
            0.2,
            "within",
        ),
        (np.array([[2.0, 1.0, 0.0], [-748.0, -746.0, -750.0]]), np.array([0, 2]), 0.1, "between"),
        (np.array([[1000.0, 999.0, 990.0], [-1000.0, -1001.0, -1010.0]]), np.array([0, 0]), 0.1, "between"),
    ]


_EPSILON = (
    "an epsilon inside the log (log(P + 1e-12)) or a clipped P caps a log-probability of -1500 at about -28: "
    "compute log P directly, s_j - m - log(sum_k exp(s_k - m))."
)


@guarded
def check_smoothed_cross_entropy(student_fn) -> None:
    """Exercise: ``fn(scores (N, C), y (N,), eps) -> float``, the mean cross-entropy against the smoothed
    target (1 - eps) * onehot(y) + eps / C, stable for scores far apart within a row and for rows far apart
    from each other; float32 arithmetic is accepted."""
    for scores, y, eps, far in _smoothed_cases():
        loss, modified = call(student_fn, scores, y, eps)
        loss, dtype = returned_number(loss, "the mean loss (a float)")
        if modified:
            return _report(False, "", "your function modified its inputs; compute into new arrays.")
        if not math.isfinite(loss):
            if far == "between":
                return _report(
                    False,
                    "",
                    "finite while the rows lie close together, inf or nan when one row lies "
                    "far below another: one maximum for the whole batch underflows that row to log 0. "
                    "Subtract each row's own maximum (axis=1, keepdims=True).",
                )
            return _report(
                False,
                "",
                "you get inf or nan when scores are far apart: exp() overflows, or "
                "log(softmax) underflows to log 0. Compute log-probabilities directly: "
                "s_j - m - log(sum_k exp(s_k - m)).",
            )
        scale = float(np.abs(scores).max())

        def is_(target):
            return agree(loss, target, dtype, scale=scale)

        if is_(_smoothed_loss(scores, y, eps)):
            continue
        probs = layers.softmax(scores)
        wrong = [
            (_smoothed_loss(scores, y, eps) * len(y), "that is the sum over the batch; average it (divide by N)."),
            (
                _smoothed_loss(scores, y, eps, off_target=eps / (scores.shape[1] - 1)),
                "you spread eps over the C - 1 "
                "wrong classes; the target here is (1 - eps) * onehot + eps / C on every class, the true one included.",
            ),
            (
                _smoothed_loss(scores, y, 0.0),
                "that is the plain cross-entropy; the smoothed target puts eps / C on every class.",
            ),
            (
                _smoothed_loss(scores, y, eps) / scores.shape[1],
                "you averaged over the classes too; the loss sums "
                "t * log P over the classes and averages over the batch only.",
            ),
        ]
        with np.errstate(divide="ignore"):
            wrong += [
                (_smoothed_loss(scores, y, eps, log_probs=np.log(probs + e)), _EPSILON)
                for e in (1e-15, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6)
            ]
            wrong += [
                (_smoothed_loss(scores, y, eps, log_probs=np.log(np.clip(probs, e, 1))), _EPSILON)
                for e in (1e-15, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6)
            ]
        hint = next((h for w, h in wrong if math.isfinite(w) and is_(w)), None)
        if hint is None and far:  # right on moderate scores, finite but wrong far apart: a patched log
            hint = _EPSILON
        return _report(
            False,
            "",
            hint or "loss = -(1/N) sum_n sum_c t[n, c] * log P[n, c] with t = (1 - eps) * onehot(y) + eps / C.",
        )
    return _report(True, "matches for eps 0.1 to 0.3, with scores 1500 apart and rows 2,000 apart.", "")


def expected_numbers() -> dict:
    """The numbers each numeric checker accepts, for the notebook's exercises."""
    return {
        "check_uniform_loss": [math.log(10)],
        "check_loss_as_probability": [_loss_as_probability()],
        "check_forward_multiply_adds": [_forward_multiply_adds(32, 128)],
    }
