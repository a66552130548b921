"""`mlops-fc retrainer`: consume drift events and turn each into one registry outcome.

An event's offset is committed only after its outcome is recorded (promoted, rejected or
skipped), so a retrainer killed mid-training meets the event again after a restart; the
handler's registry checks make that second meeting finish the first, not repeat it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from confluent_kafka import Message, Producer
from redis.lock import Lock

from modelstore.lifecycle import Registry
from retrainer.handler import DriftHandler, Outcome
from schemas.codec import dead_letter, decode, encode_for
from schemas.exceptions import SchemaDecodeError
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MONITORING_DRIFT
from stack.kafka_clients import make_consumer, make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)
SOURCE = "retrainer"
# Training on all history takes minutes: stay in the group while it runs.
MAX_POLL_INTERVAL_MS = 60 * 60 * 1000


def run_retrainer(
    settings: Settings,
    stop: threading.Event,
    on_outcome: Callable[[DriftDetected, Outcome], None] | None = None,
) -> None:
    """Handle drift events one at a time until ``stop`` is set (checked between events)."""
    consumer = make_consumer(
        settings,
        group_id=f"{settings.topic_prefix}mlops-fc-retrainer",
        **{"max.poll.interval.ms": MAX_POLL_INTERVAL_MS},
    )
    producer = make_producer(settings)
    redis = redis_client(settings)
    registry = Registry.connect(settings, producer, source=SOURCE)
    handler = DriftHandler(registry, redis)
    # One retrain at a time even with several retrainer processes (partitions may be split).
    # The lock expires unless renewed, so a killed holder blocks the others for one TTL at most.
    lock = redis.lock(
        f"{settings.topic_prefix}mlops-fc:retrainer:lock", timeout=settings.retrain_lock_ttl_s, blocking=True
    )
    consumer.subscribe([settings.topic(MONITORING_DRIFT.name)])
    try:
        while not stop.is_set():
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            event = _decode(settings, producer, message)
            if event is not None and event.model_name == settings.model_name:
                with lock, _renewed(lock, settings.retrain_lock_ttl_s / 3):
                    outcome = handler.handle(event)
                log.info("drift event %s -> %s: %s", event.event_id, outcome.status, outcome.reason)
                if on_outcome is not None:
                    on_outcome(event, outcome)
            consumer.commit(message=message, asynchronous=False)
    finally:
        consumer.close()
        producer.flush(30)


@contextmanager
def _renewed(lock: Lock, every_s: float) -> Iterator[None]:
    """Keep ``lock`` alive while the block runs (training may outlast its TTL)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(every_s):
            lock.reacquire()

    renewer = threading.Thread(target=renew, name="retrainer-lock", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _decode(settings: Settings, producer: Producer, message: Message) -> DriftDetected | None:
    try:
        return decode(message.value(), message.headers(), expected=DriftDetected)
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
