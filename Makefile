# Two commands on a new machine: `make serve` and `make test`. Everything they need is installed here.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PG_URL  ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: serve test unit bench soak fuzz lint format install postgres chromium clean screenshots

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/llmtrail serve --host 127.0.0.1 --port 8000

# PostgreSQL is part of the test matrix: start the local cluster when it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  command -v pg_ctlcluster >/dev/null || { apt-get update -q && apt-get install -y -q postgresql; }; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
	  for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

# The UI's browser tests drive Debian's chromium (Playwright's own download is not used).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y -q chromium; }

test: $(STAMP) postgres chromium
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	LLMTRAIL_TEST_PG_URL=$(PG_URL) $(BIN)/pytest -n 2 -q

# The fast tier: in-process tests only, no database, server or PostgreSQL.
unit: $(STAMP)
	$(BIN)/pytest -m unit -q

bench: $(STAMP) postgres
	LLMTRAIL_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench $(ARGS)

# A real server under a steady mixed load for SOAK_SECONDS (default 600): fails on a 5xx or
# on memory that keeps growing (bench/soak.py). SOAK_ARGS: e.g. --backend postgresql --rate 40.
SOAK_SECONDS ?= 600
soak: $(STAMP)
	SOAK_SECONDS=$(SOAK_SECONDS) LLMTRAIL_TEST_PG_URL=$(PG_URL) $(BIN)/python -m bench.soak $(SOAK_ARGS)

# Schemathesis over every route for longer than `make test` does (a new seed each run unless
# LLMTRAIL_FUZZ_SEED is set; EXAMPLES cases per operation).
EXAMPLES ?= 100
fuzz: $(STAMP) postgres
	LLMTRAIL_TEST_PG_URL=$(PG_URL) LLMTRAIL_FUZZ_EXAMPLES=$(EXAMPLES) $(BIN)/pytest -n 2 -q tests/api/test_fuzz.py

# The UI's screenshots in docs/ui/, retaken on `llmtrail demo` data by the browser tests.
screenshots: $(STAMP) chromium
	LLMTRAIL_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q -p no:xdist tests/ui/test_screenshots.py

# The OpenAPI document, committed so that a change to any route's contract shows in review.
openapi: $(STAMP)
	$(BIN)/llmtrail openapi > docs/openapi.json

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) .llmtrail .pytest_cache .ruff_cache .hypothesis
