# pipeline-infra: offline plan and tests. Every target creates the virtualenv when missing.
#   make plan STACK=prod [FORMAT=json] [SET='dr.role=primary'] [CONFIG=path] [RENDER=dir]
#   make plan-diff STACK=prod-dr SET='dr.role=primary' [FORMAT=json]
#   make plan-all [FORMAT=json] | make estate-diff BASE=origin/main | make test | make test-hosts | make lint
#   make settings-doc | make lock [UPGRADE=1]
#   make dr-drill [DRILL=live] [REPORT=dir] [TOKEN=demotion-token] | make dr-drill-status [REPORT=dir]
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
DRILL   ?= offline
REPORT  ?=
TOKEN   ?=

PLAN_ARGS = --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)") \
            $(if $(RENDER),--render "$(RENDER)")

.PHONY: plan plan-all bench plan-diff golden settings-doc policy-baseline policy-doc estate-diff test lint engines venv lock clean local-check \
        connect-checksums dr-drill dr-drill-status node-exporter-artifact cloudwatch-agent-artifact test-hosts \
        hosts-venv host-root

# The virtualenv installs the locked versions, hashes checked: requirements-dev.lock is the program's
# dependencies and the dev tools, resolved from pyproject.toml by `make lock`. The project itself is
# not installed: it runs from the checkout (pyproject.toml has no packages; pytest, `python -m planner`,
# lint-imports and `pulumi` put the checkout on the path).
$(VENV)/.installed: requirements-dev.lock
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.lock
	@touch $@

venv: $(VENV)/.installed

plan: $(VENV)/.installed
	@$(PY) -m planner plan $(PLAN_ARGS)

plan-all: $(VENV)/.installed
	@$(PY) -m planner plan-all --format $(FORMAT)

# The pull-request comment: this tree's estate against BASE (a git ref or a checkout folder).
estate-diff: $(VENV)/.installed
	@$(PY) -m planner estate-diff --base "$(BASE)"

# The DR drill (docs/runbooks/dr-drill.md): offline diffs, checks and plan; DRILL=live runs it.
dr-drill: $(VENV)/.installed
	$(PY) -m planner dr-drill $(if $(filter live,$(DRILL)),--live) $(if $(REPORT),--report "$(REPORT)") \
	    $(if $(TOKEN),--token "$(TOKEN)")

dr-drill-status: $(VENV)/.installed
	$(PY) -m planner dr-drill-status $(if $(REPORT),--report "$(REPORT)")

plan-diff: $(VENV)/.installed
	@$(PY) -m planner diff --stack $(STACK) --format $(FORMAT) --set "$(SET)" $(if $(CONFIG),--config "$(CONFIG)")

# Rewrite the golden plans and renders under tests/golden (commit them with the change they show).
golden: $(VENV)/.installed
	@$(PY) -m planner golden

# Rewrite docs/settings.md from the settings models (tests/settings fail while it is stale).
settings-doc: $(VENV)/.installed
	@$(PY) -m planner settings-doc

# Rewrite policies/baseline.json, the seed figures the policy pack checks (tests/policies fail while stale).
policy-baseline: $(VENV)/.installed
	@$(PY) -m planner policy-baseline

# Rewrite docs/policies.md from the rule catalogue.
policy-doc: $(VENV)/.installed
	@$(PY) -m planner policy-doc

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

# The host suite (tests/hosts) against local hosts: the fleets' image (Debian 12, built once per
# machine into /var/cache/pipeline-infra by scripts/host-root.sh) booted under systemd-nspawn with the
# plan's user data, S3 and the metadata service stood in by moto's server (its own virtualenv: its pins
# are not the project's). Needs root. Against real hosts: see README (Checking hosts).
HOSTS_VENV ?= .venv-hosts
HOSTS_STACK ?= staging

$(HOSTS_VENV)/.installed: requirements-hosts.txt
	@test -x $(HOSTS_VENV)/bin/python || python3 -m venv $(HOSTS_VENV)
	@$(HOSTS_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-hosts.txt
	@touch $@

hosts-venv: $(HOSTS_VENV)/.installed

host-root: engines
	@bash scripts/host-root.sh

test-hosts: $(VENV)/.installed engines hosts-venv host-root
	@HOSTS_VENV=$(abspath $(HOSTS_VENV)) $(PY) -m pytest tests/hosts --local-host --stack $(HOSTS_STACK) $(PYTEST_ARGS)

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

# Pin and stage the CloudWatch agent's Debian package the same way (signature checked with the
# vendor's key; docs/fleets.md).
cloudwatch-agent-artifact: $(VENV)/.installed
	@PY=$(PY) ARTIFACT_BUCKET=$(ARTIFACT_BUCKET) scripts/cloudwatch-agent-artifact.sh

# ruff, and import-linter's layer and independence contracts (pyproject.toml [tool.importlinter]).
# Speed figures of the offline planner against benchmarks/budgets.yaml (BENCH_STRICT=1: exit 1 over budget).
bench: $(VENV)/.installed
	@$(PY) -m benchmarks $(if $(BENCH_STRICT),--strict) $(if $(BENCH_JSON),--json $(BENCH_JSON))

lint: $(VENV)/.installed
	@$(PY) -m ruff check .
	@$(VENV)/bin/lint-imports --no-cache

# Regenerate the locks from pyproject.toml with uv (needs network to PyPI): requirements-dev.lock
# (runtime and dev extra) and requirements.txt (runtime only, exactly the lock's versions: what
# `pulumi install` installs). Versions already locked are kept while pyproject.toml allows them;
# UPGRADE=1 takes the newest allowed. Universal: one lock for Linux, macOS and Windows, Python 3.11-3.13.
UV_VENV    ?= .venv-uv
UV_VERSION := 0.13.9
UV         := $(UV_VENV)/bin/uv
LOCK_ARGS  ?=
UV_COMPILE  = $(UV) pip compile --quiet --universal --generate-hashes --custom-compile-command 'make lock'

$(UV):
	@test -x $(UV_VENV)/bin/python || python3 -m venv $(UV_VENV)
	@$(UV_VENV)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

lock: $(UV)
	@$(UV_COMPILE) $(if $(UPGRADE),--upgrade) $(LOCK_ARGS) pyproject.toml --extra dev -o requirements-dev.lock
	@$(UV_COMPILE) pyproject.toml -c requirements-dev.lock -o requirements.txt

clean:
	rm -rf $(VENV) .venv-checkov $(UV_VENV) $(HOSTS_VENV) .pytest_cache .ruff_cache render build
