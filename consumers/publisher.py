"""Publish events from asyncio with confluent-kafka: acks=all, idempotent, awaited delivery.

``produce`` never blocks; a daemon thread serves delivery callbacks and hands each report
back to the event loop, so a caller awaits the broker's confirmation of its own messages.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from confluent_kafka import KafkaError, Message, Producer

from consumers.exceptions import PublishError
from schemas.codec import encode_for
from schemas.envelope import Event
from schemas.topics import TopicSpec
from stack.kafka_clients import make_producer
from stack.settings import Settings

PUBLISH_TIMEOUT_S = 30.0


class Publisher:
    def __init__(self, settings: Settings, producer: Producer | None = None) -> None:
        # A short linger: the facade answers people, so latency beats batching.
        self.producer = producer or make_producer(settings, **{"linger.ms": 1})
        self._stop = threading.Event()
        self._reports: list[tuple[asyncio.Future[None], KafkaError | None]] = []  # poll thread only
        self._thread = threading.Thread(target=self._poll, name="publisher-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(0.05)
            if self._reports:
                # One wake-up of the event loop per poll, not one per message.
                reports, self._reports = self._reports, []
                reports[0][0].get_loop().call_soon_threadsafe(_settle_all, reports)

    async def publish_many(
        self, topic: str, spec: TopicSpec, events: Sequence[Event], timeout_s: float = PUBLISH_TIMEOUT_S
    ) -> None:
        """Publish ``events`` keyed as ``spec`` says; returns once the broker confirmed all."""
        if not events:
            return
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []

        def reporter(future: asyncio.Future[None]):  # noqa: ANN202 - a librdkafka callback
            def report(error: KafkaError | None, _message: Message) -> None:
                self._reports.append((future, error))  # runs inside poll(), in the poll thread

            return report

        for event in events:
            key, value, headers = encode_for(event, spec)
            future: asyncio.Future[None] = loop.create_future()
            try:
                self.producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=headers,  # type: ignore[arg-type]  # list[tuple[str, bytes]] is accepted
                    on_delivery=reporter(future),
                )
            except BufferError as exc:
                raise PublishError("the producer queue is full: the broker is not keeping up") from exc
            futures.append(future)
        try:
            await asyncio.wait_for(asyncio.gather(*futures), timeout_s)
        except TimeoutError as exc:
            raise PublishError(
                f"the broker did not confirm {len(futures)} message(s) in {timeout_s}s"
            ) from exc

    def close(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)
        self.producer.flush(timeout_s)


def _settle_all(reports: list[tuple[asyncio.Future[None], KafkaError | None]]) -> None:
    for future, error in reports:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(PublishError(f"not delivered: {error}"))
