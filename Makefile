# Fairway: every task a person does has a target here.
SHELL := /bin/bash
RUN := .run
PYTHON ?= python3.11
UV := $(RUN)/tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Tests mostly wait on the broker and the database, so a few workers share 2 cores well.
PYTEST_WORKERS ?= 4

.PHONY: install up down status test test-unit test-e2e chaos bench lint format demo topics schemas clean \
	deploy-check compose-up compose-down compose-test

# uv lives in a small bootstrap venv of its own, so a fresh machine needs nothing but Python 3.11.
$(UV):
	@command -v $(PYTHON) >/dev/null || { echo "Fairway needs $(PYTHON) on PATH"; exit 1; }
	@mkdir -p $(RUN)
	$(PYTHON) -m venv $(RUN)/tools
	$(RUN)/tools/bin/pip install -q uv

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)
	$(UV) sync --all-packages --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

up: install ## start the whole platform on embedded defaults, with the demo club flowing through it
	$(VENV)/bin/fairway platform up

down: ## stop every process `make up` started
	$(VENV)/bin/fairway platform down

status: install
	$(VENV)/bin/fairway platform status

demo: up

test: install lint ## the whole suite: unit, integration and e2e, against real PostgreSQL and the real broker
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile libs services tools tests/architecture tests/api tests/state $(PYTEST_ARGS)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)  # one platform, on its own: as a user runs it
	$(PY) -m pytest tests/chaos $(PYTEST_ARGS)  # the short fault-injection run, on a platform of its own

test-unit: install
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile libs services tools tests/architecture tests/api tests/state $(PYTEST_ARGS)

test-e2e: install
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

chaos: install ## fault injection under load: SIGKILL each service, restart the broker, stop PostgreSQL 30 s, slow the AI; 0 lost, 0 duplicated
	FAIRWAY_CHAOS=full $(PY) -m pytest tests/chaos -s $(PYTEST_ARGS)

bench: install ## print throughput and latency figures for this machine
	$(PY) -m fairway_bench

lint: install
	$(VENV)/bin/ruff check libs services tools tests
	$(VENV)/bin/mypy libs/events/src libs/schemas/src

format: install
	$(VENV)/bin/ruff format libs services tools tests
	$(VENV)/bin/ruff check --fix libs services tools tests

topics: install
	$(VENV)/bin/fairway topics create

schemas: install ## commit the JSON Schema of every new event version
	$(VENV)/bin/fairway schemas write

clean: down
	rm -rf $(RUN) $(VENV)

deploy-check: install ## render and validate docker-compose.yml, the Dockerfile and every Kubernetes overlay, offline
	$(PY) -m pytest -q tools/fairway/tests/test_deploy.py

# docker compose: the same demo as `make up`, on Apache Kafka and PostgreSQL (needs a Docker engine).
COMPOSE := docker compose --env-file $(RUN)/compose.env

$(RUN)/compose.env:
	@mkdir -p $(RUN)
	@{ echo "FAIRWAY_JWT_SECRET=$$(openssl rand -hex 32)"; echo "FAIRWAY_PG_PASSWORD=$$(openssl rand -hex 16)"; \
	   echo "FAIRWAY_SOCIAL_TOKEN_KEYS=k1:$$(openssl rand -base64 32 | tr '+/' '-_')"; \
	   echo "FAIRWAY_SOCIAL_STATE_SECRET=$$(openssl rand -hex 32)"; \
	   echo "FAIRWAY_AI_ANTHROPIC_BASE_URL=http://fake-llm:8099"; echo "FAIRWAY_AI_ANTHROPIC_API_KEY=local-fake-provider"; \
	 } > $@ && chmod 600 $@ && echo "wrote $@ (secrets for the local compose stack)"

compose-up: $(RUN)/compose.env
	@docker info >/dev/null 2>&1 || { echo "no Docker engine here: docker compose cannot run"; exit 1; }
	$(COMPOSE) --profile demo up -d --build --wait

compose-down:
	$(COMPOSE) --profile demo down

compose-test: install compose-up ## the e2e suite against the compose stack
	set -a && . $(RUN)/compose.env && set +a && FAIRWAY_E2E_EXTERNAL=1 FAIRWAY_KAFKA_BOOTSTRAP=127.0.0.1:29092 \
	  $(PY) -m pytest tests/e2e $(PYTEST_ARGS)
