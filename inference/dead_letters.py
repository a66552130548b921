"""Dead letters of the worker: what it cannot decode or apply goes to the dead-letter topic."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from inference.metrics import WorkerMetrics
from schemas.codec import Headers, dead_letter_for, encode

log = logging.getLogger(__name__)

# (key, value, headers) -> awaitable: Faust's topic send in the worker, a list in unit tests
Send = Callable[[bytes | None, bytes, Headers], Awaitable[Any]]


class ConsumedMessage(Protocol):
    """The fields of a consumed Kafka message the worker reads (Faust's Message has them)."""

    topic: str
    partition: int
    offset: int
    timestamp: float
    key: bytes | None
    value: bytes | None
    headers: Any


class DeadLetters:
    def __init__(
        self, send: Send, source: str, metrics: WorkerMetrics, catalogue_name: Callable[[str], str]
    ) -> None:
        self._send = send
        self._source = source
        self._metrics = metrics
        self._catalogue_name = catalogue_name

    async def send(self, message: ConsumedMessage, reason: str, error_type: str) -> None:
        """Publish a dead letter with the raw bytes, the reason and the message's headers (trace id).

        The letter always fits the topic (oversized payloads are cut, their size and digest
        kept); a letter the broker still refuses is logged and counted, never raised: the
        messages after a poison pill must still be answered.
        """
        letter = dead_letter_for(message, reason, source=self._source, error_type=error_type)
        key, value, headers = encode(letter, key=message.topic)
        try:
            await self._send(key, value, headers)
        except Exception:  # noqa: BLE001 - losing a dead letter must not stop the worker
            log.exception(
                "could not publish the dead letter of %s[%s]@%s",
                message.topic,
                message.partition,
                message.offset,
            )
            return
        self._metrics.dead_letters.labels(self._catalogue_name(message.topic), error_type).inc()
