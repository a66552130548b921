"""Request-reply over Kafka: publish a PredictionRequest, await its PredictionResult.

One results reader per process (not one consumer per request) starts at the end offsets of
predictions.results, before any request is published. A caller registers a future under its
request id *before* publishing; the reader thread decodes each batch, writes every result to
the result store (first result wins), then resolves the waiting futures on the event loop.
Two callers asking with the same request id share one future and one published request.

A Redis outage does not stop the answers: results Redis refuses are delivered anyway and
kept in memory (bounded), and the reader thread stores them once Redis answers again, so a
result answered 202 before or during the outage can still be looked up after it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Message

from consumers.publisher import Publisher
from consumers.reader import Backoff, TopicReader
from consumers.result_store import ResultStore
from schemas.codec import decode
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.topics import PREDICTIONS_REQUESTS, PREDICTIONS_RESULTS
from stack.settings import Settings

log = logging.getLogger(__name__)
PENDING_REMEMBERED = 100_000  # ids answered 202 that GET still reports as pending
UNSTORED_KEPT = 50_000  # results held while Redis is down (about 1 KB each)
STORE_CHUNK = 2_000  # results per Redis pipeline when catching up


@dataclass
class _Waiter:
    future: asyncio.Future[PredictionResult]
    callers: int = 1


class Correlator:
    """Matches results to the callers waiting for them, by request id."""

    def __init__(
        self,
        settings: Settings,
        publisher: Publisher,
        store: ResultStore,
        on_result: Callable[[PredictionResult], None] | None = None,
    ) -> None:
        self.settings = settings
        self.publisher = publisher
        self.store = store
        self.on_result = on_result
        self._waiters: dict[str, _Waiter] = {}
        self._published: OrderedDict[str, None] = OrderedDict()  # unanswered, published here
        self._loop: asyncio.AbstractEventLoop | None = None
        # Reader thread only: results Redis refused, and when to try storing them again.
        self._unstored: list[PredictionResult] = []
        self._store_backoff = Backoff()
        self._store_retry_at = 0.0
        self.store_problem: str | None = None
        self.unstored_dropped = 0
        self.reader = TopicReader(
            settings,
            {settings.topic(PREDICTIONS_RESULTS.name): "end"},
            self._handle,
            "results-reader",
            idle=self._retry_store,
        )

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.reader.start()

    def stop(self) -> None:
        self.reader.stop()
        for waiter in self._waiters.values():
            waiter.future.cancel()
        self._waiters.clear()

    @property
    def in_flight(self) -> int:
        return len(self._waiters)

    def pending(self, request_id: str) -> bool:
        """Published here, and its result is not in the store yet (not come, or Redis was down)."""
        return request_id in self._waiters or request_id in self._published

    async def ask(
        self, request: PredictionRequest, timeout_s: float, check_store: bool = True
    ) -> PredictionResult | None:
        """The result of ``request``, or None when none came within ``timeout_s``."""
        return (await self.ask_many([request], timeout_s, check_store))[0]

    async def ask_many(
        self, requests: list[PredictionRequest], timeout_s: float, check_store: bool = True
    ) -> list[PredictionResult | None]:
        """Results in the order of ``requests``; None for those unanswered after ``timeout_s``.

        An id that already has a stored result is answered from the store and not published
        again; an id already in flight joins the waiting caller. ``check_store=False`` skips
        the lookup for ids this process has just made up (fresh UUIDs cannot be stored yet).
        """
        assert self._loop is not None, "start() the correlator first"
        stored: dict[str, PredictionResult] = {}
        if check_store:
            stored = await self.store.lookup([r.request_id for r in requests])
        asked = [r for r in requests if r.request_id not in stored]
        futures: dict[str, asyncio.Future[PredictionResult]] = {}
        fresh = []
        for request in asked:
            waiter = self._waiters.get(request.request_id)
            if waiter is None:
                waiter = self._waiters[request.request_id] = _Waiter(self._loop.create_future())
                fresh.append(request)
            else:
                waiter.callers += 1
            futures[request.request_id] = waiter.future
        try:
            for request in fresh:
                self._published[request.request_id] = None
            while len(self._published) > PENDING_REMEMBERED:
                self._published.popitem(last=False)
            try:
                await self.publisher.publish_many(
                    self.settings.topic(PREDICTIONS_REQUESTS.name), PREDICTIONS_REQUESTS, fresh
                )
            except BaseException:
                for request in fresh:
                    self._published.pop(request.request_id, None)
                raise
            if futures:
                await asyncio.wait(set(futures.values()), timeout=timeout_s)
        finally:
            for request in asked:
                self._release(request.request_id)
        answers = {rid: f.result() for rid, f in futures.items() if f.done() and not f.cancelled()}
        return [stored.get(r.request_id) or answers.get(r.request_id) for r in requests]

    def _release(self, request_id: str) -> None:
        waiter = self._waiters.get(request_id)
        if waiter is None:
            return
        waiter.callers -= 1
        if waiter.callers <= 0:
            del self._waiters[request_id]

    # Reader thread ----------------------------------------------------------------------

    def _handle(self, messages: list[Message]) -> None:
        results = []
        for message in messages:
            try:
                results.append(decode(message.value(), message.headers(), expected=PredictionResult))
            except SchemaDecodeError as exc:
                # The worker owns this topic and `mlops-fc sink` dead-letters it: just skip here.
                log.warning("undecodable result at %s/%s: %s", message.partition(), message.offset(), exc)
        if not results:
            return
        self._unstored.extend(results)
        self._retry_store()  # before answering: a GET right after the reply finds it
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._deliver, results)

    def _retry_store(self) -> None:
        """Store the results Redis has not taken yet; after a failure, wait out the backoff."""
        if not self._unstored or time.monotonic() < self._store_retry_at:
            return
        stored: list[str] = []
        try:
            while self._unstored:
                chunk = self._unstored[:STORE_CHUNK]
                self.store.put_many(chunk)
                del self._unstored[:STORE_CHUNK]
                stored.extend(result.request_id for result in chunk)
        except Exception as exc:  # noqa: BLE001 - any store failure: keep the results, answer anyway
            self._store_failed(exc)
            return
        finally:
            if stored:  # GET reports these pending until they are in the store
                assert self._loop is not None
                self._loop.call_soon_threadsafe(self._forget, stored)
        if self.store_problem is not None:
            log.info("Redis answers again: the results kept meanwhile are stored")
        self.store_problem = None
        self._store_backoff.reset()

    def _store_failed(self, exc: Exception) -> None:
        if self.store_problem is None:
            log.warning("results are kept in memory until Redis answers again: %s", exc)
        self.store_problem = str(exc)
        self._store_retry_at = time.monotonic() + self._store_backoff.take()
        overflow = len(self._unstored) - UNSTORED_KEPT
        if overflow > 0:
            del self._unstored[:overflow]
            self.unstored_dropped += overflow
            log.error("%d results dropped unstored (Redis down too long); GET will not find them", overflow)

    def _forget(self, request_ids: list[str]) -> None:
        for request_id in request_ids:
            self._published.pop(request_id, None)

    def _deliver(self, results: list[PredictionResult]) -> None:
        for result in results:
            if self.on_result is not None:
                self.on_result(result)
            waiter = self._waiters.get(result.request_id)
            if waiter is not None and not waiter.future.done():
                waiter.future.set_result(result)  # the first result wins, like the store
