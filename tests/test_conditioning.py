"""helpers.conditioning's error decomposition: per eigendirection, and its decay e^{-lr c lambda t}."""

import numpy as np

from helpers import conditioning
from helpers.model import FrozenFeatures


def test_eigenbasis_is_sorted_and_orthonormal(rng):
    a = rng.normal(size=(6, 6))
    values, vectors = conditioning.eigenbasis(a @ a.T)
    assert np.all(np.diff(values) <= 0)
    assert np.allclose(vectors.T @ vectors, np.eye(6))
    assert np.allclose(a @ a.T @ vectors, vectors * values)


def test_error_along_ignores_a_shift_common_to_all_classes_and_keeps_the_norm(rng):
    _, vectors = conditioning.eigenbasis(np.diag([3.0, 2.0, 1.0, 0.5]))
    optimum = rng.normal(size=(4, 10))
    weights = optimum + rng.normal(size=(4, 10))
    errors = conditioning.error_along(weights, optimum, vectors)
    shifted = conditioning.error_along(weights + rng.normal(size=(4, 1)), optimum, vectors)  # same softmax
    assert np.allclose(errors, shifted)
    centered = (weights - optimum) - (weights - optimum).mean(axis=1, keepdims=True)
    assert np.isclose(np.sum(errors**2), np.sum(centered**2))


def test_transformed_coordinates_give_the_same_scores(rng):
    train = np.maximum(rng.normal(0.3, 0.5, size=(200, 5)), 0)
    train[:, 2] = 0.0  # a dead unit: transform leaves it unscaled
    test = np.maximum(rng.normal(0.3, 0.5, size=(20, 5)), 0)
    weights = rng.normal(size=(6, 10))
    raw_scores = test @ weights[:-1] + weights[-1]
    for name, how in conditioning.TRANSFORMS.items():
        changed = conditioning.transform(FrozenFeatures(train, test), *how)
        mapped = conditioning.in_transformed_coordinates(weights, train, *how)
        assert np.allclose(changed.test @ mapped[:-1] + mapped[-1], raw_scores), name


def test_decay_factor_recovers_gradient_descent_on_a_quadratic():
    # full-batch gradient descent on 1/2 e^T (c M) e shrinks e_i by (1 - lr c lambda_i) per step
    eigenvalues = np.array([5.0, 1.0, 0.2, 0.05, 1e-4])
    lr, c, steps = 0.01, 0.3, 500
    start = np.ones(5)
    now = start * (1 - lr * c * eigenvalues) ** steps
    assert np.isclose(conditioning.decay_factor(start, now, eigenvalues, lr, steps), c, rtol=0.02)
    # a direction that does not follow the law does not move the median; none inside the window: NaN
    odd = now.copy()
    odd[0] = 0.9
    assert np.isclose(conditioning.decay_factor(start, odd, eigenvalues, lr, steps), c, rtol=0.02)
    assert np.isnan(conditioning.decay_factor(start, start, eigenvalues, lr, steps))


def test_readout_weights_stack_the_bias_last():
    params = {"W1": np.zeros((3, 2)), "b1": np.zeros(2), "W2": np.arange(4.0).reshape(2, 2), "b2": np.array([7.0, 8.0])}
    assert np.array_equal(conditioning.readout_weights(params), [[0, 1], [2, 3], [7, 8]])


def test_score_error_is_the_mean_squared_score_distance_in_any_coordinates(rng):
    train = np.maximum(rng.normal(0.3, 0.5, size=(300, 4)), 0)
    optimum, weights = rng.normal(size=(5, 10)), rng.normal(size=(5, 10))
    distances = []
    for how in conditioning.TRANSFORMS.values():
        changed = conditioning.transform(FrozenFeatures(train, train[:3]), *how)
        values, vectors = conditioning.eigenbasis(conditioning.second_moment(changed.train))
        mapped = [conditioning.in_transformed_coordinates(w, train, *how) for w in (weights, optimum)]
        distances.append(conditioning.score_error(values, conditioning.error_along(mapped[0], mapped[1], vectors)))
    f = np.hstack([train, np.ones((300, 1))])
    gap = f @ (weights - optimum)
    gap -= gap.mean(axis=1, keepdims=True)
    assert np.allclose(distances, np.mean(np.sum(gap**2, axis=1)))


def test_error_decay_starts_at_the_initial_readout_and_shrinks(mnist):
    from helpers import baselines
    from helpers.readout import with_ones

    features = baselines.features_for(mnist, 0)
    optimum = baselines.least_squares_readout(with_ones(features.train), mnist.train.labels) * 20  # any fixed target
    values, errors, history = conditioning.error_decay(mnist, features, optimum, lr=1e-2, checkpoints=(0, 200))
    assert errors.shape == (2, 129) and history.steps_done == 200
    assert conditioning.score_error(values, errors[1]) < conditioning.score_error(values, errors[0])
