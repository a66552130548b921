"""The Kafka shell around DriftMonitor: consume, decide, emit, then commit.

Reads predictions.results, transfers.completed and models.lifecycle in one consumer group
(one monitor per deployment: several would split the partitions, and each would see part of
the stream). Per batch: decode each message (undecodable ones go to the dead-letter topic
with their raw bytes), feed the monitor, produce its DriftDetected events to
monitoring.drift, wait for every delivery report, and only then commit the batch's offsets.

Delivery semantics: an event is on the broker before the offsets that led to it are
committed, so a crash never loses one; a crash between the two re-reads that batch. The
windows are kept in memory, so a restart begins with empty windows: the re-read batch alone
rarely fills a window again, so duplicates are unlikely, and at worst detection waits one
window longer. Predictions waiting for their fee at the moment of a restart are not matched.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

from monitoring.config import SOURCE
from monitoring.exceptions import DriftPublishError
from monitoring.monitor import DriftMonitor
from schemas.codec import Headers, dead_letter, decode, encode, encode_for
from schemas.exceptions import SchemaDecodeError
from schemas.lifecycle import ModelLifecycleEvent, ModelPromoted, ModelRolledBack
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from schemas.topics import (
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
)
from stack.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonitorTopics:
    """Broker-side names of the topics the monitor reads and writes."""

    results: str
    transfers: str
    lifecycle: str
    drift: str
    dead_letters: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitorTopics:
        return cls(
            results=settings.topic(PREDICTIONS_RESULTS.name),
            transfers=settings.topic(TRANSFERS_COMPLETED.name),
            lifecycle=settings.topic(MODELS_LIFECYCLE.name),
            drift=settings.topic(MONITORING_DRIFT.name),
            dead_letters=settings.topic(DEAD_LETTERS.name),
        )

    @property
    def inputs(self) -> list[str]:
        return [self.results, self.transfers, self.lifecycle]


@dataclass
class MonitorLoop:
    consumer: Consumer
    producer: Producer
    monitor: DriftMonitor
    topics: MonitorTopics
    batch_size: int = 500
    poll_timeout_s: float = 0.5
    flush_timeout_s: float = 30.0
    processed: int = 0  # messages handled and committed
    emitted: deque[DriftDetected] = field(default_factory=lambda: deque(maxlen=1000))  # the latest
    _failures: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set; the consumer is closed on the way out."""
        self.consumer.subscribe(self.topics.inputs)
        log.info("drift monitor reading %s", ", ".join(self.topics.inputs))
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.consumer.close()
            self.producer.flush(self.flush_timeout_s)

    def step(self) -> list[DriftDetected]:
        """One batch: consume, decide, emit (delivery confirmed), commit."""
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=self.poll_timeout_s)
        events: list[DriftDetected] = []
        handled = 0
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("consumer error: %s", error)
                continue
            events += self._handle(message)
            handled += 1
        for event in events:
            key, value, headers = encode_for(event, MONITORING_DRIFT)
            self._produce(self.topics.drift, key, value, headers)
        self._flush()
        for event in events:
            log.warning(
                "drift detected: %s on %s version %s (%s, window of %d)%s",
                event.kind,
                event.model_name,
                event.model_version,
                event.method,
                event.window_size,
                f", report {event.report_uri}" if event.report_uri else "",
            )
        if handled:
            self._commit()
        self.processed += handled
        self.emitted += events
        return events

    def _handle(self, message: Message) -> list[DriftDetected]:
        topic, value, headers = message.topic(), message.value(), message.headers()
        try:
            if topic == self.topics.results:
                return self.monitor.observe_result(decode(value, headers, expected=PredictionResult))
            if topic == self.topics.transfers:
                return self.monitor.observe_transfer(decode(value, headers, expected=TransferCompleted))
            if topic == self.topics.lifecycle:
                event = decode(value, headers, expected=ModelLifecycleEvent)
                if (
                    isinstance(event, ModelPromoted | ModelRolledBack)
                    and event.model_name == self.monitor.config.model_name
                ):
                    self.monitor.on_model_change()
                return []
        except SchemaDecodeError as exc:
            self._dead_letter(message, exc.reason)
            return []
        log.warning("message from unexpected topic %s ignored", topic)
        return []

    def _dead_letter(self, message: Message, reason: str) -> None:
        letter = dead_letter(
            message.value(),
            reason,
            message.topic() or "",
            source=SOURCE,
            partition=message.partition(),
            offset=message.offset(),
            key=message.key(),
            headers=message.headers(),
        )
        _, value, headers = encode(letter)
        self._produce(self.topics.dead_letters, letter.source_topic.encode(), value, headers)
        log.warning(
            "dead-lettered %s[%s]@%s: %s", message.topic(), message.partition(), message.offset(), reason
        )

    def _produce(self, topic: str, key: bytes | None, value: bytes, headers: Headers) -> None:
        wire: list[tuple[str, str | bytes | None]] = list(headers)
        self.producer.produce(topic, key=key, value=value, headers=wire, on_delivery=self._delivered)

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error}")

    def _flush(self) -> None:
        remaining = self.producer.flush(self.flush_timeout_s)
        failures, self._failures = self._failures, []
        if remaining or failures:
            # Not committing: the batch is read again after the restart this error causes.
            raise DriftPublishError(f"{remaining} message(s) undelivered; failures: {failures}")

    def _commit(self) -> None:
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError._NO_OFFSET:
                raise
