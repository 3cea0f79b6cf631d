"""Finite-difference gradient checks: does the backward pass agree with the definition?"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, indices=None, h: float = 1e-5):
    """Centred differences (f(x + h e_i) - f(x - h e_i)) / 2h of the scalar function f.

    x is perturbed in place and restored after each entry (f reads it by
    reference). ``indices`` (a list of index tuples) checks only those
    entries; the others stay 0. Returns an array shaped like x.
    """
    grad = np.zeros_like(x)
    for i in indices if indices is not None else np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b) -> float:
    """||a - b|| / (||a|| + ||b||), 0 when both are 0: scale-free, one number per array.

    Entry-by-entry ratios would blow up on entries that are nearly zero,
    where finite differences have only absolute accuracy (~1e-10 here).
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def cosine(a, b) -> float:
    """Cosine of the angle between two gradients taken as flat vectors: 1 the same direction, 0 orthogonal.

    The relative error says how far apart two gradients are; the cosine says
    whether a step along one still goes the other's way (a gradient scaled
    by any positive factor has cosine 1).
    """
    a, b = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

def check_param_gradients(params: dict, X, y, train: str = "top", samples: int = 20, seed: int = 0, h: float = 1e-5) -> dict:
    """Relative error between analytic and numerical gradients of each trainable parameter.

    Checks ``samples`` random entries of each parameter (all of them when it
    has fewer). Returns {name: relative error}; below 1e-7 means agreement.
    """
    from .layers import softmax_cross_entropy
    from .model import backward, forward

    params = {k: v.copy() for k, v in params.items()}  # perturbed below; the caller's stay intact
    scores, cache = forward(params, X)
    grads = backward(softmax_cross_entropy(scores, y)[1], cache, train)
    rng = np.random.default_rng(seed)
    errors = {}
    for name, analytic in grads.items():
        flat = rng.choice(analytic.size, size=min(samples, analytic.size), replace=False)
        idx = [np.unravel_index(i, analytic.shape) for i in flat]
        numeric = numerical_gradient(lambda: softmax_cross_entropy(forward(params, X)[0], y)[0], params[name], idx, h)
        sel = tuple(np.array(idx).T)
        errors[name] = relative_error(analytic[sel], numeric[sel])
    return errors


def format_error(error: float) -> str:
    """A relative error to one significant digit, e.g. ``'3e-11'`` (``'0'`` when exactly 0).

    Its last digits depend on the order of floating-point operations, even on
    how many threads the matrix library uses; its order of magnitude does
    not, and that is what tells a right gradient (below 1e-7) from a wrong one.
    """
    error = float(error)
    if error == 0 or not np.isfinite(error):
        return "0" if error == 0 else str(error)
    mantissa, exponent = f"{error:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def error_line(name: str, error: float, target: float = 1e-7, noise: float | None = None) -> str:
    """One line of a gradient-check report: ``'W3: relative error 8e-11 (target: below 1e-7)'``.

    With ``noise`` (a bound on rounding noise, say 1e-8), an error below it is
    printed as that bound with this machine's figure in brackets,
    ``'W3: relative error below 1e-8 [this machine: 8e-11] (target: below 1e-7)'``:
    its digits depend on the processor's order of additions, the bound does not
    (``helpers.reproducible``; nbval masks the brackets). An error at or above
    ``noise`` is printed in full, flagged ``NOT below``.
    """
    from .reproducible import below  # here: reproducible imports format_error from this module

    verdict = "" if error < target else "  <- above the target"
    shown = below(error, noise) if noise is not None else format_error(error)
    return f"{name}: relative error {shown} (target: below {format_error(target)}){verdict}"


def step_size_sweep(params: dict, X, y, steps, train: str = "all", samples: int = 20, seed: int = 0) -> dict:
    """{h: {name: relative error}}: :func:`check_param_gradients` at every step size h in ``steps``.

    The same entries are checked at every h (same ``seed``), so the rows differ
    only by the step: truncation error, O(h^2), falls with h, and so does the
    error at a ReLU kink crossed by the +-h nudge; rounding error, about
    eps * |L| / h, grows as h shrinks.
    """
    return {float(h): check_param_gradients(params, X, y, train=train, samples=samples, seed=seed, h=float(h)) for h in steps}


def sweep_lines(sweep: dict, rounding: float = 1e-13, smallest_exact: float = 1e-3) -> list:
    """The sweep as a table, one line per h, columns the parameters.

    Rows with h >= ``smallest_exact`` are printed digit for digit: truncation
    and kinks decide them, not rounding. Below, rounding noise enters, whose
    digits depend on the processor; such a row is printed as the bound
    ``rounding / h + h**2`` (to one digit) every entry meets (``helpers.reproducible.below``),
    with this machine's figures in brackets.
    """
    from .reproducible import below

    names = list(next(iter(sweep.values())))
    lines = [f"{'ε':>6} | " + " ".join(f"{name:>6}" for name in names)]  # the notebook's name for the step (h_k is a layer)
    for h, errors in sweep.items():
        figures = " ".join(f"{format_error(errors[name]):>6}" for name in names)
        if h >= smallest_exact:
            lines.append(f"{format_error(h):>6} | {figures}")
            continue
        bound = float(f"{rounding / h + h**2:.0e}")  # rounding grows like 1/h, truncation like h^2
        worst = max(errors.values())
        stated = below(worst, bound, shown=" ".join(format_error(errors[name]) for name in names))
        lines.append(f"{format_error(h):>6} | every entry {stated}")
    return lines
