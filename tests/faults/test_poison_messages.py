"""Poison pills on every input topic: each consumer dead-letters them and goes on answering.

On a real broker, Redis and MLflow, with the services as the user runs them (worker,
monitor, retrainer, sink as `mlops-fc` processes; the API's replica reader in process):
a message valid in every respect but an overflowing timestamp (9999-12-31T23:59:59-01:00,
0001-01-01T00:00:00+01:00: no UTC datetime exists) and a 900 KB garbage message go to each
input topic, then valid messages. Every poison message must be on the dead-letter topic with
its reason, once per consumer that reads it, and every valid message sent after must be
answered. No outage here, so the shared session stack serves (a topic prefix per test).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Message

from consumers.reader import TopicReader
from consumers.replica import Replica
from consumers.result_store import RedisResultStore
from devstack.services import Service, start_service
from schemas.codec import decode, encode, encode_for
from schemas.commands import RetrainRequested
from schemas.deadletters import MAX_DEAD_LETTER_BYTES, DeadLetter
from schemas.envelope import Event
from schemas.examples import example_of
from schemas.lifecycle import ModelRegistered
from schemas.monitoring import DriftDetected
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.topics import (
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    MONITORING_DRIFT,
    PLAYERS_RECORDS,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
    TopicSpec,
)
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.flow_helpers import collecting, group_offsets, running_workers
from tests.kafka_helpers import consume_until

DEADLINE_S = 180.0
GARBAGE_BYTES = 900_000
WORKER = "inference-worker/w1"
# Who reads each input topic and dead-letters what it cannot take.
READERS: dict[str, set[str]] = {
    PLAYERS_RECORDS.name: {WORKER},
    TRANSFERS_COMPLETED.name: {WORKER, "drift-monitor"},
    PREDICTIONS_REQUESTS.name: {WORKER},
    PREDICTIONS_RESULTS.name: {"drift-monitor", "result-sink"},
    MODELS_LIFECYCLE.name: {"drift-monitor"},
    MONITORING_DRIFT.name: {"retrainer"},
}
POISONED: dict[str, tuple[type[Event], str]] = {  # an event of the topic and a timestamp field
    PLAYERS_RECORDS.name: (PlayerRecord, "as_of"),
    TRANSFERS_COMPLETED.name: (TransferCompleted, "transferred_at"),
    PREDICTIONS_REQUESTS.name: (PredictionRequest, "requested_at"),
    PREDICTIONS_RESULTS.name: (PredictionResult, "occurred_at"),
    MODELS_LIFECYCLE.name: (ModelRegistered, "occurred_at"),
    MONITORING_DRIFT.name: (DriftDetected, "window_end"),
}
SPECS = {
    spec.name: spec
    for spec in (
        PLAYERS_RECORDS,
        TRANSFERS_COMPLETED,
        PREDICTIONS_REQUESTS,
        PREDICTIONS_RESULTS,
        MODELS_LIFECYCLE,
        MONITORING_DRIFT,
    )
}
STAMPS = ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")
Position = tuple[str, int, int]  # catalogue topic, partition, offset


def _poison(settings: Settings) -> dict[Position, str]:
    """Two overflowing timestamps and one 900 KB garbage message per input topic: where each landed."""
    producer = make_producer(settings)
    landed: dict[Position, str] = {}
    failures: list[str] = []

    def report(what: str):  # noqa: ANN202 - a librdkafka callback
        def delivered(error: object, message: Message) -> None:
            if error is not None:
                failures.append(f"{what}: {error}")
                return
            name = settings.catalogue_name(message.topic() or "")
            landed[(name, message.partition() or 0, message.offset() or 0)] = what

        return delivered

    for name, (cls, field) in POISONED.items():
        key, value, headers = encode(example_of(cls))
        for stamp in STAMPS:
            body = json.loads(value)
            body[field] = stamp
            producer.produce(
                settings.topic(name),
                key=key or b"poison",
                value=json.dumps(body).encode(),
                headers=list(headers),
                on_delivery=report(f"overflow {field}"),
            )
        garbage = os.urandom(GARBAGE_BYTES)
        producer.produce(settings.topic(name), key=b"garbage", value=garbage, on_delivery=report("garbage"))
    assert producer.flush(60) == 0 and not failures, failures
    return landed


def _publish(settings: Settings, items: list[tuple[TopicSpec, Event]]) -> None:
    producer = make_producer(settings)
    for spec, event in items:
        key, value, headers = encode_for(event, spec)
        producer.produce(settings.topic(spec.name), key=key, value=value, headers=list(headers))
    assert producer.flush(60) == 0


def _letters(settings: Settings, expected: int) -> list[tuple[DeadLetter, int]]:
    messages = consume_until(
        settings, settings.topic(DEAD_LETTERS.name), lambda got: len(got) >= expected, timeout=DEADLINE_S
    )
    return [(decode(m.value(), m.headers(), expected=DeadLetter), len(m.value() or b"")) for m in messages]


def _committed_to_the_end(settings: Settings, group: str, specs: list[TopicSpec]) -> bool:
    for spec in specs:
        committed = group_offsets(settings, spec, group)
        ends = _ends(settings, spec)
        if any(committed.get(partition, -1) < end for partition, end in ends.items() if end > 0):
            return False
    return True


def _ends(settings: Settings, spec: TopicSpec) -> dict[int, int]:
    from stack.topic_offsets import groupless_consumer, partitions_of, watermarks

    consumer = groupless_consumer(settings)
    try:
        topic = settings.topic(spec.name)
        return {p: watermarks(consumer, topic, p)[1] for p in partitions_of(consumer, topic)}
    finally:
        consumer.close()


def _logs(services: list[Service]) -> str:
    return "\n".join(f"--- {s.name} (alive: {s.alive()})\n{s.log_tail(15)}" for s in services)


def _wait(condition: object, what: str, services: list[Service]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        for service in services:
            assert service.alive(), f"{service.name} died:\n{service.log_tail()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n" + _logs(services)
        time.sleep(0.5)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline


@pytest.fixture
def poison_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"worker_no_model_wait_s": 1.0})


@pytest.fixture
def services(poison_settings: Settings) -> Iterator[list[Service]]:
    started = [
        start_service(poison_settings, "monitor", "monitor", "--loglevel", "info"),
        start_service(poison_settings, "retrainer", "retrainer"),
        start_service(poison_settings, "sink", "sink", "--loglevel", "info"),
    ]
    try:
        with running_workers(poison_settings, "w1") as workers:
            yield [*started, *workers]
    finally:
        for service in started:
            service.stop()


def test_every_consumer_dead_letters_poison_and_answers_what_follows(
    poison_settings: Settings, services: list[Service]
) -> None:
    settings = poison_settings
    replica = Replica()
    reader = TopicReader(
        settings, dict.fromkeys(Replica.topics(settings), "beginning"), replica.handle, "replica"
    )
    reader.start()
    try:
        with collecting(settings) as collector:
            landed = _poison(settings)
            request = example_of(
                PredictionRequest, request_id=f"after-{uuid.uuid4().hex[:8]}", event_id=uuid.uuid4()
            )
            record = example_of(
                PlayerRecord, player_id=f"p-after-{uuid.uuid4().hex[:8]}", event_id=uuid.uuid4()
            )
            direct = example_of(
                PredictionResult, request_id=f"direct-{uuid.uuid4().hex[:8]}", event_id=uuid.uuid4()
            )
            drift = RetrainRequested(
                model_name="some-other-model",
                requested_by="poison-test",
                reason="a valid event after the poison",
                source="poison-test",
            )
            transfer = example_of(
                TransferCompleted,
                transfer_id=f"t-after-{uuid.uuid4().hex[:8]}",
                event_id=uuid.uuid4(),
            )
            _publish(
                settings,
                [
                    (PLAYERS_RECORDS, record),
                    (TRANSFERS_COMPLETED, transfer),
                    (PREDICTIONS_REQUESTS, request),
                    (PREDICTIONS_RESULTS, direct),
                    (MONITORING_DRIFT, drift),
                ],
            )

            # The worker answers the request sent after the poison on every topic it reads.
            missing = collector.wait_for_ids([request.request_id], DEADLINE_S)
            assert not missing, services[-1].log_tail()

        # Each poison message is dead-lettered, with its reason, once by each of its readers.
        wanted = {(pos, source) for pos in landed for source in READERS[pos[0]]}
        letters = _letters(settings, len(wanted))
        got = {
            ((settings.catalogue_name(x.source_topic), x.partition or 0, x.offset or 0), x.source)
            for x, _ in letters
        }
        assert wanted <= got, f"missing dead letters: {sorted(wanted - got)}\n" + _logs(services)
        for letter, size in letters:
            what = landed.get(
                (settings.catalogue_name(letter.source_topic), letter.partition or 0, letter.offset or 0)
            )
            assert size <= MAX_DEAD_LETTER_BYTES and letter.reason
            if what == "garbage":
                assert letter.truncated and letter.raw_size == GARBAGE_BYTES and letter.raw_sha256
            elif what is not None:
                assert "out of range" in letter.reason or "must fall in the years" in letter.reason, (
                    letter.reason
                )

        # The monitor, the retrainer and the sink commit past everything; the sink stored the results.
        prefix = settings.topic_prefix
        _wait(
            lambda: _committed_to_the_end(
                settings,
                f"{prefix}{settings.monitor_group_id}",
                [PREDICTIONS_RESULTS, TRANSFERS_COMPLETED, MODELS_LIFECYCLE],
            ),
            "the monitor's commits",
            services,
        )
        _wait(
            lambda: _committed_to_the_end(settings, f"{prefix}mlops-fc-retrainer", [MONITORING_DRIFT]),
            "the retrainer's commits",
            services,
        )
        store = RedisResultStore(redis_client(settings), prefix, settings.result_ttl_s)
        _wait(
            lambda: len(store.get_many([request.request_id, direct.request_id])) == 2,
            "the sink's stored results",
            services,
        )
        # The replica reader skipped the poison and folded what came after.
        _wait(lambda: replica.player(record.player_id) is not None, "the replica's player", services)
        assert reader.alive() and reader.failed is None
        for service in services:
            assert service.alive(), service.log_tail()
    finally:
        reader.stop()
