# make train      set up .venv with what the main job needs (numpy, matplotlib), then run the reference experiment
# make test       set up .venv with the test extras, then run the whole test suite (unit, nbval x2, browser)
# make lab        open the notebooks in JupyterLab (start at 00_index.ipynb)
# make app        the explorer as a standalone Voila app
# make notebooks  regenerate the setup and navigation cells, then re-execute every notebook in place
# make student    student/: every notebook with outputs cleared and solutions removed, to hand out
# make bench      print the benchmark figures

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BASE   := $(VENV)/.installed-base
STAMP  := $(VENV)/.installed

.PHONY: train test unit nbval browser lab app notebooks student bench clean

# The main job's environment: numpy and matplotlib, and the project itself without its other dependencies.
$(BASE): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt numpy matplotlib
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(BASE)

# Everything else: JupyterLab, ipywidgets, the test and app extras (a superset of $(BASE)).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,app]"
	@touch $(STAMP) $(BASE)

train: $(BASE)
	$(PY) -m helpers train

test: $(STAMP)
	$(PY) -m pytest tests
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider
	OPENBLAS_NUM_THREADS=2 $(PY) -m pytest --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest tests -m "not browser"

nbval: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(PY) -m pytest --nbval notebooks --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider

browser: $(STAMP)
	$(PY) -m pytest tests -m browser

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

app: $(STAMP)
	$(VENV)/bin/voila notebooks/06_explorer.ipynb

notebooks: $(STAMP)
	$(PY) scripts/navigation.py
	$(PY) scripts/execute_notebooks.py

student: $(STAMP)
	$(PY) scripts/student.py

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_explorer.py
	$(PY) benchmarks/bench_baselines.py

clean:
	rm -rf $(VENV) .pytest_cache student
