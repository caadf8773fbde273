# pipeline-infra: offline plan and tests. Every target creates the virtualenv when missing.
#   make plan STACK=prod [FORMAT=json] [SET='dr.role=primary'] [CONFIG=path] [RENDER=dir]
#   make plan-diff STACK=prod-dr SET='dr.role=primary' [FORMAT=json]
#   make plan-all | make test | make lint | make settings-doc

VENV    ?= .venv
PY      := $(VENV)/bin/python
STACK   ?= local
FORMAT  ?= text
SET     ?=
CONFIG  ?=
RENDER  ?=
PYTEST_ARGS ?=

PLAN_ARGS = --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)") \
            $(if $(RENDER),--render "$(RENDER)")

<<<<<<< HEAD
.PHONY: plan plan-all plan-diff golden test lint engines venv clean local-check connect-checksums node-exporter-artifact
=======
.PHONY: plan plan-all plan-diff golden settings-doc test lint engines venv clean
>>>>>>> settings-doc

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

plan: $(VENV)/.installed
	@$(PY) -m planner plan $(PLAN_ARGS)

plan-all: $(VENV)/.installed
	@$(PY) -m planner plan-all

plan-diff: $(VENV)/.installed
	@$(PY) -m planner diff --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)")

# Rewrite the golden plans and renders under tests/golden (commit them with the change they show).
golden: $(VENV)/.installed
	@$(PY) -m planner golden

# Rewrite docs/settings.md from the settings models (tests/settings fail while it is stale).
settings-doc: $(VENV)/.installed
	@$(PY) -m planner settings-doc

# The real engines the rendered artifacts are checked with (promtool, amtool, PostgreSQL 15, ...).
# checkov lives in its own virtualenv: its pins clash with pulumi's.
CHECKOV_VENV ?= .venv-checkov

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || python3 -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

engines: $(CHECKOV_VENV)/.installed
	@bash scripts/install-engines.sh

test: $(VENV)/.installed engines
	@$(PY) -m pytest $(PYTEST_ARGS)

# seed 000's health check and replication test against the running local stack (needs Docker).
local-check: $(VENV)/.installed
	@$(PY) -m planner.local_check --stack $(STACK)

# SHA-256 of the files the local Connect image downloads, for lib/versions.py (needs network).
connect-checksums: $(VENV)/.installed
	@$(PY) -m stacks.compose.local_artifacts

# SHA-256 of the node exporter tarball the fleets install, for lib/versions.py; with
# ARTIFACT_BUCKET=<bucket> also staged there (needs network and, to stage, AWS credentials).
node-exporter-artifact: $(VENV)/.installed
	@PY=$(PY) ARTIFACT_BUCKET=$(ARTIFACT_BUCKET) scripts/node-exporter-artifact.sh

# ruff, and import-linter's layer and independence contracts (pyproject.toml [tool.importlinter]).
lint: $(VENV)/.installed
	@$(PY) -m ruff check .
	@$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .ruff_cache render build
