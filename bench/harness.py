"""What the flow benchmarks (inference.py, loop.py) share: a fresh namespace on the local
stack, a first model, prediction requests as ready bytes, a paced sender and a result
collector that stamps each result with the time it was consumed.

Not a benchmark itself; the scripts in this folder import it (their folder is on sys.path).
"""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devstack.local import LocalStack  # noqa: E402
from producers.publisher import KafkaPublisher  # noqa: E402
from schemas.codec import encode_for  # noqa: E402
from schemas.predictions import request_from_transfer  # noqa: E402
from schemas.records import PlayerRecord, TransferCompleted  # noqa: E402
from schemas.topics import (  # noqa: E402
    PLAYERS_RECORDS,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
)
from stack.kafka_clients import (
    make_admin,
    make_producer,  # noqa: E402
)
from stack.kafka_connection import kafka_connection
from stack.redis_clients import redis_client  # noqa: E402
from stack.settings import Settings  # noqa: E402
from stack.topic_admin import ensure_topics  # noqa: E402

LATER = datetime(2030, 1, 1, tzinfo=UTC)  # requests are asked after the whole history
# (topic, key, value, headers, request id): a request encoded once, sent as bytes.
KafkaHeaders = list[tuple[str, str | bytes | None]]
Encoded = tuple[str, bytes | None, bytes, KafkaHeaders, str]


def steady_rate(received: Sequence[float], trim: float = 0.1) -> float:
    """Results per second between the first and last ``trim`` of arrivals.

    A run's start-up (connections, first fetches) and its tail are fixed costs that would make
    the rate depend on how many messages were sent; the middle of the run does not.
    """
    times = sorted(received)
    low, high = int(len(times) * trim), int(len(times) * (1 - trim)) - 1
    span = times[high] - times[low]
    return (high - low) / span if span > 0 else float("inf")


def warmed_producer(settings: Settings, **overrides: Any) -> Producer:
    """make_producer, plus one message delivered to a scratch topic before it is handed out.

    A fresh idempotent producer needs a producer id before it sends anything. Now and then the
    broker answers that request with a retriable error (seen: COORDINATOR_LOAD_IN_PROGRESS)
    and librdkafka asks again on its 500 ms timer, so the first messages of a new producer
    wait ~0.5 s: measured in this harness as 489-504 ms of delivery time for the first few
    hundred requests of a phase, which the latency figures then blamed on the worker. A
    delivered message proves the id is there; the clock starts after it.
    """
    producer = make_producer(settings, **overrides)
    topic = f"{settings.topic_prefix}bench.warm-up"
    admin = make_admin(settings)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result()
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    producer.produce(topic, b"warm-up")
    if producer.flush(30) != 0:
        raise RuntimeError("the bench producer could not deliver its warm-up message")
    return producer


def load() -> str:
    """The 1/5/15-minute load averages (2 cores here: above 2 means waiting for CPU)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def ensure_stack(settings: Settings) -> None:
    stack = LocalStack(settings)
    if not stack.kafka.is_healthy() or not stack.redis.is_healthy():
        print(f"starting the local stack ({kafka_connection(settings).bootstrap_servers})...", flush=True)
        stack.up()


def fresh(label: str) -> Settings:
    """The local stack's settings under a new topic prefix, with the catalogue created."""
    base = Settings()
    ensure_stack(base)
    stamp = f"{time.strftime('%H%M%S')}-{uuid.uuid4().hex[:6]}"
    settings = base.model_copy(update={"topic_prefix": f"bench-{label}-{stamp}."})
    ensure_topics(settings)
    return settings


def clean_up(settings: Settings, worker_dirs: Iterable[str] = ()) -> None:
    """Delete the namespace's topics (Faust's too), Redis keys and worker data folders.

    MLflow keeps the bench's registered model: runs are history, and cheap.
    """
    prefix = settings.topic_prefix
    admin = make_admin(settings)
    names = [name for name in admin.list_topics(timeout=30).topics if name.startswith(prefix)]
    if names:
        for future in admin.delete_topics(names, operation_timeout=30).values():
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - best effort clean-up
                print(f"could not delete a bench topic: {exc}", file=sys.stderr)
    try:
        redis = redis_client(settings)
        keys = list(redis.scan_iter(match=f"{prefix}*"))
        if keys:
            redis.delete(*keys)
    except Exception as exc:  # noqa: BLE001 - best effort clean-up
        print(f"could not delete the bench's Redis keys: {exc}", file=sys.stderr)
    for name in worker_dirs:
        shutil.rmtree(settings.state_dir / "workers" / name, ignore_errors=True)


def publish_history(settings: Settings, events: Iterable[PlayerRecord | TransferCompleted]) -> int:
    """Records and transfers, in order, on their catalogue topics; every delivery checked."""
    publisher = KafkaPublisher(settings)
    count = 0
    for event in events:
        spec = TRANSFERS_COMPLETED if isinstance(event, TransferCompleted) else PLAYERS_RECORDS
        publisher.publish(spec, event)
        count += 1
    publisher.close()
    return count


def make_requests(
    settings: Settings, transfers: Sequence[TransferCompleted], count: int, prefix: str
) -> list[Encoded]:
    """``count`` questions about players and clubs of the history, encoded for predictions.requests.

    Each asks about one transfer of the history again, as if it happened after all of it,
    so the vector joins real player, club and market state.
    """
    topic = settings.topic(PREDICTIONS_REQUESTS.name)
    season = max(t.season for t in transfers) + 1
    out: list[Encoded] = []
    for i in range(count):
        t = transfers[(i * 7919) % len(transfers)]  # a stride spreads players over partitions
        request = request_from_transfer(t).model_copy(
            update={
                "source": "bench",
                "request_id": f"{prefix}-{i:06d}",
                "season": season,
                "requested_at": LATER + timedelta(seconds=i),
                "occurred_at": datetime.now(UTC),
                "transfer_id": None,  # a new question, not the replay of a known fee
            }
        )
        key, value, headers = encode_for(request, PREDICTIONS_REQUESTS)
        kafka_headers: KafkaHeaders = list(headers)
        out.append((topic, key, value, kafka_headers, request.request_id))
    return out


def produce_all(
    producer: Producer, messages: Sequence[Encoded], sent_at: dict[str, float] | None = None
) -> None:
    """Produce as fast as the client takes them (waiting only on a full local queue)."""
    for topic, key, value, headers, request_id in messages:
        while True:
            try:
                producer.produce(topic, value, key, headers=headers)
                break
            except BufferError:
                producer.poll(0.01)
        if sent_at is not None:
            sent_at[request_id] = time.time()
        producer.poll(0)


@dataclass
class PacedSender:
    """Sends ``messages`` at ``rate`` per second from a thread, recording each send time.

    ``stop`` ends it early; ``sent`` is how many went out.
    """

    settings: Settings
    messages: Sequence[Encoded]
    rate: float
    sent_at: dict[str, float] = field(default_factory=dict)
    sent: int = 0
    started: float = 0.0
    finished: float = 0.0
    stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PacedSender:
        self._thread = threading.Thread(target=self._run, daemon=True, name="paced-sender")
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def achieved_rate(self) -> float:
        span = self.finished - self.started
        return self.sent / span if span > 0 else 0.0

    def _run(self) -> None:
        # A latency-minded client, configured as the REST facade's publisher (linger 1 ms, not
        # the ingester's 5 ms): what a client chooses to batch is not the system's latency.
        producer = warmed_producer(self.settings, **{"linger.ms": 1})
        interval = 1.0 / self.rate
        begin = time.perf_counter()
        self.started = time.time()
        for i, (topic, key, value, headers, request_id) in enumerate(self.messages):
            if self.stop.is_set():
                break
            due = begin + i * interval
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            while True:
                try:
                    producer.produce(topic, value, key, headers=headers)
                    break
                except BufferError:
                    producer.poll(0.01)
            self.sent_at[request_id] = time.time()
            self.sent = i + 1
            producer.poll(0)
        self.finished = time.time()
        if producer.flush(60) != 0:
            print("paced sender: some requests were not delivered", file=sys.stderr)


@dataclass(frozen=True)
class Seen:
    """One result as the collector saw it."""

    received: float  # time.time() when consumed
    status: str
    version: str | None
    worker_total_ms: float | None  # the worker's own figure: request broker time -> result built
    worker_queued_ms: float | None = None  # of which before its batch started


class ResultCollector:
    """Reads predictions.results from the beginning in a thread; first result per request id."""

    def __init__(self, settings: Settings, topic: str | None = None) -> None:
        topic = topic or settings.topic(PREDICTIONS_RESULTS.name)
        self._consumer = Consumer(
            {
                **kafka_connection(settings).confluent(),
                "group.id": f"bench-collector-{uuid.uuid4().hex[:8]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        partitions = self._consumer.list_topics(topic, timeout=30).topics[topic].partitions
        self._consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        self.results: dict[str, Seen] = {}
        self.first_by_version: dict[str | None, float] = {}  # when each model version first answered
        self.duplicates = 0
        self.count = 0  # messages, duplicates included
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="result-collector")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            # poll, then drain what is there: consume(n, timeout) waits for n messages or the
            # timeout, which would add up to the timeout to every latency measured
            first = self._consumer.poll(0.1)
            if first is None:
                continue
            received = time.time()
            messages = [first, *self._consumer.consume(num_messages=999, timeout=0)]
            seen: list[tuple[str, Seen]] = []
            for message in messages:
                if message.error() is not None:
                    continue
                body = json.loads(message.value() or b"{}")
                timings = body.get("timings") or {}
                seen.append(
                    (
                        body.get("request_id", ""),
                        Seen(
                            received,
                            body.get("status", "?"),
                            body.get("model_version"),
                            timings.get("total"),
                            timings.get("queued"),
                        ),
                    )
                )
            with self._changed:
                for request_id, item in seen:
                    self.count += 1
                    if request_id in self.results:
                        self.duplicates += 1
                    else:
                        self.results[request_id] = item
                    self.first_by_version.setdefault(item.version, item.received)
                self._changed.notify_all()
        self._consumer.close()

    def wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def wait_for_ids(self, ids: Iterable[str], timeout: float) -> set[str]:
        """Wait until every id has a result; the ids still missing."""
        wanted = set(ids)
        self.wait_until(lambda: wanted <= self.results.keys(), timeout)
        with self._changed:
            return wanted - self.results.keys()

    def first(self, condition: Callable[[Seen], bool]) -> float | None:
        """The earliest consumed time of a result that meets ``condition``."""
        with self._changed:
            times = [seen.received for seen in self.results.values() if condition(seen)]
        return min(times) if times else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def wait_for_log(service: object, text: str, timeout: float) -> bool:
    """Poll a service's log for ``text`` (a start-up line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in service.log_tail(200):  # type: ignore[attr-defined]
            return True
        if not service.alive():  # type: ignore[attr-defined]
            return False
        time.sleep(0.2)
    return False


@contextmanager
def quiet_gc() -> Iterator[None]:
    """No cyclic GC in the load generator while it measures.

    The bench process holds every result it has read; a full collection of that heap took
    240-270 ms in the middle of bench/api's window, the client stalled, then fired the late
    requests in one burst: the server's p99 showed the client's pause. The heap is collected
    and frozen before the window and collected again after it.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()
