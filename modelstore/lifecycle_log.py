"""Was a lifecycle event published? Read models.lifecycle to its end, looking for its event_id.

Asked only when a verdict cut short by a crash is finished (modelstore/verdict_outbox.py),
so that the event goes out once: the topic is small (one partition, a few events per
retrain) and kept forever, so the answer is exact. A read that cannot reach the end in time
raises instead of answering "no": a duplicate announcement is worse than a retried start.
"""

from __future__ import annotations

import json
import time
from uuid import UUID

from confluent_kafka import TopicPartition

from modelstore.exceptions import ModelStoreError
from schemas.topics import MODELS_LIFECYCLE
from stack.settings import Settings
from stack.topic_offsets import groupless_consumer, partitions_of, watermarks

READ_TIMEOUT_S = 60.0


def lifecycle_holds(settings: Settings, event_id: UUID) -> bool:
    """True when models.lifecycle already holds an event with ``event_id``."""
    topic = settings.topic(MODELS_LIFECYCLE.name)
    wanted = str(event_id)
    consumer = groupless_consumer(settings, "verdict-check")
    try:
        ends = {p: watermarks(consumer, topic, p) for p in partitions_of(consumer, topic)}
        left = {p: high for p, (low, high) in ends.items() if high > low}
        consumer.assign([TopicPartition(topic, p, ends[p][0]) for p in left])
        deadline = time.monotonic() + READ_TIMEOUT_S
        while left:
            if time.monotonic() > deadline:
                raise ModelStoreError(f"{topic} not read to its end in {READ_TIMEOUT_S:.0f}s")
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            value = message.value() or b""
            if wanted.encode() in value and _event_id(value) == wanted:
                return True
            partition, offset = message.partition(), message.offset()
            if partition in left and offset is not None and offset + 1 >= left[partition]:
                del left[partition]
        return False
    finally:
        consumer.close()


def _event_id(value: bytes) -> str | None:
    try:
        body = json.loads(value)
    except ValueError:
        return None  # not ours to judge: the lifecycle topic's readers dead-letter it
    return str(body.get("event_id")) if isinstance(body, dict) else None
