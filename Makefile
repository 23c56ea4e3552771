# pollsim: the two commands of the README, and a few helpers.
# `make demo` and `make test` create .venv when it is missing and install into it; a second run
# only re-installs when pyproject.toml changed (the stamp files below), so both are quiet.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test bench bench-statewide clean firmware

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "pollsim needs $(PYTHON) (Python >= 3.11) on PATH" >&2; exit 2; }
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(PY) pyproject.toml
	@$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	@$(PIP) install -e '.[dev,dask]'
	@touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@$(VENV)/bin/pollsim run scenarios/training-precinct.yaml --seed 1 --out runs/demo

test: $(VENV)/.installed-dev
	@$(VENV)/bin/ruff check --quiet src tests benchmarks
	@$(VENV)/bin/mypy src
	@$(PY) -m pytest

bench: $(VENV)/.installed-dev
	@$(PY) -m pytest benchmarks --benchmark-only -p no:randomly

# issue 12: `pollsim run` of the statewide scenario on 1 and 2 workers (wall, CPU, peak memory of
# every process, byte-identity), the day's parallel efficiency and a Dask curve; tables in runs/bench/
bench-statewide: $(VENV)/.installed-dev
	@$(PY) benchmarks/statewide.py

firmware:
	@$(MAKE) -s -C firmware_stubs

clean:
	rm -rf $(VENV) runs build src/*.egg-info
