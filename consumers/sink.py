"""`mlops-fc sink`: predictions.results into the result store, for lookups by request id.

The REST facade stores every result it reads while it runs; the sink is a consumer group
that also stores results of requests published by any other client (kcat, producers/,
other services) and those produced while no facade ran. Offsets are committed only after
Redis stored the batch (at-least-once; the store keeps the first result per id), by the
shared consume loop (stack/consume_loop.py): what does not decode goes to the dead-letter
topic with its raw bytes, and a Redis or broker outage is waited out, not crashed on.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import Consumer, Message, Producer

from consumers.result_store import RedisResultStore, ResultStore
from schemas.predictions import PredictionResult
from schemas.topics import DEAD_LETTERS, PREDICTIONS_RESULTS
from stack.consume_loop import ConsumeLoop, expecting
from stack.dead_letters import DeadLetters
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
        self._batch: list[PredictionResult] = []
        self.loop = ConsumeLoop(
            consumer=consumer,
            dead_letters=DeadLetters(producer, settings.topic(DEAD_LETTERS.name), SOURCE),
            decode=expecting(PredictionResult),
            handle=self._collect,
            finish=self._store,
            name=SOURCE,
        )

    def _collect(self, _message: Message, result: PredictionResult) -> None:
        self._batch.append(result)

    def _store(self) -> None:
        # Retried by the loop while Redis is away; the batch stays until it is stored.
        self.stored += self.store.put_many(self._batch)
        self._batch = []

    def run(self, stop: threading.Event) -> None:
        self.loop.run([self.settings.topic(PREDICTIONS_RESULTS.name)], stop)


def build_sink(settings: Settings) -> ResultSink:
    return ResultSink(
        settings,
        make_consumer(settings, f"{settings.topic_prefix}{settings.sink_group_id}"),
        make_producer(settings),
        RedisResultStore(redis_client(settings), settings.topic_prefix, settings.result_ttl_s),
    )
