"""Finishing a verdict a crash cut short: redo what had not happened, announce it once, and
leave alone one another action superseded (pure logic over in-memory ports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast
from uuid import UUID

import pytest

from modelstore.lifecycle import Registry
from modelstore.verdict_outbox import OutboxVerdicts, Verdict, VerdictOutbox
from schemas.envelope import Event
from schemas.examples import example_of
from schemas.lifecycle import ModelPromoted, ModelRejected, ModelRolledBack


@dataclass
class FakeOutbox:
    held: Verdict | None = None

    def put(self, event: Verdict) -> None:
        self.held = event

    def get(self) -> Verdict | None:
        return self.held

    def clear(self, event_id: UUID) -> None:
        if self.held is not None and self.held.event_id == event_id:
            self.held = None


@dataclass
class FakeRegistry:
    champion_version: str | None
    applied: list[str] = field(default_factory=list)
    emitted: list[Event] = field(default_factory=list)

    def champion(self) -> str | None:
        return self.champion_version

    def verified_blob(self, version: str) -> bytes:
        return f"blob {version}".encode()

    def apply_promotion(self, event: ModelPromoted, blob: bytes) -> None:
        self.applied.append(f"promote {event.version}")
        self.champion_version = event.version

    def apply_rollback(self, event: ModelRolledBack, blob: bytes) -> None:
        self.applied.append(f"rollback {event.to_version}")
        self.champion_version = event.to_version

    def apply_rejection(self, event: ModelRejected) -> None:
        self.applied.append(f"reject {event.version}")

    def emit(self, event: Event, trace_id: str | None = None) -> None:
        self.emitted.append(event)


def finish(pending: Verdict, champion: str, announced: bool) -> tuple[FakeRegistry, FakeOutbox]:
    registry, outbox = FakeRegistry(champion), FakeOutbox(pending)
    verdicts = OutboxVerdicts(cast(Registry, registry), cast(VerdictOutbox, outbox), lambda _id: announced)
    assert verdicts.finish_pending() == pending
    assert outbox.held is None  # whatever happened, nothing is left to finish
    return registry, outbox


PROMOTED = example_of(ModelPromoted, version="4", previous_version="3")
ROLLED_BACK = example_of(ModelRolledBack, from_version="4", to_version="3")


@pytest.mark.parametrize(
    ("pending", "champion", "announced", "applied", "sent"),
    [
        (PROMOTED, "3", False, ["promote 4"], True),  # cut short before the alias moved
        (PROMOTED, "4", False, [], True),  # after it: only the announcement is missing
        (PROMOTED, "4", True, [], False),  # announced already: not twice
        (PROMOTED, "5", False, [], False),  # another promotion since: superseded, left alone
        (ROLLED_BACK, "4", False, ["rollback 3"], True),
        (ROLLED_BACK, "3", True, [], False),
        (example_of(ModelRejected), "3", False, ["reject 5"], True),  # a tag: the same again
    ],
)
def test_a_pending_verdict_is_finished_once(
    pending: Verdict, champion: str, announced: bool, applied: list[str], sent: bool
) -> None:
    registry, _ = finish(pending, champion, announced)
    assert registry.applied == applied
    assert registry.emitted == ([pending] if sent else [])


def test_nothing_pending_does_nothing() -> None:
    registry, outbox = FakeRegistry("3"), FakeOutbox()
    verdicts = OutboxVerdicts(cast(Registry, registry), cast(VerdictOutbox, outbox), lambda _id: False)
    assert verdicts.finish_pending() is None and registry.emitted == [] and registry.applied == []
