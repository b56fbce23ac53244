# assessor: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CASE ?= cases/cambridgeshire-2008.yaml
PYTEST_FLAGS ?=  # e.g. -n 2: make test's pytest on two workers (CI, for a Python that runs alone)
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install assess check format test test-quick lint coverage fuzz bench browser-deps clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml setup.py tools/durable_build.py tools/durable_driver.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)  ## create .venv and install assessor with its test tools

assess: $(STAMP)  ## assess the bundled Cambridgeshire case and print the report
	$(BIN)/assess $(CASE)

check: $(STAMP)  ## code checks: ruff, ruff format, mypy, import layers, policy lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests/test_layers.py
	$(BIN)/assess lint

format: $(STAMP)  ## fix what ruff can fix and format the code (config in pyproject.toml)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lint: $(STAMP)  ## check rules/ and cases/
	$(BIN)/assess lint

coverage: $(STAMP)  ## list the rungs no case reaches; fails below 100%
	$(BIN)/assess coverage --min-coverage 100

EXAMPLE := --rulebook examples/peel-style

test: $(STAMP)  ## check rules and cases (bundled and example), expected judgements and rung coverage; pytest
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory browser-deps; fi
	$(BIN)/assess lint
	$(BIN)/assess test
	$(BIN)/assess coverage --min-coverage 100
	$(BIN)/assess lint $(EXAMPLE)
	$(BIN)/assess test $(EXAMPLE)
	$(BIN)/assess coverage --min-coverage 100 $(EXAMPLE)
	$(BIN)/python -m pytest -q $(PYTEST_FLAGS)

test-quick: $(STAMP)  ## the tests without the slow and browser ones, on every core (under 20 s); make test runs them all
	$(BIN)/python -m pytest -q -n auto -m "not slow and not browser"

fuzz: $(STAMP)  ## the full differential fuzz: 10,000 generated cases per engine test
	ASSESSOR_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest -q tests/test_engines.py

bench: $(STAMP)  ## measure speed and memory; writes bench/results.json
	$(BIN)/python bench/run.py

AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/browser/package.json tests/browser/package-lock.json
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	@touch $@

browser-deps: $(AXE)  ## install axe-core (npm, test-only) for the accessibility check of tests/test_html.py

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info tests/browser/node_modules
