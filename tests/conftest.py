"""Shared fixtures: MNIST is loaded once per test session (about 1 s)."""

import numpy as np
import pytest

from helpers.data import load_mnist


@pytest.fixture(scope="session")
def mnist():
    return load_mnist()


@pytest.fixture
def small_batch(mnist):
    """16 real training digits: X (16, 784), y (16,)."""
    return mnist.train.images[:16], mnist.train.labels[:16]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
