"""Send dead letters with confluent-kafka, without ever stopping the consumer that sends them.

Built by ``schemas.deadletters.dead_letter_for`` (headers and trace id kept, always under the
topic's message limit). A letter the producer refuses even so, or one the broker does not
confirm, is logged and counted: losing a dead letter is bad, but a consumer that stops
answering every message after a bad one is worse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from schemas.codec import encode_for
from schemas.deadletters import DeadLetter, dead_letter_for
from schemas.topics import DEAD_LETTERS

log = logging.getLogger(__name__)


@dataclass
class DeadLetters:
    producer: Producer
    topic: str  # broker-side name of the dead-letter topic
    source: str  # the service that gives up on the message
    sent: int = 0
    lost: int = 0
    _unflushed: int = 0
    _failures: list[str] = field(default_factory=list)

    def send(self, message: Message, reason: str, error_type: str = "SchemaDecodeError") -> None:
        """Dead-letter ``message``; never raises."""
        where = f"{message.topic()}[{message.partition()}]@{message.offset()}"
        try:
            letter = dead_letter_for(message, reason, source=self.source, error_type=error_type)
            self._produce(letter)
        except Exception as exc:  # noqa: BLE001 - a dead letter must not stop the consumer
            self.lost += 1
            log.error("could not dead-letter %s (%s): %s", where, reason, exc)
            return
        self.sent += 1
        self._unflushed += 1
        log.warning("dead-lettered %s: %s: %s", where, error_type, reason)

    def _produce(self, letter: DeadLetter) -> None:
        key, value, headers = encode_for(letter, DEAD_LETTERS)
        wire: list[tuple[str, str | bytes | None]] = list(headers)
        try:
            self.producer.produce(self.topic, key=key, value=value, headers=wire, on_delivery=self._delivered)
        except BufferError:
            self.producer.poll(1.0)  # the local queue is full: serve delivery reports, try once more
            self.producer.produce(self.topic, key=key, value=value, headers=wire, on_delivery=self._delivered)

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error}")

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait for the letters sent so far; log (never raise) those the broker did not take."""
        if not self._unflushed:
            return
        self._unflushed = 0
        try:
            remaining = self.producer.flush(timeout_s)
        except KafkaException as exc:
            remaining = -1
            log.error("dead-letter flush failed: %s", exc)
        failures, self._failures = self._failures, []
        if failures or remaining:
            self.lost += len(failures) + max(remaining, 0)
            log.error("dead letters not delivered: %d queued, failures %s", remaining, failures)
