"""request_prediction on the real broker: the answer to its own request, or None in time."""

from __future__ import annotations

import threading
import uuid

import pytest
from confluent_kafka import TopicPartition

from producers.exceptions import MissingTopicError
from producers.requests import request_prediction
from schemas.codec import decode, encode_for
from schemas.examples import example_of
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.topics import PREDICTIONS_RESULTS
from stack.kafka_clients import make_consumer, make_producer
from stack.settings import Settings
from tests.producer_kafka import read_to_end

pytestmark = pytest.mark.integration


def a_request() -> PredictionRequest:
    return example_of(PredictionRequest, request_id=f"req-{uuid.uuid4()}", event_id=uuid.uuid4())


def result_for(request: PredictionRequest, **changes: object) -> PredictionResult:
    fields = {
        "request_id": request.request_id, "player_id": request.player_id, "status": "no_model",
        "model_name": "transfer-fee", "source": "fake-worker", "trace_id": request.trace_id, **changes,
    }  # fmt: skip
    return PredictionResult(**fields)  # type: ignore[arg-type]


def test_no_worker_means_none_after_the_timeout(settings: Settings) -> None:
    request = a_request()
    assert request_prediction(settings, request, timeout_s=1.5) is None
    (published,) = read_to_end(settings, "predictions.requests")
    assert published.key() == request.player_id.encode()
    assert decode(published.value(), published.headers()) == request


def test_the_answer_to_its_own_request_is_returned(settings: Settings) -> None:
    request = a_request()
    producer = make_producer(settings)
    # An older result for the same request id must not be taken for the answer.
    stale = result_for(request, status="error", error="stale, published before the request")
    producer.produce(
        settings.topic(PREDICTIONS_RESULTS.name), *reversed(encode_for(stale, PREDICTIONS_RESULTS)[:2])
    )
    assert producer.flush(10) == 0

    stop = threading.Event()

    def fake_worker() -> None:
        consumer = make_consumer(settings, group_id=f"fake-worker-{uuid.uuid4().hex}")
        topic = settings.topic("predictions.requests")
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        try:
            while not stop.is_set():
                for message in consumer.consume(num_messages=10, timeout=0.2):
                    if message.error() is not None:
                        continue
                    asked = decode(message.value(), message.headers(), expected=PredictionRequest)
                    other = result_for(asked, request_id=f"{asked.request_id}-other")
                    answer = result_for(asked, status="ok", predicted_fee_eur_m=12.5, model_version="3")
                    for result in (other, answer):
                        key, value, headers = encode_for(result, PREDICTIONS_RESULTS)
                        producer.produce(
                            settings.topic(PREDICTIONS_RESULTS.name), value, key, headers=list(headers)
                        )
                    producer.flush(10)
                    return
        finally:
            consumer.close()

    worker = threading.Thread(target=fake_worker, daemon=True)
    worker.start()
    try:
        result = request_prediction(settings, request, timeout_s=30)
    finally:
        stop.set()
        worker.join(30)
    assert result is not None
    assert (result.request_id, result.status, result.predicted_fee_eur_m) == (request.request_id, "ok", 12.5)


def test_missing_results_topic_is_a_clear_error(stack_settings: Settings) -> None:
    # a prefix whose topics were never created
    bare = stack_settings.model_copy(update={"topic_prefix": f"bare{uuid.uuid4().hex[:8]}."})
    missing = r"predictions\.results does not exist: run `mlops-fc stack topics`"
    with pytest.raises(MissingTopicError, match=missing):
        request_prediction(bare, a_request(), timeout_s=1.0)
