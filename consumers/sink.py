"""`mlops-fc sink`: predictions.results into the result store, for lookups by request id.

The REST facade stores every result it reads while it runs; the sink is a consumer group
that also stores results of requests published by any other client (kcat, producers/,
other services) and those produced while no facade ran. Offsets are committed only after
Redis stored the batch (at-least-once; the store keeps the first result per id). What does
not decode goes to the dead-letter topic with its raw bytes.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, Message, Producer

from consumers.result_store import RedisResultStore, ResultStore
from schemas.codec import dead_letter, decode, encode_for
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionResult
from schemas.topics import DEAD_LETTERS, PREDICTIONS_RESULTS
from stack.kafka_clients import make_consumer, make_producer
from stack.redis_clients import redis_client
from stack.settings import Settings

log = logging.getLogger(__name__)
SOURCE = "result-sink"


class ResultSink:
    def __init__(
        self, settings: Settings, consumer: Consumer, producer: Producer, store: ResultStore
    ) -> None:
        self.settings = settings
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.stored = 0

    def process(self, messages: list[Message]) -> None:
        """Store one batch and dead-letter what does not decode; raises if anything failed."""
        results = []
        letters = 0
        errors: list[str] = []
        for message in messages:
            if message.error() is not None:
                continue
            try:
                results.append(decode(message.value(), message.headers(), expected=PredictionResult))
            except SchemaDecodeError as exc:
                letter = dead_letter(
                    message.value(),
                    exc.reason,
                    message.topic() or "",
                    source=SOURCE,
                    partition=message.partition(),
                    offset=message.offset(),
                    key=message.key(),
                    headers=message.headers(),
                )
                key, value, headers = encode_for(letter, DEAD_LETTERS)
                self.producer.produce(
                    self.settings.topic(DEAD_LETTERS.name),
                    key=key,
                    value=value,
                    headers=headers,  # type: ignore[arg-type]  # list[tuple[str, bytes]] is accepted
                    on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
                )
                letters += 1
        self.stored += self.store.put_many(results)
        if letters and (self.producer.flush(30) or errors):
            raise RuntimeError(f"dead letters not delivered: {errors or 'flush timed out'}")

    def run(self, stop: threading.Event) -> None:
        self.consumer.subscribe([self.settings.topic(PREDICTIONS_RESULTS.name)])
        try:
            while not stop.is_set():
                messages = self.consumer.consume(num_messages=500, timeout=0.5)
                if not messages:
                    continue
                self.process(messages)
                self.consumer.commit(asynchronous=False)  # commit after success
        finally:
            self.consumer.close()


def build_sink(settings: Settings) -> ResultSink:
    return ResultSink(
        settings,
        make_consumer(settings, f"{settings.topic_prefix}{settings.sink_group_id}"),
        make_producer(settings),
        RedisResultStore(redis_client(settings), settings.topic_prefix, settings.result_ttl_s),
    )
