# Two commands matter: `make run` (back office with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test lint venv migrate demo lock clean bench-nightly bench-admin bench-api bench-imports

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

venv: $(STAMP)

# DEBUG on and a throwaway secret: `make run` is the local demo, never production.
RUN_ENV := DEBUG=1 SECRET_KEY=$${SECRET_KEY:-local-demo-not-secret}

migrate: $(STAMP)
	mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --no-input

demo: migrate
	$(RUN_ENV) $(PY) manage.py load_demo
	$(RUN_ENV) $(PY) manage.py load_risk_demo
	$(RUN_ENV) $(PY) manage.py load_collections_demo

# The web server plus one Celery worker with beat (embedded broker under var/), so the demo
# closes its business days by itself at 00:30; the worker stops with the server.
run: demo
	mkdir -p var/broker/queue var/broker/processed var/broker/results var/broker/control
	$(RUN_ENV) $(VENV)/bin/celery -A config worker --beat --concurrency=1 --loglevel=INFO \
		--logfile=var/celery.log --schedule=var/celerybeat-schedule & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	echo "Celery worker and beat running (log: var/celery.log)"; \
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(RUN_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(RUN_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

# Two workers (the machine has two cores); tests sharing a service are grouped onto one worker.
PYTEST_ARGS ?= -n 2 --dist loadgroup
test: lint
	$(RUN_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis

# One close of business on a synthetic PostgreSQL book (bench/README.md). The database named
# in BENCH_DATABASE_URL is dropped and recreated.
LOANS ?= 1000000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending_bench
bench-nightly: $(STAMP)
	DEBUG=1 DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) -m bench.nightly --loans $(LOANS) $(BENCH_ARGS)

# Every admin page of every role (list, filter, search, change page) on the same synthetic book
# with the rest of the back office at its scale (bench/README.md). The database named in
# BENCH_ADMIN_DATABASE_URL is dropped and recreated.
BENCH_ADMIN_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending_bench_admin
bench-admin: $(STAMP)
	DEBUG=1 DATABASE_URL=$(BENCH_ADMIN_DATABASE_URL) $(PY) -m bench.admin --loans $(LOANS) $(BENCH_ARGS)

# The API under load: gunicorn on PostgreSQL, 16 clients posting repayments beside a trivial
# endpoint (bench/README.md). The database in BENCH_API_DATABASE_URL is dropped and recreated.
API_LOANS ?= 3000
BENCH_API_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending_bench_api
bench-api: $(STAMP)
	DEBUG=1 DATABASE_URL=$(BENCH_API_DATABASE_URL) $(PY) -m bench.api --loans $(API_LOANS) $(BENCH_ARGS)

# A repayment file imported on a synthetic PostgreSQL book, CSV and XLSX, beside
# django-import-export's plain configuration (bench/README.md). The database named in
# BENCH_IMPORTS_DATABASE_URL is dropped and recreated.
ROWS ?= 100000
BENCH_IMPORTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending_bench_imports
bench-imports: $(STAMP)
	DEBUG=1 DATABASE_URL=$(BENCH_IMPORTS_DATABASE_URL) $(PY) -m bench.imports --rows $(ROWS) \
		$(BENCH_ARGS)

# Re-pin every dependency after editing pyproject.toml.
lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
