"""Committed offsets as they happen, read from the broker's own __consumer_offsets topic.

Each commit of a consumer group is a record there (key: version, group, topic, partition;
value: version, offset, ...), so waiting for a stage to catch up is waiting for its commit
to arrive, not asking the broker for the group's lag again and again.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterable

from confluent_kafka import Consumer, TopicPartition

from stack.kafka_connection import kafka_connection
from stack.settings import Settings

OFFSETS_TOPIC = "__consumer_offsets"
Key = tuple[str, str, int]  # group, topic, partition


def _string(data: bytes, at: int) -> tuple[str, int]:
    (size,) = struct.unpack_from(">h", data, at)
    start = at + 2
    return data[start : start + size].decode(), start + size


def decode_commit(key: bytes | None, value: bytes | None) -> tuple[Key, int | None] | None:
    """((group, topic, partition), offset) of an offset-commit record; None for other records.

    Key versions 0 and 1 are offset commits (2 is group metadata); a None value is the
    tombstone of a deleted offset. Every value version starts with its version and the offset.
    """
    if not key or len(key) < 2:
        return None
    (version,) = struct.unpack_from(">h", key, 0)
    if version not in (0, 1):
        return None
    group, at = _string(key, 2)
    topic, at = _string(key, at)
    (partition,) = struct.unpack_from(">i", key, at)
    if value is None:
        return (group, topic, partition), None
    (offset,) = struct.unpack_from(">q", value, 2)
    return (group, topic, partition), int(offset)


class CommitWatch:
    """The latest committed offset of every (group, topic, partition) with ``prefix``."""

    def __init__(self, settings: Settings, name: str = "commits") -> None:
        self._prefix = settings.topic_prefix
        self._consumer = Consumer(
            {
                **kafka_connection(settings).confluent(),
                "group.id": f"{settings.topic_prefix}{name}-{time.time_ns()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "log_level": 3,
            }
        )
        self._consumer.subscribe([OFFSETS_TOPIC])
        self.committed: dict[Key, int] = {}
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                seen: dict[Key, int | None] = {}
                for message in self._consumer.consume(num_messages=500, timeout=0.2):
                    if message.error() is not None:
                        continue
                    commit = decode_commit(message.key(), message.value())
                    if commit is not None and commit[0][0].startswith(self._prefix):
                        seen[commit[0]] = commit[1]
                if seen:
                    with self._changed:
                        for key, offset in seen.items():
                            if offset is None:
                                self.committed.pop(key, None)
                            else:
                                self.committed[key] = offset
                        self._changed.notify_all()
        finally:
            self._consumer.close()

    def wait_for(
        self,
        group: str,
        ends: dict[tuple[str, int], int],
        timeout: float,
        alive: Callable[[], bool] = lambda: True,
    ) -> bool:
        """Block until ``group`` has committed at least ``ends`` ((topic, partition) -> offset)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._caught_up(group, ends):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not alive():
                    return False
                self._changed.wait(min(remaining, 5.0))  # wake now and then to check ``alive``
            return True

    def _caught_up(self, group: str, ends: dict[tuple[str, int], int]) -> bool:
        return all(
            end == 0 or self.committed.get((group, topic, partition), -1) >= end
            for (topic, partition), end in ends.items()
        )

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def __enter__(self) -> CommitWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def end_offsets(settings: Settings, topics: Iterable[str]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> end offset now: what a stage must have committed to be caught up."""
    consumer = Consumer(kafka_connection(settings).confluent(**{"group.id": "end-offsets", "log_level": 3}))
    try:
        ends = {}
        for topic in topics:
            for partition in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                ends[(topic, partition)] = int(high)
        return ends
    finally:
        consumer.close()
