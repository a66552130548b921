"""The one confluent-kafka loop: consume -> decode -> handle -> dead-letter -> commit.

Used by the drift monitor, the retrainer and the result sink. Per batch:

- ``decode(message)`` turns bytes into an event; a SchemaDecodeError (the only error the
  codec raises) sends the message to the dead-letter topic with its reason.
- ``handle(message, event)`` applies it. A transient error (an outage: Kafka, Redis, a
  socket) is retried with backoff on the same message; any other error means this message
  cannot be applied: it is dead-lettered with the error's type and the loop goes on.
- ``finish()`` runs once the batch is handled (deliver what the batch produced, store it),
  retried with backoff on transient errors: nothing is committed before it succeeded.
- ``idle()`` runs after a poll that brought nothing (at most every ``poll_timeout_s``):
  work due on a clock rather than on a message, retried like ``finish``.
- The batch's offsets are committed (commit after success; a failed commit only means a
  re-read after a restart, at-least-once).

librdkafka reconnects by itself while brokers are away: its non-fatal errors are logged and
the loop keeps polling; only a fatal error stops it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from stack.dead_letters import DeadLetters
from stack.exceptions import TransientError

log = logging.getLogger(__name__)
E = TypeVar("E")
TRANSIENT: tuple[type[BaseException], ...] = (
    TransientError,
    KafkaException,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
)
QUIET_EOF = (KafkaError._PARTITION_EOF,)


class LoopStopped(TransientError):
    """``stop`` was set while an operation was still being retried."""


def _nothing() -> None:
    return None


@dataclass
class Backoff:
    first_s: float = 0.2
    most_s: float = 10.0

    def delays(self) -> Callable[[], float]:
        delay = [self.first_s / 2]

        def next_delay() -> float:
            delay[0] = min(delay[0] * 2, self.most_s)
            return delay[0]

        return next_delay


@dataclass
class ConsumeLoop(Generic[E]):
    consumer: Consumer
    dead_letters: DeadLetters
    decode: Callable[[Message], E]
    handle: Callable[[Message, E], None]
    finish: Callable[[], None] = _nothing
    idle: Callable[[], None] = _nothing
    name: str = "consumer"
    batch_size: int = 500
    poll_timeout_s: float = 0.5
    backoff: Backoff = field(default_factory=Backoff)
    transient: tuple[type[BaseException], ...] = TRANSIENT
    processed: int = 0  # messages handled (or dead-lettered) and committed
    stopped_between_batches: bool = False  # run() ended with every handled batch committed
    _errors_seen: dict[int, float] = field(default_factory=dict)

    def run(self, topics: Sequence[str], stop: threading.Event) -> None:
        """Subscribe and process batches until ``stop`` is set; closes the consumer on the way out."""
        self.consumer.subscribe(list(topics))
        log.info("%s reading %s", self.name, ", ".join(topics))
        self.stopped_between_batches = False
        try:
            while not stop.is_set():
                try:
                    self.step(stop)
                except LoopStopped:
                    return
            self.stopped_between_batches = True
        finally:
            self.dead_letters.flush()
            self.consumer.close()

    def step(self, stop: threading.Event | None = None) -> int:
        """One batch; returns how many messages it handled and committed.

        Without ``stop`` (unit tests) a transient error is raised after one attempt instead
        of being retried.
        """
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=self.poll_timeout_s)
        good = [message for message in messages if self._usable(message)]
        for message in good:
            self._one(message, stop)
        if not good:
            self._retried(self.idle, stop, "idle work")
            return 0
        self._retried(self.finish, stop, "finishing the batch")
        self.dead_letters.flush()
        self._commit()
        self.processed += len(good)
        return len(good)

    def _one(self, message: Message, stop: threading.Event | None) -> None:
        try:
            event = self.decode(message)
        except SchemaDecodeError as exc:
            self.dead_letters.send(message, exc.reason, "SchemaDecodeError")
            return
        except Exception as exc:  # noqa: BLE001 - a decode hook of ours gone wrong: still this message's fault
            self.dead_letters.send(message, f"not decoded: {exc}", type(exc).__name__)
            return
        try:
            self._retried(lambda: self.handle(message, event), stop, "handling a message")
        except LoopStopped:
            raise
        except self.transient:
            raise  # only without ``stop``: the caller sees the outage
        except Exception as exc:  # noqa: BLE001 - a message that cannot be applied must not stop the loop
            self.dead_letters.send(message, f"not applied: {exc}", type(exc).__name__)

    def _retried(self, action: Callable[[], None], stop: threading.Event | None, what: str) -> None:
        next_delay = self.backoff.delays()
        failures = 0
        while True:
            try:
                action()
            except self.transient as exc:
                if stop is None:
                    raise
                failures += 1
                delay = next_delay()
                level = logging.WARNING if failures == 1 or failures % 10 == 0 else logging.DEBUG
                log.log(
                    level,
                    "%s: %s failed (%s: %s); retry %d in %.1fs",
                    self.name,
                    what,
                    type(exc).__name__,
                    exc,
                    failures,
                    delay,
                )
                if stop.wait(delay):
                    raise LoopStopped(f"stopped while {what}") from exc
                continue
            if failures:
                log.warning("%s: %s succeeded after %d retries", self.name, what, failures)
            return

    def _usable(self, message: Message) -> bool:
        error = message.error()
        if error is None:
            return True
        if error.fatal():
            raise KafkaException(error)
        if error.code() not in QUIET_EOF:
            # Brokers away, a partition moving: librdkafka retries. Say so once a minute per kind.
            now = time.monotonic()
            if now - self._errors_seen.get(error.code(), -60.0) >= 60.0:
                self._errors_seen[error.code()] = now
                log.warning("%s: consumer error (retried by the client): %s", self.name, error)
        return False

    def _commit(self) -> None:
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                # Committed with the next batch, or the batch is read again after a restart.
                log.warning("%s: commit failed, will be retried with the next batch: %s", self.name, exc)


def expecting(event_class: type[E]) -> Callable[[Message], E]:
    """A ``decode`` for a topic that holds one event family."""

    def decode_message(message: Message) -> E:
        return decode(message.value(), message.headers(), expected=event_class)  # type: ignore[return-value]

    return decode_message
