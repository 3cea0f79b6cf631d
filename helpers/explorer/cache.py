"""Frozen features per (hidden size, seed, init), least recently used out, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..train import TrainConfig, frozen_features, initial_params


class FeatureCache:
    """Initial parameters and frozen features per (hidden_size, seed, init), least recently used out.

    ``max_bytes`` bounds the memory: at H = 1024 one entry is 0.5 GB. The
    newest entry is always kept, whatever its size. Every method takes the
    lock: the request worker and the grid worker share one cache.
    """

    def __init__(self, data, max_bytes: float = 2e9):
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

    def get(self, config: TrainConfig):
        """(params, features, cached): the start of a run with ``config``, and whether it came from the cache."""
        key = self.key(config)
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key] + (True,)
        params = initial_params(config)  # outside the lock: the other worker may read meanwhile
        entry = (params, frozen_features(params, self.data))
        with self._lock:
            self.misses += 1
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > 1 and self._nbytes() > self.max_bytes:
                self._entries.popitem(last=False)
        return entry + (False,)

    def nbytes(self) -> int:
        """Bytes held by the cached features."""
        with self._lock:
            return self._nbytes()

    def _nbytes(self) -> int:
        return sum(f.train.nbytes + f.test.nbytes for _, f in self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
