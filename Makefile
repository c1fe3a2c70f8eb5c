# Clearline: one entry point for people. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test`: one per core of the 2-core CI machine
TEST_WORKERS ?= 2

.PHONY: help install browser run test test-fast lint typecheck bench eval lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# --no-deps: the lock is the full, resolved set (torch pinned to the local CPU build;
	# torchvision deliberately absent because it does not import beside it, see docs/install.md).
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the locked dependencies and clearline

browser: ## Debian's Chromium for the browser tests (tests/ui), installed when missing
	@test -x /usr/bin/chromium || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null || { echo "error: the browser tests (tests/ui) need Debian's chromium at /usr/bin/chromium: run 'sudo apt-get install -y chromium', then make test again" >&2; exit 1; }; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: install ## ingest the sample knowledge base for tenant 'demo' and serve on $(HOST):$(PORT)
	$(BIN)/clearline demo --host $(HOST) --port $(PORT)

test: install browser ## run the whole test suite (what CI runs) in TEST_WORKERS (2) processes
	$(BIN)/python -m pytest -q --durations=30 -n $(TEST_WORKERS) --dist loadfile

test-fast: install browser ## the suite without the slow tier
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile

lint: install ## ruff
	$(BIN)/ruff check knowledge ingest agent conversations privacy evaluation control service tests bench examples training

typecheck: install ## mypy --strict over the packages
	$(BIN)/mypy

bench: install ## ingestion benchmark (prints ingest_vs_embed_ratio)
	$(BIN)/python bench/ingest.py

lock: ## re-resolve requirements.in into requirements.lock (needs the package index)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	.lock-venv/bin/pip uninstall --quiet -y torchvision
	.lock-venv/bin/pip freeze --all | grep -v -E '^(torchvision|pip)==|^-e ' > requirements.lock
	rm -rf .lock-venv

clean: ## remove the venv and local data
	rm -rf $(VENV) data
