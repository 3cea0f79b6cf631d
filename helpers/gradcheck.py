"""Finite-difference gradient checks: does the backward pass agree with the definition?"""

from __future__ import annotations

import numpy as np


def numerical_gradient(f, x, indices=None, eps: float = 1e-5):
    """Centred differences (f(x + eps e_i) - f(x - eps e_i)) / 2 eps of the scalar function f.

    x is perturbed in place and restored after each entry (f reads it by
    reference). ``indices`` (a list of index tuples) checks only those
    entries; the others stay 0. Returns an array shaped like x.
    """
    grad = np.zeros_like(x)
    for i in indices if indices is not None else np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = f()
        x[i] = old - eps
        f_minus = f()
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
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


def check_param_gradients(
    params: dict, X, y, train: str = "top", samples: int = 20, seed: int = 0, eps: float = 1e-5
) -> dict:
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
        numeric = numerical_gradient(lambda: softmax_cross_entropy(forward(params, X)[0], y)[0], params[name], idx, eps)
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


def error_line(name: str, error: float, target: float = 1e-7) -> str:
    """One line of a gradient-check report, as cs231n prints it: ``'W3: relative error 8e-11 (target < 1e-7)'``.

    An error at or above the target is flagged ``FAILS``. Below the
    target the digits are rounding noise that differs between processors:
    nbval_sanitize.cfg masks them, and tests/test_gradcheck.py holds the bound.
    """
    verdict = "" if error < target else "  FAILS"
    return f"{name}: relative error {format_error(error)} (target < {format_error(target)}){verdict}"


def step_size_sweep(params: dict, X, y, steps, train: str = "all", samples: int = 20, seed: int = 0) -> dict:
    """{eps: {name: relative error}}: :func:`check_param_gradients` at every step size eps in ``steps``.

    The same entries are checked at every eps (same ``seed``), so the rows differ
    only by the step: truncation error, O(eps^2), falls with eps, and so does the
    error at a ReLU kink crossed by the +-eps nudge; rounding error, about
    1e-16 * |L| / eps, grows as eps shrinks.
    """
    return {
        float(eps): check_param_gradients(params, X, y, train=train, samples=samples, seed=seed, eps=float(eps))
        for eps in steps
    }


def sweep_lines(sweep: dict) -> list:
    """The sweep as a table, one line per step eps, one column per parameter, every figure to one digit.

    Rows where rounding noise enters (eps below 1e-3 here) differ between
    processors in their digits: nbval_sanitize.cfg masks those rows, and
    tests/test_gradcheck.py holds their bound (``rounding_bound``).
    """
    names = list(next(iter(sweep.values())))
    lines = [f"{'ε':>6} | " + " ".join(f"{name:>6}" for name in names)]  # the notebook's name for the step
    for eps, errors in sweep.items():
        lines.append(f"{format_error(eps):>6} | " + " ".join(f"{format_error(errors[name]):>6}" for name in names))
    return lines


def rounding_bound(eps: float, rounding: float = 1e-13) -> float:
    """What a correct gradient's relative error stays below at step eps: rounding / eps + eps^2.

    Rounding grows like 1/eps, truncation like eps^2 (in float64, for losses of
    order 1 and gradients of order 1e-3 and above).
    """
    return rounding / eps + eps**2
