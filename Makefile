# Two commands for a newcomer: `make run` (set up and start on the embedded default) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000

.PHONY: run test lint bench binary bench-binary screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/vcore-app --port $(PORT)

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

$(BIN)/.lint-installed: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[lint]'
	touch $@

lint: $(BIN)/.lint-installed   ## what CI checks before the tests: style, types, known vulnerabilities
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python .ci/audit_deps.py

bench: $(BIN)/.installed
	$(BIN)/python bench/startup.py

# dist/vcore-app, one file (VCORE_ONEDIR=1: dist/vcore-app-onedir/). See packaging/README.md.
binary: $(BIN)/.installed
	PYTHON=$(PYTHON) VENV=$(VENV) packaging/build.sh

screenshots: $(BIN)/.installed   ## refresh docs/screenshots/ (the README's pictures) from the browser tests
	VCORE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_ui_dashboard.py tests/test_ui_jobs.py \
		tests/test_ui_scheduler_pages.py tests/test_ui_account.py

bench-binary: $(BIN)/.installed
	$(BIN)/python bench/binary.py

clean:
	rm -rf $(VENV) build dist *.egg-info
