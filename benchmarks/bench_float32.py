"""The float32 option against float64: same runs, same batches, in one process.

    python benchmarks/bench_float32.py            # figures as text (about three minutes on the 2-core machine)
    python benchmarks/bench_float32.py --json     # one JSON object
    python benchmarks/bench_float32.py --quick    # a tiny setting that only checks the script runs (the tests')

Three measurements, each variant timed in every round (the variants take turns, so a burst of load
elsewhere slows them alike), the median of the rounds reported, with the process CPU time:

1. grid: the explorer's learning-rate grid, top layer only (51 learning rates 1e-4..10, hidden size 128,
   10,000 steps, batch 32, seed 0) in one ``helpers.readout.ReadoutStack``, run in chunks of 100 steps with
   test and validation accuracies every 1,000 steps, as ``train_top_layers`` schedules it (the stack's
   construction is not timed). The float32 stack is the option as users get it: float32 start weights and
   features (``load_mnist(dtype="float32")``'s images, ``initial_params(config, float32)``), from which the
   stack allocates every array in float32; the benchmark checks after the run that every array, the
   optimizer's learning rates and the returned losses are float32. The float64 driver's accuracies are
   checked equal to ``train_top_layers``' (the explorer's own call), whose time is reported too.
2. backprop: one all-layers run, ``helpers.train.train`` with rule "backprop", lr 0.1, 5,000 steps, on
   float64 against float32 images (the run casts its parameters to the images' dtype). Reported, and
   checked to be float32: the parameters' dtype after training and the dtypes of one step's directions.
3. features: the frozen features of the 70,000 images (``helpers.model.frozen_features``), float64 against
   float32 images and parameters, all BLAS threads.

Test accuracy after the steps is compared between the dtypes. Timings are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace

import numpy as np

from helpers import rules
from helpers.data import BatchSampler, load_mnist
from helpers.model import frozen_features
from helpers.readout import ReadoutStack, train_top_layers, with_ones
from helpers.threads import one_blas_thread
from helpers.train import TrainConfig, initial_params, seeded_streams, train

F32 = np.float32
QUICK_LRS = np.array([1e-4, 1e-3, 1e-2, 0.1, 10.0])


def median_times(variants: dict, repeat: int):
    """Run each of ``variants`` ({name: call}) once per round, ``repeat`` rounds -> (wall, cpu, last results)."""
    wall, cpu, results = {n: [] for n in variants}, {n: [] for n in variants}, {}
    for _ in range(repeat):
        for name, call in variants.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            results[name] = call()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    return wall, cpu, results


def timing_record(wall: dict, cpu: dict, slow: str, fast: str) -> dict:
    """Medians, every round, and the ratio slow / fast (wall and CPU)."""
    med = {n: statistics.median(t) for n, t in wall.items()}
    med_cpu = {n: statistics.median(t) for n, t in cpu.items()}
    return {
        "seconds": {n: round(t, 4) for n, t in med.items()},
        "cpu_seconds": {n: round(t, 4) for n, t in med_cpu.items()},
        "all_seconds": {n: [round(t, 4) for t in times] for n, times in wall.items()},
        "ratio": round(med[slow] / med[fast], 3),
        "cpu_ratio": round(med_cpu[slow] / med_cpu[fast], 3),
    }


CHAOTIC_LR = 3.0  # from here up no two orders of summation agree past the first steps (helpers.explorer's notes)


def accuracy_points(lrs, a64: np.ndarray, a32: np.ndarray) -> dict:
    """How far float32's final test accuracies are from float64's, in percentage points (diverged runs apart)."""
    both = np.isfinite(a64) & np.isfinite(a32)
    diff = np.where(both, np.abs(a32 - a64) * 100, np.nan)
    calm = both & (np.asarray(lrs) < CHAOTIC_LR)
    return {
        "runs_compared": int(both.sum()),
        "max_points": round(float(np.nanmax(diff)), 4) if both.any() else None,
        "max_points_at_lr": float(lrs[int(np.nanargmax(diff))]) if both.any() else None,
        "max_points_below_lr_3": round(float(diff[calm].max()), 4) if calm.any() else None,
        "runs_differing_at_2_decimals": int((np.round(a32[both] * 1e4) != np.round(a64[both] * 1e4)).sum()),
        "diverged_float64": int((~np.isfinite(a64)).sum()),
        "diverged_float32": int((~np.isfinite(a32)).sum()),
        "same_runs_diverged": bool((np.isfinite(a64) == np.isfinite(a32)).all()),
    }


# ---------------------------------------------------------------- 1. the learning-rate grid


def grid_stack(data, config: TrainConfig, lrs, start: dict, features) -> ReadoutStack:
    """The stack ``train_top_layers`` builds for these runs (one seed), in ``start``'s dtype."""
    sampler = BatchSampler(len(data.train.labels), config.batch_size, seeded_streams(config.seed)[1])
    stack = ReadoutStack(
        [features.train],
        [features.test],
        data.train.labels,
        data.test.labels,
        [sampler],
        np.vstack([start["W3"], start["b3"]])[None],
        [list(lrs)],
        [[config.optimizer] * len(lrs)],
    )
    stack.validation = [with_ones(features.validation)]
    return stack


def stack_arrays(stack: ReadoutStack) -> dict:
    """{name: dtype} of every array a step reads or writes (the float32 stack's must all be float32 after a run).

    With those, a step cannot upcast unseen: np.dot refuses an ``out`` of another dtype than its operands'
    product (a float64 operand would raise), and the rest of a step writes in place or into these arrays.
    """
    arrays = {
        name: getattr(stack, name)
        for name in ("train_features", "train_onehot", "weights", "features", "scores", "onehot", "dscores", "grads")
    }
    arrays.update({"test_features": stack.test_features[0], "validation_features": stack.validation[0]})
    arrays.update({f"lr_{i}": np.asarray(o.lr) for i, o in enumerate(stack.optimizers)})
    return {name: str(a.dtype) for name, a in arrays.items()}


def run_grid(data, config: TrainConfig, lrs, start, features, chunk: int = 100) -> dict:
    """Train the grid in ``start``'s dtype on train_top_layers' schedule: final test accuracy per run (nan if diverged)."""
    stack = grid_stack(data, config, lrs, start, features)
    losses = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        tests = stack.test_accuracies()[0]
        stack.accuracies(stack.validation, data.validation.labels)
        step = 0
        while step < config.steps:
            count = min(chunk, config.steps - step)
            losses.append(stack.run(count)[:, 0])  # (count, K)
            step += count
            if step % config.eval_every == 0 or step == config.steps:
                tests = stack.test_accuracies()[0]
                stack.accuracies(stack.validation, data.validation.labels)
    losses = np.concatenate(losses)
    diverged = ~(losses <= config.max_loss).all(axis=0)  # nan included, as train_top_layers decides
    return {
        "accuracies": np.where(diverged, np.nan, tests),
        "dtypes": stack_arrays(stack),
        "loss_dtype": str(losses.dtype),
    }


def measure_grid(data, data32, steps: int, lrs, repeat: int) -> dict:
    config = TrainConfig(steps=steps)
    start, start32 = initial_params(config), initial_params(config, F32)
    features, features32 = frozen_features(start, data), frozen_features(start32, data32)
    started = time.perf_counter()
    explorer = train_top_layers(data, [replace(config, lr=float(lr)) for lr in lrs], features={config.seed: features})
    explorer_seconds = time.perf_counter() - started
    wall, cpu, results = median_times(
        {
            "float64": lambda: run_grid(data, config, lrs, start, features),
            "float32": lambda: run_grid(data32, config, lrs, start32, features32),
        },
        repeat,
    )
    wrong = {
        n: t
        for n, t in {**results["float32"]["dtypes"], "losses": results["float32"]["loss_dtype"]}.items()
        if t != "float32"
    }
    if wrong:
        raise RuntimeError(f"the float32 stack computed in another dtype: {wrong}")
    expected = np.array([h.final_test_accuracy for _, h in explorer])
    a64, a32 = results["float64"]["accuracies"], results["float32"]["accuracies"]
    return {
        "runs": len(lrs),
        "steps": steps,
        "hidden_size": config.hidden_size,
        **timing_record(wall, cpu, "float64", "float32"),
        "train_top_layers_seconds": round(explorer_seconds, 4),  # one run, the explorer's call, float64
        "float64_equals_train_top_layers": bool(np.array_equal(a64, expected, equal_nan=True)),
        "float32_dtypes": sorted(set(results["float32"]["dtypes"].values())),
        "accuracy": accuracy_points(lrs, a64, a32),
        "float64_accuracies": [round(float(a), 4) for a in a64],
        "float32_accuracies": [round(float(a), 4) for a in a32],
    }


# ---------------------------------------------------------------- 2. an all-layers run


def direction_dtypes(rule, params: dict, data, config: TrainConfig) -> list:
    """The dtypes of one step's directions under ``rule`` (on a copy of params)."""
    rule.setup(
        {n: p.copy() for n, p in params.items()}, data, rules.RunContext(config=config, rng=np.random.default_rng(0))
    )
    _, directions = rule.loss_and_directions(params, np.arange(config.batch_size))
    return sorted({str(d.dtype) for d in directions.values()})


def measure_backprop(data, data32, steps: int, repeat: int) -> dict:
    config = TrainConfig(steps=steps, rule="backprop", lr=0.1)
    params, params32 = initial_params(config), initial_params(config, F32)
    variants = {"float64": (data, params), "float32": (data32, params32)}

    def run(name):
        d, _ = variants[name]
        final, history = train(d, config)  # the run casts the parameters to the images' dtype
        return history.final_test_accuracy, sorted({str(a.dtype) for a in final.values()})

    wall, cpu, results = median_times({name: (lambda name=name: run(name)) for name in variants}, repeat)
    record = {"steps": steps, "lr": config.lr, **timing_record(wall, cpu, "float64", "float32")}
    for name, (d, p) in variants.items():
        accuracy, param_dtypes = results[name]
        record[name] = {
            "test_accuracy": accuracy,
            "param_dtypes": param_dtypes,
            "direction_dtypes": direction_dtypes(rules.Backprop(), p, d, config),
        }
        if record[name]["param_dtypes"] != [name] or record[name]["direction_dtypes"] != [name]:
            raise RuntimeError(f"the {name} run computed in another dtype: {record[name]}")
    record["accuracy_points"] = round(
        100 * (record["float32"]["test_accuracy"] - record["float64"]["test_accuracy"]), 4
    )
    return record


# ---------------------------------------------------------------- 3. the frozen features


def measure_features(data, data32, repeat: int) -> dict:
    params, params32 = initial_params(TrainConfig()), initial_params(TrainConfig(), F32)
    splits = ("train", "test", "validation")
    reference = frozen_features(params, data)
    wall, cpu, results = median_times(
        {
            "float64": lambda: frozen_features(params, data),
            "float32": lambda: frozen_features(params32, data32),
        },
        repeat,
    )
    if {getattr(results["float32"], s).dtype for s in splits} != {np.dtype(F32)}:
        raise RuntimeError("the float32 features came out in another dtype")
    scale = np.abs(reference.train).max()
    return {
        "images": sum(len(getattr(data, s).labels) for s in splits),
        "hidden_size": params["W2"].shape[1],
        **timing_record(wall, cpu, "float64", "float32"),
        "max_difference_relative_to_largest": float(np.abs(results["float32"].train - reference.train).max() / scale),
    }


# ---------------------------------------------------------------- report


def report(record: dict) -> str:
    """The record as the text the script prints."""
    g, b, f = record["grid"], record["backprop"], record["features"]
    load = lambda values: ", ".join(f"{v:.2f}" for v in values)  # noqa: E731
    acc = g["accuracy"]
    lines = [
        f"float64 vs float32, median of {record['repeat']}; load average before {load(record['load_before'])}, "
        f"after {load(record['load_after'])}",
        f"1. grid: {g['runs']} learning rates x {g['steps']} steps, H {g['hidden_size']}, one ReadoutStack",
        f"   float64 {g['seconds']['float64']:7.3f} s   float32 {g['seconds']['float32']:7.3f} s   "
        f"ratio {g['ratio']:.2f}x (CPU {g['cpu_ratio']:.2f}x)   [train_top_layers, float64: {g['train_top_layers_seconds']:.3f} s]",
        f"   float32 arrays: {', '.join(g['float32_dtypes'])}; float64 equals train_top_layers: "
        f"{g['float64_equals_train_top_layers']}",
        f"   test accuracy: {acc['runs_compared']} runs compared, largest difference {acc['max_points']} points "
        f"(at lr {acc['max_points_at_lr']:g}; below lr 3: {acc['max_points_below_lr_3']}), "
        f"{acc['runs_differing_at_2_decimals']} differ at two decimals; diverged float64 {acc['diverged_float64']}, "
        f"float32 {acc['diverged_float32']}",
        f"2. backprop, all layers: lr {b['lr']}, {b['steps']} steps",
    ]
    for name in ("float64", "float32"):
        lines.append(
            f"   {name} {b['seconds'][name]:7.3f} s   test accuracy {100 * b[name]['test_accuracy']:.2f}%   "
            f"params {', '.join(b[name]['param_dtypes'])}, directions {', '.join(b[name]['direction_dtypes'])}"
        )
    lines += [
        f"   ratio {b['ratio']:.2f}x (CPU {b['cpu_ratio']:.2f}x); test accuracy float32 - float64: "
        f"{b['accuracy_points']:+.2f} points",
        f"3. frozen features: {f['images']} images, H {f['hidden_size']}",
        f"   float64 {f['seconds']['float64']:7.3f} s   float32 {f['seconds']['float32']:7.3f} s   "
        f"ratio {f['ratio']:.2f}x (CPU {f['cpu_ratio']:.2f}x); largest difference {f['max_difference_relative_to_largest']:.1e}"
        " of the largest feature",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid-steps", type=int, default=10000)
    parser.add_argument("--backprop-steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="5 learning rates, 200 and 100 steps, 2 rounds: a check only"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.quick:  # without the explorer's import (ipywidgets: seconds)
        lrs, args.grid_steps, args.backprop_steps, args.repeat = QUICK_LRS, 200, 100, 2
    else:
        from helpers.explorer.settings import lr_grid

        lrs = lr_grid()
    load_before = os.getloadavg()
    data = load_mnist()
    data32 = data.astype("float32")
    record = {
        "repeat": args.repeat,
        "grid": measure_grid(data, data32, args.grid_steps, lrs, args.repeat),
        "backprop": measure_backprop(data, data32, args.backprop_steps, args.repeat),
        "features": measure_features(data, data32, args.repeat),
    }
    record.update(load_before=[round(v, 2) for v in load_before], load_after=[round(v, 2) for v in os.getloadavg()])
    print(json.dumps(record) if args.json else report(record))


if __name__ == "__main__":
    main()
