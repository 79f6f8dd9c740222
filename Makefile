# Each target bootstraps .venv itself: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test lint stop bench clean

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

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check apps app.py settings.py piccolo_conf.py tests
	$(BIN)/mypy

stop: install
	$(BIN)/python -c 'from settings import get_settings; from apps.rls.embedded import stop_server; \
	print("stopped" if stop_server(get_settings().embedded_data_dir) else "not running")'

clean: stop
	rm -rf .data
