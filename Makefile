# Daisy: `make demo` runs the demo clinic, `make test` runs every test. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The PostgreSQL half runs on a throwaway server that scripts/with-postgres starts and deletes
# afterwards; PG_TEST_URL=postgres://... runs it on that server's database instead.
PG_TEST_URL ?=
export PG_TEST_URL
STAMP := $(VENV)/.installed

.PHONY: install demo test test-sqlite test-postgres lint typecheck bench lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/daisy demo

# The two passes share nothing (own database, own var dir), so they run side by side: on a
# 2-core machine that takes the suite from about 15 minutes to about 10.
test: install lint typecheck
	$(BIN)/daisy makemigrations --check --dry-run
	$(MAKE) -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest

# The browser suite runs once, on SQLite: it tests pages, and the same services are already
# exercised on PostgreSQL by the rest of the suite.
test-postgres: install
	scripts/with-postgres sh -c 'DATABASE_URL="$$PG_TEST_URL" DAISY_VAR_DIR=var/postgres-pass $(BIN)/pytest -m "not browser"'

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy --strict daisy/core --exclude 'daisy/core/tests'

# PostgreSQL figures on DAISY_BENCH_PG_URL's database (the bench makes it and drops only what it
# made); without it, on a daisy_bench database of PG_TEST_URL's server or of a throwaway one.
bench: install
	scripts/with-postgres sh -c 'DAISY_BENCH_PG_URL="$${DAISY_BENCH_PG_URL:-$${PG_TEST_URL%/*}/daisy_bench}" $(BIN)/daisy bench'

lock:
	$(BIN)/python -m pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra scale --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) var/*.sqlite3*
