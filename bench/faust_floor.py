"""The Faust floor: what faust-streaming alone costs per request on this machine.

A Faust app set up like the worker (same event loop, Faust tuning and Monitor sensor, fetch
wait, batch size and window, raw topics, results out through librdkafka with linger 1 ms,
two batches in flight) whose agent forwards every request unchanged: no decoding, features,
model or ledger. bench/inference.py runs it in a child process next to the plain
passthrough, so the worker's rate can be read against both what Kafka can move and what a
Faust agent that does nothing can move.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faust  # noqa: E402

from inference.faust import SpinnerlessWorker, limit_fetch_wait, use_event_loop  # noqa: E402
from inference.faust.tuning import faust_tuning  # noqa: E402
from stack.async_producer import AsyncProducer, OutgoingMessage  # noqa: E402
from stack.kafka_clients import make_producer  # noqa: E402
from stack.kafka_connection import kafka_connection
from stack.settings import Settings  # noqa: E402

BATCHES_IN_FLIGHT = 2  # as the worker


def run_faust_floor(prefix: str, source: str, target: str, datadir: str, ready: Any) -> None:
    """Forward ``source`` to ``target`` until terminated; ``ready`` is set on the first batch."""
    settings = Settings().model_copy(update={"topic_prefix": prefix})
    limit_fetch_wait(settings.worker_fetch_max_wait_ms)
    use_event_loop(settings.worker_event_loop)  # as the worker
    app = faust.App(
        f"{prefix}bench-faust-floor",
        broker=kafka_connection(settings).faust_broker(),
        store="memory://",
        datadir=datadir,
        topic_partitions=settings.topic_partitions,
        topic_disable_leader=True,
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        **faust_tuning(settings),  # as the worker
    )
    topic = app.topic(source, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    out = AsyncProducer(make_producer(settings, **{"linger.ms": 1}))
    wait_s = settings.worker_batch_wait_ms / 1000

    @app.agent(topic, name="forward")
    async def forward(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        in_flight: list[asyncio.Future[None]] = []
        # take_events is on faust.Stream, not on the StreamT protocol agents are typed with
        batches = cast(faust.Stream[bytes], stream).take_events(settings.worker_batch_size, within=wait_s)
        async for events in batches:
            batch: list[OutgoingMessage] = [
                (target, e.message.key, e.message.value or b"", []) for e in events
            ]
            in_flight.append(out.produce_all(batch))
            if len(in_flight) >= BATCHES_IN_FLIGHT:
                await in_flight.pop(0)
            ready.set()
            yield None

    SpinnerlessWorker(app, loglevel="warn", quiet=True).execute_from_commandline()
