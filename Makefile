# make train      set up .venv with only what the main job needs (numpy, matplotlib, threadpoolctl), then run the reference experiment
# make test       set up .venv with the test extras, then run the whole test suite (ruff, unit, slow, browser, nbval x2)
# make check      the edit-test loop: ruff (lint, and the format check), then the tests that are neither slow nor browser ones
# make student    student/: every lesson with outputs cleared and solutions removed; student.zip: the same with helpers and the data, to upload
# make lab        open the notebooks in JupyterLab
# make app        the explorer as a standalone Voila app (app/explorer.ipynb: the explorer and a few lines)
# make notebooks  re-execute every notebook in place (after changing helpers/)
# make times      measure every notebook's run time, idle and beside a CPU-bound process (writes no notebook)
# make bench      print the benchmark figures
# make book       the notebooks as a static HTML book in _build/book/html (from the stored outputs)
# make format     ruff format over the tree (pyproject.toml's [tool.ruff])

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BOOK_STAMP := $(VENV)/.installed-book
BASE   := $(VENV)/.installed-base
RUFF   := $(VENV)/bin/ruff

.PHONY: train check test unit nbval browser lab app notebooks times bench book format clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,app,book]"
	@touch $(STAMP)

# the book's extra on its own, for a .venv made before it was part of the line above
$(BOOK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[book]"
	@touch $(BOOK_STAMP)

train: $(BASE)
	$(PY) -m helpers train

# The main job's environment: numpy, matplotlib and threadpoolctl, and the project itself without its other
# dependencies (JupyterLab, ipywidgets, the extras: $(STAMP) installs those).
$(BASE): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt numpy matplotlib threadpoolctl
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(BASE)

# The edit-test loop: ruff, then every test not marked slow or browser, on the two workers `make test` uses (its
# time: docs/measurements.md, "The test suite"). One file while editing: `.venv/bin/python -m pytest tests/test_x.py`.
check: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(PY) -m pytest tests -m "not slow and not browser" $(XDIST)

# The whole suite on the machine's two cores. pytest: two workers (pytest-xdist), each test file whole on one
# worker so that its module fixtures (a built book, an installed handout, the explorer's grids) are made once, in
# the order tests/conftest.py gives the files (the longest first; xdist's own order, files with the most tests
# first, would start the handout's install last). nbval with one BLAS thread runs inside pytest, in the installed
# handout (tests/test_student.py: every lesson of the zip, in its own venv, against the outputs stored here); then
# nbval over notebooks/ with two threads, on the same two workers, a notebook whole on one (its cells share one
# kernel), the longest first (conftest.py): its cells mostly train on one thread, so one process would leave a
# core idle. The thread count changes
# how BLAS splits the products, not the stored outputs they must reproduce. Every lesson runs twice, not three times.
XDIST := -n 2 --dist loadfile --no-loadscope-reorder

# Two workers each start OpenBLAS's threads (one per core) on two cores. By default an idle OpenBLAS thread spins for
# a while before it sleeps, on the core the other worker computes on; OPENBLAS_THREAD_TIMEOUT=4 (2^4 spins, the
# least) puts it to sleep at once. The thread counts, and so every product's arithmetic, stay as they are: the test
# tiers took about 9% less CPU and 5-9% less wall time (docs/measurements.md, "The test suite"). A value already set wins.
check test unit nbval nbval-1-thread nbval-2-threads browser: export OPENBLAS_THREAD_TIMEOUT ?= 4
NBVAL := $(PY) -m pytest --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

test: $(STAMP)
	$(RUFF) check .
	$(RUFF) format --check .
	$(PY) -m pytest tests $(XDIST)
	OPENBLAS_NUM_THREADS=2 $(NBVAL) $(XDIST)

# nbval with one and with two BLAS threads (no set-up of their own: `make test` and `make nbval` make the venv);
# `make -j2 -O nbval-1-thread nbval-2-threads` runs both side by side, each one's output printed whole at its end
.PHONY: nbval-1-thread nbval-2-threads
nbval-1-thread:
	OPENBLAS_NUM_THREADS=1 $(NBVAL)
nbval-2-threads:
	OPENBLAS_NUM_THREADS=2 $(NBVAL)

unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser"

nbval: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(NBVAL)

browser: $(STAMP)
	$(PY) -m pytest tests -m browser

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

app: $(STAMP)
	$(VENV)/bin/voila --preheat_kernel=True app/explorer.ipynb

# the generated setup and navigation cells first, then every notebook re-executed; the index's table last.
# `make notebooks TIMES=--record-times` also measures the run times the index shows (scripts/run_times.json).
notebooks: $(STAMP)
	$(PY) scripts/navigation.py
	$(PY) scripts/execute_notebooks.py $(TIMES)
	$(PY) scripts/navigation.py

# the index's and the guide's run times as ranges, idle and loaded: measured, no notebook is written
times: $(STAMP)
	$(PY) scripts/execute_notebooks.py --measure-times
	$(PY) scripts/navigation.py

.PHONY: student
student: $(STAMP)
	$(PY) scripts/student.py student --zip student.zip

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_explorer.py
	$(PY) benchmarks/bench_baselines.py
	$(PY) benchmarks/bench_rules.py --row backprop  # minutes: a whole comparison row against its floor
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_float32.py
	$(PY) benchmarks/bench_threads.py  # the large products at one BLAS thread and at every core, idle and loaded
	$(PY) benchmarks/bench_imports.py  # start-up: what JupyterLab, Voila, a kernel, nbval take to import
	$(PY) benchmarks/bench_pytorch.py  # says so and measures nothing without the bench extra (PyTorch)

book: $(BOOK_STAMP)
	$(PY) scripts/build_book.py --quiet

format: $(STAMP)
	$(RUFF) format .

clean:
	rm -rf $(VENV) .pytest_cache student student.zip
