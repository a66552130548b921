"""The confirmation chain: offsets recorded in batch order, only once the broker confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from faust.types import TP

from inference.confirmations import ConfirmationChain, Offsets
from inference.metrics import WorkerMetrics
from schemas.predictions import PredictionResult
from stack.async_producer import DeliveryFailed, OutgoingMessage

P0 = TP("requests", 0)


class FakeProducer:
    """Hands out one future per batch; the test settles them in any order."""

    def __init__(self, refuse: bool = False) -> None:
        self.refuse = refuse
        self.futures: list[asyncio.Future[None]] = []
        self.produced: list[Sequence[OutgoingMessage]] = []

    def produce_all(self, messages: Sequence[OutgoingMessage]) -> asyncio.Future[None]:
        if self.refuse:
            raise DeliveryFailed("queue full")
        self.produced.append(messages)
        self.futures.append(asyncio.get_running_loop().create_future())
        return self.futures[-1]


class Recorder:
    def __init__(self) -> None:
        self.recorded: list[Offsets] = []

    async def __call__(self, results: list[PredictionResult], offsets: Offsets) -> None:
        self.recorded.append(offsets)


def chain_with(producer: FakeProducer, recorder: Recorder, **kwargs: float) -> ConfirmationChain:
    return ConfirmationChain(producer, recorder, WorkerMetrics("unit"), **kwargs)  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(10):  # let the chain's tasks run their next steps
        await asyncio.sleep(0)  # noqa: sleep-ok - one loop turn, not a wait for time


def test_a_later_batch_confirmed_first_is_recorded_after_the_one_before_it() -> None:
    async def scenario() -> list[Offsets]:
        producer, recorder = FakeProducer(), Recorder()
        chain = chain_with(producer, recorder)
        await chain.submit([], [], {P0: [0, 1]})
        await chain.submit([], [], {P0: [2, 3]})
        assert chain.busy()
        producer.futures[1].set_result(None)  # the second batch's acks arrive first
        await settle()
        assert recorder.recorded == []  # waits for the first
        producer.futures[0].set_result(None)
        await chain.drain()
        assert not chain.busy()
        return recorder.recorded

    assert asyncio.run(scenario()) == [{P0: [0, 1]}, {P0: [2, 3]}]


def test_an_undelivered_batch_is_not_recorded_and_the_chain_goes_on() -> None:
    async def scenario() -> tuple[list[Offsets], float]:
        producer, recorder = FakeProducer(), Recorder()
        metrics = WorkerMetrics("unit")
        chain = ConfirmationChain(producer, recorder, metrics)  # type: ignore[arg-type]
        await chain.submit([], [], {P0: [0]})
        await chain.submit([], [], {P0: [1]})
        producer.futures[0].set_exception(DeliveryFailed("not delivered"))
        producer.futures[1].set_result(None)
        await chain.drain()
        return recorder.recorded, metrics.delivery_failures._value.get()

    recorded, failures = asyncio.run(scenario())
    assert recorded == [{P0: [1]}]  # batch 0 stays unconfirmed: read again later
    assert failures == 1


def test_a_batch_that_cannot_be_queued_frees_its_slot() -> None:
    async def scenario() -> bool:
        producer, recorder = FakeProducer(refuse=True), Recorder()
        chain = chain_with(producer, recorder, in_flight=1)
        await chain.submit([], [], {P0: [0]})
        await asyncio.wait_for(chain.submit([], [], {P0: [1]}), 5)  # would block if the slot leaked
        return chain.busy()

    assert asyncio.run(scenario()) is False


def test_at_most_in_flight_batches_are_out_at_once() -> None:
    async def scenario() -> tuple[bool, int]:
        producer, recorder = FakeProducer(), Recorder()
        chain = chain_with(producer, recorder, in_flight=2)
        await chain.submit([], [], {P0: [0]})
        await chain.submit([], [], {P0: [1]})
        third = asyncio.create_task(chain.submit([], [], {P0: [2]}))
        await settle()
        waiting = not third.done()
        producer.futures[0].set_result(None)
        await asyncio.wait_for(third, 5)
        return waiting, len(producer.futures)

    assert asyncio.run(scenario()) == (True, 3)


def test_a_failing_record_step_does_not_break_the_chain(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[Offsets]:
        producer, recorder = FakeProducer(), Recorder()
        calls = 0

        async def flaky(results: list[PredictionResult], offsets: Offsets) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("seek failed")
            await recorder(results, offsets)

        chain = ConfirmationChain(producer, flaky, WorkerMetrics("unit"))  # type: ignore[arg-type]
        await chain.submit([], [], {P0: [0]})
        await chain.submit([], [], {P0: [1]})
        for future in producer.futures:
            future.set_result(None)
        await chain.drain()
        return recorder.recorded

    assert asyncio.run(scenario()) == [{P0: [1]}]
    assert "recording the offsets of a batch failed" in caplog.text
