# Stammkunde: `make run` serves the demo shop, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CUSTOMERS ?= 5000

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# axe-core for the accessibility test (tests/test_browser_a11y.py); `make run` needs no node.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $(AXE)

install: $(STAMP) $(AXE)

run: $(STAMP)
	$(BIN)/stammkunde migrate --noinput -v0
	$(BIN)/stammkunde demo --customers $(DEMO_CUSTOMERS) --seed 1 --if-empty
	$(BIN)/stammkunde analytics score
	$(BIN)/stammkunde demo_admin
	STAMMKUNDE_DEBUG=1 $(BIN)/stammkunde serve 127.0.0.1:8000

test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_translations.py

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
