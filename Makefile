# Each target bootstraps .venv itself: a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install lock run serve test test-compat test-pgbouncer test-citus lint stop bench bench-curve clean

# Reinstall whenever pyproject.toml or the constraints change (the stamp is older).
# constraints.txt pins every package (the lock); `make lock` writes it again.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lock: install
	$(BIN)/pip install --quiet --disable-pip-version-check -U -e '.[dev]'
	{ echo "# Every package of the virtualenv at a known version: make installs with -c constraints.txt."; \
	  echo "# Regenerate after changing pyproject.toml's dependencies: make lock"; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^refresh'; } > constraints.txt

run: install
	$(BIN)/piccolo migrations forwards all
	$(BIN)/piccolo tenants demo --port $(PORT)
	$(BIN)/uvicorn app:app --host 127.0.0.1 --port $(PORT) --no-proxy-headers --loop uvloop --http httptools

# Production: several workers, JSON logs, refuses development settings (README,
# "Running in production"). Needs ENVIRONMENT=production, JWT_SECRET and both URLs.
serve: install
	$(BIN)/python -m serve

test: install
	$(BIN)/pytest

# The suite on a second server (CI: PostgreSQL 15 via TEST_DATABASE_URL), less the parts
# whose outcome does not depend on the server's version: the admin's browser tests (the
# same endpoints are tested over HTTP), the production server's process handling, the
# Citus smoke tests (Citus is built for PostgreSQL 18) and the 100,000-task round trip
# (the lifecycle's statements run in the small round trips).
test-compat: install
	$(BIN)/pytest -m "not slow" --ignore=tests/browser --ignore=tests/test_serve.py \
		--ignore=tests/citus

# The isolation and pool-safety suites with the read pool behind PgBouncer (needs pgbouncer).
test-pgbouncer: install
	TEST_PGBOUNCER=1 $(BIN)/pytest tests/test_isolation_load.py tests/test_isolation_model.py \
		tests/refresh/db/test_request_transaction.py tests/apps/projects tests/apps/tasks

# The API, isolation, guarantees, request transaction, admin and tenant lifecycle suites on a real Citus cluster (a coordinator and two
# workers built from ../shared/citus, cached in .data/citus), tables distributed by the
# migrations alone; the read role refuses any query that is not routed to one shard.
test-citus: install
	$(BIN)/python -m tests.citus.build
	TEST_CITUS=1 $(BIN)/pytest tests/apps tests/refresh/lifecycle tests/refresh/db tests/test_guarantees.py \
		tests/test_isolation_load.py tests/test_isolation_model.py tests/citus tests/refresh/tenancy \
		tests/test_database_guide.py -k "not test_section or scaling"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check apps refresh bench app.py settings.py piccolo_conf.py tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks of tenant isolation (RLS vs an explicit filter), on their own embedded
# PostgreSQL in .data/bench-pg; prints one table and writes bench/RESULTS.md.
# BENCH_QUICK=1 for a smaller run.
bench: install
	$(BIN)/python -m bench

# The cost curve: the SQL and HTTP benchmarks at 100k, 1M and 10M tasks (one database per
# size, generated once and kept: time and disk in bench/NOTES.md); writes bench/CURVE.md, curve.svg.
bench-curve: install
	$(BIN)/python -m bench.curve

stop: install
	$(BIN)/python -c 'from settings import get_settings; from refresh.db.embedded import stop_server; \
	print("stopped" if stop_server(get_settings().embedded_data_dir) else "not running")'

clean: stop
	rm -rf .data
