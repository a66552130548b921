"""Follow topics from the beginning in a background thread, keeping every decoded event."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer

from schemas.codec import decode
from schemas.envelope import Event
from schemas.exceptions import SchemaDecodeError
from stack.kafka_connection import kafka_connection
from stack.settings import Settings


class TopicTail:
    """All events of some topics, in arrival order; wait for a condition on them."""

    def __init__(
        self,
        settings: Settings,
        topics: list[str],
        name: str = "tail",
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self._consumer = Consumer(
            {
                **kafka_connection(settings).confluent(),
                "group.id": f"{settings.topic_prefix}{name}-{time.time_ns()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "log_level": 3,  # errors only: the CLI's terminal is no place for librdkafka's notices
            }
        )
        self._consumer.subscribe(topics)
        self.events: list[Event] = []
        self.undecodable = 0
        self._on_event = on_event
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                decoded: list[Event] = []
                for message in self._consumer.consume(num_messages=1000, timeout=0.2):
                    if message.error() is not None:
                        continue
                    try:
                        decoded.append(decode(message.value(), message.headers()))
                    except SchemaDecodeError:
                        self.undecodable += 1
                if decoded and self._on_event is not None:
                    for event in decoded:
                        self._on_event(event)
                if decoded:
                    with self._changed:
                        self.events.extend(decoded)
                        self._changed.notify_all()
        finally:
            self._consumer.close()

    def wait_until(self, condition: Callable[[list[Event]], bool], timeout: float) -> bool:
        """Block until ``condition(events)`` holds; False at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.events):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def snapshot(self) -> list[Event]:
        with self._changed:
            return list(self.events)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def __enter__(self) -> TopicTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
