"""Forward/backward pairs of the network's operations (in the style of cs231n).

Every function is pure: it returns new arrays and never writes into its
arguments. (The reference notebook's ``relu`` and ``dsoftmax`` modified
their inputs in place, which silently corrupts any array the caller still
holds.)

Shapes: N = batch size, D = input width, M = output width, C = classes.
"""

from __future__ import annotations

import numpy as np


def affine_forward(x, W, b):
    """out = x @ W + b.  x (N, D), W (D, M), b (M,) -> out (N, M), cache."""
    return x @ W + b, (x, W)


def affine_backward(dout, cache, need_dx: bool = True):
    """Gradients of an affine layer.  dout (N, M) -> dx (N, D) or None, dW (D, M), db (M,).

    ``need_dx=False`` skips the input gradient, which the lowest layer (and any
    layer below the trained ones) never needs.
    """
    x, W = cache
    dx = dout @ W.T if need_dx else None
    return dx, x.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """max(x, 0), elementwise.  x (N, M) -> out (N, M), cache."""
    out = np.maximum(x, 0.0)
    return out, out


def relu_backward(dout, cache):
    """Pass the gradient where the unit was active.  dout (N, M) -> dx (N, M)."""
    return np.where(cache > 0, dout, 0.0)


def log_softmax(scores):
    """log softmax(scores), row-wise.  scores (N, C) -> (N, C).

    Subtracting each row's maximum first keeps exp() from overflowing for
    large scores; it does not change the result (softmax is shift-invariant).
    """
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(scores):
    """Class probabilities, row-wise.  scores (N, C) -> probs (N, C), rows sum to 1."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(probs, y):
    """Mean negative log-probability of the true class.  probs (N, C), y (N,) -> float."""
    return float(-np.mean(np.log(probs[np.arange(len(y)), y])))


def shift_scores(scores, out=None):
    """Each row minus its maximum.  scores (..., C) -> (..., C), into ``out`` if given.

    Softmax and cross-entropy are unchanged by the shift, and exp() of the
    shifted scores cannot overflow. ``out=scores`` shifts in place.
    """
    return np.subtract(scores, np.maximum.reduce(scores, axis=-1, keepdims=True), out=out)


def softmax_cross_entropy_losses(shifted, onehot):
    """-log softmax(scores)[true class], row by row.  shifted (..., C) from shift_scores, onehot (..., C) -> (...).

    -log p_y = log(sum exp) - shifted_y: log(probs) is never formed, so a
    probability that underflows to 0 still gives a finite loss.
    """
    return np.log(np.exp(shifted).sum(axis=-1)) - (shifted * onehot).sum(axis=-1)


def softmax_cross_entropy_gradient(shifted, onehot, batch_size: int = 1, out=None):
    """Gradient of the mean cross-entropy over a batch with respect to the scores.

    shifted (..., C) from shift_scores, onehot broadcastable to it -> dscores (..., C)
    = (softmax(scores) - onehot) / batch_size, written into ``out`` if given
    (a scratch array of the caller's: the inputs are never modified).
    """
    probs = np.exp(shifted, out=out)
    probs /= np.add.reduce(probs, axis=-1, keepdims=True)
    probs -= onehot
    probs *= 1.0 / batch_size
    return probs


def softmax_cross_entropy(scores, y):
    """Loss and its gradient for softmax followed by cross-entropy.

    scores (N, C), y (N,) ints -> loss (float, mean over the batch), dscores (N, C).
    dscores = (softmax(scores) - onehot(y)) / N.
    """
    onehot = np.eye(scores.shape[1])[y]
    shifted = shift_scores(scores)  # scores - row max: exp() cannot overflow
    loss = float(softmax_cross_entropy_losses(shifted, onehot).mean())  # log(sum exp) - shifted_y, row by row
    return loss, softmax_cross_entropy_gradient(shifted, onehot, len(y))  # (softmax - onehot) / N
