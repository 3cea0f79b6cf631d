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

    def loss():
        return float(np.sum(layers.affine_forward(x, W, b)[0] * dout))

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
    x, W, b, y = (
        rng.standard_normal((8, 10)),
        rng.standard_normal((10, 10)),
        rng.standard_normal(10),
        rng.integers(0, 10, 8),
    )
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


def test_the_kernels_work_on_stacked_rows_and_write_only_into_out(rng):
    # the readout engine calls them on (steps, rows, classes) arrays with its own scratch arrays
    scores = rng.standard_normal((3, 8, 10)) * 50
    onehot = np.eye(10)[rng.integers(0, 10, (3, 8))]
    shifted = layers.shift_scores(scores)
    assert np.allclose(shifted.max(axis=-1), 0) and np.allclose(scores - shifted, scores.max(axis=-1, keepdims=True))
    out = np.empty_like(scores)
    dscores = layers.softmax_cross_entropy_gradient(shifted, onehot, 8, out=out)
    assert dscores is out
    losses = layers.softmax_cross_entropy_losses(shifted, onehot)
    for i in range(3):  # each stacked batch as the (N, C) function sees it
        loss, expected = layers.softmax_cross_entropy(scores[i], onehot[i].argmax(axis=1))
        assert np.allclose(dscores[i], expected, rtol=1e-13, atol=1e-16)
        assert np.isclose(losses[i].mean(), loss, rtol=1e-13)
    in_place = scores.copy()
    layers.shift_scores(in_place, out=in_place)
    assert np.array_equal(in_place, shifted)


def test_softmax_cross_entropy_gradient_by_hand():
    # scores [0, log 3]: softmax = [1/4, 3/4]; true class 1: dscores = ([1/4, 3/4] - [0, 1]) / 1 = [1/4, -1/4]
    shifted = layers.shift_scores(np.array([[0.0, np.log(3.0)]]))
    assert np.allclose(
        layers.softmax_cross_entropy_gradient(shifted, np.array([[0.0, 1.0]])), [[0.25, -0.25]], rtol=1e-15
    )
    assert np.allclose(
        layers.softmax_cross_entropy_gradient(shifted, np.array([[0.0, 1.0]]), 2), [[0.125, -0.125]], rtol=1e-15
    )
    # loss = -log(3/4)
    assert np.isclose(
        layers.softmax_cross_entropy_losses(shifted, np.array([[0.0, 1.0]]))[0], np.log(4 / 3), rtol=1e-15
    )
