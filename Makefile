# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test install catalogs browser pdf services scan bench-tools

# axe-core, from the npm registry, for the accessibility browser test (build/ is ignored by git).
AXE := build/axe/node_modules/axe-core/axe.min.js

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(BIN)/.installed

catalogs: install
	$(FLASK) capital translations compile

## Start the app on the embedded default (SQLite, in-process tasks, mail to instance/outbox).
demo: catalogs pdf
	$(FLASK) db upgrade
	$(FLASK) capital demo
	$(FLASK) capital serve --host $(HOST) --port $(PORT)

$(AXE):
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm install --prefix build/axe --no-audit --no-fund --silent axe-core@4

## Debian's Chromium for the browser tests (never a downloaded browser), a CJK font so Chinese
## screenshots are readable, and axe-core for the accessibility test.
browser: $(AXE)
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk; }

## What the record of the designation (WeasyPrint) and the share picture (Pillow) draw with, from Debian:
## Pango and HarfBuzz for text layout, FriBiDi for right to left (Pillow's libraqm loads it), DejaVu and
## Noto CJK fonts; and poppler-utils (pdftotext, pdftoppm), with which the tests read the PDFs.
PDF_PACKAGES = libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libfribidi0 fonts-dejavu-core fonts-noto-cjk poppler-utils
pdf:
	@dpkg -s $(PDF_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PDF_PACKAGES); }

## Debian's wrk, which the benches load pages with (tests/test_benches.py runs each at its tiniest size).
bench-tools:
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

## Start PostgreSQL and redis if they have stopped (the test suite uses both). With several
## PostgreSQL versions installed, start the cluster that listens on 5432 (pg_lsclusters lists them).
PG_CLUSTER = $$(pg_lsclusters --no-header | awk '$$3 == 5432 { print $$1, $$2; exit }')
services:
	@pg_isready -q -h 127.0.0.1 || { cluster="$(PG_CLUSTER)"; test -n "$$cluster" || { echo "no PostgreSQL cluster on port 5432 (see pg_lsclusters)" >&2; exit 1; }; pg_ctlcluster --skip-systemctl-redirect $$cluster start; }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log

## Security scans: bandit finds no high-severity issue in capital/ (others are fixed or carry a
## `# nosec` with the reason); pip-audit checks the pinned constraints.txt, and says NOT AUDITED
## when no vulnerability service answers (CAPITAL_SCAN_STRICT=1 makes that fail).
## The API is fuzzed by schemathesis in the test suite (tests/web/test_api_fuzz.py).
scan: install
	$(BIN)/bandit -q -r capital --severity-level high
	$(BIN)/python .ci/audit_dependencies.py

## Run the whole test suite (PostgreSQL, redis, a Celery worker, SMTP, Chromium, SQLite) after the scans.
test: catalogs browser pdf bench-tools services scan
	$(BIN)/python -m pytest $(PYTEST_ARGS)
