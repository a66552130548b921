"""The result store: one PredictionResult per request id, kept for a while, first result wins.

The inference worker is at-least-once: after a crash a request may be scored twice. The
store keeps the first result it is given (Redis ``SET NX``), so a lookup by request id
always answers the same. Redis failures surface as ``StoreUnavailable`` (HTTP 503 at the
facade), never as redis-py's own errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import redis
import redis.asyncio

from consumers.exceptions import StoreUnavailable
from schemas.predictions import PredictionResult


def result_key(prefix: str, request_id: str) -> str:
    return f"{prefix}result:{request_id}"


@contextmanager
def redis_errors(doing: str) -> Iterator[None]:
    """Turn redis-py's errors into StoreUnavailable, naming what failed."""
    try:
        yield
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis did not answer ({doing}): {exc}") from exc


class ResultStore(Protocol):
    """Results by request id; ``put_many`` ignores ids already stored."""

    def put_many(self, results: Sequence[PredictionResult]) -> int:
        """Store the results whose id is new; returns how many were new."""
        ...

    def get(self, request_id: str) -> PredictionResult | None: ...

    def get_many(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        """The stored results among ``request_ids``, by id."""
        ...

    async def lookup(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        """``get_many`` for the event loop: no thread hop on a request's path."""
        ...

    def ping(self) -> bool: ...


class RedisResultStore:
    """Results as JSON in Redis with a time-to-live; the clients are built by the caller.

    ``async_client`` serves ``lookup`` from the event loop; without one it runs ``get_many``
    in a thread (a hop that cost the REST facade tens of ms of p99 under load).
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str = "",
        ttl_s: int = 86_400,
        async_client: redis.asyncio.Redis | None = None,
    ) -> None:
        self._redis = client
        self._async = async_client
        self.prefix = prefix
        self.ttl_s = ttl_s

    def put_many(self, results: Sequence[PredictionResult]) -> int:
        if not results:
            return 0
        with redis_errors("storing results"), self._redis.pipeline(transaction=False) as pipe:
            for result in results:
                key = result_key(self.prefix, result.request_id)
                pipe.set(key, result.model_dump_json(), nx=True, ex=self.ttl_s)
            return sum(1 for stored in pipe.execute() if stored)

    def get(self, request_id: str) -> PredictionResult | None:
        with redis_errors("reading a result"):
            raw = self._redis.get(result_key(self.prefix, request_id))
        return None if raw is None else PredictionResult.model_validate_json(raw)  # type: ignore[arg-type]

    def get_many(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        if not request_ids:
            return {}
        with redis_errors("reading results"):
            raws = self._redis.mget([result_key(self.prefix, rid) for rid in request_ids])
        return _decoded(request_ids, raws)  # type: ignore[arg-type]

    async def lookup(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        if self._async is None:
            return await asyncio.to_thread(self.get_many, request_ids)
        if not request_ids:
            return {}
        with redis_errors("looking up results"):
            raws = await self._async.mget([result_key(self.prefix, rid) for rid in request_ids])
        return _decoded(request_ids, raws)

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async.aclose()

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError:
            return False


class InMemoryResultStore:
    """The unit tests' fake: a dict, first result wins, no expiry."""

    def __init__(self) -> None:
        self.results: dict[str, PredictionResult] = {}

    def put_many(self, results: Sequence[PredictionResult]) -> int:
        new = 0
        for result in results:
            if result.request_id not in self.results:
                self.results[result.request_id] = result
                new += 1
        return new

    def get(self, request_id: str) -> PredictionResult | None:
        return self.results.get(request_id)

    def get_many(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        return {rid: self.results[rid] for rid in request_ids if rid in self.results}

    async def lookup(self, request_ids: Sequence[str]) -> dict[str, PredictionResult]:
        return self.get_many(request_ids)

    def ping(self) -> bool:
        return True


def _decoded(request_ids: Sequence[str], raws: Sequence[bytes | str | None]) -> dict[str, PredictionResult]:
    return {
        rid: PredictionResult.model_validate_json(raw)
        for rid, raw in zip(request_ids, raws, strict=True)
        if raw is not None
    }
