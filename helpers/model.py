"""The MLP 784-128-128-10: initialization, forward pass with a cache, selective backward.

Parameters live in a dict ``{"W1": (784, H), "b1": (H,), "W2": (H, H), "b2": (H,),
"W3": (H, 10), "b3": (10,)}``; layer k maps ``h_{k-1}`` to ``h_k``.
Hidden layers use ReLU; the top layer's scores go to softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .layers import affine_backward, affine_forward, relu_backward, relu_forward

INPUT_SIZE, NUM_CLASSES = 784, 10
# what backward() computes: "top" stops after the top layer, "all" goes down to W1 (every other name is refused)
BACKWARD_MODES = {"top": "the top layer only", "all": "every layer"}


def layer_sizes(hidden_size: int = 128, num_hidden: int = 2) -> tuple:
    """(784, hidden_size, ..., 10): the widths of every layer, input first."""
    if not isinstance(hidden_size, (int, np.integer)) or hidden_size < 1:
        raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
    return (INPUT_SIZE,) + (int(hidden_size),) * num_hidden + (NUM_CLASSES,)


def num_layers(params: dict) -> int:
    return len(params) // 2


@dataclass(frozen=True)
class InitScheme:
    """How one layer's weights and biases are drawn: ``draw(rng, fan_in, fan_out) -> (W, b)``, W first."""

    name: str
    label: str  # what a legend or a dropdown shows
    draw: Callable


def _reference(rng, fan_in, fan_out):
    # weights AND biases ~ N(0, 1) / sqrt(fan_out); the reference calls this "Xavier", it is not
    return (rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_out), rng.standard_normal(fan_out) / np.sqrt(fan_out))


def _xavier(rng, fan_in, fan_out):
    # Glorot & Bengio (2010): U(-a, a), a = sqrt(6 / (fan_in + fan_out)), so Var W = 2 / (fan_in + fan_out)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)


def _he(rng, fan_in, fan_out):
    # He et al. (2015), for ReLU: N(0, 2 / fan_in)
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in), np.zeros(fan_out)


# the registry every consumer reads (CLI choices, TrainConfig.validate, the explorer, notebook 02):
# add a scheme here and it is offered everywhere
INIT_SCHEMES = {
    s.name: s
    for s in (
        InitScheme("reference", "reference: N(0,1)/sqrt(fan_out)", _reference),
        InitScheme("xavier", "Xavier / Glorot", _xavier),
        InitScheme("he", "He", _he),
    )
}


def check_init_scheme(scheme: str) -> str:
    """Return ``scheme`` if it is registered in INIT_SCHEMES; else raise ValueError naming the choices."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"unknown init scheme {scheme!r}; choose one of {', '.join(INIT_SCHEMES)}")
    return scheme


def init_params(sizes=layer_sizes(), scheme: str = "reference", rng=None) -> dict:
    """Random parameters for the layer widths ``sizes``, drawn in the order W1, b1, W2, b2, ...

    ``scheme`` names an entry of INIT_SCHEMES:
    - "reference": the reference notebook's scheme, weights AND biases
      ~ N(0, 1) / sqrt(fan_out). Its comment calls this "Xavier"; it is not.
    - "xavier": Glorot & Bengio (2010), W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)),
      so Var W = 2 / (fan_in + fan_out); biases 0.
    - "he": He et al. (2015) for ReLU, W ~ N(0, 2 / fan_in); biases 0.
    """
    draw = INIT_SCHEMES[check_init_scheme(scheme)].draw
    rng = np.random.default_rng(0) if rng is None else rng
    params = {}
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"], params[f"b{k}"] = draw(rng, fan_in, fan_out)
    return params


def check_trainable(train: str) -> str:
    """Return ``train`` if it is "top" or "all" (BACKWARD_MODES); else raise ValueError naming the choices."""
    if train not in BACKWARD_MODES:
        raise ValueError(
            f"unknown backward mode {train!r}; choose 'top' (top layer only) or 'all'"
            " (to train another way, use a learning rule: helpers.rules)"
        )
    return train


def trainable_names(params: dict, train: str) -> list:
    """Names of the parameters that ``train`` ("top" or "all") updates."""
    check_trainable(train)
    top = num_layers(params)
    return {"top": [f"W{top}", f"b{top}"], "all": list(params)}[train]


def forward(params: dict, X, upto: int | None = None):
    """Scores of the network for a batch.  X (N, 784) -> scores (N, 10), cache.

    ``upto=k`` stops after hidden layer k and returns its activations
    instead (N, H). The cache holds each layer's (affine, relu) caches.
    """
    last = num_layers(params) if upto is None else upto
    h, cache = X, []
    for k in range(1, last + 1):
        z, affine_cache = affine_forward(h, params[f"W{k}"], params[f"b{k}"])
        if k == num_layers(params):
            return z, cache + [(affine_cache, None)]
        h, relu_cache = relu_forward(z)
        cache.append((affine_cache, relu_cache))
    return h, cache


def hidden_features(params: dict, X, chunk: int = 4096):
    """Activations of the last hidden layer, the top layer's input.  X (N, 784) -> (N, H), in X's and the weights' dtype.

    The same arithmetic as ``forward(params, X, upto=...)``, ``chunk`` rows at
    a time and in place: the intermediate arrays then stay small, in cache and
    reused, instead of two (N, H) arrays per layer written to memory and read back.
    """
    upto = num_layers(params) - 1
    dtype = np.result_type(X.dtype, *(params[f"W{k}"].dtype for k in range(1, upto + 1)))  # float32 stays float32
    out = np.empty((len(X), params[f"W{upto}"].shape[1]), dtype=dtype)
    scratch = [np.empty((min(chunk, len(X)), params[f"W{k}"].shape[1]), dtype=dtype) for k in range(1, upto)]
    for i in range(0, len(X), chunk):
        h = X[i : i + chunk]
        for k in range(1, upto + 1):
            z = out[i : i + chunk] if k == upto else scratch[k - 1][: len(h)]
            np.matmul(h, params[f"W{k}"], out=z)  # affine_forward ...
            z += params[f"b{k}"]
            h = np.maximum(z, 0.0, out=z)  # ... and relu_forward, written into z
    return out


@dataclass
class FrozenFeatures:
    """The frozen layers' output h2 per split: train (55000, H), test (10000, H), validation (5000, H) or None.

    With every layer below the top frozen, h2 of an image never changes: top-layer-only
    training (rule ``top``) computes it once and looks it up at each step."""

    train: np.ndarray
    test: np.ndarray
    validation: np.ndarray | None = None


def frozen_features(params: dict, data) -> FrozenFeatures:
    """Compute h2 of every training, test and validation image once: (N, H) per split, as ``FrozenFeatures``."""
    return FrozenFeatures(
        *(hidden_features(params, split.images) for split in (data.train, data.test, data.validation))
    )


def backward(dscores, cache, train: str = "top") -> dict:
    """Gradients of the trainable parameters only.  dscores (N, 10) -> {name: gradient}.

    With ``train="top"`` the pass stops after the top layer: the gradients of
    the frozen layers are never computed (the reference computed them and
    then zeroed them, which costs most of the backward pass for nothing).
    """
    check_trainable(train)
    top = len(cache)
    lowest = {"top": top, "all": 1}[train]
    grads, dout = {}, dscores
    for k in range(top, lowest - 1, -1):
        affine_cache, relu_cache = cache[k - 1]
        if relu_cache is not None:
            dout = relu_backward(dout, relu_cache)
        dout, grads[f"W{k}"], grads[f"b{k}"] = affine_backward(dout, affine_cache, need_dx=k > lowest)
    return grads


def predict(params: dict, X, batch: int = 10000):
    """Predicted class of each row.  X (N, 784) -> (N,) ints."""
    return np.concatenate([forward(params, X[i : i + batch])[0].argmax(axis=1) for i in range(0, len(X), batch)])


def accuracy(params: dict, X, y) -> float:
    """Fraction of rows of X whose predicted class equals y."""
    return float(np.mean(predict(params, X) == y))


def dead_fractions(params: dict, X, batch: int = 10000) -> list:
    """Fraction of dead ReLUs in each hidden layer: units that output 0 on every row of X.  -> [layer 1, layer 2, ...].

    A unit is **dead** on a set of images when its pre-activation is <= 0 for
    all of them: it never fires, so it passes no signal forward and (ReLU's
    gradient being 0 there) gets no gradient back; training cannot revive it.
    """
    hidden = num_layers(params) - 1
    fired = [np.zeros(params[f"W{k}"].shape[1], dtype=bool) for k in range(1, hidden + 1)]
    for i in range(0, len(X), batch):
        h = X[i : i + batch]
        for k in range(1, hidden + 1):
            h = np.maximum(h @ params[f"W{k}"] + params[f"b{k}"], 0.0)
            fired[k - 1] |= (h > 0).any(axis=0)
    return [float(1 - f.mean()) for f in fired]
