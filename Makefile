# pipeline-infra: offline plan and tests. Every target creates the virtualenv when missing.
#   make plan STACK=prod [FORMAT=json] [SET='dr.role=primary'] [CONFIG=path] [RENDER=dir]
#   make plan-diff STACK=prod-dr SET='dr.role=primary' [FORMAT=json]
#   make plan-all [FORMAT=json] | make estate-diff BASE=origin/main | make test | make lint
# plan and plan-all evaluate the estate (a stack and the stacks it references) and run the
# whole-platform checks: exit 1 on an estate error or a failed mandatory check, 2 on bad configuration.

VENV    ?= .venv
PY      := $(VENV)/bin/python
STACK   ?= local
FORMAT  ?= text
SET     ?=
CONFIG  ?=
RENDER  ?=
PYTEST_ARGS ?=
BASE    ?= origin/main

PLAN_ARGS = --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)") \
            $(if $(RENDER),--render "$(RENDER)")

.PHONY: plan plan-all plan-diff estate-diff golden test lint engines venv clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

plan: $(VENV)/.installed
	@$(PY) -m planner plan $(PLAN_ARGS)

plan-all: $(VENV)/.installed
	@$(PY) -m planner plan-all --format $(FORMAT)

# The pull-request comment: this tree's estate against BASE (a git ref or a checkout folder).
estate-diff: $(VENV)/.installed
	@$(PY) -m planner estate-diff --base "$(BASE)"

plan-diff: $(VENV)/.installed
	@$(PY) -m planner diff --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)")

# Rewrite the golden plans and renders under tests/golden (commit them with the change they show).
golden: $(VENV)/.installed
	@$(PY) -m planner golden

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

lint: $(VENV)/.installed
	@$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .venv-checkov .pytest_cache .ruff_cache render build
