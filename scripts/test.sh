#!/usr/bin/env bash
# The README's test command (`make test`) runs this after setup: lint, type check (packages,
# tests and benchmarks: pyproject's [tool.mypy] files), then every test on the real local
# stack (the fixtures start their own Kafka, Redis and MLflow on free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
# -q: findings still print; it hides ruff's warning about the '# noqa: sleep-ok' marker of a
# justified poll interval, which is ours, not a ruff code.
.venv/bin/ruff check -q .
.venv/bin/python -m mypy
set +e
.venv/bin/python -m pytest tests -q -p no:cacheprovider --junitxml=test-artifacts/junit.xml "$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure of the suite, not a pass.
if [ "$status" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$status"
