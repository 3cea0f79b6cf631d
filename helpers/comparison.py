"""Every learning rule on the baseline's protocol, with the same learning-rate care: ``python -m helpers rules``.

The protocol (``FULL``): MLP 784-128-128-10, reference init, batch 32, the
reference split (55,000 train, 5,000 validation, 10,000 test), seeds 0-2, SGD.
Each rule gets the learning-rate grid 1e-3, 3e-3, 1e-2, 3e-2, 1e-1; the
learning rate is chosen by the mean validation accuracy over seeds at 10,000
steps (an lr where a seed diverged cannot be chosen); the test accuracy is
reported once, for the chosen lr, at 10,000 and 50,000 steps: the chosen lr
is run to 50,000 steps, and its 10,000-step checkpoint is the grid's run
(same seed, same batches: the file records that they agree).
The 50,000-step runs of every rule but ``top`` (trained together) also record the
alignment angles and update-size ratios (``helpers.alignment``) at log-spaced
steps. A chosen lr at an edge of the grid adds the next lr beyond it (up to
three times) and the row records where the choice fell; a rule's own
hyperparameters are set or chosen on validation with the lr
(:class:`Protocol`); a rule that raises gets a row saying so.

Each rule decides how its runs train (``helpers.train.train_many``): a rule
that trains many together (``top``: one lockstep stack on the frozen features,
``helpers.readout``) gets each batch of its runs in one call, in this process;
the other rules' runs go one at a time through ``helpers.train.train``, in ``jobs``
worker processes (each run uses one BLAS thread; the runs are independent,
so the numbers do not depend on ``jobs``). A rule registered with
``helpers.rules.register_rule`` (in a notebook cell) gets its row from
:func:`compare_rules` without any change to the project; from the shell,
``python -m helpers rules --import my_rules.py --rules mine``.

``--out`` is checked before any training and written whole at the end
(helpers.results.write_results); ``--cache DIR`` keeps each finished run, so
a rerun after Ctrl-C, a dead worker or an error resumes. The file records the
digests of the code that made it (helpers.results.provenance).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import json
import math
import multiprocessing
import os
import pickle
import re
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import results, rules
from .alignment import AlignmentRecorder, probe_batch
from .cli_args import int_at_least
from .data import DTYPES, check_dtype, images_dtype
from .model import frozen_features
from .results import accuracy_at, summary, to_json
from .train import History, TrainConfig, initial_params, train, train_many

MAX_EDGE_EXTENSIONS = 3  # at most this many learning rates are added beyond an edge of the grid
# errors of the machine, not of a rule: they stop the comparison instead of failing one row
ENVIRONMENT_ERRORS = (MemoryError, OSError)


@dataclass(frozen=True)
class Protocol:
    """The comparison's settings, checked when made: ``Protocol(seeds=[0, 1])``; a wrong name or value
    raises ValueError naming it. ``as_dict()`` is what the results file records.

    hyperparameters      {rule: {name: value}}: a rule's own settings (``rules.rule_hyperparameters``).
    hyperparameter_grid  {rule: {name: [values]}}: chosen on validation together with the lr.
    extend_edges         if the chosen lr is the grid's largest (smallest), the next lr beyond it (the grid's
                         last ratio) is run too, up to MAX_EDGE_EXTENSIONS times: a best lr at an edge is a
                         grid too small, not a choice.
    dtype                "float64" (the baseline's) or "float32": every run computes in it (the images and
                         parameters; helpers.data.DTYPES). float32 takes about 0.6 of the time and moves the
                         last digits (docs/measurements.md): compare a float32 row with float32 rows.
    """

    seeds: tuple = (0, 1, 2)
    lrs: tuple = (0.001, 0.003, 0.01, 0.03, 0.1)
    select_steps: int = 10000
    steps: int = 50000
    batch_size: int = 32
    hidden_size: int = 128
    init: str = "reference"
    optimizer: str = "sgd"
    log_every: int = 250
    eval_every: int = 1000
    alignment_steps: tuple = (0, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 50000)
    probe_size: int = 1000
    extend_edges: bool = True
    hyperparameters: dict = field(default_factory=dict)
    hyperparameter_grid: dict = field(default_factory=dict)
    dtype: str = "float64"

    def __post_init__(self):
        object.__setattr__(self, "dtype", check_dtype(self.dtype).name)
        for key in ("seeds", "lrs", "alignment_steps"):
            value = getattr(self, key)
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{key} must be a list, e.g. {key}=[{getattr(Protocol, key)[0]!r}], got {value!r}")
            object.__setattr__(self, key, tuple(value))
            if key != "alignment_steps" and not value:
                raise ValueError(f"{key} is empty; give at least one value")
            if len(set(value)) != len(value):
                raise ValueError(f"{key} has a repeated value: {list(value)}; give each once")
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in self.seeds):
            raise ValueError(f"seeds must be non-negative integers, got {list(self.seeds)}")
        if not all(isinstance(g, (int, float)) and math.isfinite(g) and g > 0 for g in self.lrs):
            raise ValueError(f"lrs must be finite numbers > 0, got {list(self.lrs)}")
        object.__setattr__(self, "lrs", tuple(sorted(float(g) for g in self.lrs)))
        if not self.select_steps < self.steps:
            raise ValueError(f"the selection step ({self.select_steps}) must be below the steps ({self.steps})")
        for key in ("select_steps", "steps"):
            if getattr(self, key) % self.eval_every:
                raise ValueError(
                    f"{key} ({getattr(self, key)}) must be a multiple of eval_every ({self.eval_every}) "
                    "so that the accuracy is evaluated there"
                )
        if not all(0 <= s <= self.steps for s in self.alignment_steps):
            raise ValueError(f"alignment_steps must lie in 0..steps ({self.steps}), got {list(self.alignment_steps)}")
        for key in ("hyperparameters", "hyperparameter_grid"):
            if not isinstance(getattr(self, key), dict):
                raise ValueError(f"{key} must be a dict {{rule: {{name: value}}}}, got {getattr(self, key)!r}")
        for rule, values in self.hyperparameters.items():
            rules.check_hyperparameters(rule, values)
        for rule, grid in self.hyperparameter_grid.items():
            for name, values in grid.items():
                if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not values:
                    raise ValueError(f"hyperparameter_grid[{rule!r}][{name!r}] must be a non-empty list of values")
                for value in values:
                    rules.check_hyperparameters(rule, {name: value})
        TrainConfig(
            steps=self.steps,
            batch_size=self.batch_size,
            hidden_size=self.hidden_size,
            init=self.init,
            optimizer=self.optimizer,
            log_every=self.log_every,
            eval_every=self.eval_every,
        ).validate()

    def as_dict(self) -> dict:
        """Plain JSON values, lists for tuples."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}


def make_protocol(quick: bool = False, **overrides) -> Protocol:
    """The full protocol, or the quick one (seconds: what the tests run), with ``overrides``; ValueError naming
    an unknown setting."""
    known = {f.name for f in fields(Protocol)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(unknown)}; the protocol's settings are {', '.join(sorted(known))}"
        )
    base = QUICK_OVERRIDES if quick else {}
    return Protocol(**{**base, **overrides})


QUICK_OVERRIDES = {
    "seeds": [0],
    "lrs": [0.01, 0.1],
    "select_steps": 200,
    "steps": 400,
    "log_every": 50,
    "eval_every": 100,
    "alignment_steps": [0, 10, 100, 400],
    "probe_size": 200,
    "extend_edges": False,
}
FULL = Protocol().as_dict()
QUICK = make_protocol(quick=True).as_dict()
# top-level names that do not make numbers (printing, the command line, the worker processes, the file's
# bookkeeping): left out of this module's digest (helpers.results.provenance), so editing them keeps results fresh
NOT_NUMERICAL = (
    "table_text",
    "_percent",
    "add_arguments",
    "run",
    "_Tracked",
    "import_plugin",
    "_plugin_imports",
    "_watch_parent",
    "_init_worker",
    "_work",
    "_end_workers",
    "_stderr",
    "WorkerDied",
    "START_METHOD",
    "_SHARED",
    "MODULES",
    "settings_for_key",
    "provenance",
    "code_version",
    "results_problems",
    "load_results",
    "RESULTS_PATH",
    "RESULTS_COMMAND",
    "NOT_NUMERICAL",
    "parse_grid_options",
)
RESULTS_PATH = Path(__file__).resolve().parent.parent / "results" / "rules.json"
RESULTS_COMMAND = "python -m helpers rules --out results/rules.json"


def package_rules() -> list:
    """The rules that helpers.rules itself defines (not ones registered from outside), in registry order."""
    return [
        name
        for name, cls in rules.RULES.items()
        if cls.__module__ == rules.__name__ and not cls.__name__.startswith("FunctionRule_")
    ]


def full_settings() -> dict:
    """The settings of the stored results file: FULL, with every rule of the package."""
    return dict(FULL, rules=package_rules())


def check_settings(settings: dict) -> dict:
    """Raise ValueError naming the first bad setting and the fix; return the settings (with the protocol's defaults
    filled in for settings a caller left out)."""
    settings = dict(settings)
    names = settings.pop("rules", None)
    if not names:
        raise ValueError("no rules to compare; name at least one, e.g. --rules top,fa")
    for name in names:
        rules.check_rule(name)
    if len(set(names)) != len(names):
        raise ValueError(f"rules has a repeated value: {list(names)}; give each once")
    protocol = make_protocol(**settings)
    for rule in list(protocol.hyperparameters) + list(protocol.hyperparameter_grid):
        if rule not in names:
            raise ValueError(
                f"hyperparameters are given for {rule!r}, which is not among the rules compared ({', '.join(names)})"
            )
    return dict(protocol.as_dict(), rules=list(names))


def variants(settings, rule) -> list:
    """The rule's settings to choose from, as specs: one per point of its hyperparameter grid ("kp:decay=0.001")."""
    fixed = settings.get("hyperparameters", {}).get(rule, {})
    grid = settings.get("hyperparameter_grid", {}).get(rule, {})
    points = [dict(fixed)]
    for name, values in grid.items():
        points = [dict(p, **{name: v}) for p in points for v in values]
    return [rules.rule_spec(rule, p) for p in points]


def _config(settings, spec, lr, seed, steps) -> TrainConfig:
    """The TrainConfig of one run; ``spec`` is a rule name, or a name with hyperparameters ("kp:decay=0.001")."""
    rule = rules.rule_name(spec)
    # the grid's runs are evaluated only at the start and at select_steps: nothing else of them
    # is reported, and an evaluation (15,000 images) costs as much as ~100 steps
    eval_every = settings["select_steps"] if steps == settings["select_steps"] else settings["eval_every"]
    return TrainConfig(
        steps=steps,
        lr=lr,
        batch_size=settings["batch_size"],
        hidden_size=settings["hidden_size"],
        seed=seed,
        rule=rule,
        init=settings["init"],
        optimizer=settings["optimizer"],
        log_every=settings["log_every"],
        eval_every=eval_every,
    )


# ---------------------------------------------------------------- running the runs


def _train_one(data, settings, spec, lr, seed, steps, align, progress=None):
    """One run through helpers.train.train: (History, alignment angles {step: ...} or None)."""
    name, hyperparameters = rules.parse_rule_spec(spec)
    learning_rule = rules.make_rule(name, **hyperparameters)
    if align:
        learning_rule = AlignmentRecorder(
            learning_rule, probe_batch(data, settings["probe_size"]), settings["alignment_steps"]
        )
    params, history = train(data, _config(settings, spec, lr, seed, steps), rule=learning_rule, progress=progress)
    if not align:
        return history, None
    if history.diverged_at is None and steps in learning_rule.steps:  # the last state has no step after it
        learning_rule.record(steps, params)
    return history, learning_rule.angles


def _cached_run(data, settings, task, cache=None, progress=None, log=None, record=None):
    """``_train_one`` for task (rule, lr, seed, steps, align), loaded from ``cache`` (a directory) if it holds it.

    A cached run is keyed by the digests of the code it executes (helpers.results: the numerical
    modules and, for a plug-in rule, the rule's own source), the settings (but the list of rules)
    and the task. A rule whose source Python cannot find is never cached. An entry that does
    not load (a truncated or foreign file) is named and trained again. ``record``: the
    :func:`provenance` taken when the comparison started (default: now), so that a file
    edited during a long run does not file old results under the new code's key.
    """
    if cache is None:
        return task, *_train_one(data, settings, *task, progress=progress)
    rule = rules.rule_name(task[0])  # task[0] is a spec: the rule and its hyperparameters ("kp:decay=0.001")
    record = record or provenance([rule])
    record = dict(record, rules={name: d for name, d in record["rules"].items() if name == rule})
    if None in record["rules"].values():
        return task, *_train_one(data, settings, *task, progress=progress)
    same = json.dumps({k: v for k, v in settings_for_key(settings).items() if k != "rules"}, sort_keys=True)
    key = hashlib.sha256(f"{results.code_version(record)} {same} {task!r}".encode("utf-8")).hexdigest()[:24]
    slug = re.sub(r"[^A-Za-z0-9_.-]", "_", task[0])  # a rule's name never makes a path outside the directory
    path = Path(cache) / f"{slug}-lr{task[1]:g}-seed{task[2]}-{task[3]}-{key}.pickle"
    if path.is_file():
        try:
            history, angles = pickle.loads(path.read_bytes())
            if not isinstance(history, History):
                raise TypeError(f"holds a {type(history).__name__}, not a History")
            return task, history, angles
        except Exception as exc:  # noqa: BLE001 (a damaged pickle raises anything: EOFError, UnpicklingError, ...)
            (log or _stderr)(f"cache entry {path} is corrupt ({type(exc).__name__}: {exc}); training it again")
    result = _train_one(data, settings, *task, progress=progress)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(pickle.dumps(result))
    partial.replace(path)  # whole files only: an interrupted run leaves no half-written entry
    return (task, *result)


def _stderr(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker processes
#
# The runs of rules that do not train together go to ``jobs`` worker processes (concurrent.futures). Where the
# platform has ``fork`` (Linux), the workers start as copies of this process: they inherit the
# data and every rule registered here, a notebook cell's included, at no cost. Elsewhere (macOS,
# Windows) they start fresh (``spawn``): they get the data pickled and import the modules that
# define the plug-in rules (``--import`` ones included); a rule defined in a notebook or script
# (``__main__``) cannot be imported there and is refused with a clear error (use jobs=1 or put it
# in a module). joblib/loky would pickle such rules by value (cloudpickle), at the price of a new
# dependency: not worth it for the rare notebook user who wants worker processes off Linux.

START_METHOD = None  # None: fork where the platform has it, else spawn (tests set "spawn" to check that path)
_SHARED = {}  # (data, settings, cache, record) in a worker process, set by _init_worker


class WorkerDied(RuntimeError):
    """A worker process ended without a result (killed, most often for lack of memory)."""


def import_plugin(spec: str):
    """Import ``spec``: a module name (``my_rules``, ``pkg.rules``) or a .py file's path; return the module.

    A file is imported under its stem's name (``rules/kp.py`` -> ``kp``) and put in sys.modules,
    so that its rules pickle by reference; importing it again runs the (edited) file again.
    Raises ValueError naming the problem and the fix.
    """
    if spec.endswith(".py") or os.sep in spec or "/" in spec:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ValueError(f"--import {spec}: no such file; give a .py file's path or a module name")
        name = path.stem  # executed afresh each time: an edited file's rules replace the old ones
        module_spec = importlib.util.spec_from_file_location(name, path.resolve())
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ValueError(f"--import {spec}: importing it raised {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as exc:
        if exc.name and spec.split(".")[0].startswith(exc.name.split(".")[0]):
            raise ValueError(
                f"--import {spec}: no module named {exc.name!r} on the path; give a .py file's path, "
                "or run from the directory that holds the module"
            ) from exc
        raise ValueError(f"--import {spec}: importing it raised ModuleNotFoundError: {exc}") from exc
    except Exception as exc:
        raise ValueError(f"--import {spec}: importing it raised {type(exc).__name__}: {exc}") from exc


def _plugin_imports(rule_names) -> list:
    """What a fresh (spawned) worker must import to know ``rule_names``: the modules (or files) defining them."""
    imports = []
    for name in rule_names:
        where = results.plugin_object(rules.RULES[name]).__module__  # a function rule's class is made in helpers.rules
        if where.startswith("helpers."):
            continue
        origin = getattr(sys.modules.get(where), "__file__", None)
        if where == "__main__" or origin is None:
            raise ValueError(
                f"rule {name!r} is defined in {where} (a notebook or a script): worker processes "
                "on this platform start fresh (spawn) and cannot import it; put it in a module "
                "(python -m helpers rules --import my_rules.py) or use one job (jobs=1)"
            )
        spec = where if "." in where else origin  # a package's module by name (its relative imports), else its file
        if spec not in imports:
            imports.append(spec)
    return imports


def _watch_parent(parent: int):
    """End this worker when its parent process is gone (a killed ``rules --jobs 2`` leaves no worker waiting)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(data, settings, cache, record, imports, parent):
    # Ctrl-C is the parent's to handle: a worker ignores it (no traceback per worker), the parent ends the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):  # the kernel ends this process when the parent dies, at once
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()  # every platform: poll
    for spec in imports:
        import_plugin(spec)
    _SHARED.update(data=data, settings=settings, cache=cache, record=record)


def _work(task):
    return _cached_run(_SHARED["data"], _SHARED["settings"], task, _SHARED["cache"], record=_SHARED["record"])


def _end_workers(pool):
    """Stop a pool's worker processes now (on Ctrl-C or an error), not after their current runs."""
    pool.shutdown(wait=False, cancel_futures=True)
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def _together(data, settings, rule, keys, features):
    """Runs of a rule that trains them together, in one call: keys [(lr, seed, steps)] -> {(lr, seed, steps): History}."""
    results = train_many(
        data, [_config(settings, rule, lr, seed, steps) for lr, seed, steps in keys], features=features
    )
    return {key: history for key, (_, history) in zip(keys, results)}


class _Runs:
    """Histories and angles by (spec, lr, seed, steps), with the bookkeeping of the progress bar."""

    def __init__(self, total_steps, progress, log):
        self.histories, self.angles, self.seconds = {}, {}, {}
        self.total, self.done, self.progress, self.log = total_steps, 0, progress, log

    def add(self, key, history, angles, seconds=None):
        """Store one run; ``seconds`` it cost (default its train_seconds; a stack's runs share one time)."""
        self.histories[key], self.angles[key] = history, angles
        rule = rules.rule_name(key[0])
        self.seconds.setdefault(rule, 0.0)
        self.seconds[rule] += history.train_seconds if seconds is None else seconds
        self.done += key[3]  # a diverged run's planned steps count as done: nothing more runs for it
        spec, lr, seed, steps = key
        state = (
            f"diverged at step {history.diverged_at}"
            if history.diverged_at
            else f"validation {100 * history.final_validation_accuracy:.2f}%"
        )
        self.log(f"{spec} lr {lr:g} seed {seed}, {steps} steps: {state} ({history.train_seconds:.1f} s)")
        self.report(f"done: {spec} lr {lr:g} seed {seed}")

    def report(self, label, extra=0):
        if self.progress is not None:
            if hasattr(self.progress, "label"):
                self.progress.label = label
            self.progress(min(self.done + extra, self.total), self.total)


def choose(settings, specs, lrs, histories):
    """The (spec, lr) with the highest mean validation accuracy over seeds at select_steps; ties: the first
    (specs in order, then the smallest lr); an lr where a seed diverged cannot be chosen. None if none is left."""
    means = {(spec, lr): grid_mean(settings, spec, lr, histories) for spec in specs for lr in sorted(lrs)}
    finite = {key: m for key, m in means.items() if math.isfinite(m)}
    return max(finite, key=finite.get) if finite else None


def grid_mean(settings, rule, lr, histories) -> float:
    """Mean validation accuracy at select_steps over seeds; nan if a seed diverged."""
    values = [
        histories[(rule, lr, seed, settings["select_steps"])].final_validation_accuracy for seed in settings["seeds"]
    ]
    return float(np.mean(values))


def edge_of(lr, lrs):
    """ "largest" or "smallest" if ``lr`` is that end of the grid ``lrs`` (of two or more); else None."""
    if lr is None or len(lrs) < 2:
        return None
    return "largest" if lr == max(lrs) else "smallest" if lr == min(lrs) else None


def beyond_edge(lrs, edge) -> float:
    """The next lr beyond the grid's ``edge``, one of the grid's end ratios further (0.1 after 0.03, 0.1 -> 0.3...)."""
    ordered = sorted(lrs)
    if edge == "largest":
        return float(f"{ordered[-1] * ordered[-1] / ordered[-2]:.3g}")
    return float(f"{ordered[0] * ordered[0] / ordered[1]:.3g}")


def measure_all(data, settings, jobs: int = 1, log=None, progress=None, cache=None) -> dict:
    """Every rule in ``settings``; see the module docstring. Returns the results file's content.

    cache: optional directory where each finished run is stored and found again (see _cached_run).
    A rule whose run raises gets a row that says so ("failed"); the other rules' rows are kept.
    """
    settings = check_settings(settings)
    record = provenance(settings["rules"])  # the code as it is now, when the runs start
    if images_dtype(data).name != settings["dtype"]:  # every run computes in the protocol's dtype
        data = data.astype(settings["dtype"])
    log = log or (lambda message: None)
    started = time.perf_counter()
    S, select, final = settings["seeds"], settings["select_steps"], settings["steps"]
    specs = {rule: variants(settings, rule) for rule in settings["rules"]}
    lrs = {rule: list(settings["lrs"]) for rule in settings["rules"]}  # grows where the edge is chosen
    total = sum(len(specs[r]) * len(lrs[r]) * len(S) * select + len(S) * final for r in settings["rules"])
    runs = _Runs(total, progress, log)
    features, chosen, failed, extensions = {}, {}, {}, {rule: 0 for rule in settings["rules"]}
    together = [r for r in settings["rules"] if rules.trains_together(r)]  # the rest: one run per worker task
    if together:
        for seed in S:  # the frozen features of each seed's start, shared by its top-only runs
            start = initial_params(_config(settings, "top", 1e-3, seed, final), images_dtype(data))
            features[seed] = frozen_features(start, data)

    def grid_tasks(rule, grid_lrs):
        return [(spec, lr, seed, select, False) for lr in grid_lrs for spec in specs[rule] for seed in S]

    def finish_grid(rule):
        """The rule's grid is complete: more grid runs beyond an edge, or its chosen setting's long runs."""
        chosen[rule] = choose(settings, specs[rule], lrs[rule], runs.histories)
        edge = edge_of(chosen[rule][1] if chosen[rule] else None, lrs[rule])
        if edge and settings["extend_edges"] and extensions[rule] < MAX_EDGE_EXTENSIONS:
            extensions[rule] += 1
            extra = beyond_edge(lrs[rule], edge)
            lrs[rule].append(extra)
            runs.total += len(specs[rule]) * len(S) * select
            log(f"{rule}: the best lr {chosen[rule][1]:g} is the grid's {edge}; adding lr {extra:g}")
            return grid_tasks(rule, [extra])
        if chosen[rule] is None:
            log(f"{rule}: every lr diverged")
            return []
        log(f"{rule}: chosen {chosen[rule][0]} lr {chosen[rule][1]:g}" + (f" (the grid's {edge})" if edge else ""))
        return [(chosen[rule][0], chosen[rule][1], seed, final, rule not in together) for seed in S]

    def fail(rule, exc):
        if isinstance(exc, ENVIRONMENT_ERRORS):  # the machine's, not the rule's: stop (a rerun with --cache resumes)
            raise exc
        failed[rule] = f"{type(exc).__name__}: {exc}"
        log(f"{rule}: failed ({failed[rule]}); the other rules go on")

    def run_together(rule):
        def stack(keys):  # every History of a stack has the stack's wall time: count it once
            for i, (key, history) in enumerate(_together(data, settings, rule, keys, features).items()):
                runs.add((rule,) + key, history, None, seconds=0.0 if i else history.train_seconds)

        try:
            todo = [(lr, seed, select) for lr in lrs[rule] for seed in S]
            while todo:
                stack(todo)
                todo = [(lr, seed, steps) for _, lr, seed, steps, _ in finish_grid(rule)]
                if todo and todo[0][2] == final:  # one stack holds every seed of the chosen lr
                    stack(todo)
                    todo = []
        except Exception as exc:  # a row that failed is reported, the comparison goes on
            fail(rule, exc)

    one_by_one = [r for r in settings["rules"] if r not in together]
    pending = {rule: len(specs[rule]) * len(lrs[rule]) * len(S) for rule in one_by_one}  # grid runs not yet finished

    def finished(task, history, angles):
        """Store a run; when it completes its rule's grid, return the next runs of the rule."""
        rule = rules.rule_name(task[0])
        runs.add(task[:4], history, angles)
        if task[3] != select:
            return []
        pending[rule] -= 1
        if pending[rule]:
            return []
        more = finish_grid(rule)
        pending[rule] = sum(1 for t in more if t[3] == select)
        return more

    def task_failed(task, exc):
        rule = rules.rule_name(task[0])
        if rule not in failed:
            fail(rule, exc)
        queue[:] = [t for t in queue if rules.rule_name(t[0]) != rule]

    # the runs go rule by rule (a rule's long runs before the next rule's grid), so that rows
    # complete one after another and at most ``jobs`` runs are in flight
    order = {rule: i for i, rule in enumerate(settings["rules"])}
    queue = [task for rule in one_by_one for task in grid_tasks(rule, lrs[rule])]

    def next_task():
        task = min(queue, key=lambda t: order[rules.rule_name(t[0])])  # the first of the earliest rule
        queue.remove(task)
        return task

    if jobs <= 1 or not one_by_one:
        for rule in settings["rules"]:
            if rule in together:
                run_together(rule)
        while queue:
            task = next_task()
            label = f"{task[0]} lr {task[1]:g} seed {task[2]}, {task[3]} steps"
            report = (lambda step, steps, label=label: runs.report(label, step)) if progress else None
            try:
                queue.extend(finished(*_cached_run(data, settings, task, cache, progress=report, record=record)))
            except Exception as exc:
                task_failed(task, exc)
    else:
        method = START_METHOD or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        context = multiprocessing.get_context(method)
        imports = [] if method == "fork" else _plugin_imports(one_by_one)
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=context,
            initializer=_init_worker,
            initargs=(data, settings, cache, record, imports, os.getpid()),
        )
        futures = {}
        try:
            for _ in range(min(jobs, len(queue))):
                task = next_task()
                futures[pool.submit(_work, task)] = task
            for rule in settings["rules"]:
                if rule in together:  # in this process, while the workers train the others
                    run_together(rule)
            while futures:
                future = next(as_completed(futures))
                task = futures.pop(future)
                try:
                    done = future.result()
                except BrokenProcessPool:
                    where = f" --cache {cache}" if cache is not None else " --cache DIR"
                    raise WorkerDied(
                        f"a worker process died while training {task[0]} lr {task[1]:g} seed {task[2]} "
                        f"(out of memory?); resume with{where} --jobs 1"
                    ) from None
                except Exception as exc:  # the rule raised: its row says so, the others go on
                    task_failed(task, exc)
                    done = None
                if done is not None:
                    queue.extend(finished(*done))
                while queue and len(futures) < jobs:
                    task = next_task()
                    futures[pool.submit(_work, task)] = task
        except BaseException:
            _end_workers(pool)
            raise
        pool.shutdown(wait=True)
    rows = [
        failed_row(rule, failed[rule])
        if rule in failed
        else rule_row(settings, rule, chosen.get(rule), runs, specs[rule], lrs[rule])
        for rule in settings["rules"]
    ]
    if progress is not None and hasattr(progress, "clear"):
        progress.clear()
    return {
        "rules": rows,
        "settings": settings,
        "code_version": results.code_version(record),
        "provenance": record,
        "jobs": int(jobs),
        "wall_seconds": time.perf_counter() - started,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ---------------------------------------------------------------- one rule's row


def _mean_curve(curves) -> list:
    """Mean over seeds at each point; nan where a seed's run had stopped (diverged)."""
    length = max(len(c) for c in curves)
    padded = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        padded[i, : len(c)] = c
    return [float(v) for v in padded.mean(axis=0)]


def failed_row(rule, error: str) -> dict:
    """The row of a rule whose run raised: what it raised, and no numbers."""
    return {
        "rule": rule,
        "label": rules.RULES[rule].label,
        "stacked": rules.trains_together(rule),
        "failed": error,
        "grid": [],
        "chosen_lr": None,
        "chosen_hyperparameters": None,
        "chosen_at_edge": None,
        "test": [],
        "curves": None,
        "alignment": None,
        "checkpoint_equals_grid": None,
        "run_seconds": 0.0,
    }


def effective(spec) -> dict:
    """The hyperparameters a run with this spec used: the rule's defaults, updated by the spec's ("kp:decay=0")."""
    name, given = rules.parse_rule_spec(spec)
    return dict(rules.rule_hyperparameters(rules.RULES[name]), **given)


def rule_row(settings, rule, chosen, runs, specs=None, lrs=None) -> dict:
    """The results of one rule: the grid's validation means, the chosen setting's test accuracies, curves, alignment.

    chosen: (spec, lr) or None (every lr diverged); specs and lrs: the rule's grid (default: the rule alone, settings' lrs).
    """
    S, select, final = settings["seeds"], settings["select_steps"], settings["steps"]
    specs, lrs = specs or [rule], sorted(lrs or settings["lrs"])
    H = runs.histories
    grid = []
    for spec in specs:
        for g in lrs:
            histories = [H[(spec, g, seed, select)] for seed in S]
            grid.append(
                {
                    "lr": g,
                    "hyperparameters": effective(spec),
                    "validation_mean": grid_mean(settings, spec, g, H),
                    "validation_accuracies": [h.final_validation_accuracy for h in histories],
                    "diverged_at": [h.diverged_at for h in histories],
                    "added_beyond_edge": g not in settings["lrs"],
                }
            )
    spec, lr = chosen if chosen else (None, None)
    # run_seconds: the sum of the rule's runs' training times (a stack's wall time counted once);
    # runs in worker processes overlap, so the rules' times add up to more than the wall time
    row = {
        "rule": rule,
        "label": rules.RULES[rule].label,
        "stacked": rules.trains_together(rule),
        "failed": None,
        "grid": grid,
        "chosen_lr": lr,
        "chosen_hyperparameters": effective(spec) if spec else None,
        "chosen_at_edge": edge_of(lr, lrs),
        "run_seconds": runs.seconds.get(rule, 0.0),
    }
    if lr is None:
        return dict(row, test=[], curves=None, alignment=None, checkpoint_equals_grid=None)
    long = [H[(spec, lr, seed, final)] for seed in S]
    row["validation_at_select"] = summary(accuracy_at(h, select, "validation") for h in long)
    row["test"] = [
        dict(summary(accuracy_at(h, steps) for h in long), steps=steps) for steps in dict.fromkeys((select, final))
    ]
    row["diverged_at"] = [h.diverged_at for h in long]
    # the long run's checkpoint is the grid's run: same seed, same batches, same updates
    row["checkpoint_equals_grid"] = all(
        accuracy_at(h, select, "validation") == H[(spec, lr, seed, select)].final_validation_accuracy
        and accuracy_at(h, select) == H[(spec, lr, seed, select)].final_test_accuracy
        for h, seed in zip(long, S)
    )
    row["curves"] = {
        "eval_steps": max((h.eval_steps for h in long), key=len),
        "test_accuracy_mean": _mean_curve([h.test_accuracies for h in long]),
        "test_accuracy_per_seed": [list(map(float, h.test_accuracies)) for h in long],
        "loss_steps": max((h.steps for h in long), key=len),
        "running_loss_mean": _mean_curve([h.losses for h in long]),
        "running_loss_per_seed": [list(map(float, h.losses)) for h in long],
    }
    row["alignment"] = alignment_summary(settings, [runs.angles.get((spec, lr, seed, final)) for seed in S])
    return row


def alignment_summary(settings, per_seed) -> dict | None:
    """The angles of the seeds' runs: {steps, update: {W: {mean, per_seed}}, norm_ratio: {...}, feedback: {...}};
    None if not measured (a rule trained together: top trains W3 with its exact gradient, angle 0 and ratio 1 throughout)."""
    if not per_seed or any(a is None for a in per_seed):
        return None
    steps = [s for s in settings["alignment_steps"] if all(s in a for a in per_seed)]
    out = {"steps": steps, "probe": f"the first {settings['probe_size']} validation images"}
    for kind in ("update", "norm_ratio", "feedback"):
        names = sorted(per_seed[0][steps[0]].get(kind, {})) if steps else []
        out[kind] = {
            name: {
                "per_seed": [[a[s][kind][name] for s in steps] for a in per_seed],
                "mean": [float(np.mean([a[s][kind][name] for a in per_seed])) for s in steps],
            }
            for name in names
        }
    return out


# ---------------------------------------------------------------- what the file records

MODULES = results.NUMERICAL_MODULES + ("helpers.alignment", __name__)  # the code a comparison's numbers come from


def settings_for_key(settings) -> dict:
    """The protocol settings as a plain dict (from a mapping or a dataclass): what a cache key and the file record."""
    if dataclasses.is_dataclass(settings) and not isinstance(settings, type):
        return dataclasses.asdict(settings)
    return dict(settings)


def provenance(rule_names=None) -> dict:
    """The digests of the code that makes the rows of ``rule_names`` (default: the package's rules): every
    numerical module (helpers.results.NUMERICAL_MODULES, alignment, this module's measuring code) and each
    plug-in rule's own source."""
    return results.provenance(MODULES, package_rules() if rule_names is None else rule_names)


def code_version(rule_names=None) -> str:
    """One digest (16 hex digits) of :func:`provenance`: the ``code_version`` a results file records."""
    return results.code_version(provenance(rule_names))


def results_problems(result: dict) -> list:
    """Why a results file was not made by the current full settings and code ([] when it was)."""
    return results.results_problems(result, full_settings(), provenance(), RESULTS_COMMAND)


def load_results(path=None) -> dict:
    """results/rules.json (or ``path``), with JSON null accuracies back as nan."""
    return results.load_results(path or RESULTS_PATH)


def _percent(s) -> str:
    if not s or not math.isfinite(s["mean"]):
        return "diverged"
    return f"{100 * s['mean']:.2f} ± {100 * s['sd']:.2f}"


def table_text(result: dict) -> str:
    """The comparison as a text table (what ``python -m helpers rules`` prints without --json)."""
    st = result["settings"]
    lines = [
        f"Learning rules: MLP 784-{st['hidden_size']}-{st['hidden_size']}-10, {st['optimizer']}, batch {st['batch_size']}, "
        + ("" if st.get("dtype", "float64") == "float64" else f"{st['dtype']}, ")
        + f"seeds {st['seeds']}; lr chosen on validation at {st['select_steps']} steps from {st['lrs']}; "
        "test accuracy %, mean ± s.d. over seeds",
        f"{'rule':<10} {'chosen lr':>9} {'val % at sel.':>14} "
        + " ".join(f"{f'test % at {s}':>17}" for s in dict.fromkeys((st["select_steps"], st["steps"])))
        + f" {'diverged lrs':>14} {'run s':>7}",
    ]
    notes = []
    for row in result["rules"]:
        if row.get("failed"):
            lines.append(f"{row['rule']:<10} failed: {row['failed']}")
            continue
        diverged = [f"{g['lr']:g}" for g in row["grid"] if any(d is not None for d in g["diverged_at"])]
        lr = f"{row['chosen_lr']:g}" if row["chosen_lr"] is not None else "none"
        if row.get("chosen_at_edge"):
            lr += "*"
            notes.append(
                f"* {row['rule']}: the chosen lr is the {row['chosen_at_edge']} of its grid "
                f"({', '.join(f'{g:g}' for g in sorted({g['lr'] for g in row['grid']}))})"
            )
        if row.get("chosen_hyperparameters") and st.get("hyperparameter_grid", {}).get(row["rule"]):
            notes.append(f"{row['rule']}: chosen {rules.rule_spec(row['rule'], row['chosen_hyperparameters'])}")
        added = sorted({g["lr"] for g in row["grid"] if g.get("added_beyond_edge")})
        if added:
            notes.append(f"{row['rule']}: lr {', '.join(f'{g:g}' for g in added)} added beyond the grid's edge")
        tests = " ".join(f"{_percent(t):>17}" for t in row["test"]) if row["test"] else f"{'every lr diverged':>17}"
        lines.append(
            f"{row['rule']:<10} {lr:>9} {_percent(row.get('validation_at_select')):>14} {tests} "
            f"{','.join(diverged) or '-':>14} {row['run_seconds']:>7.1f}"
        )
    lines += notes
    lines.append(f"wall time {result['wall_seconds']:.0f} s with {result['jobs']} worker process(es)")
    return "\n".join(lines)


def compare_rules(
    data,
    names=None,
    *,
    quick: bool = False,
    jobs: int = 1,
    log=None,
    progress=None,
    cache=None,
    rule_kwargs: dict | None = None,
    hyperparameter_grid: dict | None = None,
    **overrides,
) -> dict:
    """The comparison for the rules ``names`` (default None: every registered rule, yours included).

    ``quick``: few steps, 1 seed, 2 learning rates (seconds; what the tests run). ``overrides``
    replace single settings of :class:`Protocol` (e.g. ``seeds=[0, 1]``; an unknown name is an error).
    ``rule_kwargs`` {rule: {hyperparameter: value}}; ``hyperparameter_grid`` {rule: {hyperparameter: [values]}}
    chosen on validation with the lr. Returns what results/rules.json holds.
    """
    if names is not None and not list(names):
        raise ValueError(
            "no rules to compare: names is empty; name at least one (or pass None for every registered rule)"
        )
    settings = dict(
        make_protocol(
            quick,
            hyperparameters=dict(rule_kwargs or {}),
            hyperparameter_grid=dict(hyperparameter_grid or {}),
            **overrides,
        ).as_dict(),
        rules=list(rules.RULES) if names is None else list(names),
    )
    return measure_all(data, settings, jobs=jobs, log=log, progress=progress, cache=cache)


# ---------------------------------------------------------------- the command line


def add_arguments(parser) -> None:
    parser.add_argument(
        "--rules",
        default=None,
        help="comma-separated rule names, each optionally with its "
        "hyperparameters, e.g. fa,kp:decay=1e-3 (default: every registered rule)",
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="RULE:NAME=V1,V2",
        help="a hyperparameter chosen on validation with the lr, e.g. --grid kp:decay=0,1e-4,1e-3 (repeatable)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a reduced run for tests: 1 seed, 2 learning rates, 400 steps"
    )
    parser.add_argument(
        "--jobs",
        type=int_at_least(1),
        default=min(2, os.cpu_count() or 1),
        help="worker processes for the runs of rules that do not train together (default %(default)s)",
    )
    parser.add_argument(
        "--cache",
        default=None,
        help="a directory to keep finished runs in: a rerun (after Ctrl-C or "
        "a failure) loads them instead of training again",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="write the JSON results to this file (checked before any training; "
        "replaced whole when the run has finished, never left half-written)",
    )
    parser.add_argument(
        "--dtype",
        default="float64",
        choices=DTYPES,
        help="what every run computes in (default %(default)s, the stored baseline's; float32 is faster, "
        "recorded in the file, and checked against float64 files as a different setting)",
    )
    parser.add_argument("--data-dir", default=None, help="directory with the four MNIST .gz files")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")


def parse_grid_options(options) -> dict:
    """["kp:decay=0,1e-3", ...] -> {"kp": {"decay": [0.0, 0.001]}}; ValueError naming a malformed option."""
    grid = {}
    for option in options:
        spec, sep, values = option.partition("=")
        name, _, key = spec.partition(":")
        if not sep or not key or not values.strip():
            raise ValueError(f"--grid {option}: write RULE:NAME=V1,V2,..., e.g. --grid kp:decay=0,1e-4,1e-3")
        parsed = [rules.parse_rule_spec(f"{name}:{key}={v.strip()}")[1][key] for v in values.split(",") if v.strip()]
        grid.setdefault(name, {})[key] = parsed
    return grid


class _Tracked:
    """The progress bar, remembering where the comparison is (for the line Ctrl-C prints)."""

    def __init__(self, bar):
        self.bar, self.label, self.step, self.total = bar, "", 0, 0

    def __call__(self, step, total):
        self.step, self.total = step, total
        self.bar.label = self.label
        return self.bar(step, total)

    def clear(self):
        self.bar.clear()

    def where(self) -> str:
        label = self.label[len("done: ") :] if self.label.startswith("done: ") else self.label
        what = (
            (f"after {label} finished" if self.label.startswith("done: ") else f"at {label}")
            if label
            else "at the start"
        )
        return f"{what}, step {self.step:,} of {self.total:,}" if self.total else what


def run(args) -> int:
    """``python -m helpers rules``: the table (or --json); --out writes the file whole, after the run."""
    from .data import MnistError, load_mnist
    from .progress import TerminalProgress

    prog = "python -m helpers rules"
    try:
        names, fixed = list(rules.RULES), {}
        if args.rules is not None:
            names = []
            for spec in (n.strip() for n in args.rules.split(",") if n.strip()):
                name, values = rules.parse_rule_spec(spec)
                names.append(name)
                if values:
                    fixed[name] = values
        settings = check_settings(
            dict(
                QUICK if args.quick else FULL,
                rules=names,
                hyperparameters=fixed,
                hyperparameter_grid=parse_grid_options(args.grid),
                dtype=args.dtype,
            )
        )
        if args.out is not None:
            results.check_output_path(args.out)
        if args.cache is not None and not Path(args.cache).is_dir():
            raise ValueError(f"--cache {args.cache}: not a directory; create it (mkdir) or leave --cache out")
        data = load_mnist(args.data_dir, dtype=settings["dtype"])
    except (ValueError, MnistError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{prog}: error: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 2
    bar = TerminalProgress(unit="steps")
    progress = _Tracked(bar)
    resume = (
        f"rerun the same command to resume from --cache {args.cache}"
        if args.cache
        else "rerun with --cache DIR to keep finished runs (a later rerun resumes from them)"
    )
    try:
        result = measure_all(
            data,
            settings,
            jobs=args.jobs,
            progress=progress,
            cache=args.cache,
            log=lambda message: bar.clear() or print(f"measured: {message}", file=sys.stderr, flush=True),
        )
        if args.out is not None:
            results.write_results(args.out, result)
    except KeyboardInterrupt:
        bar.clear()
        print(f"{prog}: interrupted {progress.where()}; {resume}", file=sys.stderr)
        return 130
    except WorkerDied as exc:
        bar.clear()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    except MemoryError as exc:
        bar.clear()
        print(
            f"{prog}: error: not enough memory {progress.where()} ({exc or 'an allocation failed'}); "
            f"close other programs or use --jobs 1; {resume}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        bar.clear()
        path = exc.filename or args.out
        print(
            f"{prog}: error: {exc.strerror or exc}"
            + (f": {path}" if path else "")
            + (f" (the old {args.out} is unchanged)" if args.out else ""),
            file=sys.stderr,
        )
        return 1
    except ValueError as exc:  # a rule's own complaint (e.g. a direction of the wrong shape)
        bar.clear()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print(to_json(result) if args.json else table_text(result))
    return 0
