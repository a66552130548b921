"""Partitions and watermarks of a topic, for clients that assign() instead of joining a group.

A topic created a moment ago answers metadata and offset requests with leader errors until
its partition leaders are elected, so the lookups here retry those for a few seconds.
"""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from tenacity import retry, retry_if_exception, stop_after_delay, wait_fixed

from stack.exceptions import TopicMissing
from stack.kafka_clients import make_consumer
from stack.settings import Settings

METADATA_TIMEOUT_S = 10.0
_NEW_TOPIC_ERRORS = frozenset(
    {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}
)


def _retriable(exc: BaseException) -> bool:
    if not isinstance(exc, KafkaException) or not exc.args:
        return False
    error = exc.args[0]
    return bool(error.retriable()) or error.code() in _NEW_TOPIC_ERRORS


@retry(
    retry=retry_if_exception(_retriable),
    stop=stop_after_delay(METADATA_TIMEOUT_S),
    wait=wait_fixed(0.1),
    reraise=True,
)
def watermarks(consumer: Consumer, topic: str, partition: int) -> tuple[int, int]:
    """(low, high) of one partition, asked of the broker (not librdkafka's cache)."""
    low, high = consumer.get_watermark_offsets(
        TopicPartition(topic, partition), timeout=METADATA_TIMEOUT_S, cached=False
    )
    return int(low), int(high)


def partitions_of(consumer: Consumer, topic: str) -> list[int]:
    """The topic's partition numbers; TopicMissing when the broker does not have it."""
    metadata = consumer.list_topics(topic, timeout=METADATA_TIMEOUT_S)
    described = metadata.topics.get(topic)
    if described is None or described.error is not None:
        raise TopicMissing(f"topic {topic} does not exist: run `mlops-fc stack topics`")
    return sorted(described.partitions)


def end_offsets(consumer: Consumer, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic`` at its current end: assign these to read only what comes next."""
    return [
        TopicPartition(topic, partition, watermarks(consumer, topic, partition)[1])
        for partition in partitions_of(consumer, topic)
    ]


def groupless_consumer(settings: Settings, purpose: str = "reader", **overrides: object) -> Consumer:
    """A consumer for assign() only: its random group id is never joined and nothing is committed."""
    return make_consumer(
        settings,
        group_id=f"{settings.topic_prefix}{purpose}-{uuid.uuid4().hex}",
        **{"enable.auto.offset.store": False, "fetch.wait.max.ms": 50, **overrides},
    )
