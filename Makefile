# The two commands: `make run` (set up, run the embedded stack with demo data)
# and `make test` (set up, run the test suite). Both create .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-unit test-integration test-e2e bench clean

$(STAMP): pyproject.toml
	bash scripts/ensure-python-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/meterstream up --demo

test: setup
	bash scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q tests/unit

test-integration: setup
	$(BIN)/python -m pytest -q tests/integration tests/e2e

bench: setup
	$(BIN)/meterstream bench

clean:
	rm -rf $(VENV) run artifacts .pytest_cache .hypothesis
