"""The optimizers, written once: SGD, heavy-ball momentum, Adam.

Each updates a dict of parameter arrays in place from a dict of gradients
with the same names and shapes. They are shape-agnostic: the same code steps
one network's ``{"W1": ..., "b3": ...}`` or a stack of readouts
``{"Wb": (S, K, H + 1, 10)}``, and the learning rate may be an array that
broadcasts against the parameters, one rate per run (a rate of 0 leaves a
run untouched).

``OPTIMIZERS`` maps each name to its class; a class's ``label`` is the text a
table or a dropdown shows. Register a new optimizer by adding its class.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """Plain gradient descent: p -= lr * g."""

    label = "SGD"

    def __init__(self, lr):
        self.lr = lr

    def update(self, params: dict, grads: dict) -> None:
        """Update ``params`` in place (the trainer owns them) from ``grads``."""
        for name, g in grads.items():
            params[name] -= self.lr * g


class Momentum(SGD):
    """Heavy-ball momentum: v = beta v + g; p -= lr v."""

    label = "momentum"
    BETA = 0.9

    def __init__(self, lr, beta: float = BETA):
        super().__init__(lr)
        self.beta, self.velocity = beta, {}

    def update(self, params, grads):
        for name, g in grads.items():
            v = self.velocity.setdefault(name, np.zeros_like(g))
            v *= self.beta
            v += g
            params[name] -= self.lr * v


class Adam(SGD):
    """Adam (Kingma & Ba, 2015) with bias-corrected moment estimates:
    m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  p -= lr m_hat / (sqrt(v_hat) + eps)."""

    label = "Adam"
    BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

    def __init__(self, lr, beta1: float = BETA1, beta2: float = BETA2, eps: float = EPS):
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def update(self, params, grads):
        self.t += 1
        for name, g in grads.items():
            m = self.m.setdefault(name, np.zeros_like(g))
            v = self.v.setdefault(name, np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**self.t)
            v_hat = v / (1 - self.beta2**self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, lr) -> SGD:
    """The optimizer registered as ``name``, with learning rate ``lr`` (a number or an array over runs)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr)
