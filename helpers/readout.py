"""The top-layer fast path: many readouts trained in lockstep on frozen features.

With the lower layers frozen, the features h2 of every image never change:
computed once, each step of top-layer training is then a (batch x H) by
(H x 10) product. At that size NumPy's per-call overhead, not arithmetic, is
the cost, so :class:`ReadoutStack` trains S x K readouts at once, sharing
every call but the two products: S feature sets (seeds, each with its own features and batches)
by K runs per feature set (learning rates, optimizers), which share their
seed's batches. One run is the 1 x 1 case; ``helpers.train.train`` uses it.

Each step makes as few calls as it can:
- the bias is folded into the weights: features get a column of ones and
  [W3; b3] is one (H + 1, 10) matrix, so one product gives the scores and one
  gives both gradients;
- the softmax, its gradient and the update are one call each for all S x K
  runs (only the two products are per run, which keeps every run's arithmetic
  that of a run trained alone);
- labels are one-hot rows, subtracted without fancy indexing;
- the loss is not needed to take a step: the shifted scores are kept and a
  chunk's losses computed afterwards in one vectorized pass.
The arithmetic is that of helpers.layers and helpers.optimizers, element for
element, so a stacked run equals the same run trained alone.
"""

from __future__ import annotations

import numpy as np

from .layers import shift_scores, softmax_cross_entropy_gradient, softmax_cross_entropy_losses
from .model import NUM_CLASSES
from .optimizers import make_optimizer


def with_ones(features: np.ndarray) -> np.ndarray:
    """Append a column of ones, so that a readout's bias is its last row.  (..., N, H) -> (..., N, H + 1)."""
    return np.concatenate([features, np.ones(features.shape[:-1] + (1,))], axis=-1)


def _rate(rates: np.ndarray):
    """One number when every run has the same learning rate (cheaper to apply), else the array."""
    return float(rates.flat[0]) if (rates == rates.flat[0]).all() else rates


class ReadoutStack:
    """S x K top-layer readouts trained in lockstep: S feature sets (with their batch samplers) by K runs each.

    weights (S, K, H + 1, 10), the bias in the last row. Every run's products are
    its own 2-d np.dot calls, so a run's arithmetic does not depend on what else
    is in the stack: a grid of K runs equals each run trained alone, bit for bit.
    The rest of a step (softmax, gradient, update) is one call for all runs.
    Runs may use different registered optimizers: each optimizer steps every
    readout, with a learning rate that is 0 for the other optimizers' readouts.
    """

    MAX_CHUNK_FLOATS = 1 << 22  # gathered features, scores and labels of a chunk: 32 MB

    def __init__(self, train_features, test_features, train_labels, test_labels, samplers, start_weights,
                 lrs, optimizers):
        """train_features: S arrays (N, H); test_features: S arrays (Ntest, H); samplers: S BatchSamplers
        of one batch size; start_weights (S, H + 1, 10); lrs, optimizers: S lists of K learning rates and names."""
        S, K = len(lrs), len(lrs[0])
        lr = np.array(lrs, dtype=float)[:, :, None, None]  # (S, K, 1, 1)
        kinds = np.array(optimizers)[:, :, None, None]
        # make_optimizer refuses an unregistered name (it is never trained as another optimizer)
        self.optimizers = [make_optimizer(name, _rate(np.where(kinds == name, lr, 0.0))) for name in dict.fromkeys(n for row in optimizers for n in row)]
        n_train, hidden = train_features[0].shape
        # every seed's training features in one (S * N, H + 1) matrix: a chunk gathers all seeds' batches in one take
        self.train_features = np.ones((S * n_train, hidden + 1))
        for i, f in enumerate(train_features):
            self.train_features[i * n_train : (i + 1) * n_train, :hidden] = f
        self.offsets = (np.arange(S) * n_train)[:, None]  # (S, 1): where each seed's rows start
        self.test_features = [with_ones(f) for f in test_features]  # S arrays (Ntest, H + 1)
        self.train_onehot = np.eye(NUM_CLASSES)[train_labels]
        self.test_labels = test_labels
        self.samplers, B = samplers, samplers[0].batch_size
        self.weights = np.repeat(start_weights[:, None], K, axis=1)  # (S, K, H + 1, 10)
        # scratch arrays that every chunk reuses: fresh ones would cost page faults every time
        chunk = self.max_chunk = max(1, self.MAX_CHUNK_FLOATS // (S * B * (2 * K * NUM_CLASSES + hidden + 1)))
        self.features = np.empty((chunk, S, B, hidden + 1))  # each step's batches
        self.scores = np.empty((chunk, S, K, B, NUM_CLASSES))  # their scores, shifted by the row max in place
        self.onehot = np.empty((chunk, S, K, B, NUM_CLASSES))  # their labels, once per readout
        self.dscores = np.empty((S, K, B, NUM_CLASSES))
        self.grads = np.empty_like(self.weights)

    def run(self, count: int) -> np.ndarray:
        """Take ``count`` steps with every readout; return their batch losses (count, S, K)."""
        losses = []
        while count > 0:
            losses.append(self._run_chunk(min(count, self.max_chunk)))
            count -= len(losses[-1])
        return np.concatenate(losses)

    def _run_chunk(self, count: int) -> np.ndarray:
        S, K, width, classes = self.weights.shape
        B = self.dscores.shape[2]
        idx = np.empty((count, S, B), dtype=np.int64)
        for t in range(count):
            for i, sampler in enumerate(self.samplers):
                idx[t, i] = sampler.next()
        features, scores, onehot = self.features[:count], self.scores[:count], self.onehot[:count]
        np.take(self.train_features, (idx + self.offsets).ravel(), axis=0, out=features.reshape(-1, width), mode="clip")
        labels = np.broadcast_to(idx[:, :, None], (count, S, K, B)).ravel()  # each run sees its seed's batch
        np.take(self.train_onehot, labels, axis=0, out=onehot.reshape(-1, classes), mode="clip")
        # one row of 10 scores per (seed, run, example): the softmax then works on 2-d arrays,
        # which costs NumPy about half the time of 5-d ones
        shifted, onehot = scores.reshape(count, -1, classes), onehot.reshape(count, -1, classes)
        dscores_rows = self.dscores.reshape(-1, classes)
        runs = [(s, k) for s in range(S) for k in range(K)]
        named_weights, named_grads = {"Wb": self.weights}, {"Wb": self.grads}
        for feats, scores_t, shifted_t, onehot_t in zip(features, scores, shifted, onehot):  # one step each
            for s, k in runs:  # 2-d np.dot: a third of the overhead of a batched matmul
                np.dot(feats[s], self.weights[s, k], out=scores_t[s, k])
            shift_scores(shifted_t, out=shifted_t)
            softmax_cross_entropy_gradient(shifted_t, onehot_t, B, out=dscores_rows)
            for s, k in runs:
                np.dot(feats[s].T, self.dscores[s, k], out=self.grads[s, k])
            for optimizer in self.optimizers:
                optimizer.update(named_weights, named_grads)
        # each batch's mean loss, from the scores its step was computed with
        return softmax_cross_entropy_losses(shifted, onehot).reshape(count, S, K, B).mean(axis=-1)

    def test_accuracies(self) -> np.ndarray:
        """Test accuracy of every readout, (S, K)."""
        S, K = self.weights.shape[:2]
        return np.array([[np.mean(np.dot(self.test_features[s], self.weights[s, k]).argmax(axis=1) == self.test_labels)
                          for k in range(K)] for s in range(S)])

    def readout(self, s: int, k: int) -> tuple:
        """The top layer's (W, b) of run k of feature set s: copies, (H, 10) and (10,)."""
        return self.weights[s, k, :-1].copy(), self.weights[s, k, -1].copy()
