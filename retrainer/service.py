"""`mlops-fc retrainer`: consume drift events and turn each into one registry outcome.

An event's offset is committed only after its outcome is recorded (promoted, rejected or
skipped), so a retrainer killed mid-training meets the event again after a restart; the
handler's registry checks make that second meeting finish the first, not repeat it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import cast

from confluent_kafka import Message, Producer

from retrainer.bootstrap import build_handler
from retrainer.handler import Outcome
from retrainer.trigger import Trigger
from schemas.codec import dead_letter, decode, encode_for
from schemas.commands import RetrainRequested
from schemas.exceptions import SchemaDecodeError
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MONITORING_DRIFT
from stack.kafka_clients import make_consumer, make_producer
from stack.settings import Settings

log = logging.getLogger(__name__)
SOURCE = "retrainer"
# Training on all history takes minutes: stay in the group while it runs.
MAX_POLL_INTERVAL_MS = 60 * 60 * 1000


def run_retrainer(
    settings: Settings,
    stop: threading.Event,
    on_outcome: Callable[[DriftDetected | RetrainRequested, Outcome], None] | None = None,
) -> None:
    """Handle drift events and retrain requests one at a time until ``stop`` is set."""
    consumer = make_consumer(
        settings,
        group_id=f"{settings.topic_prefix}mlops-fc-retrainer",
        **{"max.poll.interval.ms": MAX_POLL_INTERVAL_MS},
    )
    producer = make_producer(settings)
    handler = build_handler(settings, producer, stop, source=SOURCE)
    consumer.subscribe([settings.topic(MONITORING_DRIFT.name)])
    try:
        while not stop.is_set():
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            event = _decode(settings, producer, message)
            if event is not None and event.model_name == settings.model_name:
                outcome = handler.handle(Trigger.of(event))
                if outcome is None:  # stopped while Redis was away: the event stays uncommitted
                    break
                log.info("drift event %s -> %s: %s", event.event_id, outcome.status, outcome.reason)
                if on_outcome is not None:
                    on_outcome(event, outcome)
            consumer.commit(message=message, asynchronous=False)
    finally:
        consumer.close()
        producer.flush(30)


def _decode(
    settings: Settings, producer: Producer, message: Message
) -> DriftDetected | RetrainRequested | None:
    try:
        event = decode(message.value(), message.headers(), expected=MONITORING_DRIFT.value_schema)
        return cast(DriftDetected | RetrainRequested, event)  # what expected= lets through
    except SchemaDecodeError as exc:
        letter = dead_letter(
            message.value() or b"",
            exc.reason,
            message.topic() or "",
            source=SOURCE,
            error_type="SchemaDecodeError",
            partition=message.partition(),
            offset=message.offset(),
            key=message.key(),
        )
        key, value, headers = encode_for(letter, DEAD_LETTERS)
        producer.produce(settings.topic(DEAD_LETTERS.name), key=key, value=value, headers=headers)
        if producer.flush(30) != 0:
            raise RuntimeError("dead letter not delivered; not committing the bad event") from exc
        return None
