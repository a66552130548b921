"""Read topics in a background thread without a consumer group: assigned partitions only.

A reader commits nothing and joins no group, so any number of API processes can each read
everything, and the flows page never lists them as lagging groups. Partitions start at the
beginning (state to rebuild) or at their end offsets taken when the reader starts (only what
comes next, e.g. results of requests this process is about to publish). End offsets are
resolved explicitly before ``start`` returns: a message produced after it cannot be missed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Literal

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from stack.settings import Settings
from stack.topic_offsets import groupless_consumer, partitions_of, watermarks

log = logging.getLogger(__name__)
Start = Literal["beginning", "end"]


class TopicReader:
    """Calls ``handle(messages)`` from one daemon thread for every batch read from ``topics``."""

    def __init__(
        self,
        settings: Settings,
        topics: Mapping[str, Start],
        handle: Callable[[list[Message]], None],
        name: str,
        batch: int = 500,
    ) -> None:
        self.settings = settings
        self.topics = dict(topics)
        self.handle = handle
        self.name = name
        self.batch = batch
        self.caught_up = threading.Event()  # read up to the end offsets seen at start
        self.failed: BaseException | None = None
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._targets: list[TopicPartition] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        consumer = groupless_consumer(self.settings)
        try:
            assignment = []
            for topic, start in self.topics.items():
                for partition in partitions_of(consumer, topic):
                    low, high = watermarks(consumer, topic, partition)
                    assignment.append(TopicPartition(topic, partition, low if start == "beginning" else high))
                    if start == "beginning" and high > low:
                        self._targets.append(TopicPartition(topic, partition, high))
            consumer.assign(assignment)
        except BaseException:
            consumer.close()
            raise
        self._consumer = consumer
        if not self._targets:
            self.caught_up.set()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        try:
            while not self._stop.is_set():
                # consume(n, timeout) waits for n messages or the timeout: a result would sit
                # there up to 100 ms. poll() returns at the first; then take what is there.
                first = consumer.poll(0.1)
                if first is None:
                    messages = []
                else:
                    messages = [first, *consumer.consume(num_messages=self.batch - 1, timeout=0)]
                good = [m for m in messages if m.error() is None]
                for message in messages:
                    error = message.error()
                    if error is not None and error.fatal():
                        raise KafkaException(error)
                if good:
                    self.handle(good)
                if not self.caught_up.is_set():
                    self._check_caught_up(consumer)
        except BaseException as exc:  # a reader that dies says so on /readyz
            self.failed = exc
            log.exception("reader %s stopped", self.name)
        finally:
            consumer.close()

    def _check_caught_up(self, consumer: Consumer) -> None:
        positions = consumer.position([TopicPartition(tp.topic, tp.partition) for tp in self._targets])
        if all(p.offset >= t.offset for p, t in zip(positions, self._targets, strict=True)):
            self.caught_up.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_caught_up(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.caught_up.wait(0.1):
            if self.failed is not None or time.monotonic() > deadline:
                return False
        return True
