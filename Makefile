# Every target does its own set-up: a fresh Debian machine needs nothing else.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MATRIX ?= matrix.yaml
JOBS ?=
PYTEST_ARGS ?=

.PHONY: setup venv engine host-tools bases matrix test test-bases test-disruptive test-unit bench test-heavy test-musl lint clean-containers

setup: venv engine host-tools bases  ## venv, Docker engine, stand-in bases

venv: $(BIN)/.installed
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

engine:
	bash scripts/ensure-docker.sh

host-tools:
	bash scripts/ensure-host-tools.sh

bases: venv engine host-tools
	$(BIN)/harness bases build --matrix $(MATRIX)

# The run builds (or pulls) each base itself, as a task beside the cells: a base's cells start
# the moment it is ready, so the glibc cells run while the musl stand-in builds.
matrix: venv engine host-tools  ## the main job: run matrix.yaml, write reports/<run-id>/ and reports/latest
	$(BIN)/harness run $(MATRIX) $(if $(JOBS),--jobs $(JOBS))

test: venv engine host-tools test-bases  ## unit + integration (heavy depsets included), then the engine-restart test
	$(BIN)/pytest -n 2 --run-heavy $(PYTEST_ARGS)
	$(BIN)/pytest -p no:xdist -m disruptive --run-disruptive $(PYTEST_ARGS) || [ $$? -eq 5 ]

# The integration tests share one cached stand-in; build it once, before they run in parallel.
test-bases: venv engine host-tools
	$(BIN)/harness bases build py311 --matrix tests/matrices/integration.yaml

test-disruptive: venv engine host-tools test-bases  ## only the engine-restart test
	$(BIN)/pytest -p no:xdist -m disruptive --run-disruptive $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

test-heavy: venv engine host-tools  ## torch, transformers and whisper cells for real
	$(BIN)/pytest -m heavy --run-heavy $(PYTEST_ARGS)

test-musl: venv engine host-tools  ## builds the musl stand-in (minutes the first time)
	$(BIN)/pytest -m musl --run-musl $(PYTEST_ARGS)

bench: venv engine host-tools  ## the harness's own benchmark (bench/README.md)
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check harness tests bench
	$(BIN)/ruff format --check harness tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean-containers: venv engine
	$(BIN)/harness sweep
