# make run   set up, migrate, and serve the API on 127.0.0.1:$PORT (default 8000)
# make test  set up, then run the whole test suite
# make lint  ruff, mypy, Django's checks, migrations and OpenAPI schema checks, hadolint on the Dockerfile
VENV := .venv
PY := $(VENV)/bin/python
TEST_SECRET_KEY := only-for-tests-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH
# Runs a command with a database: without DATABASE_URL (or the course's DATABASE_HOSTNAME) in the
# environment or .env, the embedded PostgreSQL, started for it and stopped after it, and a local
# key in .local/ if none is set (devdb/embedded.py).
WITH_DB := $(PY) -m devdb.embedded
# For Django's commands that load the settings but use no database (make lint): nothing listens here.
NO_DB := DATABASE_URL=postgres://lint@127.0.0.1:1/unused

.PHONY: help run test quick lint install bench bench-semantics bench-abuse manage bench-webhooks bench-metrics lock lock-upgrade bench-feed
.DEFAULT_GOAL := help

help:
	@echo "make run    set up .venv, migrate, and serve the API on http://127.0.0.1:8000 (PORT=... for another) with its worker"
	@echo "make test   set up .venv, then run the whole test suite (ARGS=... for pytest arguments)"
	@echo "make quick  the tests that start no process and wait on no clock (about 1.5 minutes on a busy 2-core machine)"
	@echo "make manage ARGS=\"createsuperuser\"  any manage.py command, on the same database as make run"
	@echo "make lint   ruff, mypy, Django's checks, migrations and OpenAPI schema checks, hadolint"
	@echo "make bench  1k, 1M and 10M posts: each scenario under wrk, list and get-one against a bare app (see docs/benchmark.md)"
	@echo "make bench-semantics  paging, counts, ETags: their cost against the code before"
	@echo "make bench-abuse  one user's worst reads against another user's list (docs/abuse.md)"
	@echo "make bench-webhooks  POST /posts/ with a webhook subscribed against none; 1,000 deliveries"
	@echo "make bench-metrics  CPU per request with metrics on against off (list, get one)"
	@echo "make lock   the hashed lock files again after editing requirements*.txt (lock-upgrade: newest others)"
	@echo "make bench-feed  GET /feed on a power-law social graph beside GET /posts/ (bench/feed.py)"

# A Python >= 3.12: the one .python-version names (pyenv), else python3.13, python3.12, python3.
$(PY):
	@py=""; \
	for c in "$$(pyenv which python 2>/dev/null)" python3.13 python3.12 python3; do \
	  if [ -n "$$c" ] && "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then py="$$c"; break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "This project needs Python 3.12 or newer (3.13 preferred). Install python3.13, or pyenv with 3.13, and run make again." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py ($$("$$py" --version))"; \
	"$$py" -m venv $(VENV)

# The lock (pip-compile --generate-hashes, `make lock`): every package at its locked version,
# each download checked against its hashes.
$(VENV)/.installed: requirements.txt requirements-dev.txt requirements.lock requirements-dev.lock | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@

install: $(VENV)/.installed

# make lock          after editing requirements*.txt: the locks again, other versions kept
# make lock-upgrade  the same, with every package not pinned in requirements*.txt at its newest
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock: install
	$(PIP_COMPILE) $(LOCK_ARGS) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) $(LOCK_ARGS) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# One database for all three commands: the background worker (manage.py worker) runs beside the
# server and is stopped with it (Ctrl-C stops both, then the embedded database).
run: install
	@$(PY) -m environment.variables WEB_CONCURRENCY  # gunicorn reads it before its configuration file does
	$(WITH_DB) sh -c '$(PY) manage.py migrate --noinput || exit 1; \
	  $(PY) manage.py worker & worker=$$!; trap "kill -TERM $$worker 2>/dev/null" INT TERM EXIT; \
	  GUNICORN_HOST=127.0.0.1 GUNICORN_FOREGROUND=true $(VENV)/bin/gunicorn config.wsgi -c gunicorn.conf.py; \
	  kill -TERM $$worker 2>/dev/null; wait $$worker'

test: install
	SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(WITH_DB) $(VENV)/bin/pytest $(ARGS)

# make manage ARGS="seed --users 5": a manage.py command on the database make run serves (the embedded one by default).
manage: install
	$(WITH_DB) $(PY) manage.py $(ARGS)

quick: install
	SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(WITH_DB) $(VENV)/bin/pytest -m "not slow" -q $(ARGS)

lint: install
	$(PY) deploy/check_locks.py
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	# mypy's Django plugin imports the settings, which need a database URL (nothing connects to it).
	$(NO_DB) SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(VENV)/bin/mypy .
	$(NO_DB) SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(PY) manage.py check
	# Models against migration files; the applied history of a database is not lint's business.
	$(NO_DB) SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(PY) -W "ignore:Got an error checking a consistent migration history" \
	  manage.py makemigrations --check --dry-run
	$(NO_DB) SECRET_KEY="$${SECRET_KEY:-$(TEST_SECRET_KEY)}" $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(VENV)/bin/hadolint Dockerfile
	# Production settings: Django's deployment checklist must be clean.
	$(NO_DB) DEBUG=false SECURE_SSL_REDIRECT=true SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" $(PY) manage.py check --deploy --fail-level WARNING

# make bench  1k, 1M and 10M posts: each scenario under wrk, the project against a bare app (bench/run.py)
bench: install
	$(WITH_DB) $(PY) bench/run.py $(ARGS)
	$(WITH_DB) $(PY) bench/webhooks.py

# make bench-webhooks  POST /posts/ with a webhook subscribed against none; 1,000 deliveries (bench/webhooks.py)
bench-webhooks: install
	$(WITH_DB) $(PY) bench/webhooks.py $(ARGS)

# make bench-metrics  CPU per request with metrics on against off, list and get-one, on the 1k data
# set, in one run (bench/compare.py with settings per run); docs/operating.md
bench-metrics: install
	rm -rf .local/bench-metrics
	$(WITH_DB) sh -c '$(PY) manage.py migrate --noinput -v0 && $(PY) manage.py seed --users=100 --posts=1000 --votes=5000 --password=bench-password-123 && \
	  $(PY) bench/compare.py ".::METRICS_TOKEN=" ".::METRICS_TOKEN=bench,PROMETHEUS_MULTIPROC_DIR=.local/bench-metrics" --scenarios "list,get one" $(ARGS)'

# make bench-semantics  what Link, ETag, If-None-Match, count=exact and cursors cost (bench/semantics.py)
bench-semantics: install
	$(WITH_DB) $(PY) bench/semantics.py $(ARGS)

# make bench-abuse  16 clients of one user's worst reads against another user's list (bench/abuse.py)
bench-abuse: install
	$(WITH_DB) $(PY) bench/abuse.py $(ARGS)
# make bench-feed  the home feed on a seeded social graph, three designs compared (bench/feed.py)
bench-feed: install
	$(WITH_DB) $(PY) bench/feed.py $(ARGS)
