"""MNIST with its pixels kept as bytes (55 MB), float64 only for the rows a computation reads.

``helpers.data.load_mnist()`` gives float64 images: 70,000 x 784 x 8 bytes, 0.44 GB,
the largest thing a kernel running the explorer (notebook 6, the app) would hold.
:func:`load_compact_mnist` reads the same files with the same checks and the same
split, and keeps the uint8 pixels. Each split's ``images`` is a :class:`PixelImages`:
it behaves as the float64 array for what training and evaluation do with it,

- ``images[index]`` (a batch's index array, a row, a slice of rows): those rows as
  float64, the same ``/ 255.0`` of the same bytes as ``load_mnist()`` (equal value
  for value, so every run and every feature is identical, tested);
- ``len(images)``, ``images.shape``, ``images.dtype``;
- anything else (``images @ W``, ``np.mean(images)``): the whole split converted, once
  per use (0.3 GB for the training split, given back afterwards).

helpers.model reads images a chunk of rows at a time (features, predictions, dead
units), and a step reads its batch's rows, so a run holds at most a chunk in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import FILES, VALIDATION_SIZE, check_dtype, find_mnist_dir, read_idx


def _as_float(pixels: np.ndarray, dtype=np.float64) -> np.ndarray:
    """uint8 (n, 784) -> float64 (or float32) in [0, 1]: helpers.data's conversion, value for value."""
    return pixels.astype(dtype) / dtype(255.0)


class PixelImages:
    """float64 (or float32) images (n, 784) in [0, 1] stored as their uint8 pixels: indexing converts only the
    rows asked for."""

    ndim = 2

    def __init__(self, pixels: np.ndarray, dtype=np.float64):
        self.pixels = pixels  # (n, 784) uint8
        self.dtype = np.dtype(dtype)

    @property
    def shape(self) -> tuple:
        return self.pixels.shape

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, key) -> np.ndarray:
        return _as_float(self.pixels[key], self.dtype.type)

    def __array__(self, dtype=None, copy=None):
        images = _as_float(self.pixels, self.dtype.type)
        return images if dtype is None else images.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"PixelImages({self.shape[0]} x {self.shape[1]} {self.dtype}, kept as uint8)"


@dataclass(frozen=True)
class CompactSplit:
    pixels: np.ndarray  # (n, 784) uint8
    labels: np.ndarray  # (n,) int64
    dtype: str = "float64"  # what its images are read as

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def images(self) -> PixelImages:
        """The images as float64 (or float32) (n, 784), converted where they are read (see the module's docstring)."""
        return PixelImages(self.pixels, self.dtype)


@dataclass(frozen=True)
class CompactMnist:
    """The splits of ``load_mnist()`` (train 55,000, validation 5,000, test 10,000) with uint8 pixels:
    ``train``, ``validation`` and ``test`` work wherever a ``helpers.data.Mnist`` does."""

    train: CompactSplit
    validation: CompactSplit
    test: CompactSplit
    directory: object

    def astype(self, dtype) -> "CompactMnist":
        """The same pixels, read as ``dtype`` ("float64" or "float32"): runs on it compute in that dtype."""
        name = check_dtype(dtype).name
        splits = (self.train, self.validation, self.test)
        return CompactMnist(*(CompactSplit(s.pixels, s.labels, name) for s in splits), directory=self.directory)


def load_compact_mnist(path=None, download: bool = True, dtype="float64") -> CompactMnist:
    """MNIST with the split of ``helpers.data.load_mnist`` (same files, same checks), pixels kept as uint8;
    ``dtype`` is what its images are read as (``load_mnist``'s ``dtype``)."""
    name = check_dtype(dtype).name
    directory = find_mnist_dir(path, download)
    raw = {key: read_idx(directory / spec.name, spec) for key, spec in FILES.items()}
    train_x = raw["train_images"].reshape(len(raw["train_images"]), -1)
    train_y = raw["train_labels"].astype(np.int64)
    return CompactMnist(
        train=CompactSplit(train_x[VALIDATION_SIZE:], train_y[VALIDATION_SIZE:], name),
        validation=CompactSplit(train_x[:VALIDATION_SIZE], train_y[:VALIDATION_SIZE], name),
        test=CompactSplit(
            raw["test_images"].reshape(len(raw["test_images"]), -1), raw["test_labels"].astype(np.int64), name
        ),
        directory=directory,
    )
