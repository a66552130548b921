"""The Kafka shell around DriftMonitor: consume, decide, emit, then commit.

Reads predictions.results, transfers.completed and models.lifecycle in one consumer group
(one monitor per deployment: several would split the partitions, and each would see part of
the stream). Per batch: decode each message (undecodable ones go to the dead-letter topic
with their raw bytes), feed the monitor, produce its DriftDetected events to
monitoring.drift, wait for every delivery report, and only then commit the batch's offsets.

The loop itself is the shared one (stack/consume_loop.py): what does not decode, or cannot
be applied, is dead-lettered and the loop goes on; a broker outage is waited out.

Delivery semantics: an event is on the broker before the offsets that led to it are
committed, so a crash never loses one; a crash between the two re-reads that batch. The
windows are kept in memory, so a restart begins with empty windows: the re-read batch alone
rarely fills a window again, so duplicates are unlikely, and at worst detection waits one
window longer. Predictions waiting for their fee at the moment of a restart are not matched.
A clean stop (SIGTERM) saves the windows and pending predictions to Redis and the next start
loads them (monitoring/state.py); after a crash the monitor says in its log what it lost.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message, Producer

from modelstore.exceptions import RegistryRefused
from modelstore.mlflow_registry import registry_errors
from monitoring.config import SOURCE
from monitoring.exceptions import DriftPublishError
from monitoring.monitor import DriftMonitor
from monitoring.shadow_decider import ShadowDecider
from monitoring.shadow_residuals import ShadowResiduals
from monitoring.state import SavedState
from schemas.codec import decode, encode_for
from schemas.envelope import Event
from schemas.lifecycle import (
    ModelLifecycleEvent,
    ModelPromoted,
    ModelRejected,
    ModelRolledBack,
    ModelShadowed,
)
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from schemas.topics import (
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PREDICTIONS_RESULTS,
    PREDICTIONS_SHADOW,
    TRANSFERS_COMPLETED,
)
from stack.consume_loop import ConsumeLoop
from stack.dead_letters import DeadLetters
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
    shadow: str | None = None  # predictions.shadow, read when shadow verdicts are on

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitorTopics:
        return cls(
            results=settings.topic(PREDICTIONS_RESULTS.name),
            transfers=settings.topic(TRANSFERS_COMPLETED.name),
            lifecycle=settings.topic(MODELS_LIFECYCLE.name),
            drift=settings.topic(MONITORING_DRIFT.name),
            dead_letters=settings.topic(DEAD_LETTERS.name),
            shadow=settings.topic(PREDICTIONS_SHADOW.name) if settings.promotion == "shadow" else None,
        )

    @property
    def inputs(self) -> list[str]:
        shadow = [self.shadow] if self.shadow else []
        return [self.results, self.transfers, self.lifecycle, *shadow]


@dataclass
class MonitorLoop:
    consumer: Consumer
    producer: Producer
    monitor: DriftMonitor
    topics: MonitorTopics
    batch_size: int = 500
    poll_timeout_s: float = 0.5
    flush_timeout_s: float = 30.0
    emitted: deque[DriftDetected] = field(default_factory=lambda: deque(maxlen=1000))  # the latest
    _batch: list[DriftDetected] = field(default_factory=list)  # this batch's events
    _unsent: list[DriftDetected] = field(default_factory=list)  # not yet confirmed by the broker
    _failures: list[str] = field(default_factory=list)
    state: SavedState | None = None  # where windows are kept across a clean restart
    after_batch: Callable[[], None] | None = None  # e.g. calibrated bounds and label health to Redis
    shadow: ShadowDecider | None = None  # shadow verdicts (MLOPS_FC_PROMOTION=shadow)
    shadow_residuals: ShadowResiduals | None = None  # the shadow's residuals, for its calibrated interval
    on_stop: Callable[[], None] | None = None  # e.g. wait for the drift reports still being written
    _loop: ConsumeLoop[Event] = field(init=False)

    def __post_init__(self) -> None:
        self._loop = ConsumeLoop(
            consumer=self.consumer,
            dead_letters=DeadLetters(self.producer, self.topics.dead_letters, SOURCE),
            decode=self._decode,
            handle=self._handle,
            finish=self._publish,
            idle=self._idle,
            name="drift monitor",
            batch_size=self.batch_size,
            poll_timeout_s=self.poll_timeout_s,
        )

    @property
    def processed(self) -> int:
        """Messages handled (or dead-lettered) and committed."""
        return self._loop.processed

    def run(self, stop: threading.Event) -> None:
        """Process batches until ``stop`` is set; the consumer is closed on the way out."""
        if self.state is None or not self.state.restore(self.monitor):
            log.warning(
                "drift monitor starting with empty windows: drift detection waits for %d new"
                " vectors, and predictions pending before this start are not matched",
                self.monitor.config.feature_min_rows,
            )
        try:
            self._loop.run(self.topics.inputs, stop)
        finally:
            self.producer.flush(self.flush_timeout_s)
            if self.on_stop is not None:
                self.on_stop()
            if self.state is not None and self._loop.stopped_between_batches:
                self.state.save(self.monitor)
            else:
                self._say_what_is_lost()

    def step(self, stop: threading.Event | None = None) -> list[DriftDetected]:
        """One batch: consume, decide, emit (delivery confirmed), commit."""
        self._batch = []
        self._loop.step(stop)
        events, self._batch = self._batch, []
        return events

    def _decode(self, message: Message) -> Event:
        topic, value, headers = message.topic(), message.value(), message.headers()
        if topic == self.topics.results or (self.topics.shadow and topic == self.topics.shadow):
            return decode(value, headers, expected=PredictionResult)
        if topic == self.topics.transfers:
            return decode(value, headers, expected=TransferCompleted)
        if topic == self.topics.lifecycle:
            return decode(value, headers, expected=ModelLifecycleEvent)
        raise ValueError(f"message from unexpected topic {topic}")

    def _handle(self, message: Message, event: Event) -> None:
        found: list[DriftDetected] = []
        if (
            isinstance(event, PredictionResult)
            and self.topics.shadow
            and message.topic() == self.topics.shadow
        ):
            if self.shadow is not None:  # shadow results never reach the drift windows
                self.shadow.observe_result(event, shadow=True)
            if self.shadow_residuals is not None:
                self.shadow_residuals.on_result(event)
        elif isinstance(event, PredictionResult):
            found = self.monitor.observe_result(event)
            if self.shadow is not None:
                self.shadow.observe_result(event, shadow=False)
        elif isinstance(event, TransferCompleted):
            found = self.monitor.observe_transfer(event)
            if self.shadow is not None:
                self.shadow.observe_label(event)
            if self.shadow_residuals is not None:
                self.shadow_residuals.on_label(event)
        elif isinstance(event, ModelPromoted | ModelRolledBack | ModelShadowed | ModelRejected):
            if event.model_name == self.monitor.config.model_name:
                if isinstance(event, ModelPromoted | ModelRolledBack):
                    self.monitor.on_model_change()
                if self.shadow is not None:
                    self.shadow.refresh()
        self._batch += found
        self._unsent += found
        self.emitted += found

    def _publish(self) -> None:
        """Deliver the events not yet confirmed, then take the batch's shadow verdict, if any.

        Raises (the loop retries) while any drift event is refused."""
        if self.after_batch is not None:
            self.after_batch()
        self._publish_drift()
        if self.shadow is not None:
            self._judged(self.shadow.decide)  # through the registry: its events delivered on return

    def _idle(self) -> None:
        """No message came: a challenger past its maximum time in shadow is judged anyway."""
        if self.shadow is not None:
            self._judged(self.shadow.decide_if_overdue)

    @staticmethod
    def _judged(verdict: Callable[[], object]) -> None:
        """A verdict through MLflow: away, RegistryUnavailable (the loop retries with backoff);
        refused, logged: the pairs stay in Redis and are judged again after the next batch."""
        try:
            with registry_errors():
                verdict()
        except RegistryRefused as exc:
            log.error("shadow verdict not carried out, judged again after the next batch: %s", exc)

    def _publish_drift(self) -> None:
        if not self._unsent:
            return
        for event in self._unsent:
            key, value, headers = encode_for(event, MONITORING_DRIFT)
            wire: list[tuple[str, str | bytes | None]] = list(headers)
            self.producer.produce(
                self.topics.drift, key=key, value=value, headers=wire, on_delivery=self._delivered
            )
        remaining = self.producer.flush(self.flush_timeout_s)
        failures, self._failures = self._failures, []
        if remaining or failures:
            # Not committing: the loop publishes the batch's events again after a backoff.
            raise DriftPublishError(f"{remaining} message(s) undelivered; failures: {failures}")
        for event in self._unsent:
            log.warning(
                "drift detected: %s on %s version %s (%s, window of %d)%s",
                event.kind,
                event.model_name,
                event.model_version,
                event.method,
                event.window_size,
                f", report {event.report_uri}" if event.report_uri else "",
            )
        self._unsent = []

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(f"{message.topic()}: {error}")

    def _say_what_is_lost(self) -> None:
        lost = self.monitor.held()
        log.warning(
            "drift monitor stopping without saving its state: a restart loses %s",
            ", ".join(f"{count} {what}" for what, count in lost.items()) or "nothing",
        )
