# Each target bootstraps .venv itself: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test test-pgbouncer lint stop bench clean

# Reinstall whenever pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/piccolo migrations forwards all
	$(BIN)/piccolo tenants demo --port $(PORT)
	$(BIN)/uvicorn app:app --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/pytest

# The isolation and pool-safety suites with the read pool behind PgBouncer (needs pgbouncer).
test-pgbouncer: install
	TEST_PGBOUNCER=1 $(BIN)/pytest tests/test_isolation_load.py tests/test_isolation_model.py \
		tests/apps/rls/test_request_transaction.py tests/apps/projects tests/apps/tasks

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check apps app.py settings.py piccolo_conf.py tests
	$(BIN)/mypy

# Benchmarks of tenant isolation (RLS vs an explicit filter), on their own embedded
# PostgreSQL in .data/bench-pg; prints one table and writes bench/RESULTS.md.
# BENCH_QUICK=1 for a smaller run.
bench: install
	$(BIN)/python -m bench

stop: install
	$(BIN)/python -c 'from settings import get_settings; from apps.rls.embedded import stop_server; \
	print("stopped" if stop_server(get_settings().embedded_data_dir) else "not running")'

clean: stop
	rm -rf .data
