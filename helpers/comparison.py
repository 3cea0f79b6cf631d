"""Every learning rule on the baseline's protocol, with the same learning-rate care: ``python -m helpers rules``.

The protocol (``FULL``): MLP 784-128-128-10, reference init, batch 32, the
reference split (55,000 train, 5,000 validation, 10,000 test), seeds 0-2, SGD.
Each rule gets the learning-rate grid 1e-3, 3e-3, 1e-2, 3e-2, 1e-1; the
learning rate is chosen by the mean validation accuracy over seeds at 10,000
steps (an lr where a seed diverged cannot be chosen); the test accuracy is
reported once, for the chosen lr, at 10,000 and 50,000 steps: the chosen lr
is run to 50,000 steps, and its 10,000-step checkpoint is the grid's run
(same seed, same batches: the file records that they agree).
For fa, dfa, sign and uloss the 50,000-step runs also record the alignment
angles (``helpers.alignment``) at log-spaced steps.

Top-only runs go through the stacked accelerator (``helpers.readout``); the
other rules run one at a time through ``helpers.train.train``, in ``jobs``
worker processes (each run uses one BLAS thread; the runs are independent,
so the numbers do not depend on ``jobs``). A rule registered with
``helpers.rules.register_rule`` (in a notebook cell) gets its row from
:func:`compare_rules` without any change to the project.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import multiprocessing
import os
import pickle
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import rules
from .alignment import AlignmentRecorder, probe_batch
from .cli_args import int_at_least
from .readout import train_top_layers
from .train import TrainConfig, frozen_features, initial_params, train

STACKED = ("top",)  # rules that train_top_layers trains (many runs in lockstep)
ALIGNMENT_RULES = ("fa", "dfa", "sign", "uloss")
FULL = {"seeds": [0, 1, 2], "lrs": [0.001, 0.003, 0.01, 0.03, 0.1], "select_steps": 10000, "steps": 50000,
        "batch_size": 32, "hidden_size": 128, "init": "reference", "optimizer": "sgd", "log_every": 250,
        "eval_every": 1000, "alignment_steps": [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 50000],
        "probe_size": 1000}
QUICK = dict(FULL, seeds=[0], lrs=[0.01, 0.1], select_steps=200, steps=400, log_every=50, eval_every=100,
             alignment_steps=[0, 10, 100, 400], probe_size=200)
RESULTS_PATH = Path(__file__).resolve().parent.parent / "results" / "rules.json"
RESULTS_COMMAND = "python -m helpers rules --json > results/rules.json"


def package_rules() -> list:
    """The rules that helpers.rules itself defines (not ones registered from outside), in registry order."""
    return [name for name, cls in rules.RULES.items()
            if cls.__module__ == rules.__name__ and not cls.__name__.startswith("FunctionRule_")]


def full_settings() -> dict:
    """The settings of the stored results file: FULL, with every rule of the package."""
    return dict(FULL, rules=package_rules())


def check_settings(settings: dict) -> dict:
    """Raise ValueError naming the first bad setting and the fix; return the settings."""
    if not settings["rules"]:
        raise ValueError("no rules to compare; name at least one, e.g. --rules top,fa")
    for name in settings["rules"]:
        rules.check_rule(name)
    for key in ("rules", "seeds", "lrs"):
        if len(set(settings[key])) != len(settings[key]):
            raise ValueError(f"{key} has a repeated value: {settings[key]}; give each once")
    if not settings["select_steps"] < settings["steps"]:
        raise ValueError(f"the selection step ({settings['select_steps']}) must be below the steps ({settings['steps']})")
    for key in ("select_steps", "steps"):
        if settings[key] % settings["eval_every"]:
            raise ValueError(f"{key} ({settings[key]}) must be a multiple of eval_every ({settings['eval_every']}) "
                             "so that the accuracy is evaluated there")
    _config(settings, settings["rules"][0], settings["lrs"][0], settings["seeds"][0], settings["steps"]).validate()
    return settings


def _config(settings, rule, lr, seed, steps) -> TrainConfig:
    # the grid's runs are evaluated only at the start and at select_steps: nothing else of them
    # is reported, and an evaluation (15,000 images) costs as much as ~100 steps
    eval_every = settings["select_steps"] if steps == settings["select_steps"] else settings["eval_every"]
    return TrainConfig(steps=steps, lr=lr, batch_size=settings["batch_size"], hidden_size=settings["hidden_size"],
                       seed=seed, rule=rule, init=settings["init"], optimizer=settings["optimizer"],
                       log_every=settings["log_every"], eval_every=eval_every)


# ---------------------------------------------------------------- running the runs


def _train_one(data, settings, rule, lr, seed, steps, align, progress=None):
    """One run through helpers.train.train: (History, alignment angles {step: ...} or None)."""
    learning_rule = rules.make_rule(rule)
    if align:
        learning_rule = AlignmentRecorder(learning_rule, probe_batch(data, settings["probe_size"]),
                                          settings["alignment_steps"])
    params, history = train(data, _config(settings, rule, lr, seed, steps), rule=learning_rule, progress=progress)
    if not align:
        return history, None
    if history.diverged_at is None and steps in learning_rule.steps:  # the last state has no step after it
        learning_rule.record(steps, params)
    return history, learning_rule.angles


def _cached_run(data, settings, task, cache=None, progress=None):
    """``_train_one`` for task (rule, lr, seed, steps, align), loaded from ``cache`` (a directory) if it holds it.

    A cached run is keyed by the code version, the settings (but the list of rules)
    and the task: delete the directory after changing a rule of your own.
    """
    if cache is None:
        return task, *_train_one(data, settings, *task, progress=progress)
    same = json.dumps({k: v for k, v in settings.items() if k != "rules"}, sort_keys=True)
    key = hashlib.sha256(f"{code_version()} {same} {task!r}".encode("utf-8")).hexdigest()[:24]
    path = Path(cache) / f"{task[0]}-lr{task[1]:g}-seed{task[2]}-{task[3]}-{key}.pickle"
    if path.is_file():
        return (task, *pickle.loads(path.read_bytes()))
    result = _train_one(data, settings, *task, progress=progress)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(path)  # whole files only: an interrupted run leaves no half-written entry
    return (task, *result)


_SHARED = {}  # (data, settings, cache) for the forked worker processes: inherited, not pickled


def _work(task):
    return _cached_run(_SHARED["data"], _SHARED["settings"], task, _SHARED["cache"])


def _stacked(data, settings, rule, keys, features):
    """Top-only runs in one stack: keys [(lr, seed, steps)] -> {(lr, seed, steps): History}."""
    results = train_top_layers(data, [_config(settings, rule, lr, seed, steps) for lr, seed, steps in keys],
                               features=features)
    return {key: history for key, (_, history) in zip(keys, results)}


class _Runs:
    """Histories and angles by (rule, lr, seed, steps), with the bookkeeping of the progress bar."""

    def __init__(self, total_steps, progress, log):
        self.histories, self.angles, self.seconds = {}, {}, {}
        self.total, self.done, self.progress, self.log = total_steps, 0, progress, log

    def add(self, key, history, angles, seconds=None):
        """Store one run; ``seconds`` it cost (default its train_seconds; a stack's runs share one time)."""
        self.histories[key], self.angles[key] = history, angles
        self.seconds.setdefault(key[0], 0.0)
        self.seconds[key[0]] += history.train_seconds if seconds is None else seconds
        self.done += key[3]  # a diverged run's planned steps count as done: nothing more runs for it
        rule, lr, seed, steps = key
        state = f"diverged at step {history.diverged_at}" if history.diverged_at else \
            f"validation {100 * history.final_validation_accuracy:.2f}%"
        self.log(f"{rule} lr {lr:g} seed {seed}, {steps} steps: {state} ({history.train_seconds:.1f} s)")
        self.report(f"done: {rule} lr {lr:g} seed {seed}")

    def report(self, label, extra=0):
        if self.progress is not None:
            if hasattr(self.progress, "label"):
                self.progress.label = label
            self.progress(min(self.done + extra, self.total), self.total)


def choose_lr(settings, rule, histories) -> float | None:
    """The lr with the highest mean validation accuracy over seeds at select_steps; None if every lr diverged."""
    means = {lr: grid_mean(settings, rule, lr, histories) for lr in settings["lrs"]}
    finite = {lr: m for lr, m in means.items() if math.isfinite(m)}
    return max(finite, key=finite.get) if finite else None  # ties: the first (smallest) lr


def grid_mean(settings, rule, lr, histories) -> float:
    """Mean validation accuracy at select_steps over seeds; nan if a seed diverged."""
    values = [histories[(rule, lr, seed, settings["select_steps"])].final_validation_accuracy for seed in settings["seeds"]]
    return float(np.mean(values))


def measure_all(data, settings, jobs: int = 1, log=None, progress=None, cache=None) -> dict:
    """Every rule in ``settings``; see the module docstring. Returns the results file's content.

    cache: optional directory where each finished run is stored and found again (see _cached_run).
    """
    check_settings(settings)
    log = log or (lambda message: None)
    started = time.perf_counter()
    S, select, final = settings["seeds"], settings["select_steps"], settings["steps"]
    grid = [(rule, lr, seed, select) for rule in settings["rules"] for lr in settings["lrs"] for seed in S]
    total = len(grid) * select + len(settings["rules"]) * len(S) * final
    runs = _Runs(total, progress, log)
    features = {}
    if any(r in STACKED for r in settings["rules"]):
        for seed in S:  # the frozen features of each seed's start, shared by its top-only runs
            features[seed] = frozen_features(initial_params(_config(settings, "top", 1e-3, seed, final)), data)
    chosen = {}

    def finish_grid(rule):
        chosen[rule] = choose_lr(settings, rule, runs.histories)
        log(f"{rule}: chosen lr {chosen[rule]}" if chosen[rule] is not None else f"{rule}: every lr diverged")
        if chosen[rule] is None:
            return []
        return [(rule, chosen[rule], seed, final, rule in ALIGNMENT_RULES) for seed in S]

    def run_stacked(rule):
        def stack(keys):  # every History of a stack has the stack's wall time: count it once
            for i, (key, history) in enumerate(_stacked(data, settings, rule, keys, features).items()):
                runs.add((rule,) + key, history, None, seconds=0.0 if i else history.train_seconds)

        stack([(lr, seed, select) for lr in settings["lrs"] for seed in S])
        if finish_grid(rule):  # one stack holds every seed of the chosen lr
            stack([(chosen[rule], seed, final) for seed in S])

    one_by_one = [r for r in settings["rules"] if r not in STACKED]
    pending = {rule: len(settings["lrs"]) * len(S) for rule in one_by_one}  # grid runs not yet finished

    def finished(task, history, angles):
        """Store a run; when it completes its rule's grid, return the chosen lr's long runs."""
        runs.add(task[:4], history, angles)
        if task[3] != select:
            return []
        pending[task[0]] -= 1
        return finish_grid(task[0]) if pending[task[0]] == 0 else []

    # the runs go rule by rule (a rule's long runs before the next rule's grid), so that rows
    # complete one after another and at most ``jobs`` runs are in flight
    order = {rule: i for i, rule in enumerate(settings["rules"])}
    queue = [(rule, lr, seed, select, False) for rule in one_by_one for lr in settings["lrs"] for seed in S]

    def next_task():
        task = min(queue, key=lambda t: order[t[0]])  # the first of the earliest rule
        queue.remove(task)
        return task

    if jobs <= 1 or not one_by_one:
        for rule in settings["rules"]:
            if rule in STACKED:
                run_stacked(rule)
        while queue:
            task = next_task()
            label = f"{task[0]} lr {task[1]:g} seed {task[2]}, {task[3]} steps"
            report = (lambda step, steps, label=label: runs.report(label, step)) if progress else None
            queue.extend(finished(*_cached_run(data, settings, task, cache, progress=report)))
    else:
        _SHARED.update(data=data, settings=settings, cache=cache)
        try:
            context = multiprocessing.get_context("fork")  # the workers inherit the data and any rule registered here
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(_work, next_task()) for _ in range(min(jobs, len(queue)))}
                for rule in settings["rules"]:
                    if rule in STACKED:  # in this process, while the workers train the others
                        run_stacked(rule)
                while futures:
                    future = next(as_completed(futures))
                    futures.discard(future)
                    queue.extend(finished(*future.result()))
                    while queue and len(futures) < jobs:
                        futures.add(pool.submit(_work, next_task()))
        finally:
            _SHARED.clear()
    rows = [rule_row(settings, rule, chosen.get(rule), runs) for rule in settings["rules"]]
    if progress is not None and hasattr(progress, "clear"):
        progress.clear()
    return {"rules": rows, "settings": settings, "code_version": code_version(), "jobs": int(jobs),
            "wall_seconds": time.perf_counter() - started,
            "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


# ---------------------------------------------------------------- one rule's row


def summary(values) -> dict:
    """mean and sd (ddof=1; 0 for one seed) of per-seed values; nan (JSON null) if a run diverged."""
    values = [float(v) for v in values]
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "sd": sd, "per_seed": values}


def at_step(history, step, what="test_accuracies") -> float:
    """The accuracy a History recorded at ``step``; nan if the run diverged before it."""
    if history.diverged_at is not None and history.diverged_at <= step:
        return float("nan")
    return float(getattr(history, what)[history.eval_steps.index(step)])


def _mean_curve(curves) -> list:
    """Mean over seeds at each point; nan where a seed's run had stopped (diverged)."""
    length = max(len(c) for c in curves)
    padded = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        padded[i, : len(c)] = c
    return [float(v) for v in padded.mean(axis=0)]


def rule_row(settings, rule, lr, runs) -> dict:
    """The results of one rule: the grid's validation means, the chosen lr's test accuracies, curves, alignment."""
    S, select, final = settings["seeds"], settings["select_steps"], settings["steps"]
    H = runs.histories
    grid = []
    for g in settings["lrs"]:
        histories = [H[(rule, g, seed, select)] for seed in S]
        grid.append({"lr": g, "validation_mean": grid_mean(settings, rule, g, H),
                     "validation_accuracies": [h.final_validation_accuracy for h in histories],
                     "diverged_at": [h.diverged_at for h in histories]})
    # run_seconds: the sum of the rule's runs' training times (a stack's wall time counted once);
    # runs in worker processes overlap, so the rules' times add up to more than the wall time
    row = {"rule": rule, "label": rules.RULES[rule].label, "stacked": rule in STACKED, "grid": grid, "chosen_lr": lr,
           "run_seconds": runs.seconds.get(rule, 0.0)}
    if lr is None:
        return dict(row, test=[], curves=None, alignment=None, checkpoint_equals_grid=None)
    long = [H[(rule, lr, seed, final)] for seed in S]
    row["validation_at_select"] = summary(at_step(h, select, "validation_accuracies") for h in long)
    row["test"] = [dict(summary(at_step(h, steps) for h in long), steps=steps) for steps in dict.fromkeys((select, final))]
    row["diverged_at"] = [h.diverged_at for h in long]
    # the long run's checkpoint is the grid's run: same seed, same batches, same updates
    row["checkpoint_equals_grid"] = all(
        at_step(h, select, "validation_accuracies") == H[(rule, lr, seed, select)].final_validation_accuracy
        and at_step(h, select) == H[(rule, lr, seed, select)].final_test_accuracy for h, seed in zip(long, S))
    row["curves"] = {"eval_steps": max((h.eval_steps for h in long), key=len),
                     "test_accuracy_mean": _mean_curve([h.test_accuracies for h in long]),
                     "test_accuracy_per_seed": [list(map(float, h.test_accuracies)) for h in long],
                     "loss_steps": max((h.steps for h in long), key=len),
                     "running_loss_mean": _mean_curve([h.losses for h in long]),
                     "running_loss_per_seed": [list(map(float, h.losses)) for h in long]}
    row["alignment"] = alignment_summary(settings, [runs.angles.get((rule, lr, seed, final)) for seed in S])
    return row


def alignment_summary(settings, per_seed) -> dict | None:
    """The angles of the seeds' runs: {steps, update: {W: {mean, per_seed}}, feedback: {...}}; None if not measured."""
    if not per_seed or any(a is None for a in per_seed):
        return None
    steps = [s for s in settings["alignment_steps"] if all(s in a for a in per_seed)]
    out = {"steps": steps, "probe": f"the first {settings['probe_size']} validation images"}
    for kind in ("update", "feedback"):
        names = sorted(per_seed[0][steps[0]][kind]) if steps else []
        out[kind] = {name: {"per_seed": [[a[s][kind][name] for s in steps] for a in per_seed],
                            "mean": [float(np.mean([a[s][kind][name] for a in per_seed])) for s in steps]}
                     for name in names}
    return out


# ---------------------------------------------------------------- what the file records


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def syntax_digest(source: str) -> str:
    """SHA-256 of Python source's syntax tree without docstrings: comments and docstrings do not change it."""
    return hashlib.sha256(ast.dump(_strip_docstrings(ast.parse(source))).encode("utf-8")).hexdigest()


def code_version() -> str:
    """SHA-256 (first 16 hex digits) of the measuring code: helpers/rules.py, train.py, alignment.py and this module.

    Each file counts by its syntax tree without docstrings (:func:`syntax_digest`), so
    editing a comment or a docstring does not make the stored results stale.
    (``ast.dump`` may differ between Python versions: regenerate after changing Python.)
    """
    from . import alignment, train as train_module

    digests = [syntax_digest(Path(m.__file__).read_text(encoding="utf-8"))
               for m in (rules, train_module, alignment, sys.modules[__name__])]
    return hashlib.sha256("".join(digests).encode("ascii")).hexdigest()[:16]


def results_problems(result: dict) -> list:
    """Why a results file was not made by the current full settings and code ([] when it was)."""
    problems = []
    for key, value in full_settings().items():
        if result.get("settings", {}).get(key) != value:
            problems.append(f"setting {key}: file has {result.get('settings', {}).get(key)!r}, the full run uses {value!r}")
    if result.get("code_version") != code_version():
        problems.append(f"code_version: file has {result.get('code_version')!r}, the code is {code_version()!r}")
    return problems


def load_results(path=None) -> dict:
    """results/rules.json (or ``path``), with JSON null accuracies back as nan."""
    return json.loads(Path(path or RESULTS_PATH).read_text(encoding="utf-8"), object_hook=_nan_back)


def _nan_back(obj: dict) -> dict:
    for key in ("mean", "sd", "validation_mean"):
        if key in obj and obj[key] is None:
            obj[key] = float("nan")
    for key in ("per_seed", "validation_accuracies", "test_accuracy_mean", "running_loss_mean"):
        if isinstance(obj.get(key), list) and obj[key] and not isinstance(obj[key][0], list):
            obj[key] = [float("nan") if v is None else v for v in obj[key]]
    return obj


def _finite(value):
    """The result with nan (a diverged run) as None, so the JSON is standard."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_json(result: dict) -> str:
    return json.dumps(_finite(result), allow_nan=False)


def _percent(s) -> str:
    if not s or not math.isfinite(s["mean"]):
        return "diverged"
    return f"{100 * s['mean']:.2f} ± {100 * s['sd']:.2f}"


def table_text(result: dict) -> str:
    """The comparison as a text table (what ``python -m helpers rules`` prints without --json)."""
    st = result["settings"]
    lines = [f"Learning rules: MLP 784-{st['hidden_size']}-{st['hidden_size']}-10, {st['optimizer']}, batch {st['batch_size']}, "
             f"seeds {st['seeds']}; lr chosen on validation at {st['select_steps']} steps from {st['lrs']}; "
             "test accuracy %, mean ± s.d. over seeds",
             f"{'rule':<10} {'chosen lr':>9} {'val % at sel.':>14} "
             + " ".join(f"{f'test % at {s}':>17}" for s in dict.fromkeys((st['select_steps'], st['steps'])))
             + f" {'diverged lrs':>14} {'run s':>7}"]
    for row in result["rules"]:
        diverged = [f"{g['lr']:g}" for g in row["grid"] if any(d is not None for d in g["diverged_at"])]
        lr = f"{row['chosen_lr']:g}" if row["chosen_lr"] is not None else "none"
        tests = " ".join(f"{_percent(t):>17}" for t in row["test"]) if row["test"] else f"{'every lr diverged':>17}"
        lines.append(f"{row['rule']:<10} {lr:>9} {_percent(row.get('validation_at_select')):>14} {tests} "
                     f"{','.join(diverged) or '-':>14} {row['run_seconds']:>7.1f}")
    lines.append(f"wall time {result['wall_seconds']:.0f} s with {result['jobs']} worker process(es)")
    return "\n".join(lines)


def compare_rules(data, names=None, *, quick: bool = False, jobs: int = 1, log=None, progress=None, cache=None,
                  **overrides) -> dict:
    """The comparison for the rules ``names`` (default: every registered rule, yours included).

    ``quick``: few steps, 1 seed, 2 learning rates (seconds; what the tests run). ``overrides``
    replace single settings (e.g. ``seeds=[0, 1]``). Returns what results/rules.json holds.
    """
    settings = dict(QUICK if quick else FULL, rules=list(names or rules.RULES), **overrides)
    return measure_all(data, settings, jobs=jobs, log=log, progress=progress, cache=cache)


# ---------------------------------------------------------------- the command line


def add_arguments(parser) -> None:
    parser.add_argument("--rules", default=None, help="comma-separated rule names (default: every registered rule)")
    parser.add_argument("--quick", action="store_true", help="a reduced run for tests: 1 seed, 2 learning rates, 400 steps")
    parser.add_argument("--jobs", type=int_at_least(1), default=min(2, os.cpu_count() or 1),
                        help="worker processes for the runs that are not stacked (default %(default)s)")
    parser.add_argument("--cache", default=None, help="a directory to keep finished runs in: a rerun loads them instead of training again")
    parser.add_argument("--out", default=None, help="also write the JSON results to this file")
    parser.add_argument("--data-dir", default=None, help="directory with the four MNIST .gz files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def run(args) -> int:
    """``python -m helpers rules``."""
    from .data import MnistError, load_mnist
    from .progress import TerminalProgress

    prog = "python -m helpers rules"
    names = list(rules.RULES) if args.rules is None else [n.strip() for n in args.rules.split(",") if n.strip()]
    settings = dict(QUICK if args.quick else FULL, rules=names)
    try:
        check_settings(settings)
        if args.out is not None and not Path(args.out).resolve().parent.is_dir():
            raise ValueError(f"--out {args.out}: the directory {Path(args.out).resolve().parent} does not exist; "
                             "create it or choose another path")
        if args.cache is not None and not Path(args.cache).is_dir():
            raise ValueError(f"--cache {args.cache}: not a directory; create it (mkdir) or leave --cache out")
        data = load_mnist(args.data_dir)
    except (ValueError, MnistError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    progress = TerminalProgress(unit="steps")
    result = measure_all(data, settings, jobs=args.jobs, progress=progress if progress.enabled else None, cache=args.cache,
                         log=lambda message: progress.clear() or print(f"measured: {message}", file=sys.stderr, flush=True))
    text = to_json(result)
    if args.out is not None:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text if args.json else table_text(result))
    return 0
