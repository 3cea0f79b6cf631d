"""Checkers for the notebooks' exercises: they say "correct" or "not yet" with a hint.

One module per notebook, ``exNN_<name>.py`` (``ex01_data`` ...). Every public
function a module defines (its ``__all__`` if it has one) is also importable from here:
``from helpers.exercises import check_softmax``. A checker prints one line and
never prints the solution.

Each module also defines ``expected_numbers()`` -> {checker name: [accepted
numbers]}; the notebook-file tests use it to fail when an answer is printed
above its exercise. It is not re-exported (every module has one): call it on
the module, e.g. ``helpers.exercises.ex01_data.expected_numbers()``.

Modules are found by name, so a new notebook's checkers need no edit here.
"""

import importlib as _importlib
import pkgutil as _pkgutil

MODULES = sorted(info.name for info in _pkgutil.iter_modules(__path__) if info.name[:2] == "ex" and info.name[2:4].isdigit())

__all__ = []
for _name in MODULES:
    _module = _importlib.import_module(f".{_name}", __name__)
    globals()[_name] = _module
    _public = [a for a, v in vars(_module).items() if not a.startswith("_") and a != "expected_numbers"
               and getattr(v, "__module__", None) == _module.__name__]  # what the module defines, not its imports
    for _attr in getattr(_module, "__all__", _public):
        globals()[_attr] = getattr(_module, _attr)
        __all__.append(_attr)
del _name, _module, _public, _attr
