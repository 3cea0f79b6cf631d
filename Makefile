# make train      set up .venv if needed, then run the reference experiment (the main job)
# make test       set up .venv if needed, then run the whole test suite (unit, nbval x2, browser)
# make lab        open the notebooks in JupyterLab
# make app        the explorer as a standalone Voila app (app/explorer.ipynb: the explorer and a few lines)
# make notebooks  re-execute every notebook in place (after changing helpers/)
# make bench      print the benchmark figures

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: train test unit nbval browser lab app notebooks bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,app]"
	@touch $(STAMP)

train: $(STAMP)
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
	$(VENV)/bin/voila --preheat_kernel=True app/explorer.ipynb

notebooks: $(STAMP)
	$(PY) scripts/execute_notebooks.py

bench: $(STAMP)
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_explorer.py
	$(PY) benchmarks/bench_baselines.py

clean:
	rm -rf $(VENV) .pytest_cache
