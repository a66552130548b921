"""A served stack for the facade's tests: history, a first model, a worker and the API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from retrainer.initial import train_initial
from schemas.topics import TRANSFERS_COMPLETED
from stack.settings import Settings
from stack.topic_admin import ensure_topics
from tests.api_helpers import RunningApi, running_api
from tests.flow_helpers import history, publish, running_workers

HISTORY = history(600)


def isolated(stack_settings: Settings) -> Settings:
    """Like the conftest ``settings`` fixture, for module- or session-scoped fixtures."""
    settings = stack_settings.model_copy(update={"topic_prefix": f"t{uuid.uuid4().hex[:10]}."})
    ensure_topics(settings)
    return settings


@contextmanager
def served_api(stack_settings: Settings, **api_changes: object) -> Iterator[RunningApi]:
    """Topics with a transfer history, model version 1 serving, one worker and the facade."""
    settings = isolated(stack_settings)
    publish(settings, TRANSFERS_COMPLETED, HISTORY)
    assert train_initial(settings, transfers=HISTORY).version == "1"
    with running_workers(settings, "w1"), running_api(settings, "api", **api_changes) as api:
        yield api


def body(i: int = 0, **changes: object) -> dict[str, object]:
    """A question about a known player and clubs of HISTORY."""
    return {
        "player_id": f"p7-{i % 40}",
        "position": "Centre-Back",
        "from_club": f"Club {i % 24:02d}",
        "to_club": f"Club {(i + 5) % 24:02d}",
        "season": 2013,
        "window": "winter",
        **changes,
    }
