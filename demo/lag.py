"""How far a consumer group is behind a topic: the demo waits for each stage to catch up."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition

from stack.kafka_connection import kafka_connection
from stack.settings import Settings


def group_lag(settings: Settings, group: str, topics: list[str]) -> int:
    """Messages in ``topics`` past the group's committed offsets (all of them if none)."""
    consumer = Consumer(
        {
            **kafka_connection(settings).confluent(),
            "group.id": group,
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ]
        committed = consumer.committed(partitions, timeout=10)
        lag = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=10)
            start = tp.offset if tp.offset >= 0 else low
            lag += max(0, high - start)
        return lag
    finally:
        consumer.close()
