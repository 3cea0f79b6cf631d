"""MNIST as the explorer's own copy: the pixels as bytes (55 MB), float64 only where a computation needs it.

``helpers.data.load_mnist()`` gives float64 images: 70,000 x 784 x 8 bytes, 0.44 GB,
the largest thing a kernel running the app holds. Top-layer runs (the slider's
default rule, and the whole learning-rate grid) read only the labels and the
frozen features; the images are needed to compute features (a slice at a time)
and by the rules that train every layer. So the explorer that loads MNIST itself
keeps the bytes and converts:

- a slice of rows, for the features: ``rows(split, start, stop)``, the same
  float64 values as ``load_mnist()``'s (the same ``/ 255.0`` of the same bytes),
  so the features are identical;
- every image, for a run of another rule: ``full()`` builds the float64 Mnist
  (0.44 GB while such runs are shown; the explorer drops it at the next top run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import FILES, VALIDATION_SIZE, Mnist, Split, find_mnist_dir, read_idx


def _as_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 (n, 784) -> float64 in [0, 1]: helpers.data's conversion, value for value."""
    return pixels.astype(np.float64) / 255.0


@dataclass(frozen=True)
class CompactSplit:
    pixels: np.ndarray  # (n, 784) uint8
    labels: np.ndarray  # (n,) int64

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def images(self) -> np.ndarray:
        """Every image as float64 (n, 784): a new 0.3 GB array for the training split; prefer ``rows``."""
        return _as_float(self.pixels)


@dataclass(frozen=True)
class CompactMnist:
    """The splits of ``load_mnist()`` (train 55,000, validation 5,000, test 10,000) with uint8 pixels."""

    train: CompactSplit
    validation: CompactSplit
    test: CompactSplit
    directory: object

    def full(self) -> Mnist:
        """The float64 Mnist that ``load_mnist()`` returns (equal array for array)."""
        return Mnist(*(Split(_as_float(s.pixels), s.labels) for s in (self.train, self.validation, self.test)),
                     directory=self.directory)


def load_compact_mnist(path=None, download: bool = True) -> CompactMnist:
    """MNIST with the split of ``helpers.data.load_mnist`` (same files, same checks), pixels kept as uint8."""
    directory = find_mnist_dir(path, download)
    raw = {key: read_idx(directory / spec.name, spec) for key, spec in FILES.items()}
    train_x = raw["train_images"].reshape(len(raw["train_images"]), -1)
    train_y = raw["train_labels"].astype(np.int64)
    return CompactMnist(
        train=CompactSplit(train_x[VALIDATION_SIZE:], train_y[VALIDATION_SIZE:]),
        validation=CompactSplit(train_x[:VALIDATION_SIZE], train_y[:VALIDATION_SIZE]),
        test=CompactSplit(raw["test_images"].reshape(len(raw["test_images"]), -1), raw["test_labels"].astype(np.int64)),
        directory=directory,
    )


def rows(split, start: int, stop: int) -> np.ndarray:
    """Images ``start:stop`` of ``split`` as float64 (n, 784): a slice of either kind of split."""
    if isinstance(split, CompactSplit):
        return _as_float(split.pixels[start:stop])
    return split.images[start:stop]
