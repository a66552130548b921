"""10,000 messages through the real broker, with both clients the system uses."""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from confluent_kafka import Message

from stack.async_producer import AsyncProducer, DeliveryFailed
from stack.kafka_clients import make_producer
from stack.kafka_connection import kafka_connection
from stack.settings import Settings
from tests.kafka_helpers import consume_until, create_topic

pytestmark = pytest.mark.integration
COUNT = 10_000
PARTITIONS = 3


def _key(i: int) -> bytes:
    return f"player-{i % 97}".encode()


def _fields(message: Message) -> tuple[int, bytes, bytes]:
    partition, key, value = message.partition(), message.key(), message.value()
    assert partition is not None and key is not None and value is not None, message.error()
    return partition, key, value


def _assert_all_back_in_order(received: list[tuple[int, bytes, bytes]]) -> None:
    assert len(received) == COUNT
    assert sorted(int(value) for _, _, value in received) == list(range(COUNT))
    per_partition: dict[int, list[int]] = defaultdict(list)
    for partition, key, value in received:
        per_partition[partition].append(int(value))
        assert key == _key(int(value))
    assert len(per_partition) == PARTITIONS
    for values in per_partition.values():
        assert values == sorted(values), "messages of one partition came back out of order"


def test_confluent_kafka_round_trip(stack_settings: Settings, unique: str) -> None:
    topic = create_topic(stack_settings, f"roundtrip-ck-{unique}", PARTITIONS)
    producer = make_producer(stack_settings)
    failures: list[str] = []
    for i in range(COUNT):
        producer.produce(
            topic,
            key=_key(i),
            value=str(i).encode(),
            on_delivery=lambda err, _msg: failures.append(str(err)) if err else None,
        )
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []

    messages = consume_until(stack_settings, topic, lambda got: len(got) >= COUNT)
    _assert_all_back_in_order([_fields(m) for m in messages])


def test_aiokafka_round_trip(stack_settings: Settings, unique: str) -> None:
    topic = create_topic(stack_settings, f"roundtrip-aio-{unique}", PARTITIONS)
    bootstrap = kafka_connection(stack_settings).bootstrap_servers

    async def run() -> list[tuple[int, bytes, bytes]]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            batch = [await producer.send(topic, key=_key(i), value=str(i).encode()) for i in range(COUNT)]
            await asyncio.gather(*batch)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"g-{unique}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        received: list[tuple[int, bytes, bytes]] = []
        try:
            async with asyncio.timeout(60):
                while len(received) < COUNT:
                    for records in (await consumer.getmany(timeout_ms=500)).values():
                        received.extend((r.partition, r.key, r.value) for r in records)
        finally:
            await consumer.stop()
        return received

    _assert_all_back_in_order(asyncio.run(run()))


def test_async_producer_confirms_every_message_of_concurrent_calls(
    stack_settings: Settings, unique: str
) -> None:
    """The worker's and the facade's producer: each call returns once its own batch is on the broker."""
    topic = create_topic(stack_settings, f"roundtrip-async-{unique}", PARTITIONS)
    producer = AsyncProducer(make_producer(stack_settings, **{"linger.ms": 1}))
    batches = [list(range(start, start + 250)) for start in range(0, COUNT, 250)]

    async def run() -> None:
        await asyncio.gather(
            *(
                producer.send_all([(topic, _key(i), str(i).encode(), [("n", b"1")]) for i in batch], 30)
                for batch in batches
            )
        )

    try:
        asyncio.run(run())
    finally:
        producer.close()
    messages = consume_until(stack_settings, topic, lambda got: len(got) >= COUNT)
    _assert_all_back_in_order([_fields(m) for m in messages])
    assert {tuple(m.headers() or []) for m in messages} == {(("n", b"1"),)}


def test_async_producer_reports_a_message_the_broker_refuses(stack_settings: Settings, unique: str) -> None:
    topic = create_topic(stack_settings, f"roundtrip-refused-{unique}", 1)
    # The client lets 2 MB through; the broker's message.max.bytes (1 MB by default) does not.
    producer = AsyncProducer(
        make_producer(stack_settings, **{"linger.ms": 1, "message.max.bytes": 5_000_000})
    )
    too_large = os.urandom(2_000_000)  # incompressible: lz4 would shrink repeated bytes under the limit

    async def run() -> None:
        await producer.send_all([(topic, b"k", b"fine", []), (topic, b"k", too_large, [])], 30)

    try:
        with pytest.raises(DeliveryFailed, match="not delivered"):
            asyncio.run(run())
    finally:
        producer.close()


def test_async_producer_reports_a_message_refused_before_sending(
    stack_settings: Settings, unique: str
) -> None:
    producer = AsyncProducer(make_producer(stack_settings))

    async def run() -> None:
        await producer.send_all([(f"roundtrip-local-{unique}", b"k", b"x" * 2_000_000, [])], 30)

    try:
        with pytest.raises(DeliveryFailed, match="not produced"):
            asyncio.run(run())
    finally:
        producer.close()
