"""Command line: the experiments without Jupyter.

    python -m helpers train [--steps N --lr LR ... --json] [--import my_rules.py --rule mine]
    python -m helpers baselines [--json] [--out PATH]
    python -m helpers rules [--json] [--quick] [--rules a,b] [--out PATH] [--cache DIR] [--import MODULE_OR_FILE]

Bad arguments exit with status 2 and one line naming the problem; so do a file
that cannot be written and a lack of memory (status 1 once training has started).
``--import`` (repeatable) imports a module or a .py file before the rule names
are checked: a rule registered there (``helpers.rules.register_rule``) is then
a choice of ``--rule`` and ``--rules``.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import baselines, comparison, model, rules
from .cli_args import OneLineParser, int_at_least, positive_float
from .data import DTYPES
from .optimizers import OPTIMIZERS
from .progress import TerminalProgress
from .train import TrainConfig


def add_train_arguments(parser):
    d = TrainConfig()
    parser.add_argument("--steps", type=int_at_least(1), default=d.steps, help="SGD steps (default %(default)s)")
    parser.add_argument("--lr", type=positive_float, default=d.lr, help="learning rate (default %(default)s)")
    parser.add_argument("--batch-size", type=int_at_least(1), default=d.batch_size, help="default %(default)s")
    parser.add_argument(
        "--hidden-size",
        type=int_at_least(1),
        default=d.hidden_size,
        help="units per hidden layer (default %(default)s)",
    )
    parser.add_argument("--seed", type=int_at_least(0), default=d.seed, help="default %(default)s")
    # the choices are the registries' entries at the time the parser is built
    rule_help = "; ".join(f"{name}: {cls.label}" for name, cls in rules.RULES.items())
    parser.add_argument(
        "--rule",
        default=d.rule,
        metavar="RULE[:NAME=VALUE...]",
        help=f"the learning rule, optionally with its hyperparameters (kp:decay=1e-3): {rule_help} (default %(default)s)",
    )
    inits = "; ".join(scheme.label for scheme in model.INIT_SCHEMES.values())
    parser.add_argument("--init", choices=model.INIT_SCHEMES, default=d.init, help=f"{inits} (default %(default)s)")
    optimizers = ", ".join(f"{name}: {cls.label}" for name, cls in OPTIMIZERS.items())
    parser.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=d.optimizer, help=f"{optimizers} (default %(default)s)"
    )
    parser.add_argument(
        "--log-every", type=int_at_least(1), default=d.log_every, help="print the running loss every N steps"
    )
    parser.add_argument(
        "--eval-every", type=int_at_least(1), default=d.eval_every, help="print the test accuracy every N steps"
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="float64",
        help="what the run computes in (default %(default)s, the notebooks'; float32 is faster, its digits its own)",
    )
    parser.add_argument(
        "--data-dir", default=None, help="directory with the four MNIST .gz files (default: MNIST_DIR, then data/mnist)"
    )
    parser.add_argument("--json", action="store_true", help="end with one JSON object on the last line of stdout")
    add_import_argument(parser)


def add_import_argument(parser):
    # read by main() before the parsers are built (see _imports); declared here for --help and so that it parses
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="import a module or a .py file first (repeatable): the rules it registers can be named",
    )


def _imports(argv) -> list:
    """The --import values of argv, read before the parsers exist (their --rule choices need the rules)."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--import", dest="imports", action="append", default=[])
    return early.parse_known_args(argv)[0].imports


def run_train(args) -> int:
    from .data import MnistError, load_mnist
    from .train import train

    try:
        rule_name, hyperparameters = rules.parse_rule_spec(args.rule)
        config = TrainConfig(
            steps=args.steps,
            lr=args.lr,
            batch_size=args.batch_size,
            hidden_size=args.hidden_size,
            seed=args.seed,
            rule=rule_name,
            init=args.init,
            optimizer=args.optimizer,
            log_every=args.log_every,
            eval_every=args.eval_every,
        )
        config.validate()
        rule = rules.make_rule(rule_name, **hyperparameters)
        data = load_mnist(args.data_dir, dtype=args.dtype)
    except (ValueError, MnistError) as exc:
        print(f"python -m helpers train: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(
            f"python -m helpers train: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
            file=sys.stderr,
        )
        return 2
    print(
        f"MLP 784-{config.hidden_size}-{config.hidden_size}-10, training with the rule "
        f"{rules.rule_spec(config.rule, hyperparameters)} ({rules.RULES[config.rule].label})"
        f" with {config.optimizer}, lr {config.lr:g}, batch {config.batch_size}, {config.steps} steps, "
        f"seed {config.seed}, init {config.init}" + ("" if args.dtype == "float64" else f", {args.dtype}")
    )
    progress = TerminalProgress()
    reached = [0]

    def tracked(step, steps):  # the bar, and the step Ctrl-C reports
        reached[0] = step
        return progress(step, steps)

    try:
        _, history = train(data, config, rule=rule, verbose=progress.print_line, progress=tracked)
    except KeyboardInterrupt:
        progress.clear()
        print(
            f"python -m helpers train: interrupted at step {reached[0]:,} of {config.steps:,} (a single run keeps "
            "nothing: run it again)",
            file=sys.stderr,
        )
        return 130
    except OSError as exc:
        progress.clear()
        print(
            f"python -m helpers train: error: {exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else ""),
            file=sys.stderr,
        )
        return 1
    except MemoryError:
        progress.clear()
        h = config.hidden_size  # the frozen layer W2 (h x h) and the features of 70,000 images (h each), float64
        need_gb = 8 * (784 * h + h * h + 70_000 * h) / 1e9
        print(
            f"python -m helpers train: error: not enough memory for --hidden-size {h} (about {need_gb:.1f} GB "
            "of weights and features): try a smaller --hidden-size",
            file=sys.stderr,
        )
        return 2
    if history.diverged_at is None and not history.cancelled:
        print(f"{history.message} ({history.train_seconds:.2f} s)")
    else:  # the log's last line already said why it stopped
        print(f"stopped after {history.train_seconds:.2f} s")
    if args.json:
        print(json.dumps(dict(history.to_dict(), hyperparameters=rule.hyperparameters, dtype=args.dtype)))
    return 1 if history.diverged_at is not None else 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    for spec in _imports(argv):
        try:
            comparison.import_plugin(spec)
        except ValueError as exc:
            command = next((a for a in argv if a in ("train", "rules", "baselines")), "")
            print(f"python -m helpers {command}: error: {exc}".replace("  ", " "), file=sys.stderr)
            return 2
    parser = OneLineParser(prog="python -m helpers", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    add_train_arguments(commands.add_parser("train", help="the reference experiment (top layer only, 10,000 steps)"))
    baselines.add_arguments(commands.add_parser("baselines", help="the baselines table (see notebook 07)"))
    rules_parser = commands.add_parser(
        "rules", help="every learning rule on the baseline's protocol (results/rules.json)"
    )
    comparison.add_arguments(rules_parser)
    add_import_argument(rules_parser)
    args = parser.parse_args(argv)
    if args.command == "train":
        return run_train(args)
    if args.command == "rules":
        return comparison.run(args)
    return baselines.run(args)


if __name__ == "__main__":
    sys.exit(main())
