"""Read the event history the models learn from: transfers.completed (the system of record)
and players.season-stats (the players' season records), each to its end offsets at the start.

``HistoryReader`` keeps what it read: each later read fetches and decodes only the messages
published since (decoding the whole history took 16-36 s a retrain in the main job).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from confluent_kafka import TopicPartition

from features.update import PlayerEvent
from schemas.codec import decode
from schemas.envelope import Event
from schemas.exceptions import SchemaDecodeError
from schemas.records import TransferCompleted
from schemas.season_stats import PlayerSeasonStats
from schemas.topics import PLAYERS_SEASON_STATS, TRANSFERS_COMPLETED, TopicSpec
from stack.kafka_clients import make_consumer
from stack.settings import Settings
from stack.topic_offsets import watermarks

E = TypeVar("E", bound=Event)


def read_transfers(settings: Settings, timeout: float = 120.0) -> tuple[list[TransferCompleted], int]:
    """Every transfer up to the end offsets seen at the start, in event-time order.

    Returns the transfers and how many messages did not decode (those are dead-lettered by
    the worker; the retrainer only counts them).
    """
    transfers, undecodable = _read_topic(settings, TRANSFERS_COMPLETED, TransferCompleted, timeout)
    transfers.sort(key=lambda t: (t.transferred_at, t.transfer_id))
    return transfers, undecodable


def read_season_stats(settings: Settings, timeout: float = 120.0) -> tuple[list[PlayerSeasonStats], int]:
    """Every season record published so far (none when the topic does not exist yet)."""
    stats, undecodable = _read_topic(settings, PLAYERS_SEASON_STATS, PlayerSeasonStats, timeout)
    stats.sort(key=lambda s: (s.known_at, s.player_id, s.season, s.team))
    return stats, undecodable


def read_history(settings: Settings, timeout: float = 120.0) -> tuple[list[PlayerEvent], int]:
    """Season records, then transfers in time order: what features.build_training_set replays.

    The feature state keeps every season and a vector reads only seasons known before the
    request, so the records may all come first.
    """
    stats, bad_stats = read_season_stats(settings, timeout)
    transfers, bad_transfers = read_transfers(settings, timeout)
    return [*stats, *transfers], bad_stats + bad_transfers


@dataclass
class _Topic(Generic[E]):
    """What one topic gave so far: its events, undecodable count and next offset per partition."""

    events: list[E] = field(default_factory=list)
    undecodable: int = 0
    next_offsets: dict[int, int] = field(default_factory=dict)


class HistoryReader:
    """read_history for one long-lived process: each call reads only what is new since the last."""

    def __init__(self, settings: Settings, timeout: float = 120.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._stats: _Topic[PlayerSeasonStats] = _Topic()
        self._transfers: _Topic[TransferCompleted] = _Topic()

    def read(self) -> tuple[list[PlayerEvent], int]:
        """Season records, then transfers in time order, as read_history returns them."""
        stats, transfers, undecodable = self.read_parts()
        return [*stats, *transfers], undecodable

    def read_parts(self) -> tuple[list[PlayerSeasonStats], list[TransferCompleted], int]:
        """The season records and the transfers, each in time order, and the undecodable count."""
        _read_more(self.settings, PLAYERS_SEASON_STATS, PlayerSeasonStats, self.timeout, self._stats)
        _read_more(self.settings, TRANSFERS_COMPLETED, TransferCompleted, self.timeout, self._transfers)
        stats = sorted(self._stats.events, key=lambda s: (s.known_at, s.player_id, s.season, s.team))
        transfers = sorted(self._transfers.events, key=lambda t: (t.transferred_at, t.transfer_id))
        return stats, transfers, self._stats.undecodable + self._transfers.undecodable


def _read_topic(settings: Settings, spec: TopicSpec, cls: type[E], timeout: float) -> tuple[list[E], int]:
    read: _Topic[E] = _Topic()
    _read_more(settings, spec, cls, timeout, read)
    return read.events, read.undecodable


def _read_more(settings: Settings, spec: TopicSpec, cls: type[E], timeout: float, into: _Topic[E]) -> None:
    """Add the messages of ``spec`` from ``into``'s next offsets to the end offsets seen now."""
    topic = settings.topic(spec.name)
    consumer = make_consumer(settings, group_id=f"{settings.topic_prefix}history-{time.time_ns()}")
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return
        partitions = sorted(found.partitions)
        # watermarks retries the leader errors of a topic created a moment ago
        ends = {p: watermarks(consumer, topic, p)[1] for p in partitions}
        starts = {p: into.next_offsets.get(p, 0) for p in partitions}
        pending = {p for p, end in ends.items() if end > starts[p]}
        if not pending:
            return
        consumer.assign([TopicPartition(topic, p, starts[p]) for p in sorted(pending)])
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout:.0f}s")
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                if message.error() is not None:
                    continue
                partition, offset = message.partition(), message.offset()
                if partition is None or offset is None or offset >= ends[partition]:
                    continue  # published after this read started: the next read takes it
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
                try:
                    into.events.append(decode(message.value() or b"", expected=cls))
                except SchemaDecodeError:
                    into.undecodable += 1
        into.next_offsets.update(ends)
    finally:
        consumer.close()
