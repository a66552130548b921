"""Read a catalogue topic back to its end offsets, for the producer integration tests."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Message, TopicPartition

from stack.kafka_clients import make_consumer
from stack.settings import Settings


def read_to_end(settings: Settings, name: str, timeout: float = 60.0) -> list[Message]:
    """Every message of the topic up to the end offsets seen now, by partition then offset.

    Producers here are idempotent without transactions, so offsets are dense: the sum of the
    end offsets is the number of messages, and reading to them reads everything published.
    """
    topic = settings.topic(name)
    consumer = make_consumer(settings, group_id=f"read-{uuid.uuid4().hex}")
    try:
        partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending = {p for p, end in ends.items() if end > 0}
        messages: list[Message] = []
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                offset, partition = message.offset() or 0, message.partition() or 0
                if message.error() is not None or offset >= ends[partition]:
                    continue
                messages.append(message)
                if offset + 1 >= ends[partition]:
                    pending.discard(partition)
        assert not pending, f"{topic}: partitions {sorted(pending)} not read to their end in {timeout}s"
        assert len(messages) == sum(ends.values())
    finally:
        consumer.close()
    return sorted(messages, key=lambda m: (m.partition(), m.offset()))
