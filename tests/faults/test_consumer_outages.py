"""The shared consume loop waits out a Redis outage: the sink stores what came meanwhile, once back."""

from __future__ import annotations

import time
import uuid

from consumers.result_store import RedisResultStore
from devstack.local import LocalStack
from devstack.services import start_service
from schemas.codec import encode_for
from schemas.examples import example_of
from schemas.predictions import PredictionResult
from schemas.topics import PREDICTIONS_RESULTS
from stack.kafka_clients import make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings

DEADLINE_S = 120.0


def _until(condition: object, what: str, log: object) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log()}"  # type: ignore[operator]
        time.sleep(0.2)  # noqa: sleep-ok - poll interval of a condition bounded by the deadline


def test_the_sink_survives_redis_going_away_and_stores_what_came_meanwhile(
    private_stack: tuple[LocalStack, Settings],
) -> None:
    stack, settings = private_stack
    store = RedisResultStore(redis_client(settings), settings.topic_prefix, settings.result_ttl_s)
    sink = start_service(settings, "sink", "sink", "--loglevel", "info")
    try:
        before = example_of(
            PredictionResult, request_id=f"before-{uuid.uuid4().hex[:8]}", event_id=uuid.uuid4()
        )
        during = example_of(
            PredictionResult, request_id=f"during-{uuid.uuid4().hex[:8]}", event_id=uuid.uuid4()
        )
        producer = make_producer(settings)

        def send(result: PredictionResult) -> None:
            key, value, headers = encode_for(result, PREDICTIONS_RESULTS)
            producer.produce(
                settings.topic(PREDICTIONS_RESULTS.name), key=key, value=value, headers=list(headers)
            )
            assert producer.flush(30) == 0

        send(before)
        _until(lambda: store.get(before.request_id) is not None, "the first result stored", sink.log_tail)

        assert stack.redis.down()
        send(during)
        _until(
            lambda: "failed" in sink.log_tail(200) and "retry" in sink.log_tail(200), "a retry", sink.log_tail
        )
        assert sink.alive(), sink.log_tail()

        stack.redis.up()  # no persistence in tests: the first result is gone with the old server
        _until(
            lambda: store.get(during.request_id) is not None,
            "the result sent during the outage",
            sink.log_tail,
        )
        assert sink.alive() and "succeeded after" in sink.log_tail(200)
    finally:
        sink.stop()
