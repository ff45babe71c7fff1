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
	$(BIN)/ocean forecast --out $(DEMO_DIR)/forecasts
	@echo "Open it in Python with: import ocean; ocean.open_forecasts('$(DEMO_DIR)/forecasts')"

lint: $(STAMP)
	$(BIN)/lint-imports

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
