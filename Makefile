# One command to run the API locally, one to test it. Each creates the Python 3.13 venv and
# installs what it needs first, so both work on a fresh clone.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PORT    ?= 8000

.PHONY: run demo reminders test lint typecheck pytest wheelhouse package deploy bench clean

$(PY):
	"$$(scripts/python313.sh)" -m venv $(VENV)

$(STAMP): $(PY) requirements.txt requirements-dev.txt
	@echo "Installing the Python packages into $(VENV) (the first time takes about 2 minutes) ..."
	$(PY) -m pip install --quiet --upgrade "pip<26.3"
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## run: install, then serve the dev stage on http://localhost:$(PORT) (chalice local), with the
## local Google stand-in on http://127.0.0.1:8765 (GET /token?email=... hands out credentials)
run: $(STAMP)
	PORT=$(PORT) scripts/run-local.sh

## demo: with `make run` serving (in another terminal), sign in a demo person and fill their tracker
## with a realistic job search through the API; prints the access token (API=... for another URL)
demo: $(STAMP)
	$(PY) -m local_google demo --api $${API:-http://localhost:$(PORT)}

## reminders: one reminder pass now on the dev stage (SQLite, MAILER=outbox): each e-mail becomes an
## .eml file in .data/outbox/; REMINDERS_ARGS="--at 2026-12-02T08:00:00+01:00" runs it as of that instant
reminders: $(STAMP)
	$(PY) -m chalicelib.reminders $(REMINDERS_ARGS)

## test: install, then lint, type-check and run every test
test: lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## wheelhouse: download into .wheelhouse/ every file chalice's packager needs for requirements.txt
## (Lambda's platform, cp313): then `make package` and the package test build offline
wheelhouse: $(STAMP)
	$(PY) -m deploy.wheelhouse --stage prod

## package: the prod deployment package (with precompiled bytecode) and SAM template (with the
## DynamoDB table) in build/prod, linted; dependencies from .wheelhouse/ when it is up to date
package: $(STAMP)
	$(PY) -m deploy.merge_template --stage prod --out build/merge-template-prod.json
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} $(PY) -m deploy.build --stage prod package \
		--merge-template build/merge-template-prod.json build/prod
	$(VENV)/bin/cfn-lint build/prod/sam.json

## deploy: production in one command (needs AWS credentials and a region; see the README's Deploy
## section): settings, secret, table, `chalice deploy --stage prod` with bytecode, what chalice
## cannot configure, then GET /health/ready. Idempotent: a second run changes nothing that is right.
deploy: $(STAMP)
	$(PY) -m deploy.production --stage prod

## bench: cold start, warm latency and scaling against the original app (bench/README.md);
## BENCH_ARGS=--quick for a smoke run, BENCH_ARGS="--store dynamodb" for DynamoDB Local
bench: $(STAMP)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build .bench .pytest_cache .mypy_cache .ruff_cache
