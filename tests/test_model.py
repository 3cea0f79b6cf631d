"""Initialization schemes, forward pass, selective backward, gradient checks of every parameter."""

import numpy as np
import pytest

from helpers import model
from helpers.gradcheck import check_param_gradients
from helpers.layers import softmax_cross_entropy


def test_shapes_and_draw_order():
    params = model.init_params(model.layer_sizes(128), "reference", np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (784, 128),
        "b1": (128,),
        "W2": (128, 128),
        "b2": (128,),
        "W3": (128, 10),
        "b3": (10,),
    }
    # the reference draws W1, b1, W2, ... from one stream, each randn / sqrt(fan_out)
    rng = np.random.default_rng(0)
    assert np.array_equal(params["W1"], rng.standard_normal((784, 128)) / np.sqrt(128))
    assert np.array_equal(params["b1"], rng.standard_normal(128) / np.sqrt(128))
    assert np.array_equal(params["W2"], rng.standard_normal((128, 128)) / np.sqrt(128))


@pytest.mark.parametrize(
    "scheme, expected_var, zero_bias",
    [("reference", 1 / 128, False), ("xavier", 2 / (784 + 128), True), ("he", 2 / 784, True)],
)
def test_init_scheme_variances(scheme, expected_var, zero_bias):
    params = model.init_params(model.layer_sizes(128), scheme, np.random.default_rng(1))
    assert np.isclose(params["W1"].var(), expected_var, rtol=0.02)
    assert np.all(params["b1"] == 0) == zero_bias


def test_init_schemes_registry_names_labels_and_draws():
    assert list(model.INIT_SCHEMES) == ["reference", "xavier", "he"] and "he" in model.INIT_SCHEMES
    for name, scheme in model.INIT_SCHEMES.items():
        assert scheme.name == name and scheme.label
        W, b = scheme.draw(np.random.default_rng(0), 6, 4)
        assert W.shape == (6, 4) and b.shape == (4,)
    assert model.INIT_SCHEMES["xavier"].label == "Xavier / Glorot"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown init scheme 'glorot'"):
        model.init_params(scheme="glorot")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        model.layer_sizes(0)
    with pytest.raises(ValueError, match="'top'"):
        model.trainable_names(model.init_params(), "middle")


def test_forward_matches_the_formula(small_batch):
    X, _ = small_batch
    p = model.init_params(rng=np.random.default_rng(2))
    h1 = np.maximum(X @ p["W1"] + p["b1"], 0)
    h2 = np.maximum(h1 @ p["W2"] + p["b2"], 0)
    scores, cache = model.forward(p, X)
    assert np.allclose(scores, h2 @ p["W3"] + p["b3"], rtol=1e-13)
    assert np.allclose(model.hidden_features(p, X), h2, rtol=1e-13)
    assert len(cache) == 3


def test_hidden_features_in_chunks_equal_one_pass(mnist):
    p = model.init_params(rng=np.random.default_rng(3))
    X = mnist.test.images[:1000]
    assert np.allclose(model.hidden_features(p, X, chunk=64), model.forward(p, X, upto=2)[0], rtol=1e-13)


def test_top_only_backward_returns_only_top_gradients(small_batch):
    X, y = small_batch
    p = model.init_params(rng=np.random.default_rng(4))
    scores, cache = model.forward(p, X)
    dscores = softmax_cross_entropy(scores, y)[1]
    top = model.backward(dscores, cache, "top")
    full = model.backward(dscores, cache, "all")
    assert sorted(top) == ["W3", "b3"]
    assert sorted(full) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    assert np.array_equal(top["W3"], full["W3"])


@pytest.mark.usefixtures("one_blas_thread")  # finite differences: many small products (conftest.py)
@pytest.mark.parametrize("train", ["top", "all"])
@pytest.mark.parametrize("scheme", ["reference", "he"])
def test_gradient_check_every_parameter(small_batch, train, scheme):
    X, y = small_batch
    p = model.init_params(rng=np.random.default_rng(5), scheme=scheme)
    errors = check_param_gradients(p, X, y, train=train, samples=25)
    assert sorted(errors) == sorted(model.trainable_names(p, train))
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.usefixtures("one_blas_thread")
def test_gradient_check_catches_a_wrong_gradient(small_batch, monkeypatch):
    # a check that cannot fail proves nothing: break ReLU's backward and watch it fail
    X, y = small_batch
    p = model.init_params(rng=np.random.default_rng(6))
    monkeypatch.setattr(model, "relu_backward", lambda dout, cache: dout)
    errors = check_param_gradients(p, X, y, train="all", samples=25)
    assert errors["W1"] > 1e-3


def test_untrained_network_is_near_chance(mnist):
    p = model.init_params(rng=np.random.default_rng(0))
    assert 0.03 < model.accuracy(p, mnist.test.images, mnist.test.labels) < 0.2
    assert model.predict(p, mnist.test.images[:5]).shape == (5,)


def test_dead_fractions_count_units_that_never_fire():
    params = model.init_params((4, 3, 2, 10), "he", np.random.default_rng(0))
    X = np.abs(np.random.default_rng(1).standard_normal((50, 4)))
    params["b1"] = np.array([-1e6, 0.0, 0.0])  # unit 0 of layer 1 can never fire
    params["W1"][:, 1:] = np.abs(params["W1"][:, 1:])  # units 1, 2 fire on positive inputs
    params["b2"] = np.array([-1e6, -1e6])  # nothing in layer 2 fires
    assert model.dead_fractions(params, X) == pytest.approx([1 / 3, 1.0])

    params = model.init_params(model.layer_sizes(8), "reference", np.random.default_rng(0))
    params = {name: np.abs(value) for name, value in params.items()}  # positive weights: every unit fires
    X = np.random.default_rng(1).random((50, 784))
    assert model.dead_fractions(params, X) == [0.0, 0.0]
    params["b1"][:2] = -1e6  # two units of layer 1 can never fire
    params["W2"][:, 3] = 0.0
    params["b2"][3] = -1.0  # one unit of layer 2 neither
    assert model.dead_fractions(params, X) == [2 / 8, 1 / 8]
    assert model.dead_fractions(params, X, batch=7) == [2 / 8, 1 / 8]  # the same in blocks
    params["b1"][:] = -1e6  # layer 1 all dead: layer 2 sees only its biases, positive but for unit 3
    assert model.dead_fractions(params, X) == [1.0, 1 / 8]
