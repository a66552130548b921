"""Read the whole of transfers.completed: the system of record the models learn from."""

from __future__ import annotations

import time

from confluent_kafka import TopicPartition

from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.records import TransferCompleted
from schemas.topics import TRANSFERS_COMPLETED
from stack.kafka_clients import make_consumer
from stack.settings import Settings


def read_transfers(settings: Settings, timeout: float = 120.0) -> tuple[list[TransferCompleted], int]:
    """Every transfer up to the end offsets seen at the start, in event-time order.

    Returns the transfers and how many messages did not decode (those are dead-lettered by
    the worker; the retrainer only counts them).
    """
    topic = settings.topic(TRANSFERS_COMPLETED.name)
    consumer = make_consumer(settings, group_id=f"{settings.topic_prefix}history-{time.time_ns()}")
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        partitions = sorted(metadata.topics[topic].partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions
        }
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        transfers: list[TransferCompleted] = []
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
                    transfers.append(decode(message.value() or b"", expected=TransferCompleted))
                except SchemaDecodeError:
                    undecodable += 1
    finally:
        consumer.close()
    transfers.sort(key=lambda t: (t.transferred_at, t.transfer_id))
    return transfers, undecodable
