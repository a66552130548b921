"""The worker's heartbeat in Redis: who is alive and which model it serves (the API reads it).

Every ``interval_s`` the worker writes ``<prefix>mlops-fc:worker:<name>`` with a TTL of three
intervals, so a worker that stopped beating disappears on its own. Redis being away must
never stop scoring: a failed beat is skipped and logged once, until one succeeds again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import redis

from inference.model_holder import ModelHolder
from stack.worker_heartbeat import heartbeat_key

log = logging.getLogger(__name__)
TTL_INTERVALS = 3


class HeartbeatStore(Protocol):
    """redis.Redis in the worker, a dict-backed fake in unit tests."""

    def set(self, name: str, value: str, ex: int | None = None) -> object: ...


class Heartbeat:
    def __init__(
        self,
        store: HeartbeatStore,
        worker: str,
        holder: ModelHolder,
        interval_s: float,
        prefix: str = "",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._worker = worker
        self._key = heartbeat_key(prefix, worker)
        self._holder = holder
        self._ttl_s = max(1, round(interval_s * TTL_INTERVALS))
        self._clock = clock
        self._failing = False

    def payload(self) -> str:
        serving = self._holder.current is not None
        return json.dumps(
            {
                "worker": self._worker,
                "model_name": self._holder.model_name if serving else None,
                "model_version": self._holder.version,
                "updated_at": self._clock().isoformat(),
            }
        )

    async def beat(self) -> bool:
        """Write one beat (off the event loop). False when Redis could not take it."""
        try:
            await asyncio.to_thread(self._store.set, self._key, self.payload(), self._ttl_s)
        except (redis.RedisError, OSError) as exc:
            if not self._failing:
                log.warning("heartbeat not written (scoring goes on; retried every beat): %s", exc)
            self._failing = True
            return False
        if self._failing:
            log.warning("heartbeat written again")
        self._failing = False
        return True
