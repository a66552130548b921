"""The shadow judge's verdicts, each written ahead to an outbox so a crash cannot lose it.

A verdict is several steps: the registry action (Redis pointer, MLflow alias or tag), the
shadow slot's update and the lifecycle event. Workers follow the Redis pointer and the slot
on a timer as well as on the event, so a verdict cut short still reaches them; but the
event is the record everyone else reads (the facade's lineage and metrics, the alerts, the
demo's report), and it names the evidence, which nothing else keeps. So the event is built
first and stored in Redis (one key per model, beside the shadow slot) before anything moves,
and dropped once it was delivered. A monitor that starts and finds one finishes it
(``finish_pending``): the registry action again where it had not happened (each step is
idempotent), then the very same event, unless models.lifecycle already holds its event_id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast
from uuid import UUID

import redis

from modelstore.lifecycle import Registry
from modelstore.shadow import ShadowPointer
from schemas.codec import decode
from schemas.evidence import ShadowEvidence
from schemas.lifecycle import ModelLifecycleEvent, ModelPromoted, ModelRejected, ModelRolledBack

log = logging.getLogger(__name__)
Verdict = ModelPromoted | ModelRejected | ModelRolledBack
V = TypeVar("V", ModelPromoted, ModelRejected, ModelRolledBack)


def outbox_key(prefix: str, name: str) -> str:
    return f"{prefix}model:{name}:verdict-outbox"


class VerdictOutbox:
    """At most one verdict in flight per model (one shadow judge, one verdict at a time)."""

    def __init__(self, client: redis.Redis, prefix: str, name: str) -> None:
        self._redis = client
        self._key = outbox_key(prefix, name)

    def put(self, event: Verdict) -> None:
        self._redis.set(self._key, event.model_dump_json())

    def get(self) -> Verdict | None:
        raw = self._redis.get(self._key)
        if raw is None:
            return None
        return cast(Verdict, decode(cast(bytes, raw), expected=ModelLifecycleEvent))

    def clear(self, event_id: UUID) -> None:
        """Drop the verdict ``event_id`` (not one that replaced it)."""
        found = self.get()
        if found is not None and found.event_id == event_id:
            self._redis.delete(self._key)


@dataclass
class OutboxVerdicts:
    """The decider's Verdicts (monitoring/shadow_decider.py) over the registry and an outbox."""

    registry: Registry
    outbox: VerdictOutbox
    announced: Callable[[UUID], bool]  # is this event_id on models.lifecycle already?

    def current_shadow(self) -> ShadowPointer | None:
        return self.registry.current_shadow()

    def promote_existing(
        self, version: str, reason: str, evidence: ShadowEvidence | None = None, trace_id: str | None = None
    ) -> ModelPromoted:
        blob = self.registry.verified_blob(version)  # refused before anything is written
        event = _traced(self.registry.promotion_of(version, blob, reason, evidence), trace_id)
        self.outbox.put(event)
        self.registry.apply_promotion(event, blob)
        self._announce(event)
        return event

    def reject(
        self,
        version: str,
        reason: str,
        challenger: dict[str, float] | None = None,
        champion: dict[str, float] | None = None,
        trace_id: str | None = None,
        evidence: ShadowEvidence | None = None,
    ) -> ModelRejected:
        event = _traced(self.registry.rejection_of(version, reason, challenger, champion, evidence), trace_id)
        self.outbox.put(event)
        self.registry.apply_rejection(event)
        self.registry.emit(event)  # kept in the outbox until its slot is emptied (end_shadow)
        return event

    def rollback(
        self, to_version: str, reason: str, evidence: ShadowEvidence | None = None
    ) -> ModelRolledBack:
        blob = self.registry.verified_blob(to_version)
        event = self.registry.rollback_of(to_version, blob, reason, evidence)
        self.outbox.put(event)
        self.registry.apply_rollback(event, blob)
        self._announce(event)
        return event

    def end_shadow(self, pointer: ShadowPointer) -> bool:
        ended = self.registry.end_shadow(pointer)
        pending = self.outbox.get()
        if isinstance(pending, ModelRejected) and pending.version == pointer.version:
            self.outbox.clear(pending.event_id)
        return ended

    def finish_pending(self) -> Verdict | None:
        """Finish a verdict a crash cut short; returns it (None: nothing was pending)."""
        event = self.outbox.get()
        if event is None:
            return None
        if self._apply_again(event):
            if self.announced(event.event_id):
                log.warning("verdict %s was announced before the crash: not sent again", _what(event))
            else:
                self.registry.emit(event)
                log.warning("verdict %s cut short by a crash: finished and announced now", _what(event))
        self.outbox.clear(event.event_id)
        return event

    def _apply_again(self, event: Verdict) -> bool:
        """Redo the registry action where it had not happened; False if another action since
        superseded it (then nothing moves and nothing is announced)."""
        if isinstance(event, ModelRejected):
            self.registry.apply_rejection(event)  # a tag: the same again
            return True
        champion = self.registry.champion()
        if isinstance(event, ModelPromoted):
            target, before = event.version, event.previous_version
        else:
            target, before = event.to_version, event.from_version
        if champion == target:
            return True  # the alias moved; a slot left behind is settled by reconcile_shadow
        if champion != before:
            log.warning("verdict %s superseded: the champion is %s now; dropped", _what(event), champion)
            return False
        blob = self.registry.verified_blob(target)  # cut short before the alias moved: carry it out
        if isinstance(event, ModelPromoted):
            self.registry.apply_promotion(event, blob)
        else:
            self.registry.apply_rollback(event, blob)
        return True

    def _announce(self, event: Verdict) -> None:
        self.registry.emit(event)
        self.outbox.clear(event.event_id)


def _traced(event: V, trace_id: str | None) -> V:
    return event.model_copy(update={"trace_id": trace_id}) if trace_id else event


def _what(event: Verdict) -> str:
    if isinstance(event, ModelRolledBack):
        return f"{event.event_type} {event.from_version} -> {event.to_version} ({event.event_id})"
    return f"{event.event_type} version {event.version} ({event.event_id})"
