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
- ``kp``: Kolen-Pollack (Akrout et al., 2019): FA whose B_k get W_k's updates, both decayed
  (``decay``), so that B_k comes to equal W_k.
- ``nodepert``: node perturbation: each hidden layer's gradient estimated from the loss's change under
  Gaussian noise (``sigma``) on its pre-activations; the top layer exact.
- ``synthgrad``: synthetic gradients (Jaderberg et al., 2016), ported from the original author's
  np_nets ``synthgrad.py``: a linear module per hidden layer predicts dl/dh_k from h_k (``synth_lr``).

Fixed random state a rule needs (feedback matrices) is drawn in ``setup`` from
a generator of its own, ``context.rng``, the third seeded stream beside
(init, batches) (``helpers.train.seeded_streams``): adding a rule never
changes the initialization or the batches of any other run.

What a rule sees of its run (:class:`RunContext`, ``self.context`` after
``setup``): the run's ``config`` (lr, optimizer, steps, seed, ...), the
``step`` about to be taken (1 for the first update) and the rule's generator
``rng``. After each update the loop calls ``after_update(params, directions,
context)``: the hook for rules with state that learns too (Kolen-Pollack's
feedback matrices). ``directions`` must have no side effects: the alignment
recorder also calls it on a probe batch, and a rule that drew noise or
changed its state there would change its own run.

A rule's hyperparameters are its constructor's keyword arguments with number,
string or boolean defaults; ``make_rule("kp", decay=1e-3)`` and the command
line's ``--rule kp:decay=1e-3`` set them, and the comparison records them.

Add a rule with one call, from a notebook cell or a module of your own::

    @register_rule("mine", label="my rule")
    def mine(params, batch, cache, scores, dscores):
        return {"W3": cache[-1][0][0].T @ dscores}   # the top layer's gradient: h2^T dscores

It is then trained by ``train``, offered by the command line and the
explorer, and measured by ``python -m helpers rules``. Rule names are letters,
digits, ``_``, ``-`` and ``.`` (they become file names and ``--rules a,b``
lists); the package's own names cannot be registered again.
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass

import numpy as np

from . import model
from .layers import relu_backward, shift_scores, softmax_cross_entropy, softmax_cross_entropy_losses


@dataclass
class Batch:
    """One mini-batch: ``index`` (N,) into the training split, ``images`` (N, 784), ``labels`` (N,)."""

    index: np.ndarray
    images: np.ndarray
    labels: np.ndarray


@dataclass
class RunContext:
    """What a rule knows of its run: ``config`` (a helpers.train.TrainConfig, or None outside ``train``),
    ``step`` (the update about to be made: 1 for the first, 0 during setup) and ``rng``, the rule's generator."""

    config: object = None
    rng: np.random.Generator | None = None
    step: int = 0

    @property
    def lr(self) -> float:
        """The run's learning rate (config.lr)."""
        if self.config is None:
            raise ValueError(
                "this rule needs the run's learning rate, but it runs outside helpers.train.train "
                "(no config): pass RunContext(config=TrainConfig(...)) to setup"
            )
        return self.config.lr


def as_context(context) -> RunContext:
    """``context`` as a RunContext: a bare Generator (or None) becomes the context's ``rng``."""
    if isinstance(context, RunContext):
        return context
    if context is None or isinstance(context, np.random.Generator):
        return RunContext(rng=context)
    raise TypeError(f"setup needs a RunContext (or a numpy Generator), got {type(context).__name__}")


class LearningRule:
    """The interface of a rule. Subclasses override :meth:`directions` (and :meth:`setup` for fixed state).

    The base class does what every rule shares: the full forward pass of the
    batch, the softmax cross-entropy and its output error, then asks
    :meth:`directions`. A rule that can compute its step faster (``top``)
    overrides :meth:`loss_and_directions` instead.
    """

    name = "rule"
    label = "a learning rule"
    # True where train_many trains many runs at once (not one by one): the comparison then trains the
    # rule's grid in one call, and the explorer offers its whole learning-rate landscape live
    trains_together = False
    # True where the rule's constructor takes ``features`` (model.FrozenFeatures) and its steps then read
    # no image (top): the explorer computes them once per width and keeps MNIST as bytes meanwhile
    uses_frozen_features = False

    @classmethod
    def train_many(cls, data, configs, *, together=True, features=None, hyperparameters=None, progress=None) -> list:
        """Train runs of this rule: ``[(params, History), ...]`` in the order of ``configs``
        (``helpers.train.train_many`` checks them and calls this). Here: one by one through
        ``helpers.train.train``, each with a fresh rule; ``together`` and ``features`` are for the
        rules that can use them (override this and set ``trains_together``)."""
        hyperparameters = check_hyperparameters(cls.name, hyperparameters or {})
        return one_by_one(data, configs, lambda config: cls(**hyperparameters), progress)

    def setup(self, params: dict, data, context) -> None:
        """Called once before the first step, with the starting parameters and the run's :class:`RunContext`
        (``context.rng`` is the rule's own generator; a bare Generator is accepted as that)."""
        self.data, self.context = data, as_context(context)

    def after_update(self, params: dict, directions: dict, context: RunContext) -> None:
        """Called after each update with the updated ``params`` and the step's ``directions``: nothing by default."""

    @property
    def hyperparameters(self) -> dict:
        """{name: value} of the rule's hyperparameters (see :func:`rule_hyperparameters`)."""
        return {name: getattr(self, name) for name in rule_hyperparameters(type(self))}

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
RULE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"register_rule needs a rule name (a non-empty string), got {name!r}")
    if not RULE_NAME.fullmatch(name):
        raise ValueError(
            f"rule name {name!r}: use letters, digits, '_', '-' and '.' only (it names files, "
            "and --rules takes a comma-separated list), e.g. 'my-rule'"
        )
    existing = RULES.get(name)
    if existing is not None and existing.__module__ == __name__ and not existing.__name__.startswith("FunctionRule_"):
        raise ValueError(f"{name!r} is a rule of the package ({existing.label}); register yours under another name")
    return name


def _function_rule(name, function):
    """A LearningRule class whose directions call ``function(params, batch, cache, scores, dscores[, context])``."""
    try:
        takes_context = "context" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # builtins without a signature
        takes_context = False
    if takes_context:

        def directions(self, params, batch, cache, scores, dscores):
            return function(params, batch, cache, scores, dscores, context=self.context)
    else:

        def directions(self, params, batch, cache, scores, dscores):
            return function(params, batch, cache, scores, dscores)

    return type(
        f"FunctionRule_{name}",
        (LearningRule,),
        {
            "directions": directions,
            "__doc__": function.__doc__,
            "__wrapped__": staticmethod(function),
            "__module__": getattr(function, "__module__", __name__) or __name__,
        },
    )


def register_rule(name: str, label=None):
    """Register a rule under ``name``: a LearningRule subclass, or a function
    ``f(params, batch, cache, scores, dscores) -> {name: direction}`` (add a ``context`` parameter to get
    the :class:`RunContext`). Use it as a decorator, ``@register_rule("mine")``, or call it with the rule,
    ``register_rule("mine", my_function)``; either returns the rule. Registering a name again replaces your
    earlier rule (re-running a notebook cell); the package's own names are refused.
    """

    def register(rule, label=label):
        if isinstance(rule, type) and issubclass(rule, LearningRule):
            cls = rule
        elif isinstance(rule, type) or not callable(rule):
            raise TypeError(f"register_rule({name!r}) needs a LearningRule subclass or a function, got {rule!r}")
        else:
            cls = _function_rule(name, rule)
        _check_name(name)
        cls.name, cls.label = name, label or getattr(rule, "label", None) or name
        rule_hyperparameters(cls)  # refuse a constructor whose hyperparameters cannot be recorded, now
        RULES[name] = cls
        return rule

    _check_name(name)
    if label is not None and not isinstance(label, str):  # register_rule("mine", fn): the call form
        return register(label, label=None)
    return register


def rule_hyperparameters(cls) -> dict:
    """{name: default} of a rule class's hyperparameters: its constructor's keyword arguments whose
    defaults are numbers, strings or booleans (objects such as precomputed features are not recorded)."""
    if cls.__init__ is object.__init__:
        return {}
    found = {}
    for parameter in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is parameter.empty:
            raise TypeError(
                f"rule {getattr(cls, 'name', cls.__name__)!r}: every constructor argument needs a default "
                f"({parameter.name!r} has none): the registry builds the rule as cls(**hyperparameters)"
            )
        if isinstance(parameter.default, (bool, int, float, str)):
            found[parameter.name] = parameter.default
    return found


def check_rule(name: str) -> str:
    """Return ``name`` if it is registered in RULES; else raise ValueError naming the choices."""
    if name not in RULES:
        raise ValueError(
            f"unknown learning rule {name!r}; choose one of {', '.join(RULES)} "
            f"(or register your own with helpers.rules.register_rule)"
        )
    return name


def check_hyperparameters(name: str, values: dict) -> dict:
    """``values`` checked against the hyperparameters of rule ``name`` (each converted to its default's type);
    ValueError naming the rule, the key and what it accepts."""
    known = rule_hyperparameters(RULES[check_rule(name)])
    checked = {}
    for key, value in values.items():
        if key not in known:
            accepted = ", ".join(f"{k} (default {v!r})" for k, v in known.items()) or "none"
            raise ValueError(f"rule {name!r} has no hyperparameter {key!r}; it accepts: {accepted}")
        default = known[key]
        if (
            isinstance(default, bool) != isinstance(value, (bool, np.bool_))
            or (isinstance(default, (int, float)) and not isinstance(value, (int, float, np.integer, np.floating)))
            or (isinstance(default, str) and not isinstance(value, str))
        ):
            raise ValueError(f"rule {name!r}: {key} must be like its default {default!r}, got {value!r}")
        if isinstance(default, int) and not isinstance(default, bool) and float(value) != int(value):
            raise ValueError(f"rule {name!r}: {key} must be an integer, got {value!r}")
        checked[key] = type(default)(value)
    return checked


def make_rule(name: str, **hyperparameters) -> LearningRule:
    """A fresh instance of the rule registered as ``name``, with the given hyperparameters (checked)."""
    return RULES[check_rule(name)](**check_hyperparameters(name, hyperparameters))


def parse_rule_spec(spec: str):
    """``"kp:decay=1e-3:other=2"`` -> ("kp", {"decay": 0.001, "other": 2}); values are Python literals or words."""
    name, *settings = str(spec).strip().split(":")
    check_rule(name)
    values = {}
    for item in settings:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"rule setting {item!r} in {spec!r}: write NAME:KEY=VALUE, e.g. kp:decay=1e-3")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        values[key.strip()] = value
    return name, check_hyperparameters(name, values)


def rule_name(spec: str) -> str:
    """The rule's name in a spec: "kp:decay=0.001" -> "kp" (unchecked: see :func:`parse_rule_spec`)."""
    return str(spec).split(":", 1)[0]


def trains_together(name: str) -> bool:
    """Whether rule ``name`` trains many runs at once (``LearningRule.trains_together``)."""
    return RULES[check_rule(name)].trains_together


def rule_spec(name: str, hyperparameters: dict | None = None) -> str:
    """The inverse of :func:`parse_rule_spec`: ("kp", {"decay": 0.001}) -> "kp:decay=0.001"."""
    return ":".join(
        [name]
        + [
            f"{k}={v!r}" if isinstance(v, str) else f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in sorted((hyperparameters or {}).items())
        ]
    )


def one_by_one(data, configs, rule_for, progress=None) -> list:
    """``helpers.train.train`` for each config with the rule ``rule_for(config)``: [(params, History), ...].
    ``progress(step, steps)`` gets the share of all runs done; once it cancels a run (returns True),
    the runs not started get a cancelled History and no params."""
    from .train import History, train  # train imports this module

    results = []
    for i, config in enumerate(configs):
        if results and results[-1][1].cancelled:
            results.append((None, History(config, cancelled=True)))
            continue
        report = (
            None if progress is None else (lambda step, steps, i=i: progress((i * steps + step) // len(configs), steps))
        )
        results.append(train(data, config, rule=rule_for(config), progress=report))
    return results


def check_directions(rule: LearningRule, directions, params: dict) -> None:
    """Raise ValueError naming the rule and the parameter unless ``directions`` fits ``params``."""
    if not isinstance(directions, dict):
        raise ValueError(
            f"rule {rule.name!r} returned {type(directions).__name__}; "
            f"return a dict {{parameter name: direction}}, e.g. {{'W3': ..., 'b3': ...}}"
        )
    for key, direction in directions.items():
        if key not in params:
            raise ValueError(
                f"rule {rule.name!r} returned a direction for {key!r}, which is not a parameter; "
                f"the parameters are {', '.join(params)}"
            )
        shape = np.shape(direction)
        if shape != params[key].shape:
            raise ValueError(
                f"rule {rule.name!r} returned a direction of shape {shape} for {key!r}; "
                f"it must have the parameter's shape {params[key].shape}"
            )


# ---------------------------------------------------------------- the rules


@register_rule("top", label="top layer only")
class TopLayerOnly(LearningRule):
    """Backprop into the top layer only; the frozen layers' features are computed once.

    ``features``: optional precomputed ``helpers.model.FrozenFeatures`` of the
    starting parameters (the explorer and the baselines share them between runs).
    :meth:`train_many` trains many runs together, in one lockstep stack (``helpers.readout``).
    """

    trains_together = True
    uses_frozen_features = True

    def __init__(self, features=None):
        self.features = features

    @classmethod
    def train_many(cls, data, configs, *, together=True, features=None, hyperparameters=None, progress=None) -> list:
        """Every run in one stack (``helpers.readout.train_top_layers``), or with ``together=False`` one
        by one through ``helpers.train.train`` on each seed's shared frozen features."""
        from .data import images_dtype
        from .readout import train_top_layers  # readout builds on train, which imports this module
        from .train import initial_params

        check_hyperparameters(cls.name, hyperparameters or {})  # it has none: any is named as unknown
        if together:
            return train_top_layers(data, configs, features=features, progress=progress)
        given, computed = dict(features or {}), {}

        def rule_for(config):
            found = given.get(config.seed)
            if found is None:  # each start's features once: a seed's runs at one width share them
                key = (config.seed, config.hidden_size, config.init)
                if key not in computed:
                    computed[key] = model.frozen_features(initial_params(config, images_dtype(data)), data)
                found = computed[key]
            return cls(found)

        return one_by_one(data, configs, rule_for, progress)

    def setup(self, params, data, context):
        super().setup(params, data, context)
        self.top = model.num_layers(params)
        features = self.features or model.frozen_features(params, data)
        if features.validation is None:
            features = type(features)(
                features.train, features.test, model.hidden_features(params, data.validation.images)
            )
        self.split_features = {"train": features.train, "validation": features.validation, "test": features.test}
        self.W, self.b = f"W{self.top}", f"b{self.top}"

    def loss_and_directions(self, params, index):
        h = self.split_features["train"][index]  # (N, H): the frozen layers' output, looked up
        scores = h @ params[self.W] + params[self.b]
        loss, dscores = softmax_cross_entropy(scores, self.data.train.labels[index])
        return loss, {self.W: h.T @ dscores, self.b: dscores.sum(axis=0)}

    def directions(self, params, batch, cache, scores, dscores):
        # what the alignment recorder asks on its probe batch (training steps use the features above)
        return model.backward(dscores, cache, train="top")

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


def _draw_feedback(rng, shape, dtype=np.float64):
    # the reference init's distribution, N(0, 1) / sqrt(shape[1]): FA's B_k as large as the W_k it stands for;
    # DFA's D_k (10 x 128) come out 3.6 times smaller than the W3^T they stand for (see docs/measurements.md).
    # Drawn in float64 whatever the run's dtype: a float32 run gets the float64 run's matrices, rounded.
    return (rng.standard_normal(shape) / np.sqrt(shape[1])).astype(dtype, copy=False)


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
        self.given_feedback = feedback

    def setup(self, params, data, context):
        super().setup(params, data, context)
        top = model.num_layers(params)
        # drawn anew in every setup: a rule object reused for a second run (another seed) gets that run's B_k
        self.feedback = self.given_feedback or {
            k: _draw_feedback(self.context.rng, params[f"W{k}"].shape, params[f"W{k}"].dtype) for k in range(2, top + 1)
        }

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
        self.given_feedback = feedback

    def setup(self, params, data, context):
        super().setup(params, data, context)
        top = model.num_layers(params)
        self.feedback = self.given_feedback or {
            k: _draw_feedback(self.context.rng, (model.NUM_CLASSES, params[f"W{k}"].shape[1]), params[f"W{k}"].dtype)
            for k in range(1, top)
        }

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


def _check_number(rule: str, name: str, value, low: float, inclusive: bool) -> None:
    # hyperparameters arrive from the command line and from grids: refuse the nonsensical with a way out
    ok = np.isfinite(value) and (value >= low if inclusive else value > low)
    if not ok:
        raise ValueError(
            f"rule {rule!r}: {name} must be a finite number {'>=' if inclusive else '>'} {low:g}, "
            f"got {value!r} (e.g. {rule}:{name}={rule_hyperparameters(RULES[rule])[name]:g})"
        )


@register_rule("kp", label="Kolen-Pollack")
class KolenPollack(FeedbackAlignment):
    """Akrout et al. (2019), "Deep learning without weight transport": feedback alignment whose B_k learn.

    The backward pass uses B_k (fan_in, fan_out, like W_k; k = 2 .. top) where backprop uses W_k, as ``fa``
    does, and B_k starts as FA's. Each step B_k gets the update of W_k, which needs no transport of W:
    g_k = h_{k-1}^T delta_k is local to layer k. Both decay, with SGD:

        W_k -= lr (g_k + decay W_k)        (the direction returned: g_k + decay W_k, W1's too)
        B_k -= lr (g_k + decay B_k)        (in after_update)

    so B_k - W_k shrinks by the factor (1 - lr decay) every step and the backward pass becomes backprop's;
    with decay = 0 the difference never changes and B_k only follows W_k. With momentum or Adam, B_k moves
    by the step W_k actually made (the optimizer's of g_k + decay W_k) plus lr decay (W_k - B_k), taken
    before the step: B_k - W_k shrinks by the same factor. Biases are not decayed.

    ``decay`` 1e-3: the best validation accuracy of 0, 1e-4, 1e-3, 1e-2, 3e-2 (97.58, 97.60, 97.74, 95.58,
    90.10%; seed 0, 10,000 steps, SGD at lr 0.03).
    ``feedback`` {k: B_k}: starting feedback (copied; the rule's B_k learn), drawn in setup unless given.
    """

    def __init__(self, decay: float = 1e-3, feedback: dict | None = None):
        _check_number("kp", "decay", decay, 0.0, inclusive=True)
        super().__init__(feedback)
        self.decay = decay

    def setup(self, params, data, context):
        super().setup(params, data, context)
        # ours to update, in the run's dtype
        self.feedback = {k: np.array(B, dtype=params[f"W{k}"].dtype) for k, B in self.feedback.items()}
        self.before = None

    def directions(self, params, batch, cache, scores, dscores):
        grads = backward_with(self.feedback, dscores, cache)
        for name in grads:
            if name.startswith("W"):
                grads[name] = grads[name] + self.decay * params[name]
        return grads

    def loss_and_directions(self, params, index):
        # W_k before the step (the optimizer updates in place): after_update moves B_k by W_k's actual step
        self.before = {k: params[f"W{k}"].copy() for k in self.feedback}
        return super().loss_and_directions(params, index)

    def after_update(self, params, directions, context):
        if self.before is None:
            raise RuntimeError(
                "kp.after_update follows loss_and_directions (it needs W_k before the step): "
                "train the rule with helpers.train.train"
            )
        shrink = context.lr * self.decay
        for k, B in self.feedback.items():
            before = self.before[k]
            # B += (W - W_before) - lr decay (B - W_before); with SGD this is B -= lr (g + decay B)
            B += (params[f"W{k}"] - before) - shrink * (B - before)
        self.before = None


def _example_losses(scores, labels):
    """Each example's cross-entropy.  scores (N, 10), labels (N,) -> (N,)."""
    shifted = shift_scores(scores)
    return softmax_cross_entropy_losses(shifted, np.eye(shifted.shape[1])[labels])


@register_rule("nodepert", label="node perturbation")
class NodePerturbation(LearningRule):
    """Node perturbation: each hidden layer's gradient estimated from the loss's response to noise.

    For hidden layer k, a second forward pass from layer k up adds sigma xi (xi ~ N(0, 1), shape (N, H_k))
    to the pre-activations z_k; each example's loss change, times its noise, estimates the gradient:
    dL/dz_k ~ (l_i(z + sigma xi) - l_i(z)) xi / (sigma N), unbiased as sigma -> 0 (REINFORCE with the
    clean loss as the baseline). W_k's direction is then h_{k-1}^T dz_k, as backprop's is from the exact dz_k.
    Each hidden layer is perturbed in a pass of its own: the estimate's variance grows with that layer's
    width alone (128), not with all hidden units (256), for one more forward of the layers above.
    The top layer gets its exact gradient: its output error is local to it (the loss is computed there), so
    there is no credit to assign, and estimating it too would only add noise that DFA's and the U loss's
    rows (also exact at the top) do not have.

    ``directions`` has no side effects: the noise comes from a generator seeded by a base drawn once in
    ``setup`` from the rule's generator and by the batch's indices, so the same batch gets the same noise
    (the alignment recorder's probe leaves the run unchanged).
    ``sigma`` 0.1: the best validation accuracy of 1e-3, 1e-2, 0.1, 1 (87.32, 87.32, 88.32, 87.92%; seed 0,
    10,000 steps, SGD at lr 0.01; at lr 0.03 every sigma diverged: the estimate's noise, not its bias).
    1e-3 and 1e-2 train alike: that small, the loss responds linearly to the noise and sigma cancels out
    of the estimate; a 1-point edge of 0.1 over them is one seed's measurement.
    """

    def __init__(self, sigma: float = 0.1):
        _check_number("nodepert", "sigma", sigma, 0.0, inclusive=False)
        self.sigma = sigma

    def setup(self, params, data, context):
        super().setup(params, data, context)
        if self.context.rng is None:
            raise ValueError(
                "node perturbation draws its noise seed from the rule's generator: "
                "pass setup a RunContext(rng=...) (helpers.train.train does)"
            )
        self.base_seed = int(self.context.rng.integers(2**63))

    def directions(self, params, batch, cache, scores, dscores):
        top = len(cache)
        n = len(batch.labels)
        (h_below, _), _ = cache[top - 1]
        grads = {f"W{top}": h_below.T @ dscores, f"b{top}": dscores.sum(axis=0)}
        noise_rng = np.random.default_rng([self.base_seed, *np.asarray(batch.index, dtype=np.int64).tolist()])
        clean = _example_losses(scores, batch.labels)
        for k in range(1, top):
            (x, W), _ = cache[k - 1]
            noise = noise_rng.standard_normal((n, W.shape[1])).astype(W.dtype, copy=False)  # float32 runs: rounded
            h = np.maximum(x @ W + params[f"b{k}"] + self.sigma * noise, 0.0)
            for j in range(k + 1, top + 1):  # the layers above, on the perturbed activations
                h = h @ params[f"W{j}"] + params[f"b{j}"]
                if j < top:
                    h = np.maximum(h, 0.0)
            change = _example_losses(h, batch.labels) - clean  # (N,)
            dz = (change / (self.sigma * n)).astype(noise.dtype, copy=False)[:, None] * noise  # the run's dtype
            grads[f"W{k}"], grads[f"b{k}"] = x.T @ dz, dz.sum(axis=0)
        return grads


@register_rule("synthgrad", label="synthetic gradients (Greydanus 2017)")
class SyntheticGradients(LearningRule):
    """Synthetic gradients (Jaderberg et al., 2016), ported from the original author's np_nets ``synthgrad.py``.

    Each hidden layer k has a linear module (M_k (H_k, H_k), c_k (H_k,)) that predicts, from the layer's
    output h_k, the gradient of the example's own loss with respect to h_k: s_k = h_k M_k + c_k (N, H_k).
    Layer k learns from the prediction as from a gradient, dz_k = s_k where h_k > 0, divided by N (the
    batch mean), without waiting for the layers above. The top layer gets its exact gradient. The modules'
    targets, one layer's backward step each: for the last hidden layer the true N dscores W_top^T, for a
    lower layer k the gradient the layer above's prediction sends down, (s_{k+1} where h_{k+1} > 0) W_{k+1}^T
    (bootstrapped, as in Jaderberg et al.: no backward pass through more than one layer). After each update
    the modules take one normalized step (NLMS) on 0.5 * mean squared error: the gradient times
    ``synth_lr`` / (1 + mean |h_k|^2), whatever the run's optimizer (the modules are the rule's state, not
    the network's). The batch's mean |[h_k, 1]|^2 bounds the largest eigenvalue of [h_k, 1]^T [h_k, 1] / N,
    so any synth_lr below 2 fits the batch without overshooting, however large h_k grows as the layers learn.
    As in his code, the modules do not see the label (Jaderberg et al.'s cDNI does): the best a linear
    module of h_k can predict is the gradient's mean given h_k.

    Where the port differs from ``synthgrad.py``, and why:

    - Network: his is 784-100-10 with a ReLU on the scores (the loss sees relu(scores)); this is the
      project's 784-128-128-10 with plain scores, so that every rule trains the same network.
    - What is predicted: his modules map h_k to the flattened per-example gradient of every parameter
      (W1's module alone would be 128 x 100,352 here, 100 MB), and his W2 module sees the relu'd scores.
      This port predicts dl/dh_k as his later notebook (synthetic-gradients.ipynb) and the paper do: the
      module is H_k x H_k, and W_k's direction comes from the prediction as backprop's does from the gradient.
      So only the hidden layers are synthetic; his top layer was synthetic too.
    - Targets and update order: he trains the modules every 10th step (synth_step) on the true gradient from a
      full backward pass, then updates the network with the prediction made before that training. Here the
      modules train every step, after the network's update, on the bootstrapped one-layer targets above:
      cheap (one product per layer), and the network needs no full backward pass ever.
    - Constants: his lr 2e-2, slr 1e-4, batch 10, 1,000 steps, Gaussian module init times 1e-2; here the
      project's protocol (batch 32, the run's lr and optimizer), modules start at zero (the paper's choice:
      the hidden layers stay put until a module has learned something, instead of following a random map).
    - Module step: his is a fixed slr; here it is normalized (above). A fixed step is stable only below
      2 / (largest eigenvalue of [h_k, 1]^T [h_k, 1] / N), 0.063 for h1 at initialization (31.6): fixed steps of 0.1
      (the best on validation at lr 0.03) diverged at lr 0.01 within 330 steps, for seeds 0 and 1.
      ``synth_lr`` 1: validation 87.88, 88.56, 90.46, 90.78% at 0.1, 0.3, 1, 1.5 (seed 0, 10,000 steps, SGD
      at lr 0.03); 1 rather than 1.5, whose 0.3 points are one seed's, because the noise NLMS leaves in the
      fit grows as synth_lr / (2 - synth_lr): three times larger at 1.5, and unbounded towards 2.
    - Module loss: his modules fit every example's prediction to the batch's mean gradient, by
      smodel -= slr h^T (s - g) summed over the batch; here each example's prediction fits that example's
      own gradient (N times the batch mean's share), by the mean over the batch, so that synth_lr does not
      depend on the batch size.
    """

    def __init__(self, synth_lr: float = 1.0):
        _check_number("synthgrad", "synth_lr", synth_lr, 0.0, inclusive=False)
        if synth_lr >= 2:
            raise ValueError(
                f"rule 'synthgrad': synth_lr must be below 2 (a normalized step of 2 or more "
                f"overshoots the batch's fit), got {synth_lr!r} (e.g. synthgrad:synth_lr=0.5)"
            )
        self.synth_lr = synth_lr

    def setup(self, params, data, context):
        super().setup(params, data, context)
        top = model.num_layers(params)
        # zero modules: no random state, and a reused rule object starts each run afresh
        self.modules = {
            k: (np.zeros((params[f"W{k}"].shape[1],) * 2, dtype=params[f"W{k}"].dtype), np.zeros_like(params[f"b{k}"]))
            for k in range(1, top)
        }
        self.pending = None

    def predictions(self, params, cache, dscores):
        """The directions and the modules' normalized steps: (cache, dscores (N, 10)) -> ({name: direction},
        {k: (dM_k (H_k, H_k), dc_k (H_k,))}), to be taken times synth_lr. Changes nothing."""
        top = len(cache)
        n = len(dscores)
        (h_below, W_top), _ = cache[top - 1]
        grads = {f"W{top}": h_below.T @ dscores, f"b{top}": dscores.sum(axis=0)}
        module_steps = {}
        target = n * dscores @ W_top.T  # each example's own dl/dh_{top-1}: the exact one, the top's backward step
        for k in range(top - 1, 0, -1):
            (x, W), h = cache[k - 1]
            M, c = self.modules[k]
            predicted = h @ M + c  # (N, H_k): the synthetic dl/dh_k
            error = predicted - target
            scale = n * (1.0 + np.einsum("ij,ij->", h, h) / n)  # N (1 + mean |h_k|^2): the NLMS normalization
            module_steps[k] = (h.T @ error / scale, error.sum(axis=0) / scale)
            dz = relu_backward(predicted, h)
            grads[f"W{k}"], grads[f"b{k}"] = x.T @ dz / n, dz.sum(axis=0) / n
            target = dz @ W.T  # layer k - 1's target, bootstrapped from this layer's prediction
        return grads, module_steps

    def directions(self, params, batch, cache, scores, dscores):
        return self.predictions(params, cache, dscores)[0]

    def loss_and_directions(self, params, index):
        images, labels = self.data.train.images[index], self.data.train.labels[index]
        scores, cache = model.forward(params, images)
        loss, dscores = softmax_cross_entropy(scores, labels)
        directions, self.pending = self.predictions(params, cache, dscores)  # the modules learn in after_update
        return loss, directions

    def after_update(self, params, directions, context):
        if self.pending is None:
            raise RuntimeError(
                "synthgrad.after_update follows loss_and_directions (it trains the modules on that "
                "step's targets): train the rule with helpers.train.train"
            )
        for k, (dM, dc) in self.pending.items():
            M, c = self.modules[k]
            M -= self.synth_lr * dM
            c -= self.synth_lr * dc
        self.pending = None
