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

from .readout import with_ones
from .train import FrozenFeatures

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
