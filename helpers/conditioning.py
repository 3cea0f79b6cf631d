"""Why top-layer SGD at lr 1e-3 crawls: the conditioning of the frozen features, measured.

A step of gradient descent on a quadratic loss with curvature matrix A shrinks
the error along A's eigenvector i by the factor (1 - lr * lambda_i), so after
T steps by about exp(-lr * T * lambda_i): directions with lr * T * lambda_i
well below 1 have hardly moved. For a linear readout the curvature is set by
the features' second-moment matrix E[f f^T] (f = the frozen features with a 1
appended for the bias; for softmax regression up to a factor of at most 1/2).
Its eigenvalues, and their ratio (the condition number), say which
directions a single learning rate can serve.

Centering (subtract each unit's training mean) and scaling (divide by its
training standard deviation) are computed from the *training* images only and
applied unchanged to the test images.
"""

from __future__ import annotations

import numpy as np

from .model import FrozenFeatures
from .readout import with_ones

TRANSFORMS = {  # name -> (center, scale)
    "raw": (False, False),
    "centered": (True, False),
    "scaled": (False, True),
    "standardized": (True, True),
}


def second_moment(features: np.ndarray) -> np.ndarray:
    """E[f f^T] of the features with a column of ones appended: (N, H) -> (H + 1, H + 1), what a readout's SGD sees."""
    ones = with_ones(features)
    return ones.T @ ones / len(ones)


def covariance(features: np.ndarray) -> np.ndarray:
    """The features' covariance (centered, divided by N): (N, H) -> (H, H)."""
    centered = features - features.mean(axis=0)
    return centered.T @ centered / len(features)


def spectrum(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric matrix, largest first (tiny negative rounding clipped to 0)."""
    return np.clip(np.linalg.eigvalsh(matrix)[::-1], 0.0, None)


def condition_number(eigenvalues: np.ndarray) -> float:
    """Largest over smallest eigenvalue (inf when the smallest is 0)."""
    smallest = float(np.min(eigenvalues))
    return float(np.max(eigenvalues)) / smallest if smallest > 0 else float("inf")


def slow_directions(eigenvalues: np.ndarray, lr: float, steps: int) -> int:
    """How many eigen-directions gradient descent barely moves: lr * steps * lambda < 1."""
    return int(np.sum(lr * steps * np.asarray(eigenvalues) < 1))


def transform(features: FrozenFeatures, center: bool, scale: bool) -> FrozenFeatures:
    """Center and/or scale every unit with its training mean and standard deviation (a dead unit is left unscaled)."""
    splits = [features.train, features.test, features.validation]
    if center:
        mean = features.train.mean(axis=0)
        splits = [None if f is None else f - mean for f in splits]
    if scale:
        std = features.train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        splits = [None if f is None else f / std for f in splits]
    return FrozenFeatures(*splits)


def transformed_second_moment(raw: np.ndarray, center: bool, scale: bool) -> np.ndarray:
    """The second-moment matrix of the transformed features, from the raw one alone (no pass over the data).

    raw = second_moment(F), (H + 1, H + 1), whose last column holds the unit means mu.
    With g = (f - c) / s:  E[g g^T] = (Sigma + (mu - c)(mu - c)^T) / (s s^T),  E[g] = (mu - c) / s,
    where Sigma = E[f f^T] - mu mu^T, c = mu if centering else 0, s = std if scaling else 1.
    Equal to second_moment(transform(...).train) up to rounding.
    """
    hidden = raw.shape[0] - 1
    mean = raw[:hidden, hidden]
    covariance_matrix = raw[:hidden, :hidden] - np.outer(mean, mean)
    shift = mean if center else np.zeros(hidden)
    std = np.sqrt(np.clip(np.diag(covariance_matrix), 0.0, None)) if scale else np.ones(hidden)
    std = np.where(std > 0, std, 1.0)
    offset = (mean - shift) / std
    result = np.empty_like(raw)
    result[:hidden, :hidden] = covariance_matrix / np.outer(std, std) + np.outer(offset, offset)
    result[:hidden, hidden] = result[hidden, :hidden] = offset
    result[hidden, hidden] = 1.0
    return result


def spectra(features: FrozenFeatures) -> dict:
    """Eigenvalues of the second-moment matrix (with the bias's 1) after each transform: {name: (H + 1,)}.

    One pass over the training features (the raw second moment); the transforms follow algebraically.
    """
    raw = second_moment(features.train)
    return {name: spectrum(transformed_second_moment(raw, *how)) for name, how in TRANSFORMS.items()}


# ---------------------------------------------------------------- the readout's error, direction by direction
# Near the optimum W* the softmax loss is about quadratic: its curvature along eigenvector u_i of M
# (with an error spread over the classes) is c * lambda_i, where c comes from the softmax's
# curvature diag(p) - p p^T (at most 1/2; 1/10 for a uniform p over 10 classes). Gradient descent then
# shrinks the error's component along u_i like exp(-lr * c * lambda_i * t). c is measured, not assumed.


def eigenbasis(matrix: np.ndarray):
    """Eigenvalues (largest first, rounding below 0 clipped) and the eigenvectors as columns, in the same order."""
    values, vectors = np.linalg.eigh(matrix)
    return np.clip(values[::-1], 0.0, None), vectors[:, ::-1]


def readout_weights(params: dict) -> np.ndarray:
    """The top layer as one (H + 1, 10) matrix: its weights with the bias as the last row (the features' 1)."""
    top = max(int(name[1:]) for name in params if name.startswith("W"))
    return np.vstack([params[f"W{top}"], params[f"b{top}"]])


def in_transformed_coordinates(
    weights: np.ndarray, train_features: np.ndarray, center: bool, scale: bool
) -> np.ndarray:
    """The readout that gives the same scores on transformed features as ``weights`` (H + 1, 10) on raw ones.

    With g = (f - c) / s (the statistics ``transform`` uses): f W + b = g (s W) + (b + c W).
    """
    mean = train_features.mean(axis=0) if center else np.zeros(train_features.shape[1])
    std = train_features.std(axis=0) if scale else np.ones(train_features.shape[1])
    std = np.where(std > 0, std, 1.0)
    W, b = weights[:-1], weights[-1]
    return np.vstack([std[:, None] * W, b + mean @ W])


def error_along(weights: np.ndarray, optimum: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Size of the readout's error W - W* along each eigenvector: (..., H + 1, 10), (H + 1, 10), (H + 1, H + 1) -> (..., H + 1).

    Adding the same vector to every class's column changes no softmax probability, so that part of
    the error is removed first (each row centered over the classes). The squares sum to the
    squared Frobenius norm of the centered error (the eigenvectors are orthonormal).
    """
    error = weights - optimum
    error = error - error.mean(axis=-1, keepdims=True)
    return np.linalg.norm(np.swapaxes(vectors, -1, -2) @ error, axis=-1)


def decay_factor(
    start: np.ndarray, now: np.ndarray, eigenvalues: np.ndarray, lr: float, steps: int, window=(0.05, 0.95)
) -> float:
    """The c in  error_i(t) / error_i(0) = exp(-lr * c * lambda_i * t): the median over directions of -ln(ratio) / (lr lambda t).

    Only directions whose measured ratio lies inside ``window`` count: above it a direction has not
    moved measurably, below it SGD's noise floor (the batches' gradient noise) takes over. The
    median, not a fit, so that a few directions that do not follow the law (the mean direction of
    uncentered features) do not set c. NaN when no direction is inside the window.
    """
    ratio = np.asarray(now, dtype=float) / np.asarray(start, dtype=float)
    x = lr * np.asarray(eigenvalues, dtype=float) * steps
    used = (ratio > window[0]) & (ratio < window[1]) & (x > 0)
    if not used.any():
        return float("nan")
    return float(np.median(-np.log(ratio[used]) / x[used]))


def score_error(eigenvalues: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """sum_i lambda_i e_i^2 = E_f |(W - W*)^T f|^2 (class-centered): how far the scores are from the optimum's.

    Mean over the training images of the squared distance between the readout's class-centered
    scores and the optimal readout's. Unlike the error's norm it does not depend on the
    coordinates: transforming the features (and the readout with them) leaves it unchanged,
    so raw and standardized runs can be compared on it. errors (..., H + 1) -> (...).
    """
    return np.asarray(errors) ** 2 @ np.asarray(eigenvalues)


def error_decay(
    data,
    features: FrozenFeatures,
    optimum: np.ndarray,
    seed: int = 0,
    lr: float = 1e-3,
    checkpoints=(0, 1000, 3000, 10000),
):
    """Top layer only, SGD at ``lr`` on ``features``: the error along each eigenvector of M at each checkpoint.

    Each checkpoint is its own run of that many steps from the same start and batches (so
    the same trajectory as one long run). optimum: the converged readout (H + 1, 10) in the
    coordinates of ``features``. Returns (eigenvalues (H + 1,), errors (len(checkpoints), H + 1),
    the History of the longest run).
    """
    from .rules import TopLayerOnly
    from .train import TrainConfig, initial_params, train

    values, vectors = eigenbasis(second_moment(features.train))
    errors, history = [], None
    for steps in checkpoints:
        config = TrainConfig(steps=max(steps, 1), seed=seed, lr=lr)
        if steps == 0:
            params = initial_params(config)
        else:
            params, history = train(data, config, rule=TopLayerOnly(features))
        errors.append(error_along(readout_weights(params), optimum, vectors))
    return values, np.array(errors), history
