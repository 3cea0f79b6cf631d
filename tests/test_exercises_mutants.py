"""Every code exercise against its solution's plausible bugs: each mutant is rejected with a hint naming it.

A solution is written here once as source; its mutants are that source with one edit (the global maximum
for the row's, a lost keepdims, the 1/N applied twice, a transposed product, a swapped return, a (1, H)
bias, ...), built programmatically, so a table row is the bug and the words its hint must contain. Correct
variants (a loop, float32, in place on the function's own arrays) must pass.
"""

import math
import textwrap

import numpy as np

from helpers import exercises

from checking import run


def function(source, name="f"):
    """The function ``name`` defined by ``source`` (NumPy as np, helpers.layers as layers, math)."""
    from helpers import layers

    namespace = {"np": np, "math": math, "layers": layers}
    exec(textwrap.dedent(source), namespace)  # noqa: S102 - test-only: source written in this file
    return namespace[name]


def mutant(source, *edits):
    """``source`` with every (old, new) edit made; each old text must occur, so a mutant never silently is the
    solution itself."""
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    return source


def assert_mutants(capsys, checker, solution, mutants, variants):
    assert run(capsys, checker, function(solution))[0], "the solution itself must pass"
    for edits, words in mutants:
        edits = [edits] if isinstance(edits[0], str) else edits
        with np.errstate(all="ignore"):
            ok, out = run(capsys, checker, function(mutant(solution, *edits)))
        assert not ok and words in out, (edits, out)
        assert "Traceback" not in out and "operands could not be broadcast" not in out
    for source in variants:
        ok, out = run(capsys, checker, function(source))
        assert ok, (source, out)


SOFTMAX = """
def f(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
"""
MAX, SUM = "scores.max(axis=1, keepdims=True)", "e.sum(axis=1, keepdims=True)"
SOFTMAX_MUTANTS = [
    (("scores - " + MAX, "scores"), "exp() overflows"),  # no shift: the stored notebook output's words
    ((MAX, "scores.max()"), "one maximum for the whole batch"),
    ((MAX, "scores.min(axis=1, keepdims=True)"), "row minimum or the row mean"),
    ((MAX, "scores.mean(axis=1, keepdims=True)"), "row minimum or the row mean"),
    ((MAX, "np.median(scores, axis=1, keepdims=True)"), "row minimum or the row mean"),
    ((MAX, "scores.max(axis=1)"), "keepdims=True"),  # NumPy's broadcast error, as a hint
    ((SUM, "e.sum(axis=1)"), "keepdims=True"),
    ((MAX, "scores.max(axis=0, keepdims=True)"), "shifted by the same number"),  # the wrong axis
    ((SUM, "e.sum(axis=0, keepdims=True)"), "do not sum to 1"),
    ((SUM, "e.sum()"), "do not sum to 1"),
    ((SUM, "(" + SUM + " + 1e-8)"), "epsilon in the denominator"),
    ((SUM, "(" + SUM + " + 1e-6)"), "epsilon in the denominator"),
    ((("shifted = scores - ", "scores -= "), ("\n    e = np.exp(shifted)", "\n    e = np.exp(scores)")), "in place"),
    (("return e / " + SUM, "return (e / " + SUM + ").T"), "transposed"),
    (("return e / " + SUM, "return e / " + SUM + ", scores"), "tuple"),
]
SOFTMAX_VARIANTS = [
    """
def f(scores):
    out = np.empty_like(scores)
    for i, row in enumerate(scores):
        e = np.exp(row - max(row))
        out[i] = e / sum(e)
    return out
""",
    mutant(SOFTMAX, ("    shifted =", "    scores = scores.astype(np.float32)\n    shifted =")),  # float32
    mutant(
        SOFTMAX,
        ("shifted = scores - " + MAX, "shifted = scores.copy()\n    shifted -= " + MAX),
        ("e = np.exp(shifted)", "e = np.exp(shifted, out=shifted)"),
        ("e / " + SUM, "e / e.sum(axis=1)[:, None]"),
    ),
    mutant(SOFTMAX, ("return e / " + SUM, "return (e / " + SUM + ").tolist()")),  # a list of rows
    mutant(SOFTMAX, ("return e / " + SUM, "return e / (" + SUM + " + 1e-12)")),  # a harmless epsilon
]


def test_softmax_mutants(capsys):
    assert_mutants(capsys, exercises.check_softmax, SOFTMAX, SOFTMAX_MUTANTS, SOFTMAX_VARIANTS)


SMOOTHED = """
def f(scores, y, eps):
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.full(scores.shape, eps / scores.shape[1])
    target[np.arange(len(y)), y] += 1 - eps
    return float(-(target * log_probs).sum() / len(y))
"""
LOG_PROBS = "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))"
PROBS = "np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)"
SMOOTHED_MUTANTS = [
    ((MAX, "scores.max()"), "one maximum for the whole batch"),  # -inf on notebook 3's big_scores
    ((MAX, "scores.min(axis=1, keepdims=True)"), "far apart"),
    ((MAX, "scores.mean(axis=1, keepdims=True)"), "far apart"),
    (("scores - " + MAX, "scores"), "far apart"),
    ((MAX, "scores.max(axis=1)"), "keepdims=True"),
    (("np.exp(shifted).sum(axis=1, keepdims=True)", "np.exp(shifted).sum(axis=1)"), "keepdims=True"),
    ((LOG_PROBS, f"log_probs = np.log({PROBS} + 1e-12)"), "epsilon inside the log"),  # the most common "fix"
    ((LOG_PROBS, f"log_probs = np.log({PROBS} + 1e-8)"), "epsilon inside the log"),
    ((LOG_PROBS, f"log_probs = np.log(np.clip({PROBS}, 1e-12, 1))"), "clipped P"),
    ((LOG_PROBS, f"log_probs = np.log({PROBS})"), "log 0"),
    (("/ len(y)", ""), "sum over the batch"),
    (("(target * log_probs).sum() / len(y)", "(target * log_probs).mean()"), "averaged over the classes"),
    (((" eps / scores.shape[1]", " eps / (scores.shape[1] - 1)"), ("+= 1 - eps", "= 1 - eps")), "C - 1"),
    ((("np.full(scores.shape, eps / scores.shape[1])", "np.zeros(scores.shape)"), ("+= 1 - eps", "+= 1")), "plain"),
    (("shifted = scores - ", "shifted = scores\n    shifted -= "), "modified"),
    (("return float(-(target * log_probs).sum() / len(y))", "return -(target * log_probs).sum(axis=1)"), "one number"),
]
SMOOTHED_VARIANTS = [
    """
def f(scores, y, eps):
    total = 0.0
    for row, label in zip(scores, y):
        m = max(row)
        log_z = m + math.log(sum(math.exp(s - m) for s in row))
        total -= sum(((1 - eps) * (c == label) + eps / len(row)) * (s - log_z) for c, s in enumerate(row))
    return total / len(y)
""",
    mutant(
        SMOOTHED,
        ("shifted = scores -", "shifted = scores.astype(np.float32) -"),
        ("return float(", "return np.float32("),
    ),
    mutant(SMOOTHED, (LOG_PROBS, "log_probs = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)")),
]


def test_smoothed_cross_entropy_mutants(capsys):
    assert_mutants(capsys, exercises.check_smoothed_cross_entropy, SMOOTHED, SMOOTHED_MUTANTS, SMOOTHED_VARIANTS)


TEMPERATURE = """
def f(scores, y, T):
    loss, dscaled = layers.softmax_cross_entropy(scores / T, y)
    return loss, dscaled / T
"""
TEMPERATURE_MUTANTS = [
    (("dscaled / T", "dscaled"), "chain rule"),
    (("dscaled / T", "dscaled * T"), "multiplied by T"),
    (("dscaled / T", "dscaled / T / len(y)"), "applied twice"),
    (("dscaled / T", "dscaled / T * len(y)"), "1/N go"),
    (("scores / T", "scores"), "divide them by T"),
    ((("scores / T", "scores / 2.5"), ("dscaled / T", "dscaled / 2.5")), "T = 0.4"),  # T written in
    (("return loss, dscaled / T", "return dscaled / T, loss"), "(dscores, loss)"),  # swapped
    (("dscaled / T", "(dscaled / T).T"), "transposed"),
    (("return loss, dscaled / T", "return loss * len(y), dscaled / T"), "batch mean"),  # sum for mean
    (("scores / T, y)", "scores / T, y)\n    scores /= T"), "in place"),
]
TEMPERATURE_VARIANTS = [
    """
def f(scores, y, T):
    n, loss, d = len(y), 0.0, np.zeros_like(scores)
    for i in range(n):
        u = scores[i] / T
        p = np.exp(u - u.max())
        p /= p.sum()
        loss -= np.log(p[y[i]]) / n
        p[y[i]] -= 1
        d[i] = p / (n * T)
    return loss, d
""",
    mutant(
        TEMPERATURE,
        ("scores / T", "scores.astype(np.float32) / np.float32(T)"),
        ("return loss, dscaled / T", "return np.float32(loss), (dscaled / np.float32(T)).astype(np.float32)"),
    ),
    mutant(TEMPERATURE, ("return loss, dscaled / T", "dscaled /= T\n    return loss, dscaled")),  # its own array
]


def test_softmax_temperature_mutants(capsys):
    assert_mutants(capsys, exercises.check_softmax_temperature, TEMPERATURE, TEMPERATURE_MUTANTS, TEMPERATURE_VARIANTS)


L2 = """
def f(h2, W3, b3, y, reg):
    data_loss, dscores = layers.softmax_cross_entropy(h2 @ W3 + b3, y)
    loss = data_loss + 0.5 * reg * np.sum(W3 * W3)
    return loss, h2.T @ dscores + reg * W3, dscores.sum(axis=0)
"""
L2_MUTANTS = [
    (("h2.T @ dscores + reg", "h2.T @ dscores / len(y) + reg"), "applied twice"),  # notebook 4's own bug
    (("h2.T @ dscores + reg * W3", "(h2.T @ dscores + reg * W3) / len(y)"), "applied twice"),
    (("dscores.sum(axis=0)", "dscores.mean(0)"), "dscores.mean(0)"),
    (("    return loss", "    dscores = dscores / len(y)\n    return loss"), "applied twice"),  # everywhere
    (("h2.T @ dscores", "h2.T @ dscores * len(y)"), "N times too large"),
    ((" + reg * W3,", ","), "missing the gradient of the penalty"),
    ((" + reg * W3,", " + 2 * reg * W3,"), "factor 2"),
    ((" + reg * W3,", " + reg * W3 / len(y),"), "no 1/N"),
    ((" + reg * W3,", " - reg * W3,"), "sign"),
    (("data_loss + 0.5 * reg", "data_loss + 0 * reg"), "missing the penalty"),
    (("0.5 * reg", "reg"), "1/2"),
    (("np.sum(W3 * W3)", "(np.sum(W3 * W3) + np.sum(b3 * b3))"), "not the bias"),
    (("loss = data_loss +", "loss = len(y) * data_loss +"), "sum of the images' losses"),
    (("dscores.sum(axis=0)", "dscores.sum(axis=0) + reg * b3"), "only W3"),
    (("dscores.sum(axis=0)", "dscores.sum(axis=0, keepdims=True)"), "length 1"),  # a (1, C) bias
    (("dscores.sum(axis=0)", "dscores.sum(axis=1)"), "shaped like b3"),  # the wrong axis
    (("h2.T @ dscores + reg * W3", "dscores.T @ h2 + reg * W3.T"), "transposed"),
    (
        (
            "return loss, h2.T @ dscores + reg * W3, dscores.sum(axis=0)",
            "return loss, dscores.sum(axis=0), h2.T @ dscores + reg * W3",
        ),
        "shaped like W3",
    ),  # swapped returns
    (("    return loss", "    W3 -= 0.1 * (h2.T @ dscores)\n    return loss"), "in place"),
]
L2_VARIANTS = [
    mutant(L2, ("(h2 @ W3 + b3, y)", "(h2.astype(np.float32) @ W3.astype(np.float32) + b3.astype(np.float32), y)")),
    """
def f(h2, W3, b3, y, reg):
    data_loss, dscores = layers.softmax_cross_entropy(h2 @ W3 + b3, y)
    dW3, db3 = reg * W3.copy(), np.zeros_like(b3)
    for n in range(len(y)):
        dW3 += np.outer(h2[n], dscores[n])
        db3 += dscores[n]
    return data_loss + 0.5 * reg * (W3**2).sum(), dW3, db3
""",
]


def test_l2_top_layer_mutants(capsys):
    assert_mutants(capsys, exercises.check_l2_top_layer, L2, L2_MUTANTS, L2_VARIANTS)


MOMENTUM = """
def f(weights, velocity, grad, lr, beta):
    velocity = beta * velocity + grad
    return weights - lr * velocity, velocity
"""
MOMENTUM_MUTANTS = [
    (("return weights - lr * velocity, velocity", "return velocity, weights - lr * velocity"), "swapped"),
    (("+ grad", "+ (1 - beta) * grad"), "1 - beta times"),
    (("weights - lr * velocity", "weights - lr * grad"), "plain SGD"),
    (("weights - lr * velocity", "weights + lr * velocity"), "against the velocity"),
    ((("beta * velocity", "0.9 * velocity"), ("lr * velocity", "0.1 * velocity")), "lr and beta it is given"),
    ((("velocity = beta", "new = beta"), ("lr * velocity,", "lr * new,")), "must be returned"),
    (("+ grad", "+ 2 * grad"), "first step"),
    (("return weights - lr * velocity, velocity", "return weights - lr * velocity"), "two arrays"),
]
MOMENTUM_VARIANTS = [
    """
def f(weights, velocity, grad, lr, beta):
    velocity *= beta
    velocity += grad
    weights -= lr * velocity
    return weights, velocity
""",
    mutant(
        MOMENTUM,
        (
            "velocity = beta * velocity + grad",
            "velocity = np.float32(beta) * velocity.astype(np.float32) + grad.astype(np.float32)",
        ),
    ),
    mutant(MOMENTUM, ("return weights - lr * velocity, velocity", "return [weights - lr * velocity, velocity]")),
]


def test_momentum_step_mutants(capsys):
    assert_mutants(capsys, exercises.check_momentum_step, MOMENTUM, MOMENTUM_MUTANTS, MOMENTUM_VARIANTS)


STANDARDIZE = """
def f(train, test):
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std
"""
STANDARDIZE_MUTANTS = [
    (
        ("(test - mean) / std", "(test - test.mean(axis=0)) / np.where(test.std(axis=0) > 0, test.std(axis=0), 1.0)"),
        "TRAINING mean",
    ),
    (("    std = np.where(std > 0, std, 1.0)\n", ""), "standard deviation 0"),
    (("np.where(std > 0, std, 1.0)", "std + 1e-8"), "never fires"),
    (("(train - mean) / std, (test - mean) / std", "train / std, test / std"), "also subtract"),
    (("(train - mean) / std, (test - mean) / std", "train - mean, test - mean"), "also divide"),
    (("return (train - mean) / std", "train -= mean\n    return train / std"), "changed its input"),
    (("train.mean(axis=0)", "train.mean()"), "per unit"),  # one mean for every unit
    (("train.mean(axis=0)", "train.mean(axis=1)"), "keepdims=True"),  # the wrong axis: shapes do not line up
    (
        ("return (train - mean) / std, (test - mean) / std", "return (test - mean) / std, (train - mean) / std"),
        "shaped like train",
    ),  # swapped returns
]
STANDARDIZE_VARIANTS = [
    mutant(STANDARDIZE, ("train.std(axis=0)", "train.std(axis=0, ddof=1)")),
    mutant(
        STANDARDIZE,
        (
            "mean = train.mean(axis=0)",
            "train = train.astype(np.float32)\n    test = test.astype(np.float32)\n    mean = train.mean(axis=0)",
        ),
    ),
    """
def f(train, test):
    out_train, out_test = np.empty_like(train), np.empty_like(test)
    for j in range(train.shape[1]):
        column = train[:, j]
        mean = sum(column) / len(column)
        std = (sum((column - mean) ** 2) / len(column)) ** 0.5 or 1.0
        out_train[:, j], out_test[:, j] = (column - mean) / std, (test[:, j] - mean) / std
    return out_train, out_test
""",
]


def test_standardize_mutants(capsys):
    assert_mutants(capsys, exercises.check_standardize, STANDARDIZE, STANDARDIZE_MUTANTS, STANDARDIZE_VARIANTS)


FA = """
def f(cache, dscores, feedback):
    directions, delta = {}, dscores
    for k in range(len(cache), 0, -1):
        (below, _), _ = cache[k - 1]
        directions[f"W{k}"], directions[f"b{k}"] = below.T @ delta, delta.sum(axis=0)
        if k > 1:
            _, h_below = cache[k - 2]
            delta = np.where(h_below > 0, delta @ feedback[k].T, 0.0)
    return directions
"""
FA_MUTANTS = [
    (("delta.sum(axis=0)", "delta.sum(axis=0, keepdims=True)"), "length 1"),  # the reference's (1, H) biases
    (("below.T @ delta", "delta.T @ below"), "transposed"),
    (("delta @ feedback[k].T", "delta @ cache[k - 1][0][1].T"), "through feedback[k]"),  # backprop's W^T
    (("np.where(h_below > 0, delta @ feedback[k].T, 0.0)", "delta @ feedback[k].T"), "ReLU mask"),
    (
        ("    for k in range(len(cache), 0, -1):", "    for k in range(len(cache), len(cache) - 1, -1):"),
        "no direction for",
    ),
    (("directions, delta = {}, dscores", "directions, delta = {}, dscores\n    dscores *= 1.5"), "changed dscores"),
    (("return directions", "return list(directions.values())"), "return a dict"),
]
FA_VARIANTS = [
    mutant(
        FA,
        ("directions, delta = {}, dscores", "directions, delta = {}, dscores.astype(np.float32)"),
        ("(below, _), _ = cache[k - 1]", "(below, _), _ = cache[k - 1]\n        below = below.astype(np.float32)"),
        ("delta @ feedback[k].T", "delta @ feedback[k].T.astype(np.float32)"),
    ),
    mutant(FA, ("delta.sum(axis=0)", "delta.sum(axis=0, keepdims=True).ravel()")),
]


def test_fa_directions_mutants(capsys):
    assert_mutants(capsys, exercises.check_fa_directions, FA, FA_MUTANTS, FA_VARIANTS)


NEAREST = """
def f(train_images, train_labels, images):
    means = np.stack([train_images[train_labels == d].mean(axis=0) for d in range(10)])
    distances = (images**2).sum(axis=1)[:, None] - 2 * images @ means.T + (means**2).sum(axis=1)
    return distances.argmin(axis=1)
"""
NEAREST_MUTANTS = [
    (("distances.argmin(axis=1)", "(images @ means.T).argmax(axis=1)"), "dot product"),
    (("return distances.argmin(axis=1)", "return distances"), "argmin"),
    (("distances.argmin(axis=1)", "distances.argmax(axis=1)"), "smallest Euclidean distance"),
    (("distances.argmin(axis=1)", "distances.argmin(axis=0)"), "shape"),  # the wrong axis
    (("    means =", "    train_images *= 1.5\n    means ="), "modified"),
]
NEAREST_VARIANTS = [
    mutant(NEAREST, ("images @ means.T", "images.astype(np.float32) @ means.T.astype(np.float32)")),
    """
def f(train_images, train_labels, images):
    means = [train_images[train_labels == d].mean(axis=0) for d in range(10)]
    return [int(np.argmin([np.sum((x - m) ** 2) for m in means])) for x in images]
""",
]


def test_nearest_mean_mutants(capsys):
    assert_mutants(capsys, exercises.check_nearest_mean, NEAREST, NEAREST_MUTANTS, NEAREST_VARIANTS)


HE = """
def f(fan_in, fan_out, rng):
    limit = math.sqrt(6 / fan_in)
    return rng.uniform(-limit, limit, (fan_in, fan_out))
"""
HE_MUTANTS = [
    (
        ("rng.uniform(-limit, limit, (fan_in, fan_out))", "rng.normal(0, math.sqrt(2 / fan_in), (fan_in, fan_out))"),
        "not a normal one",
    ),
    (("6 / fan_in", "2 / fan_in"), "half-width"),
    (("6 / fan_in", "6 / fan_out"), "fan-out"),
    (("6 / fan_in", "6 / (fan_in + fan_out)"), "Glorot"),
    (("rng.uniform(", "np.random.uniform("), "rng"),
    (("(fan_in, fan_out))", "(fan_out, fan_in))"), "transposed"),
]
HE_VARIANTS = [
    mutant(
        HE,
        (
            "return rng.uniform(-limit, limit, (fan_in, fan_out))",
            "return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)",
        ),
    )
]


def test_he_uniform_mutants(capsys):
    assert_mutants(capsys, exercises.check_he_uniform, HE, HE_MUTANTS, HE_VARIANTS)
