# Two entry points: `make demo` and `make test`. Both create .venv when it
# is missing and install the project with the pins in constraints.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip
PYTEST_WORKERS ?= 2
DEMO_DIR ?= demo

.PHONY: install test demo lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=15

demo: $(STAMP)
	$(BIN)/ocean synthetic --grid 4deg --start 2020-01-01 --days 30 --out $(DEMO_DIR)/synthetic --force
	$(BIN)/ocean info $(DEMO_DIR)/synthetic/glorys/$$(ls $(DEMO_DIR)/synthetic/glorys | head -n 1)
	@echo "Synthetic ocean written to $(DEMO_DIR)/synthetic (see $(DEMO_DIR)/synthetic/manifest.json)"

lint: $(STAMP)
	$(BIN)/lint-imports

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
