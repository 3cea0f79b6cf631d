"""Vectorized top-layer readouts vs one train() call per configuration: times and ratio.

    python benchmarks/bench_baselines.py [--steps 2000] [--seeds 0 1 2] [--json]

The configurations are the learning-rate / optimizer sweep of notebook 07
(8 settings per seed). Both ways reuse the same cached frozen features; the
feature computation is not timed. Run it on an otherwise idle machine.
"""

import argparse
import json

from helpers import baselines
from helpers.data import load_mnist


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.steps < 1 or min(args.seeds) < 0:
        parser.error("--steps must be >= 1 and seeds >= 0")
    data = load_mnist()
    features = {s: baselines.features_for(data, s) for s in args.seeds}
    results = {}
    for label, seeds in [
        ("one seed, 8 settings", args.seeds[:1]),
        (f"{len(args.seeds)} seeds x 8 settings", args.seeds),
    ]:
        results[label] = baselines.measure_speedup(data, baselines.sweep_configs(seeds, steps=args.steps), features)
    if args.json:
        print(json.dumps(results))
    else:
        for label, r in results.items():
            print(
                f"{label}: {r['runs']} runs x {r['steps']} steps: vectorized {r['vectorized_seconds']:.2f} s, "
                f"one by one {r['one_by_one_seconds']:.2f} s, ratio {r['speedup']:.2f}x, same results: {r['equal']}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
