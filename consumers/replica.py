"""What the facade shows without asking the workers: players and the model timeline.

A replica folds players.records, transfers.completed and players.season-stats through the
same pure functions the worker and the retrainer use (features.InMemoryFeatureStore), so
GET /v1/players/{id} shows the feature state the pipeline sees, and keeps the latest models.lifecycle and
monitoring.drift events (kept forever, one partition each) for the model timeline. The
worker's player table lives in Faust changelogs, an internal format of inference/ that
consumers/ must not depend on; folding the source topics needs only schemas/ and features/.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime

from confluent_kafka import Message

from features.store import InMemoryFeatureStore
from schemas.codec import decode
from schemas.envelope import Event
from schemas.exceptions import SchemaDecodeError
from schemas.lifecycle import ModelPromoted, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats
from schemas.topics import (
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PLAYERS_RECORDS,
    PLAYERS_SEASON_STATS,
    TRANSFERS_COMPLETED,
)
from stack.settings import Settings

log = logging.getLogger(__name__)
TIMELINE_SIZE = 500


@dataclass(frozen=True)
class PlayerView:
    """A player's latest record (or the transfer that last said where they are) and state."""

    record: PlayerRecord | TransferCompleted
    state: dict[str, object]
    transfers: int
    seasons: tuple[PlayerSeasonStats, ...] = ()


def _event_time(event: PlayerRecord | TransferCompleted) -> datetime:
    return event.as_of if isinstance(event, PlayerRecord) else event.transferred_at


# Model decisions counted for /metrics (and the dashboard's annotations), by lifecycle event.
DECISIONS = {
    "ModelShadowed": "shadowed",
    "ModelPromoted": "promoted",
    "ModelRejected": "rejected",
    "ModelRolledBack": "rolled_back",
}


@dataclass
class Replica:
    """Folded state; ``apply`` runs in the reader thread, reads come from the event loop."""

    features: InMemoryFeatureStore = field(default_factory=InMemoryFeatureStore)
    latest: dict[str, PlayerRecord | TransferCompleted] = field(default_factory=dict)
    transfers_of: Counter[str] = field(default_factory=Counter)
    seasons_of: dict[str, dict[tuple[int, str], PlayerSeasonStats]] = field(default_factory=dict)
    timeline: deque[Event] = field(default_factory=lambda: deque(maxlen=TIMELINE_SIZE))
    drift_counts: Counter[str] = field(default_factory=Counter)
    decision_counts: Counter[str] = field(default_factory=Counter)  # by DECISIONS value
    skipped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def topics(settings: Settings) -> list[str]:
        specs = (
            PLAYERS_RECORDS,
            TRANSFERS_COMPLETED,
            PLAYERS_SEASON_STATS,
            MODELS_LIFECYCLE,
            MONITORING_DRIFT,
        )
        return [settings.topic(spec.name) for spec in specs]

    def handle(self, messages: list[Message]) -> None:
        events = []
        for message in messages:
            try:
                events.append(decode(message.value(), message.headers()))
            except SchemaDecodeError as exc:
                # The worker and the monitor dead-letter their input topics: one letter is
                # enough, this groupless reader (one per API process) only skips.
                self._skip(message, exc.reason)
        with self._lock:
            for event in events:
                try:
                    self.apply(event)
                except Exception as exc:  # noqa: BLE001 - one odd event must not stop the reader
                    self.skipped += 1
                    log.warning("replica skipped %s %s: %r", event.event_type, event.event_id, exc)

    def _skip(self, message: Message, reason: str) -> None:
        self.skipped += 1
        log.debug("replica skipped %s@%s: %s", message.topic(), message.offset(), reason)

    def apply(self, event: Event) -> None:
        if isinstance(event, PlayerRecord | TransferCompleted):
            self.features.apply(event)
            current = self.latest.get(event.player_id)
            if current is None or _event_time(event) >= _event_time(current):
                self.latest[event.player_id] = event
            if isinstance(event, TransferCompleted):
                self.transfers_of[event.player_id] += 1
        elif isinstance(event, PlayerSeasonStats):
            self.features.apply(event)
            self.seasons_of.setdefault(event.player_id, {})[(event.season, event.team)] = event
        elif isinstance(event, DriftDetected):
            self.timeline.append(event)
            self.drift_counts[event.kind] += 1
        elif event.event_type.startswith("Model"):
            self.timeline.append(event)
            if (decision := DECISIONS.get(event.event_type)) is not None:
                self.decision_counts[decision] += 1

    def player(self, player_id: str) -> PlayerView | None:
        with self._lock:
            latest = self.latest.get(player_id)
            state = self.features.players.get(player_id)
            if latest is None or state is None:
                return None
            seasons = tuple(
                sorted(self.seasons_of.get(player_id, {}).values(), key=lambda e: (e.season, e.team))
            )
            return PlayerView(latest, state.to_dict(), self.transfers_of[player_id], seasons)

    def features_for(self, request: PredictionRequest) -> dict[str, float]:
        with self._lock:
            return self.features.vector_for(request)

    def events(self, kinds: tuple[type[Event], ...] | None = None, limit: int = 100) -> list[Event]:
        """The newest timeline events first, optionally of some classes only."""
        with self._lock:
            chosen = [e for e in self.timeline if kinds is None or isinstance(e, kinds)]
        return chosen[::-1][:limit]

    def drift(self, event_id: str) -> DriftDetected | None:
        with self._lock:
            for event in self.timeline:
                if isinstance(event, DriftDetected) and str(event.event_id) == event_id:
                    return event
        return None

    def serving_version(self) -> str | None:
        """The version the last promotion or rollback made current, as the workers saw it."""
        with self._lock:
            for event in reversed(self.timeline):
                if isinstance(event, ModelPromoted):
                    return event.version
                if isinstance(event, ModelRolledBack):
                    return event.to_version
        return None
