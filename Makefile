# Two commands for a newcomer: `make run` (set up and start on the embedded default) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# Test processes (pytest-xdist): one per core of the 2-core CI machine (README, "Tests").
TEST_WORKERS ?= 2
# What the binary bundles: dist/vcore-app is rebuilt when one of them is newer.
BINARY_SOURCES := $(shell find vcore_app assets migrations -type f -not -path '*/__pycache__/*') \
                  vcore.spec pyproject.toml packaging/build.sh

.PHONY: run test test-setup lint bench reliability binary bench-binary screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools
	$(BIN)/python -m pip install -q -e '.[test,cluster]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/vcore-app --port $(PORT)

# The whole suite, in parallel: test-setup installs what the tests need from the machine (or says which
# groups will skip), and the binary tests get a dist/vcore-app built from this checkout.
# PYTEST_ARGS go to pytest (e.g. -k login); PYTEST_EXIT_FILE, when set, receives pytest's exit code
# (.ci/run fails on 5, "no test collected").
test: test-setup $(BIN)/.installed dist/vcore-app
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS); status=$$?; \
	[ -z "$(PYTEST_EXIT_FILE)" ] || echo $$status > "$(PYTEST_EXIT_FILE)"; exit $$status

test-setup:
	scripts/test-setup.sh

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

# Faults tried on the real app (kill -9, a full disk, a locked database, clock jumps, a soak, a held
# reader), figures into docs/reliability.md; the full disk needs root. The defaults are the short
# version CI runs (about four minutes); issue 19's full battery: make reliability SOAK=600 CYCLES=20.
CYCLES ?= 5
SOAK   ?= 60
reliability: $(BIN)/.installed
	$(BIN)/python bench/reliability.py --cycles $(CYCLES) --soak-seconds $(SOAK)

# dist/vcore-app, one file (VCORE_ONEDIR=1: dist/vcore-app-onedir/). See packaging/README.md.
binary: $(BIN)/.installed
	PYTHON=$(PYTHON) VENV=$(VENV) packaging/build.sh

dist/vcore-app: $(BIN)/.installed $(BINARY_SOURCES)
	PYTHON=$(PYTHON) VENV=$(VENV) packaging/build.sh

screenshots: $(BIN)/.installed   ## refresh docs/screenshots/ (the README's pictures) from the browser tests
	VCORE_SCREENSHOTS=1 $(BIN)/python -m pytest -q tests/test_browser_dashboard.py tests/test_browser_jobs.py \
		tests/test_browser_schedulers.py tests/test_browser_account.py

bench-binary: $(BIN)/.installed
	$(BIN)/python bench/binary.py

clean:
	rm -rf $(VENV) build dist *.egg-info
