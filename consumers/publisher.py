"""Publish events from asyncio: acks=all, idempotent, awaited delivery (stack.async_producer)."""

from __future__ import annotations

from collections.abc import Sequence

from confluent_kafka import Producer

from consumers.exceptions import PublishError
from schemas.codec import encode_for
from schemas.envelope import Event
from schemas.topics import TopicSpec
from stack.async_producer import AsyncProducer, DeliveryFailed
from stack.kafka_clients import make_producer
from stack.settings import Settings

PUBLISH_TIMEOUT_S = 30.0


class Publisher:
    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        # A short linger: the facade answers people, so latency beats batching.
        self._producer = AsyncProducer(producer or make_producer(settings, **{"linger.ms": 1}))

    async def publish_many(
        self, topic: str, spec: TopicSpec, events: Sequence[Event], timeout_s: float = PUBLISH_TIMEOUT_S
    ) -> None:
        """Publish ``events`` keyed as ``spec`` says; returns once the broker confirmed all."""
        messages = [(topic, *encode_for(event, spec)) for event in events]
        try:
            await self._producer.send_all(messages, timeout_s)
        except DeliveryFailed as exc:
            raise PublishError(str(exc)) from exc

    def close(self, timeout_s: float = 10.0) -> None:
        self._producer.close(timeout_s)
