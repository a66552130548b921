"""Ask one question and wait for its answer: publish a PredictionRequest, read its result.

The result consumer is assigned to every partition of predictions.results at the end
offsets taken *before* the request is published, so the answer cannot be missed however
fast the worker is, and older results are never read. It commits nothing (no group state).
The REST facade calls the same function. The timeout counts from the broker's confirmation
of the request: a slow broker is a delivery problem (DeliveryError), not a missing answer.
"""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer

from producers.exceptions import DeliveryError, MissingTopicError
from schemas.codec import decode, encode_for
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.topics import PREDICTIONS_REQUESTS, PREDICTIONS_RESULTS
from stack.exceptions import TopicMissing
from stack.kafka_clients import make_producer
from stack.settings import Settings
from stack.topic_offsets import end_offsets, groupless_consumer

PUBLISH_TIMEOUT_S = 30.0


def request_prediction(
    settings: Settings,
    request: PredictionRequest,
    timeout_s: float = 30.0,
    *,
    producer: Producer | None = None,
    publish_timeout_s: float = PUBLISH_TIMEOUT_S,
) -> PredictionResult | None:
    """Publish ``request`` and return its PredictionResult, or None ``timeout_s`` after the
    broker confirmed the request.

    Raises DeliveryError when the broker does not confirm the request within
    ``publish_timeout_s`` (a broker problem, not a missing answer).
    """
    consumer = _results_consumer(settings)
    try:
        _publish(settings, request, producer or make_producer(settings), publish_timeout_s)
        return _wait_for(consumer, request.request_id, time.monotonic() + timeout_s)
    finally:
        consumer.close()


def _results_consumer(settings: Settings) -> Consumer:
    consumer = groupless_consumer(settings, purpose="predict")
    try:
        consumer.assign(end_offsets(consumer, settings.topic(PREDICTIONS_RESULTS.name)))
    except TopicMissing as exc:
        consumer.close()
        raise MissingTopicError(str(exc)) from exc
    except BaseException:
        consumer.close()
        raise
    return consumer


def _publish(settings: Settings, request: PredictionRequest, producer: Producer, timeout_s: float) -> None:
    errors: list[str] = []
    key, value, headers = encode_for(request, PREDICTIONS_REQUESTS)
    kafka_headers: list[tuple[str, str | bytes | None]] = list(headers)
    producer.produce(
        settings.topic(PREDICTIONS_REQUESTS.name),
        key=key,
        value=value,
        headers=kafka_headers,
        on_delivery=lambda error, _message: errors.append(str(error)) if error else None,
    )
    unflushed = producer.flush(timeout_s)
    if errors or unflushed:
        raise DeliveryError(
            f"request {request.request_id} was not confirmed: {'; '.join(errors) or 'flush timed out'}",
            failed=len(errors),
            unflushed=unflushed,
        )


def _wait_for(consumer: Consumer, request_id: str, deadline: float) -> PredictionResult | None:
    wanted = request_id.encode("utf-8")
    while (left := deadline - time.monotonic()) > 0:
        # poll() returns as soon as one message is there; consume(500, t) would wait for 500 or t.
        first = consumer.poll(min(left, 0.5))
        if first is None:
            continue
        for message in (first, *consumer.consume(num_messages=500, timeout=0)):
            if message.error() is not None or message.key() != wanted:
                continue
            try:
                result = decode(message.value(), message.headers(), expected=PredictionResult)
            except SchemaDecodeError:
                continue  # not ours to dead-letter: the worker owns this topic
            if result.request_id == request_id:
                return result
    return None
