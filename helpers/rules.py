"""Learning rules, in a registry: what differs between top-only training, backprop and its alternatives.

A rule is asked, once per step, for the descent directions of the parameters
it trains. It gets the batch, the forward cache, the scores and the output
error ``dscores = (softmax(scores) - onehot) / N`` and returns
``{name: direction}``; names it leaves out stay frozen. The optimizer then
applies the directions (``p -= lr * direction`` for SGD), so every rule works
with SGD, momentum and Adam, and everything else of a run (initialization,
batches, schedule, evaluation, divergence) is shared: every rule is compared
under the same protocol.

Registered rules (``RULES``; ``python -m helpers train --rule NAME``):

- ``top``: the top layer only (the reference experiment). The frozen features
  h2 of every image are computed once, so a step is ``h2[idx] @ W3``.
- ``backprop``: every layer, the exact gradient.
- ``fa``: feedback alignment (Lillicrap et al., 2016): the backward pass uses
  fixed random matrices B_k where backprop uses W_k^T.
- ``dfa``: direct feedback alignment (Nøkland, 2016): the output error is
  sent to every hidden layer through its own fixed random matrix.
- ``sign``: sign symmetry (Liao, Leibo & Poggio, 2016): sign(W_k)^T in place of W_k^T.
- ``uloss``: the original author's "U loss" (Greydanus, np_nets, 2017), ported faithfully.

Fixed random state a rule needs (feedback matrices) is drawn in ``setup`` from
a generator of its own, the third seeded stream beside (init, batches)
(``helpers.train.seeded_streams``): adding a rule never changes the
initialization or the batches of any other run.

Add a rule with one call, from a notebook cell or a module of your own::

    @register_rule("mine", label="my rule")
    def mine(params, batch, cache, scores, dscores):
        return {"W3": cache[-1][0][0].T @ dscores}   # the top layer's gradient: h2^T dscores

It is then trained by ``train``, offered by the command line and the
explorer, and measured by ``python -m helpers rules``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import model
from .layers import relu_backward, softmax_cross_entropy


@dataclass
class Batch:
    """One mini-batch: ``index`` (N,) into the training split, ``images`` (N, 784), ``labels`` (N,)."""

    index: np.ndarray
    images: np.ndarray
    labels: np.ndarray


class LearningRule:
    """The interface of a rule. Subclasses override :meth:`directions` (and :meth:`setup` for fixed state).

    The base class does what every rule shares: the full forward pass of the
    batch, the softmax cross-entropy and its output error, then asks
    :meth:`directions`. A rule that can compute its step faster (``top``)
    overrides :meth:`loss_and_directions` instead.
    """

    name = "rule"
    label = "a learning rule"

    def setup(self, params: dict, data, rng: np.random.Generator) -> None:
        """Called once before the first step, with the starting parameters and the rule's own generator."""
        self.data = data

    def loss_and_directions(self, params: dict, index: np.ndarray):
        """The batch's mean loss and the descent directions: index (N,) -> (float, {name: array})."""
        images, labels = self.data.train.images[index], self.data.train.labels[index]
        scores, cache = model.forward(params, images)
        loss, dscores = softmax_cross_entropy(scores, labels)
        return loss, self.directions(params, Batch(index, images, labels), cache, scores, dscores)

    def directions(self, params: dict, batch: Batch, cache: list, scores, dscores) -> dict:
        """Descent directions of the trained parameters.

        cache    model.forward's: cache[k - 1] = ((h_{k-1}, W_k), h_k) for layer k (h_0 the images;
                 the top layer's h is None: its output is ``scores``).
        scores   (N, 10); dscores (N, 10) = (softmax(scores) - onehot) / N.
        """
        raise NotImplementedError(f"rule {self.name!r} must define directions(params, batch, cache, scores, dscores)")

    def accuracy(self, params: dict, split) -> float:
        """Fraction of ``split`` (data.validation or data.test) classified correctly."""
        return model.accuracy(params, split.images, split.labels)


# ---------------------------------------------------------------- the registry

RULES: dict = {}


def register_rule(name: str, label: str | None = None):
    """Register a rule under ``name``: decorate a LearningRule subclass, or a function
    ``f(params, batch, cache, scores, dscores) -> {name: direction}``. Returns what it decorates."""

    def register(rule):
        if isinstance(rule, type) and issubclass(rule, LearningRule):
            cls = rule
        elif callable(rule):
            cls = type(f"FunctionRule_{name}", (LearningRule,),
                       {"directions": lambda self, *args: rule(*args), "__doc__": rule.__doc__})
        else:
            raise TypeError(f"register_rule({name!r}) needs a LearningRule subclass or a function, got {rule!r}")
        cls.name, cls.label = name, label or getattr(rule, "label", None) or name
        RULES[name] = cls
        return rule

    if not isinstance(name, str) or not name:
        raise TypeError(f"register_rule needs a rule name (a non-empty string), got {name!r}")
    return register


def check_rule(name: str) -> str:
    """Return ``name`` if it is registered in RULES; else raise ValueError naming the choices."""
    if name not in RULES:
        raise ValueError(f"unknown learning rule {name!r}; choose one of {', '.join(RULES)} "
                         f"(or register your own with helpers.rules.register_rule)")
    return name


def make_rule(name: str) -> LearningRule:
    """A fresh instance of the rule registered as ``name``."""
    return RULES[check_rule(name)]()


def check_directions(rule: LearningRule, directions, params: dict) -> None:
    """Raise ValueError naming the rule and the parameter unless ``directions`` fits ``params``."""
    if not isinstance(directions, dict):
        raise ValueError(f"rule {rule.name!r} returned {type(directions).__name__}; "
                         f"return a dict {{parameter name: direction}}, e.g. {{'W3': ..., 'b3': ...}}")
    for key, direction in directions.items():
        if key not in params:
            raise ValueError(f"rule {rule.name!r} returned a direction for {key!r}, which is not a parameter; "
                             f"the parameters are {', '.join(params)}")
        shape = np.shape(direction)
        if shape != params[key].shape:
            raise ValueError(f"rule {rule.name!r} returned a direction of shape {shape} for {key!r}; "
                             f"it must have the parameter's shape {params[key].shape}")


# ---------------------------------------------------------------- the rules


@register_rule("top", label="top layer only")
class TopLayerOnly(LearningRule):
    """Backprop into the top layer only; the frozen layers' features are computed once.

    ``features``: optional precomputed ``helpers.train.FrozenFeatures`` of the
    starting parameters (the explorer and the baselines share them between runs).
    """

    def __init__(self, features=None):
        self.features = features

    def setup(self, params, data, rng):
        from .train import frozen_features  # train imports this module

        super().setup(params, data, rng)
        self.top = model.num_layers(params)
        features = self.features or frozen_features(params, data)
        if features.validation is None:
            features = type(features)(features.train, features.test,
                                      model.hidden_features(params, data.validation.images))
        self.split_features = {"train": features.train, "validation": features.validation, "test": features.test}
        self.W, self.b = f"W{self.top}", f"b{self.top}"

    def loss_and_directions(self, params, index):
        h = self.split_features["train"][index]  # (N, H): the frozen layers' output, looked up
        scores = h @ params[self.W] + params[self.b]
        loss, dscores = softmax_cross_entropy(scores, self.data.train.labels[index])
        return loss, {self.W: h.T @ dscores, self.b: dscores.sum(axis=0)}

    def accuracy(self, params, split):
        name = "validation" if split is self.data.validation else "test" if split is self.data.test else None
        if name is None:
            return super().accuracy(params, split)
        scores = self.split_features[name] @ params[self.W] + params[self.b]
        return float(np.mean(scores.argmax(axis=1) == split.labels))


class TopLayerFullForward(LearningRule):
    """``top`` the straightforward way: the whole forward pass per batch, backward through the top layer only.

    Not registered: it trains what ``top`` trains, the same runs to rounding, only slower. It shows
    (notebook 5, benchmarks/bench_training.py) that looking the frozen features up changes nothing.
    """

    name, label = "top", "top layer only, full forward per batch"

    def directions(self, params, batch, cache, scores, dscores):
        return model.backward(dscores, cache, train="top")


@register_rule("backprop", label="backprop, all layers")
class Backprop(LearningRule):
    """The exact gradient of every parameter."""

    def directions(self, params, batch, cache, scores, dscores):
        return model.backward(dscores, cache, train="all")


def _draw_feedback(rng, shape):
    # the reference init's distribution, N(0, 1) / sqrt(shape[1]): FA's B_k as large as the W_k it stands for;
    # DFA's D_k (10 x 128) come out 3.6 times smaller than the W3^T they stand for (see the README)
    return rng.standard_normal(shape) / np.sqrt(shape[1])


def backward_with(feedback: dict, dscores, cache) -> dict:
    """Backprop's backward pass, with ``feedback[k]`` (the shape of W_k) used where backprop uses W_k.

    dx = dout @ feedback[k].T; the weight and bias gradients do not involve W_k, so with
    feedback[k] = W_k this is backprop, bit for bit.
    """
    swapped = [((x, feedback.get(k, W)), h) for k, ((x, W), h) in enumerate(cache, start=1)]
    return model.backward(dscores, swapped, train="all")


@register_rule("fa", label="feedback alignment")
class FeedbackAlignment(LearningRule):
    """Lillicrap et al. (2016): fixed random B_k replace W_k in the backward pass (k = 2 .. top).

    ``feedback`` {k: B_k}, each (fan_in, fan_out) like W_k; drawn in ``setup``
    from the rule's generator unless given (the test sets B_k = W_k to get backprop).
    """

    def __init__(self, feedback: dict | None = None):
        self.feedback = feedback

    def setup(self, params, data, rng):
        super().setup(params, data, rng)
        if self.feedback is None:
            top = model.num_layers(params)
            self.feedback = {k: _draw_feedback(rng, params[f"W{k}"].shape) for k in range(2, top + 1)}

    def directions(self, params, batch, cache, scores, dscores):
        return backward_with(self.feedback, dscores, cache)


@register_rule("sign", label="sign symmetry")
class SignSymmetry(LearningRule):
    """Liao, Leibo & Poggio (2016): sign(W_k) in place of W_k in the backward pass; magnitudes dropped."""

    def directions(self, params, batch, cache, scores, dscores):
        top = len(cache)
        return backward_with({k: np.sign(params[f"W{k}"]) for k in range(2, top + 1)}, dscores, cache)


@register_rule("dfa", label="direct feedback alignment")
class DirectFeedbackAlignment(LearningRule):
    """Nøkland (2016): hidden layer k gets the output error through a fixed random D_k (10, H_k).

    The top layer gets its exact gradient; hidden layer k: dz_k = (dscores @ D_k) where h_k > 0.
    ``feedback`` {k: D_k} is drawn in ``setup`` unless given.
    """

    def __init__(self, feedback: dict | None = None):
        self.feedback = feedback

    def setup(self, params, data, rng):
        super().setup(params, data, rng)
        if self.feedback is None:
            top = model.num_layers(params)
            self.feedback = {k: _draw_feedback(rng, (model.NUM_CLASSES, params[f"W{k}"].shape[1]))
                             for k in range(1, top)}

    def directions(self, params, batch, cache, scores, dscores):
        top = len(cache)
        (h_below, _), _ = cache[top - 1]
        grads = {f"W{top}": h_below.T @ dscores, f"b{top}": dscores.sum(axis=0)}
        for k in range(1, top):
            (x, _), h = cache[k - 1]
            dz = relu_backward(dscores @ self.feedback[k], h)
            grads[f"W{k}"], grads[f"b{k}"] = x.T @ dz, dz.sum(axis=0)
        return grads


def _gaussian(x, mu, sigma):
    # the original's bump: a / (sigma * 2.5) * exp(-(x - mu)^2 / (2 sigma^2)), with its 1e-6 guards
    return 1.0 / (sigma * 2.5 + 1e-6) * np.exp(-0.5 * ((x - mu) / (sigma + 1e-6)) ** 2)


def u_signal(x, m: float = 0.0, s: float = 1.0):
    """The original's ``uloss(x, mus, sigmas)``, elementwise: (-gaussian(d, m, s) + 0.25) * 0.001.

    d = x inside (m - s, m + 3 s), else m - s. The original function ignores its
    ``mus``/``sigmas`` arguments and reads the globals m = 0, s = 1 left over from
    its plotting cell; those are the defaults here (see :class:`ULoss`).
    """
    inside = (x < m + 3 * s) & (x > m - s)
    d = np.where(inside, x, m - s)
    return (-_gaussian(d, m, s) + 0.25) * 0.001


@register_rule("uloss", label="U loss (Greydanus 2017)")
class ULoss(LearningRule):
    """The original author's U loss, from np_nets/uloss ("np-mnist (U loss function).ipynb").

    The top layer gets its exact gradient. Each lower layer k is pushed by the
    U signal of the layer above it, sent down through W^T like a gradient:
    W2 by u(scores) @ W3^T through h2's ReLU, W1 by u(h2) @ W2^T through h1's
    ReLU; the signal is not divided by the batch size (the original's constants).
    What this port reproduces: the original's ``uloss`` reads the globals
    m = 0, s = 1 instead of the running means and deviations it computes, so
    the statistics never reach the update; this port does the same (that is
    the code that printed 39.48% at 10,000 steps) and skips the unused statistics.
    """

    def directions(self, params, batch, cache, scores, dscores):
        top = len(cache)
        (h_below, _), _ = cache[top - 1]
        grads = {f"W{top}": h_below.T @ dscores, f"b{top}": dscores.sum(axis=0)}
        above = scores  # the original's hs[-1]: the top layer's output, the scores
        for k in range(top - 1, 0, -1):
            (x, _), h = cache[k - 1]
            dz = relu_backward(u_signal(above) @ params[f"W{k + 1}"].T, h)
            grads[f"W{k}"], grads[f"b{k}"] = x.T @ dz, dz.sum(axis=0)
            above = h
        return grads
