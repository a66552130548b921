"""Kafka messages as people read them: decoded events, or why they could not be decoded.

Shared by the flows page (latest messages of a topic) and `mlops-fc subscribe`. A dead
letter is shown with its reason and its raw bytes, decoded as text where they are text.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message, TopicPartition

from consumers.exceptions import UnknownTopicError
from schemas.codec import decode
from schemas.deadletters import DeadLetter
from schemas.exceptions import SchemaDecodeError
from schemas.topics import CATALOGUE, TopicSpec
from stack.settings import Settings
from stack.topic_offsets import groupless_consumer, partitions_of, watermarks

PEEK_TIMEOUT_S = 10.0


def spec_named(name: str) -> TopicSpec:
    for spec in CATALOGUE:
        if spec.name == name:
            return spec
    raise UnknownTopicError(f"unknown topic {name!r}: one of {', '.join(s.name for s in CATALOGUE)}")


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True)
class Shown:
    """One message: where it is, and its event (a JSON-able dict) or the decode error."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: str | None
    event_type: str | None
    event: dict[str, Any] | None
    error: str | None = None
    raw: str | None = None

    def field(self, path: str) -> Any:
        """A field of the event by dotted path (``features.age``), or None."""
        value: Any = self.event
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
            "key": self.key,
            "event_type": self.event_type,
            "event": self.event,
            "error": self.error,
            "raw": self.raw,
        }


def show(message: Message, prefix: str = "") -> Shown:
    _, timestamp = message.timestamp()
    topic = (message.topic() or "").removeprefix(prefix)
    partition, offset = message.partition() or 0, message.offset() or 0
    at = timestamp if timestamp > 0 else None
    key = _text(message.key())
    try:
        event = decode(message.value(), message.headers())
    except SchemaDecodeError as exc:
        return Shown(topic, partition, offset, at, key, None, None, exc.reason, _text(message.value()))
    letter = event if isinstance(event, DeadLetter) else None
    return Shown(
        topic, partition, offset, at, key, event.event_type, event.model_dump(mode="json"),
        letter.reason if letter else None, _text(letter.raw_value()) if letter else None,
    )  # fmt: skip


def latest(settings: Settings, name: str, limit: int = 20) -> list[Shown]:
    """The last ``limit`` messages of catalogue topic ``name`` (all partitions), newest first."""
    topic = settings.topic(spec_named(name).name)
    consumer = groupless_consumer(settings)
    try:
        targets: dict[int, int] = {}
        assignment = []
        for partition in partitions_of(consumer, topic):
            low, high = watermarks(consumer, topic, partition)
            if high > low:
                assignment.append(TopicPartition(topic, partition, max(low, high - limit)))
                targets[partition] = high
        if not assignment:
            return []
        consumer.assign(assignment)
        shown: list[Shown] = []
        deadline = time.monotonic() + PEEK_TIMEOUT_S
        while targets and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=limit * len(assignment), timeout=0.2):
                if message.error() is not None:
                    continue
                shown.append(show(message, settings.topic_prefix))
            done = consumer.position([TopicPartition(topic, p) for p in targets])
            targets = {
                tp.partition: targets[tp.partition] for tp in done if tp.offset < targets[tp.partition]
            }
    finally:
        consumer.close()
    shown.sort(key=lambda s: (s.timestamp_ms or 0, s.partition, s.offset), reverse=True)
    return shown[:limit]
