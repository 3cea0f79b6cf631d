"""How much faster is the frozen-feature fast path than the straightforward loop?

Runs the reference experiment (top layer only, lr 1e-3, batch 32, 10,000
steps, 11 test evaluations) three ways in one process, on the same batches:

  reference-style  what the reference notebook does each step: full forward,
                   backward through every layer, the lower gradients zeroed,
                   every parameter updated (the frozen ones by zero);
  full forward     helpers.train with a rule that runs the full forward per batch
                   and the backward through the top layer only;
  fast path        helpers.train with the rule "top", as ``python -m helpers train`` calls it:
                   the frozen features computed once (their time included), then a
                   step is h2[idx] @ W3; the log formatted.

    python benchmarks/bench_training.py [--steps N] [--repeat R] [--json]

The three take turns in each of R rounds and each one's best round counts
(the machine is shared and noisy); the ratio is reference-style / fast path.
The ratio is a consequence, not a target: the old "20x" lies below the NumPy floor
that benchmarks/bench_rules.py measures (the feature products plus the leanest loop).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from helpers import model, rules
from helpers.data import BatchSampler, load_mnist
from helpers.layers import softmax_cross_entropy
from helpers.model import frozen_features
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    data = load_mnist()
    config = TrainConfig(steps=args.steps)

    def fast():  # what `python -m helpers train` runs: features included, the log formatted
        log = []
        return train(data, config, verbose=log.append)[1].final_test_accuracy

    ways = {
        "naive": lambda: reference_style(data, config),
        "full_forward": lambda: train(data, config, rule=rules.TopLayerFullForward())[1].final_test_accuracy,
        "fast": fast,
        "features": lambda: frozen_features(initial_params(config), data).train.shape[0],
    }
    # the ways take turns in every round, so that a burst of load elsewhere on this shared
    # machine slows all of them alike; each way's best round counts
    # (CPU time is reported too: it does not count the time other programs hold the cores)
    seconds, cpu_seconds, results = {name: [] for name in ways}, {name: [] for name in ways}, {}
    for _ in range(args.repeat):
        for name, way in ways.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            results[name] = way()
            seconds[name].append(time.perf_counter() - started)
            cpu_seconds[name].append(time.process_time() - cpu_started)
    best = {name: min(times) for name, times in seconds.items()}
    best_cpu = {name: min(times) for name, times in cpu_seconds.items()}
    result = {
        "steps": args.steps,
        "repeat": args.repeat,
        "naive_seconds": round(best["naive"], 4),
        "full_forward_seconds": round(best["full_forward"], 4),
        "fast_seconds": round(best["fast"], 4),
        "features_seconds": round(best["features"], 4),  # part of fast_seconds, measured alone
        "ratio": round(best["naive"] / best["fast"], 2),
        "ratio_vs_full_forward": round(best["full_forward"] / best["fast"], 2),
        "all_seconds": {name: [round(t, 4) for t in times] for name, times in seconds.items()},
        "cpu_seconds": {name: round(t, 4) for name, t in best_cpu.items()},
        "cpu_ratio": round(best_cpu["naive"] / best_cpu["fast"], 2),
        "naive_test_accuracy": results["naive"],
        "fast_test_accuracy": results["fast"],
        "same_accuracy": results["naive"] == results["fast"] == results["full_forward"],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"reference experiment, {args.steps} steps, best of {args.repeat}")
    print(f"  reference-style loop  {best['naive']:7.3f} s   test accuracy {100 * results['naive']:.2f}%")
    print(f"  full forward (helpers){best['full_forward']:7.3f} s   test accuracy {100 * results['full_forward']:.2f}%")
    print(
        f"  fast path (helpers)   {best['fast']:7.3f} s   test accuracy {100 * results['fast']:.2f}%"
        f"   (of which the frozen features alone: {best['features']:.3f} s)"
    )
    print(
        f"  speed-up: {result['ratio']:.1f}x over the reference-style loop, {result['ratio_vs_full_forward']:.1f}x over full forward"
    )
    print(f"  in CPU time: {best_cpu['naive']:.3f} s vs {best_cpu['fast']:.3f} s, {result['cpu_ratio']:.1f}x")


if __name__ == "__main__":
    main()
