"""Shared fixtures: MNIST read once per test session, short runs and run comparisons."""

import os
import sys

# figures drawn by the tests go to files, never to a window (set before anything imports pyplot)
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

from helpers import data, rules
from helpers.train import TrainConfig

READ_MNIST = data.load_mnist  # the real reader, as the package defines it
REPO_DATA_DIR = data.REPO_DATA_DIR
_session_mnist = []


def session_mnist():
    """The repository's MNIST, read on first use and shared by the whole test session."""
    if not _session_mnist:
        _session_mnist.append(READ_MNIST())
    return _session_mnist[0]


def load_mnist_once(path=None, download: bool = True, dtype="float64"):
    """``load_mnist`` for code under test: the default location's digits come from the session's one read
    (decompressing and checksumming 70,000 images is the slowest part of many short tests; float32 is its
    conversion, also made once); any other location, MNIST_DIR or a moved repository copy goes to the real reader."""
    if path is None and not os.environ.get("MNIST_DIR") and data.REPO_DATA_DIR == REPO_DATA_DIR:
        found = session_mnist()
        if data.check_dtype(dtype) != found.train.images.dtype:
            if len(_session_mnist) == 1:
                _session_mnist.append(found.astype("float32"))
            found = _session_mnist[1]
        return found
    return READ_MNIST(path, download, dtype)


@pytest.fixture(scope="session", autouse=True)
def mnist_read_once_per_session():
    """Every loaded ``helpers`` module's ``load_mnist`` (checkers, the explorer, the command line run in-process)
    shares one read. Test modules keep the real reader they imported: tests/test_data.py tests it."""
    patched = []

    def patch_loaded_modules():
        for name, module in list(sys.modules.items()):
            if (name == "helpers" or name.startswith("helpers.")) and getattr(module, "load_mnist", None) is READ_MNIST:
                module.load_mnist = load_mnist_once
                patched.append(module)

    patch_loaded_modules()
    yield patch_loaded_modules
    for module in patched:
        module.load_mnist = READ_MNIST


@pytest.fixture(autouse=True)
def helpers_imported_late_share_the_read(mnist_read_once_per_session):
    """A helpers module first imported inside a test (``from ..baselines import ...`` in a checker) shares it too."""
    yield
    mnist_read_once_per_session()


@pytest.fixture(scope="session")
def mnist():
    return session_mnist()


@pytest.fixture
def small_batch(mnist):
    """16 real training digits: X (16, 784), y (16,)."""
    return mnist.train.images[:16], mnist.train.labels[:16]


@pytest.fixture
def one_blas_thread():
    """BLAS limited to one thread for the test (helpers.threads.one_blas_thread), for tests made of many small
    products such as finite-difference gradient checks (hundreds of forward passes on 16-32 images): measured
    on 2 cores beside other work, notebook 4's step-size sweep took 20-27 s with two BLAS threads, 2.5 s with
    one. Their verdicts hold at any thread count; nbval checks the notebooks themselves at one and two."""
    from helpers.threads import one_blas_thread as limited

    with limited():
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def short_config(**overrides) -> TrainConfig:
    """A 300-step run logged every 50 steps and evaluated every 100: fast, yet every part of the schedule."""
    return TrainConfig(**{"steps": 300, "log_every": 50, "eval_every": 100, **overrides})


@pytest.fixture
def short():
    return short_config


def assert_same_run_pairs(results, expected, rtol=1e-12):
    """Two lists of (params, History) describe the same runs: weights and losses to ``rtol``, the rest exactly."""
    assert len(results) == len(expected)
    for (pa, ha), (pb, hb) in zip(results, expected):
        assert ha.config == hb.config
        if pa is None or pb is None:  # the stack offers no weights for a diverged run
            assert ha.diverged_at is not None and hb.diverged_at is not None, ha.config
        else:
            assert sorted(pa) == sorted(pb)
            for name in pb:
                # rounding is relative to the array's scale: a weight near zero may differ by one ulp of the
                # large ones (1e-16 on a 5e-5 entry of W3 with OpenBLAS's Haswell kernel), not by rtol of itself
                scale = np.abs(pb[name]).max()
                assert np.allclose(pa[name], pb[name], rtol=rtol, atol=rtol * scale), (ha.config, name)
        assert ha.steps == hb.steps and ha.eval_steps == hb.eval_steps
        assert np.allclose(ha.losses, hb.losses, rtol=rtol, atol=0), ha.config
        assert ha.test_accuracies == hb.test_accuracies, ha.config
        assert ha.validation_accuracies == hb.validation_accuracies, ha.config
        assert (ha.steps_done, ha.diverged_at, ha.cancelled) == (hb.steps_done, hb.diverged_at, hb.cancelled)


@pytest.fixture
def assert_same_runs():
    return assert_same_run_pairs


@pytest.fixture
def registered():
    """Names of rules a test registers (append them): removed from the registry after the test."""
    names = []
    yield names
    for name in names:
        rules.RULES.pop(name, None)


@pytest.fixture
def toy_rule():
    """A rule registered from outside the package, as a reader would in a notebook cell."""

    def half_top(params, batch, cache, scores, dscores):
        (h2, _), _ = cache[-1]
        return {"W3": 0.5 * h2.T @ dscores}  # b3 left out: it stays frozen

    rules.register_rule("half-top", label="half the top layer's gradient")(half_top)
    yield "half-top"
    rules.RULES.pop("half-top", None)


# Under `make test` (pytest-xdist: -n 2 --dist loadfile --no-loadscope-reorder) each file runs whole on one worker,
# handed out in this order, and a long file handed out late keeps one core busy after the other has finished.
# These four were over half the suite's test time (2026-12-06, one process, load 3-5): the handout's fresh venv
# and its notebooks 367 s, JupyterLab and Voila 355 s, the book 133 s, the explorer 89 s; the others 45 s or less.
LONGEST_FILES_FIRST = ("test_student.py", "test_browser.py", "test_book.py", "test_explorer.py")


def pytest_collection_modifyitems(config, items):
    """The longest files first, the others in their usual order, each file's tests together and in order (a
    stable sort on the file alone). Only on an xdist worker: a one-process run keeps the usual order."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: i for i, name in enumerate(LONGEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
