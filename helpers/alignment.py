"""Alignment, measured: how close a learning rule's update is to backprop's, and FA's feedback to the weights.

Feedback alignment learns although its backward pass uses fixed random
matrices B_k instead of the forward weights; the explanation (Lillicrap et
al., 2016) is that the forward weights come to align with the feedback, so
that the update comes to point within 90 degrees of the gradient. This module
measures both angles on a fixed probe batch (the first 1,000 validation
images): the angle between a rule's descent direction of W_k and backprop's
at the same weights (and the ratio of their sizes), and for FA the angle between W_k and its B_k (B_k has
W_k's shape: the backward pass uses it where backprop uses W_k).

:class:`AlignmentRecorder` wraps a rule during an ordinary ``train`` run and
records the angles at chosen steps; the run itself is unchanged (it only reads
the weights, on a batch of its own).
"""

from __future__ import annotations

import numpy as np

from . import model
from .layers import softmax_cross_entropy
from .rules import Batch, LearningRule

PROBE_SIZE = 1000


def angle_degrees(a, b) -> float:
    """The angle between two arrays seen as vectors, in degrees [0, 180]; nan if either is zero."""
    a, b = np.ravel(a), np.ravel(b)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0 or not np.isfinite(na * nb):
        return float("nan")
    # 2 atan2(|u - v|, |u + v|) of the unit vectors (Kahan): arccos of the cosine loses half the
    # digits near 0 and 180 degrees (a vector with itself would come out 1e-6 degrees, not 0)
    u, v = a / na, b / nb
    return float(np.degrees(2 * np.arctan2(np.linalg.norm(u - v), np.linalg.norm(u + v))))


def probe_batch(data, size: int = PROBE_SIZE) -> Batch:
    """The fixed probe: the first ``size`` validation images (size, 784) and labels (size,)."""
    if not 0 < size <= len(data.validation.labels):
        raise ValueError(
            f"probe size must be between 1 and {len(data.validation.labels)} (the validation images), got {size}"
        )
    return Batch(np.arange(size), data.validation.images[:size], data.validation.labels[:size])


def update_measures(rule: LearningRule, params: dict, probe: Batch) -> tuple:
    """How the rule's direction of each weight matrix compares with backprop's, on the probe batch.

    Returns ``(angles, norm_ratios)``: {"W1": degrees, ...} and {"W1": |rule's| / |backprop's|, ...}
    for the weight matrices the rule trains. Any rule can be measured: it is asked
    for ``directions`` on the probe, not on a training batch, so ``directions``
    must have no side effects (no noise drawn from the run's generator, no state
    changed). A norm ratio far from 1 is a step size the learning rate has to make up.
    """
    scores, cache = model.forward(params, probe.images)
    _, dscores = softmax_cross_entropy(scores, probe.labels)
    exact = model.backward(dscores, cache, train="all")
    mine = rule.directions(params, probe, cache, scores, dscores)
    names = [name for name in sorted(exact) if name.startswith("W") and name in mine]
    norms = {name: (np.linalg.norm(mine[name]), np.linalg.norm(exact[name])) for name in names}
    ratios = {name: float(a / b) if b > 0 and np.isfinite(a) else float("nan") for name, (a, b) in norms.items()}
    return {name: angle_degrees(mine[name], exact[name]) for name in names}, ratios


def update_angles(rule: LearningRule, params: dict, probe: Batch) -> dict:
    """Angle (degrees) between the rule's direction of each weight matrix and backprop's, on the probe:
    {"W1": degrees, ...} (see :func:`update_measures`)."""
    return update_measures(rule, params, probe)[0]


def feedback_angles(rule: LearningRule, params: dict) -> dict:
    """For a rule with feedback matrices shaped like the weights (fa): angle between W_k and B_k, {"W2": degrees, ...}."""
    feedback = getattr(rule, "feedback", None) or {}
    return {
        f"W{k}": angle_degrees(params[f"W{k}"], B)
        for k, B in sorted(feedback.items())
        if np.shape(B) == params[f"W{k}"].shape
    }


class AlignmentRecorder:
    """A rule, wrapped to record its alignment at ``steps`` (the state after that many updates) during ``train``.

    It passes every call through to the rule; before the update of step t + 1
    it measures the weights of step t. The last step of a run has no update
    after it: call :meth:`record` with the returned parameters for it.
    ``angles``: {step: {"update": {...}, "norm_ratio": {...}, "feedback": {...}}}.
    """

    def __init__(self, rule: LearningRule, probe: Batch, steps):
        self.rule, self.probe, self.steps = rule, probe, set(int(s) for s in steps)
        self.name = rule.name
        self.angles, self.calls = {}, 0

    def __getattr__(self, attribute):  # everything else is the rule's (label, feedback, ...)
        return getattr(self.__dict__["rule"], attribute)

    def setup(self, params, data, rng):
        self.rule.setup(params, data, rng)

    def loss_and_directions(self, params, index):
        if self.calls in self.steps:  # calls so far = updates applied to params
            self.record(self.calls, params)
        self.calls += 1
        return self.rule.loss_and_directions(params, index)

    def accuracy(self, params, split):
        return self.rule.accuracy(params, split)

    def record(self, step: int, params: dict) -> None:
        """Measure the angles of ``params`` (the weights after ``step`` updates)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            angles, ratios = update_measures(self.rule, params, self.probe)
            self.angles[int(step)] = {
                "update": angles,
                "norm_ratio": ratios,
                "feedback": feedback_angles(self.rule, params),
            }
