"""Read the event history the models learn from: transfers.completed (the system of record)
and players.season-stats (the players' season records), each to its end offsets at the start."""

from __future__ import annotations

import time
from typing import TypeVar

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


def _read_topic(settings: Settings, spec: TopicSpec, cls: type[E], timeout: float) -> tuple[list[E], int]:
    topic = settings.topic(spec.name)
    consumer = make_consumer(settings, group_id=f"{settings.topic_prefix}history-{time.time_ns()}")
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            return [], 0
        partitions = sorted(found.partitions)
        # watermarks retries the leader errors of a topic created a moment ago
        ends = {p: watermarks(consumer, topic, p)[1] for p in partitions}
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        events: list[E] = []
        undecodable = 0
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took longer than {timeout:.0f}s")
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                if message.error() is not None:
                    continue
                partition, offset = message.partition(), message.offset()
                if partition is not None and offset is not None and offset + 1 >= ends[partition]:
                    pending.discard(partition)
                try:
                    events.append(decode(message.value() or b"", expected=cls))
                except SchemaDecodeError:
                    undecodable += 1
    finally:
        consumer.close()
    return events, undecodable
