"""Read topics in a background thread without a consumer group: assigned partitions only.

A reader commits nothing and joins no group, so any number of API processes can each read
everything, and the flows page never lists them as lagging groups. Partitions start at the
beginning (state to rebuild) or at their end offsets taken when the reader starts (only what
comes next, e.g. results of requests this process is about to publish). End offsets are
resolved explicitly before ``start`` returns: a message produced after it cannot be missed.

The thread outlives outages. A batch whose handler raises (Redis down, say) is handed over
again after a backoff until it goes through, so nothing read is skipped; a consumer that
fails (a fatal Kafka error) is closed and a new one resumes where the last handled message
left off. While either goes on, ``healthy()`` is False and ``problem`` says why.
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
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0


class Backoff:
    """Doubling waits between attempts, capped; ``reset`` after a success."""

    def __init__(self, first_s: float = RETRY_FIRST_S, most_s: float = RETRY_MAX_S) -> None:
        self.first_s = first_s
        self.most_s = most_s
        self.next_s = first_s

    def take(self) -> float:
        wait, self.next_s = self.next_s, min(self.next_s * 2, self.most_s)
        return wait

    def reset(self) -> None:
        self.next_s = self.first_s


class TopicReader:
    """Calls ``handle(messages)`` from one daemon thread for every batch read from ``topics``.

    ``idle`` (optional) is called from the same thread after a poll that found nothing, so
    a handler can retry work of its own (the correlator stores results Redis refused).
    """

    def __init__(
        self,
        settings: Settings,
        topics: Mapping[str, Start],
        handle: Callable[[list[Message]], None],
        name: str,
        batch: int = 500,
        idle: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.topics = dict(topics)
        self.handle = handle
        self.idle = idle
        self.name = name
        self.batch = batch
        self.caught_up = threading.Event()  # read up to the end offsets seen at start
        self.failed: BaseException | None = None  # why the thread ended, if it did
        self.problem: str | None = None  # what it is retrying right now
        self.restarts = 0
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._targets: list[TopicPartition] = []
        self._next: dict[tuple[str, int], int] = {}  # next offset to read, per partition
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        consumer = groupless_consumer(self.settings)
        try:
            for topic, start in self.topics.items():
                for partition in partitions_of(consumer, topic):
                    low, high = watermarks(consumer, topic, partition)
                    self._next[(topic, partition)] = low if start == "beginning" else high
                    if start == "beginning" and high > low:
                        self._targets.append(TopicPartition(topic, partition, high))
            self._assign(consumer)
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

    def healthy(self) -> bool:
        """Alive and not retrying a failed batch or consumer."""
        return self.alive() and self.problem is None

    def _assign(self, consumer: Consumer) -> None:
        consumer.assign([TopicPartition(t, p, offset) for (t, p), offset in self._next.items()])

    def _run(self) -> None:
        backoff = Backoff()
        consumer = self._consumer
        try:
            while not self._stop.is_set():
                try:
                    if consumer is None:
                        consumer = groupless_consumer(self.settings)
                        self._assign(consumer)
                        log.info("reader %s reads again (restart %d)", self.name, self.restarts)
                    self._consume(consumer, backoff)
                except Exception as exc:  # noqa: BLE001 - retried: the reader must outlive outages
                    self._trouble(f"its consumer failed: {exc!r}")
                    self.restarts += 1
                    _close(consumer)
                    consumer = None
                    self._stop.wait(backoff.take())
        except BaseException as exc:  # an interpreter-level end: /healthz reports a dead thread
            self.failed = exc
            log.exception("reader %s stopped", self.name)
        finally:
            _close(consumer)

    def _consume(self, consumer: Consumer, backoff: Backoff) -> None:
        while not self._stop.is_set():
            # consume(n, timeout) waits for n messages or the timeout: a result would sit
            # there up to 100 ms. poll() returns at the first; then take what is there.
            first = consumer.poll(0.1)
            if first is None:
                if self.idle is not None:
                    self.idle()
                messages = []
            else:
                messages = [first, *consumer.consume(num_messages=self.batch - 1, timeout=0)]
            for message in messages:
                error = message.error()
                if error is not None and error.fatal():
                    raise KafkaException(error)
            good = [m for m in messages if m.error() is None]
            if good:
                self._handle_until_done(good, backoff)
            if not self.caught_up.is_set():
                self._check_caught_up(consumer)
            if self.problem is not None and (good or first is None):
                log.info("reader %s recovered", self.name)
                self.problem = None
                backoff.reset()

    def _handle_until_done(self, messages: list[Message], backoff: Backoff) -> None:
        while not self._stop.is_set():
            try:
                self.handle(messages)
            except Exception as exc:  # noqa: BLE001 - the same batch again, nothing skipped
                self._trouble(f"its handler failed: {exc!r}")
                self._stop.wait(backoff.take())
                continue
            for message in messages:
                offset, partition, topic = message.offset(), message.partition(), message.topic()
                if offset is not None and partition is not None and topic is not None:
                    self._next[(topic, partition)] = offset + 1
            return

    def _trouble(self, problem: str) -> None:
        if self.problem is None:  # one line per outage, not one per attempt
            log.warning("reader %s retries: %s", self.name, problem)
        self.problem = problem

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


def _close(consumer: Consumer | None) -> None:
    if consumer is None:
        return
    try:
        consumer.close()
    except Exception as exc:  # noqa: BLE001 - closing a broken consumer may fail too
        log.debug("closing a reader's consumer failed: %s", exc)
