"""Small helpers the integration tests share: topics, and reading a topic to a condition."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, Message
from confluent_kafka.admin import NewTopic

from stack.kafka_clients import make_admin
from stack.kafka_connection import kafka_connection
from stack.settings import Settings


def create_topic(settings: Settings, name: str, partitions: int = 3) -> str:
    admin = make_admin(settings)
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])[name].result()
    return name


def consume_until(
    settings: Settings,
    topic: str,
    done: Callable[[list[Message]], bool],
    timeout: float = 60.0,
    group: str | None = None,
) -> list[Message]:
    """Read ``topic`` from the beginning until ``done(messages)`` holds or the deadline passes."""
    consumer = Consumer(
        {
            **kafka_connection(settings).confluent(),
            "group.id": group or f"reader-{time.monotonic_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(messages) and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=1000, timeout=0.5):
                if message.error() is None:
                    messages.append(message)
    finally:
        consumer.close()
    return messages
