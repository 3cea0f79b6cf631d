"""How much faster is the frozen-feature fast path than the straightforward loop?

Runs the reference experiment (top layer only, lr 1e-3, batch 32, 10,000
steps, 11 test evaluations) three ways in one process, on the same batches:

  reference-style  what the reference notebook does each step: full forward,
                   backward through every layer, the lower gradients zeroed,
                   every parameter updated (the frozen ones by zero);
  full forward     helpers.train with fast=False: full forward per batch,
                   backward through the top layer only;
  fast path        helpers.train (fast=True): hidden features computed once.

    python benchmarks/bench_training.py [--steps N] [--repeat R] [--json]

Times are the best of R repeats (this machine is noisy); the ratio is
reference-style / fast path. Target: at least 20x, same accuracy.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from helpers import model
from helpers.data import BatchSampler, load_mnist
from helpers.layers import softmax_cross_entropy
from helpers.train import TrainConfig, initial_params, seeded_streams, train


def reference_style(data, config: TrainConfig) -> float:
    """The reference notebook's loop, written with the helpers' layers. Returns the final test accuracy."""
    params = initial_params(config)
    sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
    accuracy = model.accuracy(params, data.test.images, data.test.labels)
    for step in range(1, config.steps + 1):
        idx = sampler.next()
        scores, cache = model.forward(params, data.train.images[idx])
        _, dscores = softmax_cross_entropy(scores, data.train.labels[idx])
        grads = model.backward(dscores, cache, "all")
        for name in ("W1", "b1", "W2", "b2"):  # computed, then thrown away
            grads[name] = np.zeros_like(grads[name])
        params = {name: params[name] - config.lr * grads[name] for name in params}
        if step % config.eval_every == 0 or step == config.steps:  # as train() does
            accuracy = model.accuracy(params, data.test.images, data.test.labels)
    return accuracy


def best_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    data = load_mnist()
    config = TrainConfig(steps=args.steps)

    naive_s, naive_acc = best_time(lambda: reference_style(data, config), args.repeat)
    full_s, full_acc = best_time(lambda: train(data, config, fast=False)[1].final_test_accuracy, args.repeat)
    fast_s, fast_acc = best_time(lambda: train(data, config, fast=True)[1].final_test_accuracy, args.repeat)
    result = {
        "steps": args.steps,
        "naive_seconds": round(naive_s, 4),
        "full_forward_seconds": round(full_s, 4),
        "fast_seconds": round(fast_s, 4),
        "ratio": round(naive_s / fast_s, 2),
        "ratio_vs_full_forward": round(full_s / fast_s, 2),
        "naive_test_accuracy": naive_acc,
        "fast_test_accuracy": fast_acc,
        "same_accuracy": naive_acc == fast_acc == full_acc,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"reference experiment, {args.steps} steps, best of {args.repeat}")
    print(f"  reference-style loop  {naive_s:7.3f} s   test accuracy {100 * naive_acc:.2f}%")
    print(f"  full forward (helpers){full_s:7.3f} s   test accuracy {100 * full_acc:.2f}%")
    print(f"  fast path (helpers)   {fast_s:7.3f} s   test accuracy {100 * fast_acc:.2f}%")
    print(f"  speed-up: {result['ratio']:.1f}x over the reference-style loop, {result['ratio_vs_full_forward']:.1f}x over full forward")


if __name__ == "__main__":
    main()
