"""The facade's background readers outlive failures, on the real broker and Redis: a handler
that fails is retried with the same batch (nothing skipped), the correlator answers while the
result store refuses and stores the results once it takes them again, and worker heartbeats
written into Redis in the agreed format are read back (stale, garbled and foreign ones not)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Message

from consumers.correlator import Correlator
from consumers.exceptions import StoreUnavailable
from consumers.publisher import Publisher
from consumers.reader import TopicReader
from consumers.result_store import RedisResultStore
from consumers.worker_beats import WorkerBeats, heartbeat_key
from schemas.codec import encode_for
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.topics import PREDICTIONS_RESULTS
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings
from tests.api_helpers import wait_until
from tests.kafka_helpers import create_topic

pytestmark = pytest.mark.integration


def test_a_failing_handler_gets_the_same_batch_again_and_nothing_is_skipped(
    settings: Settings, unique: str
) -> None:
    topic = create_topic(settings, f"reader-{unique}", partitions=1)
    producer = make_producer(settings)
    for i in range(10):
        producer.produce(topic, str(i).encode())
    assert producer.flush(30) == 0
    handled: list[bytes] = []
    failures = [3]
    healthy_when_called: list[bool] = []
    problems: list[str | None] = []

    def handle(messages: list[Message]) -> None:
        healthy_when_called.append(reader.healthy())
        problems.append(reader.problem)
        if failures[0] > 0:
            failures[0] -= 1
            raise ConnectionError("Redis is down")
        handled.extend(m.value() or b"" for m in messages)

    reader = TopicReader(settings, {topic: "beginning"}, handle, f"test-{unique}")
    reader.start()
    try:
        assert wait_until(lambda: len(handled) >= 10, 60), handled
        # The retries saw the reader unhealthy, saying why; the first call saw it healthy.
        assert healthy_when_called[:4] == [True, False, False, False]
        assert all(p and "Redis is down" in p for p in problems[1:4])
        assert handled == [str(i).encode() for i in range(10)]  # in order, each once
        assert wait_until(reader.healthy, 10) and reader.alive()
        assert reader.caught_up.is_set()
    finally:
        reader.stop()


class SwitchedStore(RedisResultStore):
    """The real Redis store, with an outage switch (the session's Redis must stay up)."""

    down = True

    def put_many(self, results: Sequence[PredictionResult]) -> int:
        if self.down:
            raise StoreUnavailable("Redis did not answer (storing results): switched off")
        return super().put_many(results)


def test_results_are_answered_while_redis_refuses_and_stored_when_it_is_back(settings: Settings) -> None:
    store = SwitchedStore(redis_client(settings), settings.topic_prefix)
    publisher = Publisher(settings)
    correlator = Correlator(settings, publisher, store)
    request = PredictionRequest(
        source="test", request_id=f"r-{uuid.uuid4().hex[:8]}", player_id="p-1", position="Centre-Back",
        from_club="A", to_club="B", season=2024, window="summer", requested_at=datetime.now(UTC),
    )  # fmt: skip
    result = PredictionResult(
        source="inference-worker/fake", request_id=request.request_id, player_id="p-1", status="ok",
        predicted_fee_eur_m=3.0, model_name="transfer-fee", model_version="1",
    )  # fmt: skip

    async def scenario() -> PredictionResult | None:
        correlator.start(asyncio.get_running_loop())
        asking = asyncio.create_task(correlator.ask(request, timeout_s=60, check_store=False))
        await asyncio.sleep(0)  # noqa: sleep-ok - one loop turn: the ask registers its waiter first
        producer = make_producer(settings)
        key, value, headers = encode_for(result, PREDICTIONS_RESULTS)
        producer.produce(settings.topic(PREDICTIONS_RESULTS.name), value, key, headers=list(headers))
        assert producer.flush(30) == 0
        answer = await asking
        assert correlator.pending(request.request_id)  # GET still says 202: not stored yet
        assert store.get(request.request_id) is None and correlator.store_problem is not None
        store.down = False
        for _ in range(600):  # the reader retries within its backoff
            if store.get(request.request_id) is not None and not correlator.pending(request.request_id):
                break
            await asyncio.sleep(0.05)  # noqa: sleep-ok - poll interval of a condition, bounded by the count
        assert correlator.store_problem is None and correlator.reader.healthy()
        return answer

    try:
        answer = asyncio.run(scenario())
    finally:
        correlator.stop()
        publisher.close()
    assert answer is not None and answer.request_id == request.request_id
    stored = store.get(request.request_id)
    assert stored is not None and stored.event_id == result.event_id


def test_worker_heartbeats_in_the_agreed_format_are_read(settings: Settings, unique: str) -> None:
    client = redis_client(settings)
    now = datetime.now(UTC)
    ours = settings.model_name

    def beat(worker: str, version: str | None, at: datetime, model: str | None = ours) -> str:
        body = {"worker": worker, "model_name": model, "model_version": version, "updated_at": at.isoformat()}
        return json.dumps(body)

    w = f"{unique}-"  # the session's Redis is shared: names of this test only
    prefix = settings.topic_prefix

    def key(worker: str, of: str = prefix) -> str:
        return heartbeat_key(of, worker)

    client.set(key(f"{w}1"), beat(f"{w}1", "3", now), ex=15)
    client.set(key(f"{w}2"), beat(f"{w}2", None, now, model=None), ex=15)
    client.set(key(f"{w}old"), beat(f"{w}old", "1", now - timedelta(minutes=5)), ex=15)
    client.set(key(f"{w}garbled"), b"{not json", ex=15)
    client.set(key(f"{w}9"), beat(f"{w}9", "9", now, model=f"other-{unique}.transfer-fee"), ex=15)
    # Another stack on the same Redis, its worker under our model name: not ours either.
    client.set(key(f"{w}8", f"other-{prefix}"), beat(f"{w}8", "8", now), ex=15)
    beats = WorkerBeats(client, ours, stale_after_s=30, prefix=prefix)
    assert not beats.seen_any

    def read() -> dict[str, str | None]:
        return {b.worker: b.model_version for b in beats.read() if b.worker.startswith(w)}

    # stale, garbled and other deployments' beats are left out
    assert read() == {f"{w}1": "3", f"{w}2": None}
    assert beats.seen_any
    client.delete(key(f"{w}1"))  # expired: that worker is gone
    assert read() == {f"{w}2": None}
    beats.note(f"{w}3")  # named by a result before any SCAN saw it
    client.set(key(f"{w}3"), beat(f"{w}3", "3", now), ex=15)
    assert set(read()) == {f"{w}2", f"{w}3"}
