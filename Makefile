# Ledenbeheer — developer commands.
#
#   make demo    install, migrate, load the demo federation, serve on http://127.0.0.1:8000 (SQLite)
#   make test    install, run the whole test suite (PostgreSQL when DATABASE_URL points there)
#
# Everything runs inside .venv with `.venv/bin/python`; nothing is installed system-wide.
# See docs/running.md for the details.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

# pytest-xdist workers; extra pytest arguments come from PYTEST_ARGS, e.g.
#   make test PYTEST_ARGS="tests/relations -k search"
PYTEST_WORKERS ?= 2
# Relations loaded by `make demo` (a total: running it again adds nothing).
DEMO_MEMBERS ?= 3000
PYTEST_ARGS ?=

# Local development commands run with DEBUG on unless the environment says otherwise: with DEBUG
# off the settings expect collected static files, HTTPS and a real SECRET_KEY.
DEV_ENV := DEBUG=$${DEBUG:-1}
# The demo is self-contained: SQLite file db.sqlite3 and Celery tasks run in-process (no Redis),
# whatever DATABASE_URL / CELERY_BROKER_URL / CACHE_URL / STORAGE_URL the shell happens to have.
DEMO_ENV := env -u DATABASE_URL -u DATABASE_REPLICA_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u CACHE_URL -u STORAGE_URL DEBUG=1

PYTHON_MISSING = $(if $(PYTHON),PYTHON=$(PYTHON) is older than Python 3.12 or does not run; Ledenbeheer needs 3.12 or newer: give another PYTHON,Ledenbeheer needs Python 3.12 or newer; install it (e.g. pyenv install 3.12) and run make again)

# --- Finding a Python >= 3.12 ------------------------------------------------------------------
# Prints the interpreter's real path (sys.executable) of the first candidate that is >= 3.12:
#   1. $PYTHON when given (make install PYTHON=/opt/python3.13/bin/python3), and then only it;
#   2. python3.13, python3.12, python3 on PATH. Each is run, not just looked up: pyenv puts
#      shims for every version on PATH that fail when that version is not selected;
#   3. pyenv's own versions ($(pyenv root)/versions/X.Y.Z, or ~/.pyenv without pyenv on PATH),
#      highest first.
# A $PYTHON that is too old (or does not run) is not replaced by another: nothing is printed, and
# the caller stops with PYTHON_MISSING, which names it.
define FIND_PYTHON
ok() { "$$1" -c 'import sys; assert sys.version_info >= (3, 12); print(sys.executable)' 2>/dev/null; }; \
if [ -n "$(PYTHON)" ]; then ok "$(PYTHON)" || true; exit 0; fi; \
for cand in python3.13 python3.12 python3; do \
  command -v "$$cand" >/dev/null 2>&1 && ok "$$cand" && exit 0; \
done; \
root=$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}"); \
for v in $$(ls "$$root/versions" 2>/dev/null | grep -E '^3\.[0-9]+\.[0-9]+$$' | sort -rV); do \
  ok "$$root/versions/$$v/bin/python3" && exit 0; \
done; \
exit 0
endef

# Evaluated only when a recipe needs it (creating .venv), then remembered.
BASE_PYTHON = $(eval BASE_PYTHON := $(shell $(FIND_PYTHON)))$(BASE_PYTHON)

# An existing .venv is kept only when its python starts and is >= 3.12; otherwise it is rebuilt.
VENV_OK := $(shell $(PY) -c 'import sys; print(sys.version_info >= (3, 12))' 2>/dev/null)

.PHONY: help install demo test lint messages migrate run worker beat clean python venv-python-check FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

python: ## print the Python >= 3.12 that .venv is (or would be) built with
	@$(if $(BASE_PYTHON),echo "$(BASE_PYTHON)",echo "$(PYTHON_MISSING)" >&2; exit 1)
	@$(MAKE) venv-python-check

# An explicit PYTHON that is not the one an existing .venv runs is not ignored in silence: the
# kept .venv would go on with its own. Say so, and how to rebuild it.
venv-python-check:
	@$(if $(PYTHON),$(if $(BASE_PYTHON),,echo "$(PYTHON_MISSING)" >&2; exit 1))
	@if [ -n "$(PYTHON)" ] && [ "$(VENV_OK)" = "True" ]; then \
	  want=$$("$(BASE_PYTHON)" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'); \
	  have=$$($(PY) -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'); \
	  if [ "$$want" != "$$have" ]; then \
	    echo "$(VENV) runs Python $$have, not the $$want of PYTHON=$(PYTHON): remove $(VENV) (make clean) to rebuild it with that one" >&2; exit 1; \
	  fi; \
	fi

# --- Installing -------------------------------------------------------------------------------

install: $(if $(PYTHON),venv-python-check) $(PY_STAMP) $(NPM_STAMP) $(MO_FILES) ## create .venv, install Python and front-end dependencies when they changed

ifneq ($(VENV_OK),True)
$(VENV)/pyvenv.cfg: FORCE
endif
FORCE:

# pyvenv.cfg is written when the venv is created; bin/python is a symlink whose date is the
# interpreter's, so it cannot tell whether the venv is new.
$(VENV)/pyvenv.cfg:
	$(if $(BASE_PYTHON),,$(error $(PYTHON_MISSING)))
	@echo "Creating $(VENV) with $(BASE_PYTHON)"
	$(BASE_PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changed since the last install (or the venv is new).
$(PY_STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	$(PY) -m pip install ".[dev]"
	@touch $@

# `npm ci` only when the lock file changed. npm ci empties node_modules, so the stamp goes last.
$(NPM_STAMP): package-lock.json package.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js with npm (e.g. apt-get install nodejs npm) and run make again" >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

# Compiled translations (.mo) are made from the .po files whenever a .po is newer, so a fresh
# clone shows the Dutch interface. Without gettext an existing .mo is kept, with a warning.
locale/%.mo: locale/%.po
	@if command -v msgfmt >/dev/null 2>&1; then \
	  echo "msgfmt --check-format -o $@ $<"; msgfmt --check-format -o $@ $<; \
	elif [ -f $@ ]; then \
	  echo "warning: gettext is missing; keeping $@, which may be older than $<" >&2; \
	else \
	  echo "gettext is missing: install it (e.g. apt-get install gettext) to compile $<" >&2; exit 1; \
	fi

# --- Running ----------------------------------------------------------------------------------

demo: install ## migrate, load the demo federation and serve on http://127.0.0.1:8000 (SQLite, no Redis)
	$(DEMO_ENV) $(PY) manage.py migrate --noinput
	$(DEMO_ENV) $(PY) manage.py seed_demo --members $(DEMO_MEMBERS)
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000

migrate: install ## apply migrations to the database of DATABASE_URL (default db.sqlite3)
	$(DEV_ENV) $(PY) manage.py migrate --noinput

run: install ## serve on http://127.0.0.1:8000 without seeding
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

worker: install ## run a Celery worker (needs CELERY_BROKER_URL)
	$(DEV_ENV) $(PY) -m celery -A ledenbeheer worker -l info

# Beat's state file (last run times) goes to var/, which git ignores.
beat: install ## run Celery beat, the nightly scheduler (exactly one per installation)
	@mkdir -p var
	$(DEV_ENV) $(PY) -m celery -A ledenbeheer beat -l info --schedule var/celerybeat-schedule

# --- Checking ---------------------------------------------------------------------------------

# pytest exits with 5 when it collected no tests: for us that is a failure, not a pass.
test: install ## run the test suite (PYTEST_ARGS passes extra arguments to pytest)
	@status=0; $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then \
	  echo "make test: FAILED — pytest collected no tests (exit code 5); the suite must run." >&2; exit 1; \
	fi; \
	exit $$status

# import-linter holds the apps' layers (contracts in pyproject.toml, explained in
# docs/architecture.md); without a cache it leaves nothing behind in the checkout.
lint: install ## ruff check, then the import-linter layer contracts
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache

messages: install ## update the Dutch translation files and compile them (needs gettext)
	@command -v msgfmt >/dev/null 2>&1 || { echo "gettext is missing: install it (e.g. apt-get install gettext) and run make again" >&2; exit 1; }
	$(DEV_ENV) $(PY) manage.py makemessages -l nl --no-location -i node_modules -i $(VENV) -i tests
	$(DEV_ENV) $(PY) manage.py compilemessages -i node_modules -i $(VENV)

clean: ## remove .venv, node_modules, the demo database, uploads (media/), var/ and collected static files
	rm -rf $(VENV) node_modules db.sqlite3 db.sqlite3-shm db.sqlite3-wal staticfiles media var build *.egg-info
