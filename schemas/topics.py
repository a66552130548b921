"""The topic catalogue: every topic the system uses, with its key, layout and retention.

Topics keyed by player id (records, transfers, requests) share one partition count, so that
everything about one player lands in the same partition number of each: the worker's state
lookups then stay local to the partition it owns (co-partitioning).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from schemas.commands import RetrainRequested
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.lifecycle import ModelLifecycleEvent
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.registry import family_of
from schemas.season_stats import PlayerSeasonStats

FOREVER = -1
DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its name, message key, partitions, retention and value schema."""

    name: str
    key: str
    value_schema: Any  # an Event class (newest version) or an annotated union of them
    description: str
    cleanup_policy: Literal["delete", "compact"] = "delete"
    retention_ms: int = 7 * DAY_MS
    partitions: int | None = None  # None: the settings' topic_partitions (co-partitioned)

    def configs(self) -> dict[str, str]:
        """Broker-side topic configuration."""
        configs: dict[str, str] = {"cleanup.policy": self.cleanup_policy}
        if self.cleanup_policy == "delete":
            configs["retention.ms"] = str(self.retention_ms)
        return configs

    def event_classes(self) -> tuple[type[Event], ...]:
        """Every class, all versions, that a consumer of this topic must accept."""
        return family_of(self.value_schema)

    def accepts(self, event: Event) -> bool:
        """Whether the event belongs on this topic."""
        return isinstance(event, self.event_classes())


PLAYERS_RECORDS = TopicSpec(
    name="players.records",
    key="player_id",
    value_schema=PlayerRecord,
    description="Latest attributes of each player; compacted, only the newest per player matters.",
    cleanup_policy="compact",
)
TRANSFERS_COMPLETED = TopicSpec(
    name="transfers.completed",
    key="player_id",
    value_schema=TransferCompleted,
    description="Transfers with their real fee: the system of record for training, kept forever.",
    retention_ms=FOREVER,
)
PREDICTIONS_REQUESTS = TopicSpec(
    name="predictions.requests",
    key="player_id",
    value_schema=PredictionRequest,
    description="Questions: what fee for this player moving from club A to club B?",
)
PREDICTIONS_RESULTS = TopicSpec(
    name="predictions.results",
    key="request_id",
    value_schema=PredictionResult,
    description="Exactly one scored result per request id.",
)
# Keyed by player id, like the other player topics, so a player's seasons land in the
# partition number his requests do and the worker folds them into the state it reads for
# them. Compaction per player and season would need the key player+season, which hashes to
# another partition; the topic is small (about 3,000 rows a season), so it is kept forever
# instead and re-ingested seasons are de-duplicated in the feature state.
PLAYERS_SEASON_STATS = TopicSpec(
    name="players.season-stats",
    key="player_id",
    value_schema=PlayerSeasonStats,
    description="A player's season totals (games, minutes, goals, xG...), known at the season's end.",
    retention_ms=FOREVER,
)
# The retrainer's inbox: drift found by the monitor and retrains asked for by hand. Keyed by
# model name (both carry it; a request names no model version); one partition keeps order.
RETRAIN_TRIGGER = Annotated[DriftDetected | RetrainRequested, Field(discriminator="event_type")]
MONITORING_DRIFT = TopicSpec(
    name="monitoring.drift",
    key="model_name",
    value_schema=RETRAIN_TRIGGER,
    description="Drift detected against the current model, and retrains requested by hand.",
    partitions=1,
    retention_ms=FOREVER,
)
MODELS_LIFECYCLE = TopicSpec(
    name="models.lifecycle",
    key="model_name",
    value_schema=ModelLifecycleEvent,
    description="Model registered, promoted, rejected or rolled back; workers hot-swap on it.",
    partitions=1,
    retention_ms=FOREVER,
)
DEAD_LETTERS = TopicSpec(
    name="deadletters",
    key="source_topic",
    value_schema=DeadLetter,
    description="What could not be processed: the reason and the raw bytes.",
    partitions=1,
    retention_ms=30 * DAY_MS,
)

CATALOGUE: tuple[TopicSpec, ...] = (
    PLAYERS_RECORDS,
    TRANSFERS_COMPLETED,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    PLAYERS_SEASON_STATS,
    MONITORING_DRIFT,
    MODELS_LIFECYCLE,
    DEAD_LETTERS,
)
