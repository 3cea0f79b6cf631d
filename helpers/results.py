"""Results files (results/rules.json, results/baselines.json): writing, reading, provenance, the shared row helpers.

Writing. :func:`write_results` writes a temporary file in the target's
directory, flushes it to disk and renames it over the target: the old file is
replaced whole or not at all (Ctrl-C, a full disk, a killed process leave it
byte-identical). :func:`check_output_path` is called before any training, so
a bad ``--out`` fails in a second, not after a 40-minute run.

Provenance. A results file records, per module that its numbers came from,
a digest of that module's code (:func:`module_digests`), and for a learning
rule registered from outside the package, of the rule's own source
(:func:`plugin_digests`). The digest is of the *code*, normalized
(:func:`normalized_code`): docstrings, comments, spacing, annotations and the
names of a function's arguments and local variables do not change it; any
other edit does. :func:`results_problems` then names the modules that changed
since the file was made. (``ast.dump`` may differ between Python versions:
the file records the version, and a stale file made under another says so.)

Rows. :func:`summary` and :func:`accuracy_at` are what the comparison's and
the baselines' rows are made of.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import importlib
import inspect
import json
import math
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

# the modules every training run executes (a rule, the loop, the optimizer, the batches, the stacked readouts);
# each results file adds its own measuring module(s)
NUMERICAL_MODULES = (
    "helpers.layers",
    "helpers.model",
    "helpers.optimizers",
    "helpers.data",
    "helpers.readout",
    "helpers.rules",
    "helpers.train",
    "helpers.results",
)

# top-level names of this module that do not make numbers (writing, reading, fingerprints): left out of its digest
NOT_NUMERICAL = (
    "write_results",
    "check_output_path",
    "load_results",
    "nan_back",
    "normalized_code",
    "module_source",
    "module_digest",
    "module_digests",
    "plugin_object",
    "plugin_source",
    "plugin_digests",
    "provenance",
    "code_version",
    "results_problems",
    "_LocalNames",
    "_own_nodes",
    "_strip_docstrings",
    "_text_digest",
    "_dropped",
    "_source_digest",
    "OLD_STYLE",
    "NAN_KEYS",
    "NUMERICAL_MODULES",
    "ROOT",
    "NOT_NUMERICAL",
)


# ---------------------------------------------------------------- the rows both files are made of


def summary(values) -> dict:
    """mean and sd (ddof=1; 0 for one seed) of per-seed values; nan (JSON null) if a run diverged."""
    values = [float(v) for v in values]
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "sd": sd, "per_seed": values}


def accuracy_at(history, step: int, split: str = "test") -> float:
    """The test (or ``split="validation"``) accuracy a History recorded at ``step``; nan if the run diverged
    before it (or at it: a diverged step is never evaluated) or did not evaluate there."""
    if split not in ("test", "validation"):
        raise ValueError(f"split must be 'test' or 'validation', got {split!r}")
    if history.diverged_at is not None and history.diverged_at <= step:
        return float("nan")
    recorded = history.test_accuracies if split == "test" else history.validation_accuracies
    return float(recorded[history.eval_steps.index(step)]) if step in history.eval_steps else float("nan")


def finite(value):
    """``value`` with nan (a diverged run) as None and NumPy scalars as Python ones, so the JSON is standard."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_json(result: dict) -> str:
    """The result as one line of standard JSON (nan as null)."""
    return json.dumps(finite(result), allow_nan=False)


# the keys whose null (or null entries, in a list of numbers) stand for nan: accuracies and their means
NAN_KEYS = (
    "mean",
    "sd",
    "validation_mean",
    "per_seed",
    "validation_accuracies",
    "test_accuracy_mean",
    "test_accuracy_spread",
    "test_accuracies",
    "running_loss_mean",
    "train_accuracies",
)


def nan_back(obj: dict) -> dict:
    """The JSON object hook of :func:`load_results`: null accuracies back to nan."""
    for key in NAN_KEYS:
        value = obj.get(key, 0)
        if value is None:
            obj[key] = float("nan")
        elif isinstance(value, list) and value and not isinstance(value[0], list):
            obj[key] = [float("nan") if v is None else v for v in value]
    return obj


def load_results(path) -> dict:
    """A results file, with its null accuracies (diverged runs) back as nan."""
    return json.loads(Path(path).read_text(encoding="utf-8"), object_hook=nan_back)


# ---------------------------------------------------------------- writing without losing


def check_output_path(path, option: str = "--out") -> Path:
    """Raise ValueError (naming the problem and the fix) unless a results file can be written at ``path``.

    Tried for real (a temporary file made and removed in the directory): a read-only
    file system or a full quota fails here, before any training, as it would at the end.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a directory; give a file name, e.g. {path / 'results.json'}")
    directory = path.absolute().parent
    if not directory.is_dir():
        raise ValueError(f"{option} {path}: the directory {directory} does not exist; create it or choose another path")
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{option} {path}: the file is read-only; make it writable (chmod u+w) or choose another path")
    try:
        handle, probe = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".check")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(
            f"{option} {path}: cannot write in {directory} ({exc.strerror}); choose a writable directory"
        ) from None
    return path


def write_results(path, result) -> Path:
    """Write ``result`` (a dict, as JSON, nan as null; or text) to ``path``, whole or not at all.

    A temporary file in the same directory is written and flushed to disk, then
    renamed over ``path`` (an atomic replace). On any failure (a full disk, Ctrl-C)
    the old file stays byte-identical and the temporary file is removed; the error is raised.
    """
    path = Path(path).expanduser()
    text = result if isinstance(result, str) else to_json(result) + "\n"  # a value JSON cannot hold fails here, first
    data = text.encode("utf-8")
    handle, temporary = tempfile.mkstemp(dir=path.absolute().parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600): give it the mode the old file had, or the usual one
        if path.exists():
            mode = path.stat().st_mode & 0o777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError, AttributeError):  # the rename itself, on disk (POSIX; not on Windows)
        directory = os.open(path.absolute().parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    return path


# ---------------------------------------------------------------- provenance: what code made the numbers


class _LocalNames(ast.NodeTransformer):
    """Renames each function's arguments and assigned local variables to placeholders in order of appearance.

    Python's own rule decides what is local: a name bound in the function (an argument, an
    assignment target, a for/with/except target, a nested def) unless declared global or
    nonlocal. A nested function sees its enclosing function's placeholders; names bound by
    imports or match patterns keep their names (renaming them is not a local rename).
    """

    def __init__(self):
        self.scopes = []  # one {name: placeholder} per enclosing function, innermost last

    def _function(self, node):
        local = {}

        def bind(name):
            if name not in local and name not in declared:
                local[name] = f"_local{len(local)}"

        declared = set()
        body_nodes = list(_own_nodes(node))
        for sub in body_nodes:
            if isinstance(sub, (ast.Global, ast.Nonlocal)):
                declared.update(sub.names)
        arguments = node.args
        for arg in (
            arguments.posonlyargs
            + arguments.args
            + ([arguments.vararg] if arguments.vararg else [])
            + arguments.kwonlyargs
            + ([arguments.kwarg] if arguments.kwarg else [])
        ):
            bind(arg.arg)
        for sub in body_nodes:
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                bind(sub.id)
            elif isinstance(sub, ast.ExceptHandler) and sub.name:
                bind(sub.name)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and sub is not node:
                bind(sub.name)
        for arg in (
            arguments.posonlyargs
            + arguments.args
            + ([arguments.vararg] if arguments.vararg else [])
            + arguments.kwonlyargs
            + ([arguments.kwarg] if arguments.kwarg else [])
        ):
            arg.arg, arg.annotation = local[arg.arg], None
        # defaults and decorators are evaluated in the enclosing scope: visit them before entering this one
        arguments.defaults = [self.visit(d) for d in arguments.defaults]
        arguments.kw_defaults = [d if d is None else self.visit(d) for d in arguments.kw_defaults]
        if not isinstance(node, ast.Lambda):
            node.decorator_list = [self.visit(d) for d in node.decorator_list]
            node.returns = None
        self.scopes.append(local)
        if isinstance(node, ast.Lambda):
            node.body = self.visit(node.body)
        else:
            node.body = [self.visit(statement) for statement in node.body]
        self.scopes.pop()
        if not isinstance(node, ast.Lambda) and self.scopes and node.name in self.scopes[-1]:
            node.name = self.scopes[-1][node.name]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_ClassDef(self, node):
        self.generic_visit(node)
        if self.scopes and node.name in self.scopes[-1]:
            node.name = self.scopes[-1][node.name]
        return node

    def _renamed(self, name):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return name

    def visit_Name(self, node):
        node.id = self._renamed(node.id)
        return node

    def visit_ExceptHandler(self, node):
        self.generic_visit(node)
        if node.name:
            node.name = self._renamed(node.name)
        return node


def _own_nodes(function):
    """The nodes of a function's body that belong to its scope (not to nested functions' or classes' bodies)."""
    pending = list(function.body) if not isinstance(function, ast.Lambda) else [function.body]
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            pending.extend(node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d])
            continue  # its name is bound here (yielded above); its body is its own scope
        if isinstance(node, ast.Lambda):
            pending.extend(node.args.defaults + [d for d in node.args.kw_defaults if d])
            continue
        if isinstance(node, ast.ClassDef):
            pending.extend(node.decorator_list + node.bases + [k.value for k in node.keywords])
            continue
        pending.extend(ast.iter_child_nodes(node))


def _strip_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]
    return tree


def _dropped(tree, names):
    """The module without its top-level definitions and assignments named in ``names``."""

    def named(statement):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return statement.name in names
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            return all(isinstance(t, ast.Name) and t.id in names for t in targets)
        return False

    tree.body = [statement for statement in tree.body if not named(statement)]
    return tree


def normalized_code(source: str, leave_out=()) -> str:
    """The code of Python ``source`` as text, without what cannot change what it computes.

    Docstrings, comments, blank lines, spacing, argument and return annotations, and the
    names of each function's arguments and local variables are gone (locals become
    ``_local0``, ``_local1``, ... in order of appearance); ``leave_out``: top-level
    names (functions, classes, assignments) to drop, e.g. a module's printing code.
    """
    tree = _dropped(_strip_docstrings(ast.parse(source)), set(leave_out))
    return ast.dump(_LocalNames().visit(tree))  # no line or column numbers


@functools.lru_cache(maxsize=256)
def _text_digest(source: str, leave_out: tuple) -> str:
    return hashlib.sha256(normalized_code(source, leave_out).encode("utf-8")).hexdigest()[:16]


def module_source(module) -> str:
    """The source text of a module, as the fingerprint reads it (tests replace this to simulate an edit)."""
    return Path(module.__file__).read_text(encoding="utf-8")


def module_digest(name: str) -> str:
    """SHA-256 (16 hex digits) of a module's normalized code, without its ``NOT_NUMERICAL`` top-level names."""
    module = importlib.import_module(name)
    return _text_digest(module_source(module), tuple(getattr(module, "NOT_NUMERICAL", ())))


def module_digests(names) -> dict:
    """{module name: digest} for each module of ``names``."""
    return {name: module_digest(name) for name in names}


def plugin_object(cls):
    """What a user registered as the rule ``cls``: the function (register_rule wraps it in a class) or the class."""
    function = getattr(cls, "__wrapped__", None)
    if function is None and cls.__name__.startswith("FunctionRule_"):
        # register_rule wraps a function in a class whose directions() calls it: the function is in the closure
        cells = getattr(cls.__dict__.get("directions"), "__closure__", None) or ()
        function = next((c.cell_contents for c in cells if inspect.isfunction(c.cell_contents)), None)
    return cls if function is None else function


def plugin_source(cls) -> str | None:
    """The source of a learning rule registered from outside the package: its class (and its bases
    from outside helpers), or the function it was registered from; None when Python cannot find it
    (a rule typed at an interactive prompt or made with exec)."""
    registered = plugin_object(cls)
    try:
        if registered is not cls:
            return inspect.getsource(registered)
        own = [k for k in cls.__mro__ if k is not object and not k.__module__.startswith("helpers.")]
        return "\n".join(inspect.getsource(k) for k in own)
    except (OSError, TypeError):
        return None


def plugin_digests(rule_names) -> dict:
    """{rule name: digest of its source, or None if unavailable} for each rule of ``rule_names`` from outside helpers."""
    from . import rules

    out = {}
    for name in rule_names:
        cls = rules.RULES.get(name)
        if cls is None or (cls.__module__ == rules.__name__ and not cls.__name__.startswith("FunctionRule_")):
            continue
        source = plugin_source(cls)
        out[name] = (
            None if source is None else _text_digest(textwrap.dedent(source), ())
        )  # dedented: a rule defined in a function
    return out


def provenance(modules, rule_names=()) -> dict:
    """What a results file records about the code that made it: {python, modules: {name: digest}, rules: {name: digest}}."""
    return {
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "modules": module_digests(modules),
        "rules": plugin_digests(rule_names),
    }


def code_version(record: dict) -> str:
    """One digest (16 hex digits) for a :func:`provenance` record: the results file's ``code_version``."""
    text = json.dumps({"modules": record["modules"], "rules": record["rules"]}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


OLD_STYLE = "made before per-module provenance (it records only code_version {!r})"


def results_problems(result: dict, expected_settings: dict, current: dict, command: str) -> list:
    """Why a results file was not made by ``expected_settings`` and the code described by ``current``
    (a :func:`provenance` record); [] when it was. Each problem says what differs; the last says how to regenerate."""
    problems = []
    settings = result.get("settings", {})
    for key, value in expected_settings.items():
        if settings.get(key) != value:
            problems.append(f"setting {key}: file has {settings.get(key)!r}, the full run uses {value!r}")
    stored = result.get("provenance")
    if not isinstance(stored, dict) or "modules" not in stored:
        problems.append(OLD_STYLE.format(result.get("code_version")))
    else:
        changed = [
            name
            for name in sorted(set(stored["modules"]) | set(current["modules"]))
            if stored["modules"].get(name) != current["modules"].get(name)
        ]
        changed += [
            f"rule {name}"
            for name in sorted(set(stored.get("rules", {})) | set(current["rules"]))
            if stored.get("rules", {}).get(name) != current["rules"].get(name)
        ]
        if changed:
            python = (
                ""
                if stored.get("python") == current["python"]
                else (
                    f" (the file was made under Python {stored.get('python')}, this is {current['python']}: "
                    "the digests may differ for that alone)"
                )
            )
            problems.append(f"code changed since the file was made: {', '.join(changed)}{python}")
    if problems:
        problems.append(f"regenerate with `{command}`")
    return problems
