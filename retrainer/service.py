"""`mlops-fc retrainer`: consume drift events and retrain requests, each into one registry outcome.

An event's offset is committed only after its outcome is recorded (promoted, rejected or
skipped), so a retrainer killed mid-training meets the event again after a restart; the
handler's registry checks make that second meeting finish the first, not repeat it. The
consume loop is the shared one (stack/consume_loop.py): undecodable events go to the
dead-letter topic, outages of Kafka and Redis are retried with backoff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import cast

from confluent_kafka import Message

from retrainer.adapters import HistoryChallengers
from retrainer.bootstrap import build_handler
from retrainer.handler import Outcome
from retrainer.trigger import Trigger
from retrainer.window import TrainingWindow
from schemas.codec import decode
from schemas.commands import RetrainRequested
from schemas.monitoring import DriftDetected
from schemas.topics import DEAD_LETTERS, MONITORING_DRIFT
from stack.consume_loop import ConsumeLoop, LoopStopped
from stack.dead_letters import DeadLetters
from stack.kafka_clients import make_consumer, make_producer
from stack.settings import Settings

log = logging.getLogger(__name__)
SOURCE = "retrainer"
# Training on all history takes minutes: stay in the group while it runs.
MAX_POLL_INTERVAL_MS = 60 * 60 * 1000

RetrainTrigger = DriftDetected | RetrainRequested


def run_retrainer(
    settings: Settings,
    stop: threading.Event,
    on_outcome: Callable[[RetrainTrigger, Outcome], None] | None = None,
) -> None:
    """Handle drift events and retrain requests one at a time until ``stop`` is set."""
    consumer = make_consumer(
        settings,
        group_id=f"{settings.topic_prefix}mlops-fc-retrainer",
        **{"max.poll.interval.ms": MAX_POLL_INTERVAL_MS},
    )
    producer = make_producer(settings)
    challengers = HistoryChallengers(settings, TrainingWindow.parse(settings.retrain_window))
    handler = build_handler(settings, producer, stop, source=SOURCE, challengers=challengers)
    if settings.retrain_prefetch_s > 0:
        prefetch_args = (challengers, settings.retrain_prefetch_s, stop)
        threading.Thread(target=_prefetch, args=prefetch_args, name="history-prefetch", daemon=True).start()

    def handle(_message: Message, event: RetrainTrigger) -> None:
        if event.model_name != settings.model_name:
            return
        outcome = handler.handle(Trigger.of(event))
        if outcome is None:  # stopped while Redis was away: the event stays uncommitted
            raise LoopStopped("stopped before the event's outcome was recorded")
        log.info("%s %s -> %s: %s", event.event_type, event.event_id, outcome.status, outcome.reason)
        if on_outcome is not None:
            on_outcome(event, outcome)

    # One event a batch: its offset is committed as soon as its outcome is recorded.
    loop: ConsumeLoop[RetrainTrigger] = ConsumeLoop(
        consumer=consumer,
        dead_letters=DeadLetters(producer, settings.topic(DEAD_LETTERS.name), SOURCE),
        decode=_decode,
        handle=handle,
        name=SOURCE,
        batch_size=1,
    )
    try:
        loop.run([settings.topic(MONITORING_DRIFT.name)], stop)
    finally:
        producer.flush(30)


def _prefetch(challengers: HistoryChallengers, every_s: float, stop: threading.Event) -> None:
    """Read and replay what was published since, every ``every_s`` until stopped (never fatal).

    An outage is logged once when it starts and once when it ends, not every ``every_s``."""
    failing = False
    while not stop.wait(every_s):
        try:
            challengers.prepare()
        except Exception as exc:  # noqa: BLE001 - a retrain reads for itself: an outage only costs time there
            if not failing:
                log.warning("reading the history ahead of a retrain failed (%s); retrying quietly", exc)
            log.debug("history prefetch failed", exc_info=True)
            failing = True
            continue
        if failing:
            log.info("reading the history ahead of a retrain works again")
        failing = False


def _decode(message: Message) -> RetrainTrigger:
    event = decode(message.value(), message.headers(), expected=MONITORING_DRIFT.value_schema)
    return cast(RetrainTrigger, event)  # what expected= lets through
