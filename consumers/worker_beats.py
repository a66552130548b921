"""What the inference workers say they serve: their heartbeats in Redis.

Each worker writes every few seconds the key ``<prefix>mlops-fc:worker:<name>`` = JSON
``{"worker", "model_name", "model_version", "updated_at"}`` with a time-to-live, so a dead
worker's key expires (inference/heartbeat.py). Only this deployment's prefix is read; a beat
naming another model (written by an older worker under the same key) is left out as well. Names come from
a SCAN (at the first read and every ``SCAN_EVERY_S``: the same Redis holds every result, so
a SCAN per probe would walk them all) and from the results the facade reads (``note``);
each read is then one MGET.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC

import redis
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator

from consumers.result_store import redis_errors
from stack.worker_heartbeat import heartbeat_key, heartbeat_pattern

log = logging.getLogger(__name__)
SCAN_EVERY_S = 30.0
NAMES_KEPT = 1_000


class WorkerBeat(BaseModel):
    """One worker's last word on what it serves (unknown fields are ignored: newer writers)."""

    model_config = ConfigDict(frozen=True, extra="ignore", protected_namespaces=())

    worker: str
    model_name: str | None = None
    model_version: str | None = None
    updated_at: AwareDatetime

    @field_validator("model_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def age_s(self, now: float) -> float:
        return now - self.updated_at.astimezone(UTC).timestamp()


class WorkerBeats:
    """Reads the heartbeats of the workers serving ``model_name`` (or no model yet)."""

    def __init__(
        self,
        client: redis.Redis,
        model_name: str,
        stale_after_s: float,
        prefix: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.prefix = prefix
        self.model_name = model_name
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._names: set[str] = set()
        self._scanned_at: float | None = None
        self._refused: set[str] = set()  # keys already logged as unreadable
        self.seen_any = False  # a heartbeat of this deployment was ever read

    def note(self, worker: str) -> None:
        """A worker name seen elsewhere (the source of a result)."""
        if len(self._names) < NAMES_KEPT:
            self._names.add(worker)

    def read(self) -> list[WorkerBeat]:
        """The live workers' heartbeats, by name; raises StoreUnavailable when Redis is down."""
        now = self._clock()
        with redis_errors("reading worker heartbeats"):
            if self._scanned_at is None or now - self._scanned_at >= SCAN_EVERY_S:
                self._scan()
                self._scanned_at = now
            names = sorted(self._names)
            raws = self._redis.mget([heartbeat_key(self.prefix, n) for n in names]) if names else []
        beats = []
        for name, raw in zip(names, raws, strict=True):  # type: ignore[arg-type]
            beat = self._parse(name, raw)
            if beat is None or beat.age_s(now) > self.stale_after_s:
                continue
            if beat.model_name in (None, self.model_name):
                beats.append(beat)
        self.seen_any = self.seen_any or bool(beats)
        return beats

    def _scan(self) -> None:
        start = heartbeat_key(self.prefix, "")
        pattern = heartbeat_pattern(self.prefix)
        found = {_text(key).removeprefix(start) for key in self._redis.scan_iter(match=pattern, count=1000)}
        self._names = set(sorted(self._names | found)[:NAMES_KEPT])

    def _parse(self, name: str, raw: object) -> WorkerBeat | None:
        if raw is None:
            return None  # expired: the worker stopped writing
        try:
            return WorkerBeat.model_validate_json(raw)  # type: ignore[arg-type]
        except ValidationError as exc:
            if name not in self._refused:
                self._refused.add(name)
                log.warning("unreadable heartbeat of worker %r, ignored: %s", name, exc.errors()[0]["msg"])
            return None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
