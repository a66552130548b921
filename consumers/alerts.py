"""`mlops-fc alerts`: drift, lifecycle verdicts, dead-letter bursts and silent workers to a webhook.

Its own consumer group reads monitoring.drift, models.lifecycle and deadletters through the
shared consume loop (stack/consume_loop.py); a second thread reads the workers' Redis
heartbeats; a third delivers the outbox to the webhook (consumers/webhook.py). The consume
loop only enqueues, so a webhook that is down or slow never holds back a commit or an alert.
A new group starts at the end of the topics (``alert_offset_reset``): alerts are about now,
not a replay of last month.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, Message, Producer
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis import Redis

from consumers.alert_rules import Alert, DeadLetterRate, Heartbeats, alert_for
from consumers.webhook import HttpTransport, Outbox, RetryPolicy, Transport, WebhookSender
from schemas.codec import decode
from schemas.deadletters import DeadLetter
from schemas.envelope import Event
from schemas.lifecycle import ModelLifecycleEvent
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MODELS_LIFECYCLE, MONITORING_DRIFT
from stack.consume_loop import ConsumeLoop
from stack.dead_letters import DeadLetters
from stack.kafka_clients import make_consumer, make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from stack.worker_heartbeat import heartbeat_pattern

log = logging.getLogger(__name__)
SOURCE = "alerts"


def decode_alertable(message: Message) -> Event:
    """Any event of the three topics the sink reads (a SchemaDecodeError dead-letters it)."""
    return decode(
        message.value(), message.headers(), expected=DriftDetected | ModelLifecycleEvent | DeadLetter
    )


@dataclass
class AlertMetrics:
    """Counters for /metrics: Grafana draws ``mlops_fc_alerts_total`` as annotations."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.raised = Counter(
            "mlops_fc_alerts", "Alerts raised, by kind.", ["kind", "severity"], registry=self.registry
        )
        self.delivered = Counter(
            "mlops_fc_alerts_delivered", "Alerts the webhook accepted.", registry=self.registry
        )
        self.outbox = Gauge("mlops_fc_alerts_outbox", "Alerts waiting for delivery.", registry=self.registry)
        self.dropped = Gauge(
            "mlops_fc_alerts_dropped", "Alerts dropped from a full outbox.", registry=self.registry
        )
        self.failed = Gauge(
            "mlops_fc_alerts_failed", "Alerts given up after every retry.", registry=self.registry
        )


class AlertSink:
    def __init__(
        self,
        settings: Settings,
        consumer: Consumer,
        producer: Producer,
        redis: Redis,
        transport: Transport,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.clock = clock
        self.metrics = AlertMetrics()
        self.outbox = Outbox(settings.alert_queue_size)
        self.rate = DeadLetterRate(settings.alert_deadletter_rate_per_min)
        self.heartbeats = Heartbeats(settings.alert_worker_stale_s)
        self.raised: list[Alert] = []  # every alert of this process (tests and `ps` read it)
        url = settings.alert_webhook_url.get_secret_value() if settings.alert_webhook_url else ""
        self.sender = WebhookSender(
            url=url,
            form=settings.alert_webhook_format,
            outbox=self.outbox,
            transport=transport,
            policy=RetryPolicy(
                settings.alert_retry_attempts, settings.alert_retry_first_s, settings.alert_retry_most_s
            ),
            timeout_s=settings.alert_webhook_timeout_s,
            on_sent=lambda _alert: self.metrics.delivered.inc(),
        )
        self.loop = ConsumeLoop(
            consumer=consumer,
            dead_letters=DeadLetters(producer, settings.topic(DEAD_LETTERS.name), SOURCE),
            decode=decode_alertable,
            handle=self._handle,
            name=SOURCE,
        )

    def _handle(self, _message: Message, event: Event) -> None:
        if isinstance(event, DeadLetter):
            alert = None if event.source == SOURCE else self.rate.add(event)
        else:
            alert = alert_for(event)
        if alert is not None:
            self.raise_alert(alert)

    def raise_alert(self, alert: Alert) -> None:
        log.info("alert %s: %s", alert.kind, alert.title)
        self.raised.append(alert)
        self.metrics.raised.labels(alert.kind, alert.severity).inc()
        if self.sender.url:
            self.outbox.put(alert)
        self._update_gauges()

    def check_heartbeats(self) -> None:
        pattern = heartbeat_pattern(self.settings.topic_prefix)
        keys = [key.decode() if isinstance(key, bytes) else str(key) for key in self.redis.scan_iter(pattern)]
        values = self.redis.mget(keys) if keys else []
        for alert in self.heartbeats.check(dict(zip(keys, values, strict=True)), self.clock()):
            self.raise_alert(alert)

    def _watch_heartbeats(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.alert_heartbeat_check_s):
            try:
                self.check_heartbeats()
            except Exception as exc:  # noqa: BLE001 - Redis away: try again at the next check
                log.warning("alerts: heartbeat check failed (%s: %s)", type(exc).__name__, exc)

    def _deliver(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.sender.step()
            self._update_gauges()

    def _update_gauges(self) -> None:
        self.metrics.outbox.set(len(self.outbox))
        self.metrics.dropped.set(self.outbox.dropped)
        self.metrics.failed.set(self.outbox.failed)

    def run(self, stop: threading.Event) -> None:
        if not self.sender.url:
            log.warning("MLOPS_FC_ALERT_WEBHOOK_URL is not set: alerts are only logged and counted")
        threads = [
            threading.Thread(
                target=self._watch_heartbeats, args=(stop,), name="alerts-heartbeats", daemon=True
            ),
            threading.Thread(target=self._deliver, args=(stop,), name="alerts-webhook", daemon=True),
        ]
        for thread in threads:
            thread.start()
        topics = [
            self.settings.topic(spec.name) for spec in (MONITORING_DRIFT, MODELS_LIFECYCLE, DEAD_LETTERS)
        ]
        try:
            self.loop.run(topics, stop)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=self.settings.alert_webhook_timeout_s + 1)


def build_alerts(settings: Settings, transport: Transport | None = None) -> AlertSink:
    group = f"{settings.topic_prefix}{settings.alert_group_id}"
    return AlertSink(
        settings,
        make_consumer(settings, group, **{"auto.offset.reset": settings.alert_offset_reset}),
        make_producer(settings),
        redis_client(settings),
        transport or HttpTransport(),
    )
