"""Produce from asyncio with confluent-kafka and await the broker's confirmation.

``send_all`` never blocks the event loop; a daemon thread serves librdkafka's delivery
callbacks, counts them per call and wakes the loop once per finished call, so a caller
awaits the confirmation of its own messages. The REST facade publishes requests with it; the
worker publishes its results with it (librdkafka does in C what aiokafka does in Python).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from stack.exceptions import StackError

# (topic, key, value, headers) as the codec gives them
OutgoingMessage = tuple[str, bytes | None, bytes, list[tuple[str, str | bytes | None]]]


class DeliveryFailed(StackError):
    """The broker refused a message, did not confirm it in time, or the local queue is full."""


class _Pending:
    """One send_all call: how many confirmations it still waits for, and the first refusal."""

    def __init__(self, future: asyncio.Future[None], count: int) -> None:
        self.future = future
        self.remaining = count
        self.error: KafkaError | None = None


class AsyncProducer:
    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        self._stop = threading.Event()
        self._finished: list[_Pending] = []  # touched only in the poll thread (callbacks run in poll())
        self._thread = threading.Thread(target=self._poll, name="async-producer-poll", daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.producer.poll(0.05)
            if self._finished:
                finished, self._finished = self._finished, []
                finished[0].future.get_loop().call_soon_threadsafe(_settle_all, finished)

    def _reporter(self, pending: _Pending):  # noqa: ANN202 - a librdkafka callback
        def report(error: KafkaError | None, _message: Message) -> None:
            if error is not None and pending.error is None:
                pending.error = error
            pending.remaining -= 1
            if pending.remaining == 0:
                self._finished.append(pending)

        return report

    async def send_all(self, messages: Sequence[OutgoingMessage], timeout_s: float) -> None:
        """Produce every message; returns once the broker confirmed all of them."""
        await confirmed(self.produce_all(messages), len(messages), timeout_s)

    def produce_all(self, messages: Sequence[OutgoingMessage]) -> asyncio.Future[None]:
        """Hand every message to librdkafka now; the future settles once the broker confirmed all.

        Raises DeliveryFailed at once when a message can't even be queued.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not messages:
            future.set_result(None)
            return future
        pending = _Pending(future, len(messages))
        report = self._reporter(pending)
        for sent, (topic, key, value, headers) in enumerate(messages):
            try:
                self.producer.produce(
                    topic,
                    key=key,
                    value=value,
                    headers=headers,
                    on_delivery=report,
                )
            except BufferError as exc:
                raise DeliveryFailed(
                    f"producer queue full after {sent} of {len(messages)}: the broker is not keeping up"
                ) from exc
            except KafkaException as exc:  # refused before sending: too large, unknown topic, ...
                raise DeliveryFailed(f"not produced: {exc.args[0]}") from exc
        return future

    def close(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)
        self.producer.flush(timeout_s)


async def confirmed(future: asyncio.Future[None], count: int, timeout_s: float) -> None:
    """Wait for a ``produce_all`` future; DeliveryFailed when it fails or takes over ``timeout_s``."""
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout_s)
    except TimeoutError as exc:
        raise DeliveryFailed(f"the broker did not confirm {count} messages in {timeout_s}s") from exc


def _settle_all(finished: list[_Pending]) -> None:
    for pending in finished:
        if pending.future.done():
            continue
        if pending.error is None:
            pending.future.set_result(None)
        else:
            pending.future.set_exception(DeliveryFailed(f"not delivered: {pending.error}"))
