"""Publishing events: a small port, its Kafka adapter, and an in-memory fake for unit tests.

The Kafka adapter checks every delivery report: ``delivered`` counts only what the broker
confirmed (idempotent producer, acks=all), and ``close`` raises DeliveryError when anything
failed or could not be flushed, so a summary never claims messages that were lost.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from confluent_kafka import KafkaError, Message, Producer

from producers.exceptions import DeliveryError
from schemas.codec import Headers, encode, key_for
from schemas.envelope import Event
from schemas.topics import TopicSpec
from stack.kafka_clients import make_producer
from stack.settings import Settings

FLUSH_TIMEOUT_S = 60.0


class Publisher(Protocol):
    """Where producers put events: keyed by the topic catalogue, counted per topic."""

    delivered: Counter[str]  # catalogue topic name -> messages confirmed

    def publish(self, spec: TopicSpec, event: Event) -> None:
        """Queue one event for the topic, keyed as the catalogue says."""

    def publish_raw(self, spec: TopicSpec, key: bytes | None, value: bytes, headers: Headers) -> None:
        """Queue bytes that were encoded elsewhere (dead letters, benchmarks)."""

    def poll(self) -> None:
        """Serve delivery reports that are ready, without waiting."""

    def close(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Flush; raise DeliveryError unless every queued message was confirmed."""


class KafkaPublisher:
    """Publisher on a confluent-kafka producer (idempotent, acks=all)."""

    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        self._settings = settings
        self._producer = producer or make_producer(settings)
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.errors: list[str] = []
        self._callbacks: dict[str, Callable[[KafkaError | None, Message], None]] = {}

    def publish(self, spec: TopicSpec, event: Event) -> None:
        key, value, headers = encode(event, key_for(event, spec))
        self.publish_raw(spec, key, value, headers)

    def publish_raw(self, spec: TopicSpec, key: bytes | None, value: bytes, headers: Headers) -> None:
        topic = self._settings.topic(spec.name)
        callback = self._callbacks.get(spec.name) or self._callbacks.setdefault(
            spec.name, self._on_delivery(spec.name)
        )
        kafka_headers: list[tuple[str, str | bytes | None]] = list(headers)
        while True:
            try:
                self._producer.produce(
                    topic, value=value, key=key, headers=kafka_headers, on_delivery=callback
                )
                break
            except BufferError:
                self._producer.poll(0.05)  # the local queue is full: let deliveries drain it
        self._producer.poll(0)

    def poll(self) -> None:
        self._producer.poll(0)

    def close(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        unflushed = self._producer.flush(timeout_s)
        failed = sum(self.failed.values())
        if failed or unflushed:
            detail = "; ".join(self.errors[:3])
            raise DeliveryError(
                f"{failed} message(s) failed and {unflushed} were not confirmed after {timeout_s:.0f}s"
                + (f": {detail}" if detail else ""),
                failed=failed,
                unflushed=unflushed,
            )

    def _on_delivery(self, name: str) -> Callable[[KafkaError | None, Message], None]:
        def report(error: KafkaError | None, _message: Message) -> None:
            if error is None:
                self.delivered[name] += 1
            else:
                self.failed[name] += 1
                if len(self.errors) < 10:
                    self.errors.append(f"{name}: {error}")

        return report


class MemoryPublisher:
    """A Publisher that keeps what it was given: the fake for unit tests."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.messages: list[tuple[str, bytes | None, bytes, Headers]] = []
        self.closed = False

    def publish(self, spec: TopicSpec, event: Event) -> None:
        self.publish_raw(spec, *encode(event, key_for(event, spec)))

    def publish_raw(self, spec: TopicSpec, key: bytes | None, value: bytes, headers: Headers) -> None:
        self.messages.append((spec.name, key, value, headers))
        self.delivered[spec.name] += 1

    def poll(self) -> None:
        return None

    def close(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        self.closed = True


class RateLimiter:
    """At most ``rate`` calls of ``wait`` per second on average (None: no limit)."""

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = None if rate is None else 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = clock()

    def wait(self, on_idle: Callable[[], None] | None = None) -> None:
        """Block until the next event may go; ``on_idle`` runs first (delivery reports)."""
        if self._interval is None:
            return
        now = self._clock()
        if now < self._next:
            if on_idle is not None:
                on_idle()
            self._sleep(max(0.0, self._next - self._clock()))
        # Behind schedule (a slow broker), catch up with at most one second's burst.
        self._next = max(self._next, now - 1.0) + self._interval
