"""Figures of notebook 01 (data): the pixel-value histogram."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from helpers import plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_pixel_histogram_counts_every_pixel_once_and_states_the_zeros():
    images = np.zeros((4, 784))
    images[:, :100] = np.linspace(0.01, 0.99, 100)
    images[:, 100:104] = 1.0
    fig = plots.pixel_histogram(images)
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == images.size  # zeros, ones and the values between, each counted once
    share = 100 * np.mean(images == 0)
    assert f"{share:.0f}% of the pixels are exactly 0" in ax.get_title()
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"exactly 0 ({share:.1f}%)" in label for label in labels)


def test_pixel_histogram_has_an_opaque_background_and_leaves_the_input_alone():
    images = np.random.default_rng(0).random((3, 784))
    before = images.copy()
    fig = plots.pixel_histogram(images)
    assert fig.get_facecolor()[3] == 1.0
    np.testing.assert_array_equal(images, before)
