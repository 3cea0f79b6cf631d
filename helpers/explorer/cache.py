"""Frozen features per (hidden size, seed, init), least recently used out, bounded in bytes."""

from __future__ import annotations

import ctypes
import threading
from collections import OrderedDict

import numpy as np

from .. import model
from ..data import images_dtype
from ..model import FrozenFeatures
from ..train import TrainConfig, initial_params

# The default bound: room for the reference's features (H = 128: 71 MB) and one or two more of its size, not
# for a wide entry besides. At H 512 and 1024 one entry is 0.14 and 0.29 GB (float32): kept while it is the
# newest, dropped at the next change of hidden size, seed or init, or when the slider is back at settings
# whose grid is ready (going back to it computes it again, seconds), so that a kernel that once visited
# H = 1024 does not keep it for the rest of the class.
DEFAULT_MAX_BYTES = 200e6
CHUNK_ROWS = 4 * 4096  # a multiple of model.hidden_features' own chunk: the same products, bit for bit
# Features wider than this in float64 (H 512 and 1024 on 55,000 images: 0.23 and 0.45 GB) are kept as float32.
# Measured at H 512, seed 0, 10,000 steps, lr 0.001 / 0.1 / 1: the same test accuracies to the hundredth
# of a percent, running losses within 4e-9 relative of the float64 run's: no printed digit changes.
FLOAT32_ABOVE_BYTES = 150e6


def give_back_freed_memory() -> None:
    """Hand freed heap memory back to the system (glibc's ``malloc_trim``; elsewhere nothing).

    NumPy's temporaries in the worker threads (a grid's batches and scores, a feature slice) are freed
    into the threads' malloc arenas and stay resident: measured, about 110 MB after the grid at H 128,
    a third of what a visitor's kernel holds. The call takes milliseconds.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): its allocator decides
        pass


def feature_dtype(hidden_size: int, data) -> type:
    """float32 for float32 data (``Explorer(dtype="float32")``) and for features whose float64 training array
    would exceed FLOAT32_ABOVE_BYTES; else float64."""
    if images_dtype(data) == np.float32:
        return np.float32
    return np.float32 if len(data.train) * hidden_size * 8 > FLOAT32_ABOVE_BYTES else np.float64


def features_with_progress(params: dict, data, progress=None, dtype=np.float64) -> FrozenFeatures:
    """``helpers.model.frozen_features(params, data)``, computed in slices of CHUNK_ROWS images so that
    ``progress(done, total)`` (images) can be reported between them.

    The slices start at multiples of model.hidden_features' chunk, so every product is the one
    frozen_features computes: the features are identical (tested). ``data`` may be a CompactMnist
    (uint8 pixels): each slice is converted as load_mnist converts, so the features are the same again.
    ``dtype`` float32 stores them rounded to float32 (half the memory).
    """
    splits = (data.train, data.test, data.validation)
    total, done = sum(len(s) for s in splits), 0
    out = []
    for split in splits:
        features = None
        for start in range(0, len(split), CHUNK_ROWS):
            part = model.hidden_features(params, split.images[start : start + CHUNK_ROWS])
            if features is None:
                features = np.empty((len(split), part.shape[1]), dtype=dtype)
            features[start : start + len(part)] = part
            done += len(part)
            if progress is not None:
                progress(done, total)
        out.append(features)
    return FrozenFeatures(*out)


class FeatureCache:
    """Initial parameters and frozen features per (hidden_size, seed, init), least recently used out.

    ``max_bytes`` bounds the memory (default DEFAULT_MAX_BYTES): at H = 1024 one
    entry is 0.29 GB (float32 above FLOAT32_ABOVE_BYTES, see ``feature_dtype``). The newest entry is always kept, whatever its size. Every
    method takes the lock: the request worker and the grid worker share one cache.
    """

    def __init__(self, data, max_bytes: float = DEFAULT_MAX_BYTES):
        self.data, self.max_bytes = data, max_bytes
        self._entries: OrderedDict = OrderedDict()  # key -> (params, FrozenFeatures)
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(config: TrainConfig) -> tuple:
        return (config.hidden_size, config.seed, config.init)

    def __contains__(self, config: TrainConfig) -> bool:
        with self._lock:
            return self.key(config) in self._entries

    def keys(self) -> list:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, config: TrainConfig, progress=None):
        """(params, features, cached): the start of a run with ``config``, and whether it came from the cache.

        progress  optional progress(done, total) in images while features are computed (not called on a hit).
        """
        key = self.key(config)
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key] + (True,)
            # what the new entry will replace goes first: old and new never need memory at once
            while self._entries and self._nbytes() + _entry_bytes(config, self.data) > self.max_bytes:
                self._entries.popitem(last=False)
        params = initial_params(config, images_dtype(self.data))  # outside the lock: the other worker may read
        entry = (
            params,
            features_with_progress(params, self.data, progress, feature_dtype(config.hidden_size, self.data)),
        )
        with self._lock:
            self.misses += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and self._nbytes() > self.max_bytes:
                self._entries.popitem(last=False)
        give_back_freed_memory()
        return entry + (False,)

    def release_all_but(self, config: TrainConfig) -> bool:
        """Drop entries other than ``config``'s, least recently used first, until the cache is within its
        bound; True if any went. A grid answer needs no features: without this, the H = 1024 entry of a
        visit there stays (0.57 GB) after the slider is back at a size whose grid is ready."""
        keep, dropped = self.key(config), False
        with self._lock:
            for key in list(self._entries):
                if self._nbytes() <= self.max_bytes:
                    break
                if key != keep:
                    del self._entries[key]
                    dropped = True
        if dropped:
            give_back_freed_memory()
        return dropped

    def nbytes(self) -> int:
        """Bytes held by the cached features."""
        with self._lock:
            return self._nbytes()

    def _nbytes(self) -> int:
        return sum(
            f.train.nbytes + f.test.nbytes + (0 if f.validation is None else f.validation.nbytes)
            for _, f in self._entries.values()
        )

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _entry_bytes(config: TrainConfig, data) -> int:
    """The bytes of the features an entry for ``config`` will hold (every split)."""
    images = sum(len(s) for s in (data.train, data.test, data.validation))
    return images * config.hidden_size * np.dtype(feature_dtype(config.hidden_size, data)).itemsize
