"""Forward/backward pairs: correct values, correct gradients, and inputs left untouched."""

import numpy as np
import pytest

from helpers import layers
from helpers.gradcheck import numerical_gradient, relative_error


def test_affine_forward_and_backward_match_finite_differences(rng):
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = layers.affine_forward(x, W, b)
    assert np.allclose(out, x @ W + b)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = layers.affine_backward(dout, cache)
    loss = lambda: float(np.sum(layers.affine_forward(x, W, b)[0] * dout))
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-8
    assert relative_error(dW, numerical_gradient(loss, W)) < 1e-8
    assert relative_error(db, numerical_gradient(loss, b)) < 1e-8
    assert layers.affine_backward(dout, cache, need_dx=False)[0] is None


def test_relu_backward_passes_gradient_only_where_active(rng):
    x = rng.standard_normal((6, 5))
    out, cache = layers.relu_forward(x)
    assert np.array_equal(out, np.maximum(x, 0))
    dout = rng.standard_normal(x.shape)
    assert np.array_equal(layers.relu_backward(dout, cache), np.where(x > 0, dout, 0))


@pytest.mark.parametrize(
    "call",
    [
        lambda x, W, b, y: layers.affine_forward(x, W, b),
        lambda x, W, b, y: layers.affine_backward(x @ W, (x, W)),
        lambda x, W, b, y: layers.relu_backward(x @ W, layers.relu_forward(x @ W)[1]),
        lambda x, W, b, y: layers.relu_forward(x),
        lambda x, W, b, y: layers.softmax(x @ W),
        lambda x, W, b, y: layers.softmax_cross_entropy(x @ W, y),
        lambda x, W, b, y: layers.cross_entropy(layers.softmax(x @ W), y),
    ],
)
def test_functions_never_modify_their_arguments(call, rng):
    # the reference's relu and dsoftmax wrote into their inputs: a classic bug
    x, W, b, y = rng.standard_normal((8, 10)), rng.standard_normal((10, 10)), rng.standard_normal(10), rng.integers(0, 10, 8)
    before = [a.copy() for a in (x, W, b, y)]
    call(x, W, b, y)
    assert all(np.array_equal(a, c) for a, c in zip((x, W, b, y), before))


def test_softmax_is_stable_for_huge_scores():
    scores = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1e4, 0.0]])
    probs = layers.softmax(scores)
    assert np.all(np.isfinite(probs))
    assert np.allclose(probs, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    loss, dscores = layers.softmax_cross_entropy(scores, np.array([0, 1]))
    assert np.isclose(loss, np.log(2) / 2)
    assert np.isclose(np.exp(layers.log_softmax(scores)).sum(axis=1), 1).all()


def test_softmax_cross_entropy_matches_definition_and_gradient(rng):
    scores, y = rng.standard_normal((7, 10)), rng.integers(0, 10, 7)
    loss, dscores = layers.softmax_cross_entropy(scores, y)
    assert np.isclose(loss, layers.cross_entropy(layers.softmax(scores), y), rtol=1e-13)
    numeric = numerical_gradient(lambda: layers.softmax_cross_entropy(scores, y)[0], scores)
    assert relative_error(dscores, numeric) < 1e-8
    assert np.allclose(dscores.sum(axis=1), 0)  # probabilities minus a one-hot row sum to zero


def test_uniform_scores_give_log10_loss():
    loss, _ = layers.softmax_cross_entropy(np.zeros((4, 10)), np.arange(4))
    assert np.isclose(loss, np.log(10))
