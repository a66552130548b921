"""What the flow tests share: publish events, start services, and collect results as they come."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, ConsumerGroupTopicPartitions, Message, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from devstack.processes import free_port
from devstack.services import Service, start_service
from schemas.codec import decode, encode_for
from schemas.envelope import Event
from schemas.exceptions import SchemaDecodeError
from schemas.positions import Position
from schemas.predictions import PredictionResult
from schemas.records import TransferCompleted
from schemas.topics import PREDICTIONS_RESULTS, TopicSpec
from stack.kafka_clients import make_admin, make_producer
from stack.kafka_connection import kafka_connection
from stack.settings import Settings

# Shadow promotion judged quickly enough for a test: a verdict after 40 labelled pairs, at the
# latest after 400, a guard of 150 outcomes, workers that look for a new model every second.
SHADOW_FAST: dict[str, object] = {
    "promotion": "shadow",
    "shadow_min_pairs": 40,
    "shadow_max_pairs": 400,
    "shadow_guardrail_window": 150,
    "worker_model_poll_s": 1.0,
}

POSITIONS: tuple[Position, ...] = (
    "Goalkeeper",
    "Centre-Back",
    "Central Midfield",
    "Left Winger",
    "Centre-Forward",
)


def publish(settings: Settings, spec: TopicSpec, events: Iterable[Event]) -> int:
    """Publish events keyed as the catalogue says; every delivery report is checked."""
    return publish_in_order(settings, ((spec, event) for event in events))


def publish_in_order(settings: Settings, items: Iterable[tuple[TopicSpec, Event]]) -> int:
    """Publish to several topics with one producer, in the given order."""
    producer = make_producer(settings)
    errors: list[str] = []
    count = 0
    for spec, event in items:
        key, value, headers = encode_for(event, spec)
        producer.produce(
            settings.topic(spec.name),
            key=key,
            value=value,
            headers=headers,
            on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
        )
        producer.poll(0)
        count += 1
    assert producer.flush(60) == 0, "undelivered messages"
    assert not errors, errors[:3]
    return count


def history(
    count: int, seed: int = 7, start: datetime | None = None, clubs: int = 24
) -> list[TransferCompleted]:
    """A small, plausible transfer history: rich clubs pay more, one transfer every 6 hours."""
    rng = random.Random(seed)
    names = [f"Club {i:02d}" for i in range(clubs)]
    start = start or datetime(2010, 7, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        seller, buyer = rng.sample(names, 2)
        at = start + timedelta(hours=6 * i)
        age = rng.randint(18, 33)
        wealth = 1.0 + 3.0 * (clubs - names.index(buyer)) / clubs
        fee = rng.lognormvariate(0.0, 0.8) * wealth * (1.5 if age < 24 else 1.0)
        out.append(
            TransferCompleted(
                source="test",
                transfer_id=f"t{seed}-{i}",
                player_id=f"p{seed}-{i % (count // 3 + 1)}",
                player_name=f"Player {i % (count // 3 + 1)}",
                age=age,
                position=POSITIONS[i % len(POSITIONS)],
                from_club=seller,
                to_club=buyer,
                from_league="League A",
                to_league="League A",
                season=at.year if at.month >= 7 else at.year - 1,
                window="summer" if at.month in (6, 7, 8, 9) else "winter",
                transferred_at=at,
                fee_eur_m=round(fee, 3) if i % 5 else 0.0,
            )
        )
    return out


class ResultCollector:
    """Reads predictions.results from the beginning in a thread, grouping results by request id."""

    def __init__(self, settings: Settings) -> None:
        self._consumer = Consumer(
            {
                **kafka_connection(settings).confluent(),
                "group.id": f"collector-{time.monotonic_ns()}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        self._consumer.subscribe([settings.topic(PREDICTIONS_RESULTS.name)])
        self.results: dict[str, list[PredictionResult]] = defaultdict(list)
        self.undecodable = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = self._consumer.consume(num_messages=1000, timeout=0.2)
            decoded = []
            for message in messages:
                if message.error() is None:
                    try:
                        decoded.append(decode(message.value(), message.headers(), expected=PredictionResult))
                    except SchemaDecodeError:
                        self.undecodable += 1  # a poison test's junk: the services dead-letter it
            if decoded:
                with self._changed:
                    for result in decoded:
                        self.results[result.request_id].append(result)
                    self._changed.notify_all()
        self._consumer.close()

    def wait_until(
        self, condition: Callable[[dict[str, list[PredictionResult]]], bool], timeout: float
    ) -> bool:
        """Block until ``condition(results)`` holds; False at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.results):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_for_ids(self, ids: Iterable[str], timeout: float) -> set[str]:
        """Wait until every id has a result; returns the ids still missing."""
        wanted = set(ids)
        self.wait_until(lambda results: wanted <= results.keys(), timeout)
        with self._changed:
            return wanted - self.results.keys()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


@contextmanager
def collecting(settings: Settings) -> Iterator[ResultCollector]:
    collector = ResultCollector(settings)
    try:
        yield collector
    finally:
        collector.close()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metrics_url(worker: Service) -> str:
    """Where a worker started with --metrics-port (as running_workers does) serves /metrics."""
    args = [str(a) for a in worker.process.args]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{args[args.index('--metrics-port') + 1]}/metrics"


def scrape(url: str) -> Samples:
    """Every sample of a Prometheus endpoint, by name and labels."""
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def serving_version(worker: Service) -> float | None:
    """The model version a running worker reports it serves (None if it does not answer yet)."""
    try:
        return sample(scrape(metrics_url(worker)), "mlops_fc_worker_model_version")
    except httpx.HTTPError:
        return None


def shadow_version(worker: Service) -> float | None:
    """The version a running worker scores in shadow (None if none, or it does not answer yet)."""
    try:
        return sample(scrape(metrics_url(worker)), "mlops_fc_worker_shadow_model_version")
    except httpx.HTTPError:
        return None


@contextmanager
def running_workers(settings: Settings, *names: str) -> Iterator[list[Service]]:
    """Start ``mlops-fc worker`` processes; on exit stop them and show their logs if a test failed."""
    services = [
        start_service(
            settings, name, "worker", "--name", name, "--loglevel", "info", "--metrics-port", str(free_port())
        )
        for name in names
    ]
    try:
        yield services
    finally:
        for service in services:
            service.stop()


def explain_missing(settings: Settings, spec: TopicSpec, missing: set[str], group: str) -> str:
    """Where unanswered requests sit: per partition their offsets, the group's commit, the end.

    Also re-reads the results topic from the start with a fresh consumer, so a failure can tell
    a worker that never answered from a collector that missed an answer.
    """
    topic = settings.topic(spec.name)
    placed: dict[int, list[int]] = defaultdict(list)
    ends: dict[int, int] = {}
    for partition, offset, message in _read_all(settings, topic):
        ends[partition] = max(ends.get(partition, 0), offset + 1)
        if getattr(decode(message.value(), message.headers()), "request_id", None) in missing:
            placed[partition].append(offset)
    answered = {
        key
        for _, _, message in _read_all(settings, settings.topic(PREDICTIONS_RESULTS.name))
        if (key := (message.key() or b"").decode()) in missing
    }
    committed = group_offsets(settings, spec, group)
    lines = [f"{len(missing)} missing; {len(answered)} of them do have a result on the topic"]
    for partition in sorted(ends):
        offsets = sorted(placed.get(partition, []))
        span = f"{offsets[0]}..{offsets[-1]} ({len(offsets)})" if offsets else "none"
        lines.append(
            f"  {topic}[{partition}]: missing at {span}; group committed {committed.get(partition)};"
            f" end {ends[partition]}"
        )
    return "\n".join(lines)


def group_offsets(settings: Settings, spec: TopicSpec, group: str) -> dict[int, int]:
    """The consumer group's committed offset per partition of a topic (-1: none yet)."""
    topic = settings.topic(spec.name)
    admin = make_admin(settings)
    partitions = admin.list_topics(topic, timeout=10).topics[topic].partitions
    wanted = [TopicPartition(topic, p) for p in sorted(partitions)]
    listed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, wanted)])
    return {tp.partition: tp.offset for tp in listed[group].result(10).topic_partitions}


def _read_all(settings: Settings, topic: str) -> Iterator[tuple[int, int, Message]]:
    """(partition, offset, message) for every message of a topic from the start (a group-less
    consumer, stops at the ends)."""
    consumer = Consumer(
        {
            **kafka_connection(settings).confluent(),
            "group.id": "explain",
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        open_partitions = set(partitions)
        while open_partitions:
            message = consumer.poll(5)
            if message is None:
                break
            if message.error():
                open_partitions.discard(message.partition())
                continue
            partition, offset = message.partition(), message.offset()
            assert partition is not None and offset is not None  # set on every fetched message
            yield partition, offset, message
    finally:
        consumer.close()
