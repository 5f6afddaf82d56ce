# Toggl Track Connection. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# Python 3.13, the Lambda runtime; .python-version pins the release (pyenv reads it, and the build
# of the layer, which sam may run outside this folder, inherits it).
export PYENV_VERSION := $(shell cat .python-version)
PYTHON_313 := $(shell PYENV_VERSION=$(PYENV_VERSION) python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov
STAMP := $(VENV)/.installed
# The layer's Lambda wheels (arm64), fetched with the environment, so that the tests build the
# layer without asking PyPI (sam build fetches its own).
WHEELHOUSE := .wheels
# The layer is on the path as it is in Lambda (/opt/python); the repo root for local/.
export PYTHONPATH := $(CURDIR)/layers/toggl/python:$(CURDIR)
# No request leaves the machine unasked: SAM CLI's usage telemetry off, checkov offline (.checkov.yaml).
export SAM_CLI_TELEMETRY := 0

STACK ?= toggl-connection

.PHONY: help venv lint format typecheck template-check events docs layer-hashes test test-unit test-fast build run demo post doctor bench subscribe clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

# The MCP clients the agent tests drive (TypeScript SDK, conformance suite), pinned by their lock file.
NODE_CLIENTS := tests/e2e/agents/node

$(STAMP): requirements-dev.txt layers/toggl/requirements.txt pyproject.toml $(NODE_CLIENTS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Node.js and npm are needed (the MCP client tests): install them, e.g. apt-get install nodejs npm" >&2; exit 1; }
	@if [ -z "$(PYTHON_313)" ]; then echo "Python $(PYENV_VERSION) is needed (the Lambda runtime; .python-version): install it, e.g. pyenv install $(PYENV_VERSION)" >&2; exit 1; fi
	@test -x $(BIN)/python || $(PYTHON_313) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r layers/toggl/requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --require-hashes --no-deps \
		--platform manylinux2014_aarch64 --implementation cp --python-version 3.13 --only-binary=:all: \
		-d $(WHEELHOUSE) -r layers/toggl/requirements.txt
	cd $(NODE_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(STAMP) ## Create .venv with the pinned tools (done by the other targets when needed)

lint: $(STAMP) ## ruff: the lint rules (complexity included) and the formatter's check; pymarkdown on the Markdown
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pymarkdown scan --recurse --respect-gitignore .

format: $(STAMP) ## Rewrite the code as make lint wants it: ruff's safe fixes, then ruff format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict on the layer, the handlers, the local tools and the tests
	$(BIN)/mypy

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON_313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

template-check: $(STAMP) $(CHECKOV_VENV)/.installed ## cfn-lint and checkov on template.yaml (every checkov skip says why: .checkov.yaml, or the template beside the resource)
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

events: $(STAMP) ## Regenerate events/ (signed sample API Gateway events)
	$(BIN)/python -m local.generators.sample_events

docs: $(STAMP) ## Regenerate the Toggl contract table in docs/toggl-api.md
	$(BIN)/python -m local.generators.docs_table

layer-hashes: $(STAMP) ## After changing a pin in layers/toggl/requirements.txt: record the hashes of its files
	$(BIN)/python -m local.generators.layer_hashes

# The coverage floor is where coverage stood when it was set (87.2%): a change may raise it, never lower it.
COVERAGE_FLOOR := 87

test: lint typecheck template-check ## Lint, type checks, template checks and every test (with coverage)
	$(BIN)/python -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# The tiers (tests/tiers.py): unit (pure), moto (the handlers on moto in-process), e2e (servers, processes).
test-unit: $(STAMP) ## The pure tests (tests/unit): no AWS, no server, no process
	$(BIN)/python -m pytest tests/unit

test-fast: $(STAMP) ## The pure and moto tiers (tests/unit, tests/integration): the quick check while working
	$(BIN)/python -m pytest tests/unit tests/integration -n auto

$(SAM_VENV)/bin/sam:
	$(PYTHON_313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-sam.txt

build: $(SAM_VENV)/bin/sam ## sam build, without Docker (wheels for Lambda arm64 / Python 3.13)
	$(SAM_VENV)/bin/sam build

bench: $(STAMP) ## Benchmarks: cold start, warm webhook cost, calls per event/action, sizes (.bench/results.json)
	$(BIN)/python -m bench.run

subscribe: $(STAMP) ## Sync the Toggl webhook subscriptions of a deployed stack (STACK=name)
	$(BIN)/toggl-connection subscriptions sync --stack $(STACK)

run: $(STAMP) ## Start the whole connection locally: API on 127.0.0.1:3000, moto, Toggl sandbox (Ctrl-C stops)
	@$(BIN)/python -m local.commands.local_stack

demo: $(STAMP) ## With make run running: every trigger, action and query, and their events
	@$(BIN)/python -m local.commands.demo

post: $(STAMP) ## With make run running: send one request (EVENT=an events/ file, or a raw Toggl webhook body)
	@$(BIN)/python -m local.commands.post $(EVENT)

doctor: $(STAMP) ## With make run running: toggl-connection doctor against it (ARGS=--json for the JSON document)
	@$(BIN)/python -m local.commands.stack_doctor $(ARGS)

.PHONY: mcp-proxy agent-demo
mcp-proxy: $(STAMP) ## With make run running: the MCP server for plain-HTTP clients on 127.0.0.1:3001 (signs for them)
	@$(BIN)/python -m local.commands.mcp_proxy

agent-demo: $(STAMP) ## With make run running: an agent's session over MCP (discover, read, write, a refused write)
	@$(BIN)/python -m local.commands.agent_demo

clean: ## Remove build output, local state, caches and the SAM and checkov environments (keeps .venv, .wheels)
	rm -rf .aws-sam .local .bench .pytest_cache .mypy_cache .ruff_cache .coverage .hypothesis $(SAM_VENV) $(CHECKOV_VENV)
