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

from confluent_kafka import Message
from redis.lock import Lock

from modelstore.lifecycle import Registry
from retrainer.handler import DriftHandler, Outcome
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MONITORING_DRIFT
from stack.consume_loop import ConsumeLoop, expecting
from stack.dead_letters import DeadLetters
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

    def handle(_message: Message, event: DriftDetected) -> None:
        if event.model_name != settings.model_name:
            return
        with lock, _renewed(lock, settings.retrain_lock_ttl_s / 3):
            outcome = handler.handle(event)
        log.info("drift event %s -> %s: %s", event.event_id, outcome.status, outcome.reason)
        if on_outcome is not None:
            on_outcome(event, outcome)

    # One event a batch: its offset is committed as soon as its outcome is recorded.
    loop = ConsumeLoop(
        consumer=consumer,
        dead_letters=DeadLetters(producer, settings.topic(DEAD_LETTERS.name), SOURCE),
        decode=expecting(DriftDetected),
        handle=handle,
        name=SOURCE,
        batch_size=1,
    )
    try:
        loop.run([settings.topic(MONITORING_DRIFT.name)], stop)
    finally:
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
