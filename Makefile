# The README's two set-up commands: `make demo` and `make test` (fresh Debian 12 machine).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BF := $(VENV)/bin/brokerform
PYTHON ?= python3
EXAMPLE ?= examples/rabbitmq-orders
PYTEST_ARGS ?=

.PHONY: demo test venv install-dev services-up services-down schema docs bench clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

venv: $(VENV)/.created

$(VENV)/.installed-core: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-core

install-dev: $(VENV)/.installed-dev

## demo: validate, lint, plan and apply the RabbitMQ example against a local broker, then re-plan.
demo: $(VENV)/.installed-core
	scripts/services up rabbitmq
	eval "$$(scripts/services env rabbitmq)" && export PATH="$(CURDIR)/$(VENV)/bin:$$PATH" && \
	  set -x && \
	  brokerform validate $(EXAMPLE) && \
	  brokerform lint $(EXAMPLE) && \
	  { brokerform plan $(EXAMPLE) --detailed-exitcode; rc=$$?; [ $$rc -ne 1 ]; } && \
	  brokerform apply $(EXAMPLE) --auto-approve && \
	  brokerform plan $(EXAMPLE) --detailed-exitcode

## test: install dev extras and system packages, start every service the tests need, run pytest.
test: $(VENV)/.installed-dev
	scripts/install-system-deps
	PYTHON=$(CURDIR)/$(PY) scripts/services up
	eval "$$(scripts/services env)" && export PATH="$(CURDIR)/$(VENV)/bin:$$PATH" && \
	  $(PY) -m pytest $(PYTEST_ARGS)

services-up:
	scripts/services up

services-down:
	scripts/services down

schema: $(VENV)/.installed-core
	$(BF) schema

bench: $(VENV)/.installed-dev
	scripts/services up rabbitmq kafka
	eval "$$(scripts/services env rabbitmq kafka)" && $(PY) bench/rabbitmq.py && $(PY) bench/kafka.py

clean:
	rm -rf $(VENV) .pytest_cache build dist src/*.egg-info
