"""What the learning rules cost per step, next to lean NumPy loops doing the same products, and the floor of the reference run.

    python benchmarks/bench_rules.py [--steps N] [--default-steps N] [--repeat R] [--reference-steps N]
                                     [--row RULE] [--row-quick] [--json]

1. The reference run's floor (NumPy, float64): the two feature products of
   every image (h1 = relu(X W1 + b1), h2 = relu(h1 W2 + b2) for the 70,000
   train, validation and test images, every BLAS thread) plus the leanest
   top-only loop (gather, product, softmax, one-hot, gradient product,
   update). Measured in the same process as ``python -m helpers train``'s run
   (``train()`` with the log formatted, features included); ratio = run / floor
   (target: within 1.2x).
2. Per rule, batch 32: the per-step cost of ``helpers.train.train`` (steps
   only: the time between the progress calls at step 1 and step N - 1, so the
   evaluations are not in it) and of a lean loop with the same products, with
   one BLAS thread and with the default; ratio = train / lean (target: within
   1.3x). The default-thread figures take ``--default-steps`` (fewer: on a busy
   machine a small product on two BLAS threads can take a hundred times longer). The 10,000-step time is
   per-step x 10,000 plus 11 evaluations (measured).
3. Memory per run: the peak of NumPy's allocations during one run (tracemalloc),
   on top of the data set, which every run shares.
4. The arithmetic floor of a step: its products' floating-point operations
   (``step_flops``) at the rate one core reaches on a large product (a
   1000 x 1000 matrix product on one BLAS thread, measured here); ratio =
   train / floor. The products of a batch of 32 run slower than a large one,
   so this floor is below what any loop of batch-32 products reaches.
5. Lockstep (backprop): the runs of one seed's five learning rates share the
   batches, so a loop can take their steps together, as a stack (batched
   products, one NumPy call per operation for the five runs); per run-step,
   next to the lean loop taking one run at a time.
6. ``--row RULE``: the rule's full-protocol row of ``python -m helpers rules``
   (5 lrs x 3 seeds to 10,000 steps, the chosen lr's 3 seeds to 50,000: 300,000
   steps, the grid not extended beyond its edges) on 2 worker processes, its wall
   time next to its floor (its steps' arithmetic on 2 cores at the rate above).
   Minutes; ``--row-quick`` runs the quick protocol instead (what the test runs).

Every measurement takes turns with the others in each of R rounds and the best
round counts (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
import tracemalloc

import numpy as np

from helpers import comparison, rules, train as train_module
from helpers.data import BatchSampler, load_mnist
from helpers.threads import one_blas_thread
from helpers.train import TrainConfig, initial_params, seeded_streams, train

RULES = ("top", "backprop", "fa", "dfa", "sign", "uloss")
LOCKSTEP_LRS = (0.001, 0.003, 0.01, 0.03, 0.1)  # the comparison's grid: the runs of one seed


def step_flops(rule: str, hidden: int = 128, batch: int = 32, inputs: int = 784, classes: int = 10) -> int:
    """Floating-point operations of one step's products (2 per multiply-add), as the lean loops compute them."""
    layers = [(inputs, hidden), (hidden, hidden), (hidden, classes)]
    if rule == "top":  # the lookup's scores and the top layer's gradient
        return 2 * (2 * batch * hidden * classes)
    forward = sum(2 * batch * m * n for m, n in layers)  # x W for every layer
    weight_gradients = forward  # h^T d for every layer, the same sizes
    if rule == "dfa":  # the output error to each hidden layer through its (10, H) matrix
        signals = 2 * (2 * batch * classes * hidden)
    else:  # backprop, fa, sign, uloss: d W^T (or B^T, sign(W)^T) into layers 2 and 1
        signals = sum(2 * batch * m * n for m, n in layers[1:])
    return forward + weight_gradients + signals


def core_rate(repeat: int = 3, size: int = 1000) -> float:
    """FLOP per second of one BLAS thread on a (size x size) @ (size x size) product, best of ``repeat``."""
    a = np.random.default_rng(0).standard_normal((size, size))
    best = float("inf")
    with one_blas_thread():
        a @ a  # warm: the first product pays for BLAS's buffers
        for _ in range(repeat):
            started = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best


def feature_products(params, data):
    """The frozen features' products for every image: relu(relu(X W1 + b1) W2 + b2), all BLAS threads."""
    for images in (data.train.images, data.validation.images, data.test.images):
        h1 = np.maximum(images @ params["W1"] + params["b1"], 0.0)
        np.maximum(h1 @ params["W2"] + params["b2"], 0.0)


def lean_top_loop(features, labels, W, sampler, steps, lr):
    """The leanest top-only loop: features (N, H + 1) with a ones column, W (H + 1, 10) updated in place."""
    onehot, B = np.eye(10), sampler.batch_size
    for _ in range(steps):
        idx = sampler.next()
        h = features[idx]  # gather
        s = h @ W  # product
        s -= s.max(axis=1, keepdims=True)  # softmax
        np.exp(s, out=s)
        s /= s.sum(axis=1, keepdims=True)
        s -= onehot[labels[idx]]  # one-hot
        W -= (lr / B) * (h.T @ s)  # gradient product, update


def _softmax_error(s, y, onehot, B):
    """(softmax(s) - onehot[y]) / B over the last axis, written into s: s (N, 10) or a stack (R, N, 10)."""
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    s -= onehot[y]
    s /= B
    return s


def lean_loop(rule, X, Y, p, sampler, steps, lr, feedback):
    """A lean all-layers loop for ``rule``: the same products as the rule, nothing else. p: the params, updated in place."""
    W1, b1, W2, b2, W3, b3 = (p[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    onehot, B = np.eye(10), sampler.batch_size
    for _ in range(steps):
        idx = sampler.next()
        x, y = X[idx], Y[idx]
        h1 = np.maximum(x @ W1 + b1, 0.0)
        h2 = np.maximum(h1 @ W2 + b2, 0.0)
        s = h2 @ W3 + b3
        if rule == "uloss":  # the U signal of the scores and of h2 (the original's constants), before s is overwritten
            u3 = rules.u_signal(s) @ W3.T
            u2 = rules.u_signal(h2) @ W2.T
        ds = _softmax_error(s, y, onehot, B)
        if rule in ("backprop", "fa", "sign"):
            if rule == "backprop":
                B3, B2 = W3, W2
            elif rule == "fa":
                B3, B2 = feedback[3], feedback[2]
            else:
                B3, B2 = np.sign(W3), np.sign(W2)
            d2 = (ds @ B3.T) * (h2 > 0)
            d1 = (d2 @ B2.T) * (h1 > 0)
        elif rule == "dfa":
            d2 = (ds @ feedback[2]) * (h2 > 0)
            d1 = (ds @ feedback[1]) * (h1 > 0)
        else:  # uloss
            d2 = u3 * (h2 > 0)
            d1 = u2 * (h1 > 0)
        W3 -= lr * (h2.T @ ds)
        b3 -= lr * ds.sum(axis=0)
        W2 -= lr * (h1.T @ d2)
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (x.T @ d1)
        b1 -= lr * d1.sum(axis=0)


def lean_lockstep_loop(X, Y, stack, sampler, steps, lrs):
    """Backprop for len(lrs) runs at once on the same batches: ``stack`` {name: (R, ...) array}, updated in place;
    biases (R, 1, M), lrs (R,). The lean loop's products, each one batched call (np.matmul) for every run."""
    W1, b1, W2, b2, W3, b3 = (stack[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    lr = np.asarray(lrs, dtype=float)[:, None, None]
    onehot, B = np.eye(10), sampler.batch_size
    for _ in range(steps):
        idx = sampler.next()
        x, y = X[idx], Y[idx]
        h1 = np.maximum(x @ W1 + b1, 0.0)  # (32, 784) @ (R, 784, H): the shared batch against every run
        h2 = np.maximum(h1 @ W2 + b2, 0.0)
        ds = _softmax_error(h2 @ W3 + b3, y, onehot, B)
        d2 = (ds @ W3.transpose(0, 2, 1)) * (h2 > 0)
        d1 = (d2 @ W2.transpose(0, 2, 1)) * (h1 > 0)
        W3 -= lr * (h2.transpose(0, 2, 1) @ ds)
        b3 -= lr * ds.sum(axis=1, keepdims=True)
        W2 -= lr * (h1.transpose(0, 2, 1) @ d2)
        b2 -= lr * d2.sum(axis=1, keepdims=True)
        W1 -= lr * (x.T @ d1)
        b1 -= lr * d1.sum(axis=1, keepdims=True)


def lockstep_per_run_step(data, steps):
    """Seconds per run-step (one seed's five lrs in lockstep, the same five one run at a time), one BLAS thread,
    and the largest difference between their trained weights (the same runs: rounding only)."""
    start = initial_params(TrainConfig())
    X, Y = data.train.images, data.train.labels

    def sampler():
        return BatchSampler(len(Y), 32, seeded_streams(0)[1])

    stack = {
        k: np.stack([v.reshape(1, -1) if k.startswith("b") else v for _ in LOCKSTEP_LRS]) for k, v in start.items()
    }
    with one_blas_thread():
        started = time.perf_counter()
        lean_lockstep_loop(X, Y, stack, sampler(), steps, LOCKSTEP_LRS)
        together = time.perf_counter() - started
        started = time.perf_counter()
        apart_params = []
        for lr in LOCKSTEP_LRS:
            apart_params.append({k: v.copy() for k, v in start.items()})
            lean_loop("backprop", X, Y, apart_params[-1], sampler(), steps, lr, None)
        apart = time.perf_counter() - started
    difference = max(
        float(np.max(np.abs(stack[k][r].reshape(p[k].shape) - p[k]))) for r, p in enumerate(apart_params) for k in p
    )
    runs = steps * len(LOCKSTEP_LRS)
    return together / runs, apart / runs, difference


def full_row(data, rule: str, quick: bool, jobs: int = 2) -> dict:
    """Wall seconds of the rule's comparison row (its grid not extended), and the steps it trained."""
    settings = dict(comparison.make_protocol(quick, extend_edges=False).as_dict(), rules=[rule])
    result = comparison.measure_all(data, settings, jobs=jobs)
    row = result["rules"][0]
    if row.get("failed"):
        raise SystemExit(f"the {rule} row failed: {row['failed']}")
    steps = len(settings["lrs"]) * len(settings["seeds"]) * settings["select_steps"]
    steps += len(settings["seeds"]) * settings["steps"]
    return {"rule": rule, "quick": quick, "jobs": jobs, "steps": steps, "wall_seconds": result["wall_seconds"]}


@contextlib.contextmanager
def blas_threads(one: bool):
    """One BLAS thread (what train() does), or the default: train()'s own limit is lifted for the block."""
    if one:
        with one_blas_thread():
            yield
        return
    saved = train_module.one_blas_thread
    train_module.one_blas_thread = contextlib.nullcontext
    try:
        yield
    finally:
        train_module.one_blas_thread = saved


def train_per_step(data, rule, steps):
    """Seconds per step of train() between step 1 and step N - 1 (no evaluation in between)."""
    marks = {}

    def progress(step, total):
        if step in (1, total - 1):
            marks[step] = time.perf_counter()
        return False

    train(
        data,
        TrainConfig(rule=rule, lr=0.01, steps=steps, eval_every=steps, log_every=250),
        progress=progress,
        progress_every=1,
    )
    return (marks[steps - 1] - marks[1]) / (steps - 2)


def lean_per_step(data, rule, steps):
    config = TrainConfig(rule=rule, lr=0.01)
    p = initial_params(config)
    _, batch_rng, rule_rng = seeded_streams(config.seed)
    sampler = BatchSampler(len(data.train.labels), 32, batch_rng)
    if rule == "top":
        r = rules.make_rule("top")
        r.setup(p, data, rule_rng)
        features = np.hstack([r.split_features["train"], np.ones((len(data.train.labels), 1))])
        W = np.vstack([p["W3"], p["b3"]])
        started = time.perf_counter()
        lean_top_loop(features, data.train.labels, W, sampler, steps, 0.01)
    else:
        r = rules.make_rule(rule)
        r.setup(p, data, rule_rng)
        started = time.perf_counter()
        lean_loop(rule, data.train.images, data.train.labels, p, sampler, steps, 0.01, getattr(r, "feedback", None))
    return (time.perf_counter() - started) / steps


def evaluation_seconds(data, rule):
    """One evaluation (test and validation accuracy) as train() does it for this rule."""
    p = initial_params(TrainConfig())
    r = rules.make_rule(rule)
    r.setup(p, data, seeded_streams(0)[2])
    with one_blas_thread():
        started = time.perf_counter()
        r.accuracy(p, data.test), r.accuracy(p, data.validation)
        return time.perf_counter() - started


def memory_per_run(data, rule, steps):
    """Peak bytes NumPy allocated during one run of ``steps`` (the data set itself excluded: it is allocated before)."""
    tracemalloc.start()
    train(data, TrainConfig(rule=rule, lr=0.01, steps=steps, eval_every=steps))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def best_of_rounds(ways: dict, repeat: int) -> dict:
    """Each way's best time over ``repeat`` rounds in which the ways take turns."""
    times = {name: [] for name in ways}
    for _ in range(repeat):
        for name, way in ways.items():
            times[name].append(way())
    return {name: min(t) for name, t in times.items()}


def measure(
    data,
    steps: int,
    repeat: int,
    reference_steps: int,
    default_steps: int | None = None,
    row: str | None = None,
    row_quick: bool = False,
) -> dict:
    rate = core_rate()
    config = TrainConfig(steps=reference_steps)
    start = initial_params(config)

    def timed(f):
        def way():
            started = time.perf_counter()
            f()
            return time.perf_counter() - started

        return way

    def lean_reference():
        r = rules.make_rule("top")
        r.setup(start, data, None)  # features outside the timing: the floor counts them in feature_products
        features = np.hstack([r.split_features["train"], np.ones((len(data.train.labels), 1))])
        sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
        W = np.vstack([start["W3"], start["b3"]])
        with one_blas_thread():
            started = time.perf_counter()
            lean_top_loop(features, data.train.labels, W, sampler, reference_steps, config.lr)
            return time.perf_counter() - started

    reference = best_of_rounds(
        {
            "train_run": timed(
                lambda: train(data, config, verbose=[].append)
            ),  # python -m helpers train: features and log included
            "feature_products": timed(lambda: feature_products(start, data)),
            "lean_loop": lean_reference,
        },
        repeat,
    )
    floor = reference["feature_products"] + reference["lean_loop"]
    record = {
        "steps": steps,
        "default_steps": default_steps or steps,
        "repeat": repeat,
        "reference_steps": reference_steps,
        "reference": {
            **{f"{k}_seconds": v for k, v in reference.items()},
            "floor_seconds": floor,
            "ratio_to_floor": reference["train_run"] / floor,
        },
        "core_gflops": rate / 1e9,
        "rules": {},
    }
    for rule in RULES:
        entry = {}
        for one in (True, False):
            tag = "one_thread" if one else "default_threads"
            n = steps if one else record["default_steps"]
            with blas_threads(one):
                best = best_of_rounds(
                    {"train": lambda: train_per_step(data, rule, n), "lean": lambda: lean_per_step(data, rule, n)},
                    repeat,
                )
            entry[f"{tag}_train_step_ms"] = 1e3 * best["train"]
            entry[f"{tag}_lean_step_ms"] = 1e3 * best["lean"]
            entry[f"{tag}_ratio"] = best["train"] / best["lean"]
        evaluation = evaluation_seconds(data, rule)
        entry["evaluation_seconds"] = evaluation
        entry["train_10000_seconds"] = (
            entry["one_thread_train_step_ms"] * 10 + 11 * evaluation
        )  # 10,000 steps, 11 evaluations
        entry["memory_mb"] = memory_per_run(data, rule, min(steps, 200)) / 2**20
        entry["floor_step_ms"] = 1e3 * step_flops(rule) / rate
        entry["ratio_to_floor"] = entry["one_thread_train_step_ms"] / entry["floor_step_ms"]
        record["rules"][rule] = entry
    rounds = [lockstep_per_run_step(data, steps) for _ in range(repeat)]  # each round times both ways in turn
    together, apart = min(r[0] for r in rounds), min(r[1] for r in rounds)
    record["lockstep"] = {
        "rule": "backprop",
        "runs": len(LOCKSTEP_LRS),
        "together_run_step_ms": 1e3 * together,
        "apart_run_step_ms": 1e3 * apart,
        "speedup": apart / together,
        "max_weight_difference": max(r[2] for r in rounds),
    }
    if row:
        measured = full_row(data, row, row_quick)
        measured["floor_seconds"] = measured["steps"] * step_flops(row) / (measured["jobs"] * rate)
        measured["ratio_to_floor"] = measured["wall_seconds"] / measured["floor_seconds"]
        record["row"] = measured
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps per per-step measurement (at least 3)")
    parser.add_argument(
        "--default-steps", type=int, default=200, help="steps per measurement with the default BLAS threads"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-steps", type=int, default=10000, help="steps of the reference run and its floor")
    parser.add_argument(
        "--row", choices=[r for r in RULES if r != "top"], help="also time this rule's full comparison row (minutes)"
    )
    parser.add_argument("--row-quick", action="store_true", help="the row on the quick protocol (seconds)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if min(args.steps, args.default_steps) < 3 or args.repeat < 1 or args.reference_steps < 1:
        parser.error("--steps and --default-steps must be at least 3, --repeat and --reference-steps at least 1")
    if args.row_quick and not args.row:
        parser.error("--row-quick needs --row RULE")
    record = measure(
        load_mnist(), args.steps, args.repeat, args.reference_steps, args.default_steps, args.row, args.row_quick
    )
    if args.json:
        print(json.dumps(record))
        return
    r = record["reference"]
    print(
        f"reference run ({args.reference_steps} steps, features included): {r['train_run_seconds']:.2f} s; floor "
        f"{r['floor_seconds']:.2f} s (feature products {r['feature_products_seconds']:.2f} s + lean loop "
        f"{r['lean_loop_seconds']:.2f} s): {r['ratio_to_floor']:.2f}x the floor"
    )
    print(f"one core on a large product: {record['core_gflops']:.1f} GFLOP/s (the floors below)")
    print(
        f"{'rule':<9} {'1 thread: train / lean ms':>27} {'default: train / lean ms':>26} {'floor ms':>9}"
        f" {'10k steps s':>12} {'memory MB':>10}"
    )
    for rule, e in record["rules"].items():
        print(
            f"{rule:<9} {e['one_thread_train_step_ms']:>9.3f} / {e['one_thread_lean_step_ms']:.3f} ({e['one_thread_ratio']:.2f}x)"
            f" {e['default_threads_train_step_ms']:>8.3f} / {e['default_threads_lean_step_ms']:.3f} ({e['default_threads_ratio']:.2f}x)"
            f" {e['floor_step_ms']:>5.3f} ({e['ratio_to_floor']:.2f}x)"
            f" {e['train_10000_seconds']:>8.1f} {e['memory_mb']:>10.1f}"
        )
    lock = record["lockstep"]
    print(
        f"lockstep, backprop, {lock['runs']} lrs on one seed's batches: {lock['together_run_step_ms']:.3f} ms per "
        f"run-step together, {lock['apart_run_step_ms']:.3f} ms one run at a time: {lock['speedup']:.2f}x "
        f"(weights within {lock['max_weight_difference']:.1e} of each other)"
    )
    if "row" in record:
        row = record["row"]
        print(
            f"{row['rule']} row{' (quick protocol)' if row['quick'] else ''}: {row['steps']:,} steps on {row['jobs']} "
            f"workers in {row['wall_seconds']:.1f} s; floor {row['floor_seconds']:.1f} s: {row['ratio_to_floor']:.2f}x"
        )


if __name__ == "__main__":
    main()
