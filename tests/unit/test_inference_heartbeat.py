"""The worker's heartbeat: the exact key (under the deployment's prefix) and JSON the API reads,
and no stop on a Redis outage."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any, cast

import pytest
import redis

from inference.heartbeat import Heartbeat, heartbeat_key
from inference.model_holder import ModelHolder

AT = datetime(2026, 12, 2, 15, 0, 0, tzinfo=UTC)
PREFIX = "stack-a."


class FakeRedis:
    def __init__(self) -> None:
        self.values: dict[str, tuple[str, int | None]] = {}
        self.down = False

    def set(self, name: str, value: str, ex: int | None = None) -> bool:
        if self.down:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.values[name] = (value, ex)
        return True


class Serving:
    """What the heartbeat reads of a ModelHolder."""

    def __init__(self, version: str | None) -> None:
        self.model_name = "transfer-fee"
        self.current = None if version is None else object()
        self.version = version


def beat_of(store: FakeRedis, version: str | None, interval_s: float = 5.0) -> Heartbeat:
    holder = cast(ModelHolder, Serving(version))
    return Heartbeat(store, "w1", holder, interval_s, PREFIX, clock=lambda: AT)


def test_a_beat_writes_the_workers_prefixed_key_with_its_model_and_a_ttl_of_three_intervals() -> None:
    store = FakeRedis()
    assert asyncio.run(beat_of(store, "3").beat())
    value, ttl = store.values["stack-a.mlops-fc:worker:w1"]
    assert ttl == 15
    assert json.loads(value) == {
        "worker": "w1",
        "model_name": "transfer-fee",
        "model_version": "3",
        "updated_at": "2026-12-02T15:00:00+00:00",
    }
    assert datetime.fromisoformat(json.loads(value)["updated_at"]).utcoffset() is not None


def test_before_a_first_model_the_model_fields_are_null() -> None:
    store = FakeRedis()
    asyncio.run(beat_of(store, None, interval_s=2.0).beat())
    value, ttl = store.values[heartbeat_key(PREFIX, "w1")]
    payload: dict[str, Any] = json.loads(value)
    assert payload["model_name"] is None and payload["model_version"] is None and ttl == 6


def test_a_redis_outage_skips_beats_logs_once_and_the_next_beat_after_it_lands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeRedis()
    heartbeat = beat_of(store, "1")
    store.down = True
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(heartbeat.beat()) is False
        assert asyncio.run(heartbeat.beat()) is False
    assert caplog.text.count("heartbeat not written") == 1
    store.down = False
    assert asyncio.run(heartbeat.beat()) is True
    assert heartbeat_key(PREFIX, "w1") in store.values
