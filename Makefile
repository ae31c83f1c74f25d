# Two commands matter: `make run` (back office with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: run test lint venv migrate demo lock clean bench-nightly bench-admin bench-api bench-imports \
	screenshots

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
	$(RUN_ENV) $(PY) manage.py snapshot_backfill --replace

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

# Retake docs/screenshots/ with every docs/screenshots/capture_*.py: a fresh demo on a SQLite
# database of its own (SHOTS_DB), a server on SHOTS_PORT while the scripts run, stopped after.
# Debian's chromium (/usr/bin/chromium) and a CJK font (fonts-noto-cjk) for the Chinese pages.
SHOTS_DB ?= var/screenshots.sqlite3
SHOTS_PORT ?= 8765
SHOTS_URL := http://127.0.0.1:$(SHOTS_PORT)
screenshots: $(STAMP)
	mkdir -p var
	rm -f $(SHOTS_DB)
	export DATABASE_URL=sqlite:///$(abspath $(SHOTS_DB)) $(RUN_ENV); set -e; \
	$(PY) manage.py migrate --no-input -v 0; \
	$(PY) manage.py load_demo; $(PY) manage.py load_risk_demo; $(PY) manage.py load_collections_demo; \
	$(PY) docs/screenshots/statement_csv.py var/screenshots-statement.csv; \
	$(PY) manage.py runserver 127.0.0.1:$(SHOTS_PORT) --noreload >var/screenshots-server.log 2>&1 & \
	server=$$!; trap 'kill $$server 2>/dev/null' EXIT INT TERM; \
	for _ in $$(seq 60); do sleep 1; $(PY) -c "import urllib.request as u; \
		u.urlopen('$(SHOTS_URL)/admin/login/')" 2>/dev/null && break; done; \
	status=0; for script in docs/screenshots/capture_*.py; do \
		echo "== $$script"; $(PY) $$script $(SHOTS_URL) var/screenshots-statement.csv || status=1; \
	done; exit $$status

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
