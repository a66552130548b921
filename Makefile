# The two commands of the README are `make run` and `make test`; both set up what they need.
.PHONY: setup run up down test test-unit test-integration test-e2e test-faults lint stack-up stack-down bench

setup:
	@scripts/setup.sh

run: setup
	@.venv/bin/mlops-fc run

up: setup
	@.venv/bin/mlops-fc up

down:
	@.venv/bin/mlops-fc down

test: setup
	@scripts/test.sh

test-unit: setup
	@.venv/bin/python -m pytest tests/unit -q

test-integration: setup
	@.venv/bin/python -m pytest tests/integration -q

test-e2e: setup
	@.venv/bin/python -m pytest tests/e2e -q

test-faults: setup
	@.venv/bin/python -m pytest tests/faults -q

lint: setup
	@.venv/bin/ruff check -q .
	@.venv/bin/python -m mypy

stack-up: setup
	@.venv/bin/mlops-fc stack up

stack-down:
	@.venv/bin/mlops-fc stack down
