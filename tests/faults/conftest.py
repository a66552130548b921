"""Fault-suite fixtures: a private stack per test, because these tests stop Redis and kill the broker.

The session stack of tests/conftest.py is shared by every other test; a fault injected there
would fail them. Each test here gets its own broker, Redis and MLflow on free ports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.local import LocalStack
from stack.settings import Settings
from stack.topic_admin import ensure_topics
from tests.stack_fixtures import local_stack_settings


@pytest.fixture
def private_stack(tmp_path: Path) -> Iterator[tuple[LocalStack, Settings]]:
    """A stack of this test's own (the test may stop and restart its parts) with the catalogue."""
    settings = local_stack_settings(tmp_path / "stack")
    stack = LocalStack(settings)
    try:
        stack.up()
        ensure_topics(settings)
        yield stack, settings
    finally:
        stack.down()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test in this folder belongs to the fault suite (`make test-faults`).
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
