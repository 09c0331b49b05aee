# The two quick-start commands are `make serve` and `make test`; each builds .venv as needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# serve needs only the runtime dependencies; the tests and linters need the dev extra too.
RUNTIME_STAMP := $(VENV)/.runtime

.PHONY: serve test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP) $(RUNTIME_STAMP)

serve: $(RUNTIME_STAMP)  ## run algaflow on the embedded SQLite default (./algaflow.db)
	$(BIN)/algaflow serve

test: $(STAMP)  ## run the whole test suite (PostgreSQL tests skip when no server answers, unless CI is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, the type checker, and the layer contracts (pyproject.toml)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)  ## print speed and memory figures (see benchmarks/README.md)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
