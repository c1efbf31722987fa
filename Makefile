# Flowsite: `make run` serves it on http://127.0.0.1:8000, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/flowsite
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/flowsite_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: install run test test-embedded test-team lint typecheck bench images compat

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_admin
	$(PY) manage.py load_examples
	$(PY) -m flowsite.supervisor

lint: install
	$(PY) -m ruff check .

# Types (mypy, strict, with django-stubs; the tests a little looser) and formatting, inside `make test`.
typecheck: install
	$(PY) -m mypy .
	$(PY) -m ruff format --check .

# The whole suite, in both configurations: embedded (SQLite, no Redis), then team
# (PostgreSQL and Redis) when those servers answer. CI requires both.
test: install lint typecheck test-embedded test-team

test-embedded: install
	env -u DATABASE_URL -u REDIS_URL FLOWSITE_QUEUE_NAME=flowsite-test $(PY) -m pytest

test-team: install
	@if $(PY) scripts/services_answer.py "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
		FLOWSITE_QUEUE_NAME=flowsite-test FLOWSITE_REDIS_PREFIX=flowsite-test $(PY) -m pytest; \
	elif [ "$$CI" = "true" ]; then echo "CI needs PostgreSQL and Redis for the team configuration"; exit 1; \
	else echo "Skipped the team configuration: PostgreSQL or Redis does not answer"; fi

# The benchmark, in both configurations like the tests: embedded, then team when PostgreSQL
# and Redis answer (in a database of its own, so that its transaction count is its alone).
bench: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m benchmarks $(BENCH_ARGS)
	@if $(PY) scripts/services_answer.py "$(BENCH_DATABASE_URL)" "$(BENCH_REDIS_URL)"; then \
		DATABASE_URL="$(BENCH_DATABASE_URL)" REDIS_URL="$(BENCH_REDIS_URL)" \
		$(PY) -m benchmarks $(BENCH_ARGS); \
	else echo "Skipped the team configuration: PostgreSQL or Redis does not answer"; fi

images:
	bash scripts/build-images.sh

# Kestra's own test flows, measured on Flowsite beside the suite (not in it): how many are
# accepted, and whether those Kestra's tests assert on end as Kestra expects. Needs a work
# tree of kestra-io/kestra (scripts/kestra_compat.py says how to export one from a mirror).
compat: install
	@if [ -z "$(KESTRA_CHECKOUT)" ]; then echo "Usage: make compat KESTRA_CHECKOUT=<dir>"; exit 2; fi
	env -u DATABASE_URL -u REDIS_URL $(PY) scripts/kestra_compat.py "$(KESTRA_CHECKOUT)" $(COMPAT_ARGS)
