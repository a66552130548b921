"""The ordered confirmation chain: a batch's offsets are recorded once its results are confirmed.

Results go out through librdkafka; while a batch's acks are on their way the next batch is
scored (up to ``in_flight`` batches out). Each batch's confirmation waits for the one before
it, so a confirmed batch still means every request delivered before it has an answer or
failed: what the ledger's hole detection relies on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from faust.types import TP

from inference.metrics import WorkerMetrics
from schemas.predictions import PredictionResult
from stack.async_producer import DeliveryFailed, OutgoingMessage, confirmed

log = logging.getLogger(__name__)
# Waiting for each batch's acks before taking the next cost 4-6 ms of every batch cycle.
BATCHES_IN_FLIGHT = 2
DRAIN_TIMEOUT_S = 30.0  # revocation and shutdown wait this long for results in flight
# librdkafka retries a message for message.timeout.ms (5 min) before it reports a failure;
# past that the batch's offsets stay unconfirmed and its requests are read again.
RESULT_DELIVERY_TIMEOUT_S = 330.0

Offsets = dict[TP, list[int]]
OnConfirmed = Callable[[list[PredictionResult], Offsets], Awaitable[None]]


class ResultProducer(Protocol):
    """stack.async_producer.AsyncProducer in the worker, a fake in unit tests."""

    def produce_all(self, messages: Sequence[OutgoingMessage]) -> asyncio.Future[None]: ...


class ConfirmationChain:
    def __init__(
        self,
        producer: ResultProducer,
        on_confirmed: OnConfirmed,
        metrics: WorkerMetrics,
        in_flight: int = BATCHES_IN_FLIGHT,
        delivery_timeout_s: float = RESULT_DELIVERY_TIMEOUT_S,
        drain_timeout_s: float = DRAIN_TIMEOUT_S,
    ) -> None:
        self._producer = producer
        self._on_confirmed = on_confirmed
        self._metrics = metrics
        self._in_flight = asyncio.Semaphore(in_flight)
        self._delivery_timeout_s = delivery_timeout_s
        self._drain_timeout_s = drain_timeout_s
        self._last: asyncio.Task[None] | None = None

    async def submit(
        self, outgoing: Sequence[OutgoingMessage], results: list[PredictionResult], offsets: Offsets
    ) -> None:
        """Produce a batch's results now; its offsets are recorded once they are confirmed, in order."""
        await self._in_flight.acquire()
        try:
            delivery = self._producer.produce_all(outgoing)
        except DeliveryFailed:
            self._in_flight.release()
            self._metrics.delivery_failures.inc()
            log.exception("results of %d requests not produced; they will be read again", len(results))
            return
        self._last = asyncio.create_task(self._confirm(self._last, delivery, results, offsets))

    async def _confirm(
        self,
        previous: asyncio.Task[None] | None,
        delivery: asyncio.Future[None],
        results: list[PredictionResult],
        offsets: Offsets,
    ) -> None:
        try:
            if previous is not None:
                await previous  # never raises: each link catches its own failures
            try:
                await confirmed(delivery, len(results), self._delivery_timeout_s)
            except DeliveryFailed:
                self._metrics.delivery_failures.inc()
                log.exception("results of %d requests not delivered; they will be read again", len(results))
                return
            await self._on_confirmed(results, offsets)
        except Exception:  # noqa: BLE001 - a failed link must not break the chain
            log.exception("recording the offsets of a batch failed; its requests will be read again")
        finally:
            self._in_flight.release()

    def busy(self) -> bool:
        """Batches are out or confirming: offsets ahead of a frontier may be about to confirm."""
        return self._in_flight.locked() or (self._last is not None and not self._last.done())

    async def drain(self) -> None:
        """Wait (bounded) until every batch in flight is confirmed or has failed."""
        last = self._last
        if last is not None and not last.done():
            try:
                await asyncio.wait_for(asyncio.shield(last), self._drain_timeout_s)
            except TimeoutError:
                log.warning(
                    "results still in flight after %.0fs; their requests will be read again",
                    self._drain_timeout_s,
                )
