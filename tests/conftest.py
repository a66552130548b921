"""Shared fixtures: one real stack per test session, and isolated topics per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from stack.settings import Settings
from stack.topic_admin import ensure_topics
from tests.stack_fixtures import running_stack


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A real Kafka broker, Redis and MLflow, started once for the whole session."""
    with running_stack(tmp_path_factory.mktemp("stack")) as settings:
        yield settings


@pytest.fixture
def settings(stack_settings: Settings) -> Settings:
    """The session stack, with a unique topic prefix and the catalogue created under it."""
    isolated = stack_settings.model_copy(update={"topic_prefix": f"t{uuid.uuid4().hex[:10]}."})
    ensure_topics(isolated)
    return isolated


@pytest.fixture
def unique() -> str:
    """A fresh suffix for consumer groups and ad-hoc topic names."""
    return uuid.uuid4().hex[:12]
