"""This project against PyTorch on the CPU: the same runs (float64, the same initial weights, the same batches).

    python benchmarks/bench_pytorch.py [--steps N] [--repeat R] [--json]

Two runs, each timed both ways in turns (R rounds, each way's best round counts):

  top layer only   the reference experiment (lr 1e-3, batch 32; the test and validation
                   accuracies at step 0 and every 1,000 steps, on both sides: the project's
                   model selection reads the validation split):
                   ``helpers.train.train`` with the rule "top" (frozen features computed once,
                   their time included) against PyTorch with the lower layers' requires_grad off,
                   as a PyTorch user writes it (the full forward each step, autograd into W3, b3),
                   and against PyTorch given the same frozen-feature lookup (the fair floor);
                   next to them NumPy's floor for the run (the feature products of every image,
                   then bench_rules.py's leanest loop, on one thread): PyTorch's time over the
                   floor is the most any NumPy loop can reach against it on this machine;
  all layers       backprop, lr 0.1: ``train`` with the rule "backprop" against PyTorch autograd.

Both sides use one thread for the per-step work (threadpoolctl here, torch.set_num_threads(1)
there), as the project's loop does; the test accuracies are printed to show the runs are the
same. The targets of the issue that asked for this: top layer only >= 10x, all layers >= 1.5x.
PyTorch is an optional benchmark dependency (``pip install -e ".[bench]"``); without it the
script says so and exits with status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from bench_rules import lean_top_loop

from helpers.data import BatchSampler, load_mnist
from helpers.model import hidden_features
from helpers.threads import one_blas_thread
from helpers.train import TrainConfig, initial_params, seeded_streams, train

TARGETS = {"top": 10.0, "all": 1.5}


def torch_run(torch, data, config: TrainConfig, *, top_only: bool, lookup: bool = False) -> float:
    """One run in PyTorch on the project's initial weights and batches; returns the final test accuracy.

    It evaluates what the project's run evaluates, when it does: the test and the validation accuracy at step 0
    and every ``eval_every`` steps (the project's model selection reads the validation split).
    """
    params = {k: torch.tensor(v) for k, v in initial_params(config).items()}
    trained = ("W3", "b3") if top_only else tuple(params)
    for name in trained:
        params[name].requires_grad_(True)
    images = torch.tensor(data.train.images)
    labels = torch.tensor(data.train.labels)
    evaluated = {
        name: (torch.tensor(split.images), torch.tensor(split.labels))
        for name, split in (("test", data.test), ("validation", data.validation))
    }
    sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
    optimizer = torch.optim.SGD([params[n] for n in trained], lr=config.lr)
    relu = torch.relu

    def hidden(x):
        return relu(relu(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])

    with torch.no_grad():
        features = hidden(images) if lookup else None
        # top layer only: the frozen features of the evaluated splits, once (the project's run computes them too)
        frozen = {name: hidden(x) for name, (x, _) in evaluated.items()} if top_only else None

    def accuracies():
        with torch.no_grad():
            found = {}
            for name, (x, y) in evaluated.items():
                h = frozen[name] if top_only else hidden(x)
                found[name] = float(((h @ params["W3"] + params["b3"]).argmax(1) == y).double().mean())
            return found

    last = accuracies()
    for step in range(1, config.steps + 1):
        index = torch.from_numpy(sampler.next())
        h = features[index] if lookup else hidden(images[index])
        loss = torch.nn.functional.cross_entropy(h @ params["W3"] + params["b3"], labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % config.eval_every == 0 or step == config.steps:
            last = accuracies()
    return last["test"]


def numpy_floor(data, config: TrainConfig) -> float:
    """The leanest NumPy top-only run: the feature products of every image (the project's chunked products),
    bench_rules.py's leanest loop (no evaluation on the way), then the test accuracy of its final weights."""
    start = initial_params(config)
    # every split's h2, which the project's run computes once too (validation: for its model selection)
    features, _, test_features = (
        np.hstack([hidden_features(start, split.images), np.ones((len(split.labels), 1))])
        for split in (data.train, data.validation, data.test)
    )
    sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
    W = np.vstack([start["W3"], start["b3"]])
    lean_top_loop(features, data.train.labels, W, sampler, config.steps, config.lr)
    return float(np.mean((test_features @ W).argmax(axis=1) == data.test.labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print('PyTorch is not installed: pip install -e ".[bench]" to compare with it (nothing measured)')
        return
    torch.set_num_threads(1)
    data = load_mnist()
    top = TrainConfig(steps=args.steps)
    backprop = TrainConfig(steps=args.steps, lr=0.1, rule="backprop")
    ways = {
        ("top", "project"): lambda: train(data, top)[1].final_test_accuracy,
        ("top", "pytorch"): lambda: torch_run(torch, data, top, top_only=True),
        ("top", "pytorch_lookup"): lambda: torch_run(torch, data, top, top_only=True, lookup=True),
        ("top", "numpy_floor"): lambda: numpy_floor(data, top),
        ("all", "project"): lambda: train(data, backprop)[1].final_test_accuracy,
        ("all", "pytorch"): lambda: torch_run(torch, data, backprop, top_only=False),
    }
    seconds, accuracy = {key: [] for key in ways}, {}
    for _ in range(args.repeat):  # in turns: a burst of load elsewhere slows every way alike
        for key, way in ways.items():
            started = time.perf_counter()
            with one_blas_thread():
                accuracy[key] = way()
            seconds[key].append(time.perf_counter() - started)
    best = {key: min(times) for key, times in seconds.items()}
    ratios = {
        "top": best[("top", "pytorch")] / best[("top", "project")],
        "top_vs_lookup": best[("top", "pytorch_lookup")] / best[("top", "project")],
        "top_floor": best[("top", "pytorch")] / best[("top", "numpy_floor")],  # the most a NumPy loop can reach
        "all": best[("all", "pytorch")] / best[("all", "project")],
    }
    load = os.getloadavg()[0]
    if args.json:
        print(
            json.dumps(
                {
                    "steps": args.steps,
                    "repeat": args.repeat,
                    "torch": torch.__version__,
                    "load_average": load,
                    "seconds": {"/".join(k): round(v, 4) for k, v in best.items()},
                    "test_accuracy": {"/".join(k): v for k, v in accuracy.items()},
                    "ratios": {k: round(v, 2) for k, v in ratios.items()},
                    "targets": TARGETS,
                }
            )
        )
        return
    print(
        f"{args.steps} steps, batch 32, float64, one thread per run; best of {args.repeat}; "
        f"PyTorch {torch.__version__}; load average {load:.2f}"
    )
    for (run, way), value in best.items():
        name = {"top": "top layer only", "all": "all layers"}[run]
        print(f"  {name:<15} {way:<15} {value:7.3f} s   test accuracy {100 * accuracy[(run, way)]:.2f}%")
    print(
        f"  top layer only: the project {ratios['top']:.1f}x faster than PyTorch as usually written "
        f"(target >= {TARGETS['top']:g}x), {ratios['top_vs_lookup']:.1f}x than PyTorch with the same lookup"
    )
    print(
        f"                  NumPy's floor for this run is {ratios['top_floor']:.1f}x faster than PyTorch: the most "
        f"any NumPy loop reaches here (the project's run takes {best[('top', 'project')] / best[('top', 'numpy_floor')]:.2f}x "
        "the floor's time)"
    )
    print(f"  all layers:     the project {ratios['all']:.2f}x faster than PyTorch (target >= {TARGETS['all']:g}x)")


if __name__ == "__main__":
    main()
