# okr-server: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

export OKR_DEMO_DB ?= okr.sqlite3

.PHONY: run test bench lint typecheck schema check-contract migration-reset clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	OKR_ENV=development $(BIN)/python -m server.demo_run

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check server schema workflow tests alembic
	$(BIN)/ruff format --check server schema workflow tests alembic

typecheck: $(STAMP)
	$(BIN)/mypy

schema: $(STAMP)
	$(BIN)/okr schema > schema.graphql

check-contract: $(STAMP)
	$(BIN)/python ../shared/tools/check_contract.py schema.graphql

# Before the first release the chain is one migration, regenerated from the models.
migration-reset: $(STAMP)
	rm -f alembic/versions/0001_initial_schema.py /tmp/okr-migration-reset.sqlite3
	# Hand-written migrations on top of 0001 (audit triggers) step aside while 0001 is regenerated.
	mkdir -p /tmp/okr-migration-hold && mv alembic/versions/0002_*.py /tmp/okr-migration-hold/
	DATABASE_URL=sqlite:////tmp/okr-migration-reset.sqlite3 $(BIN)/alembic revision --autogenerate --rev-id 0001 -m "initial schema"; \
	  status=$$?; mv /tmp/okr-migration-hold/0002_*.py alembic/versions/; exit $$status
	rm -f /tmp/okr-migration-reset.sqlite3

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
