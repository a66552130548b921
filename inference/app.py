"""The Faust app: player-state table, request scoring in micro-batches, model hot swap.

Player records, transfers and requests are all keyed by player id with one partition count,
so Faust's co-partitioned assignment gives one worker partition p of all three: the player
table lookup for a request is local. Club and market state come from TransfersView.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from faust.types import TP

from features.state import PlayerState
from features.update import update_player
from features.vector import vector
from inference.model_holder import ModelHolder
from inference.scoring import SOURCE, Pending, score_batch
from inference.stall_guard import StallGuard
from inference.state_sync import IngestProgress, Targets
from inference.transfers_view import TransfersView
from schemas.codec import dead_letter, decode, encode
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.topics import (
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    PLAYERS_RECORDS,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
)
from stack.async_producer import AsyncProducer
from stack.kafka_clients import make_producer
from stack.settings import Settings

log = logging.getLogger(__name__)
VIEW_CATCH_UP_TIMEOUT_S = 120.0
# librdkafka retries a message for message.timeout.ms (5 min) before it reports a failure;
# past that the agent fails, the batch is never acknowledged and its requests come back.
RESULT_DELIVERY_TIMEOUT_S = 330.0


def build_app(
    settings: Settings, holder: ModelHolder, view: TransfersView, datadir: str, worker_name: str = "worker-1"
) -> faust.App:
    source = f"{SOURCE}/{worker_name}"  # results name the worker that scored them
    app = faust.App(
        f"{settings.topic_prefix}{settings.worker_app_id}",
        broker=f"kafka://{settings.kafka_bootstrap_servers}",
        store="memory://",  # tables recover from their changelog topics on start
        datadir=datadir,
        topic_partitions=settings.topic_partitions,
        topic_disable_leader=True,
        web_enabled=False,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee="at_least_once",
        broker_commit_interval=settings.worker_commit_interval_s,
    )

    def raw_topic(*names: str) -> faust.TopicT:
        return app.topic(
            *(settings.topic(n) for n in names),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

    ingest_names = (settings.topic(PLAYERS_RECORDS.name), settings.topic(TRANSFERS_COMPLETED.name))
    ingest_topic = raw_topic(PLAYERS_RECORDS.name, TRANSFERS_COMPLETED.name)
    player_progress = IngestProgress("player-state agent")
    requests_topic = raw_topic(PREDICTIONS_REQUESTS.name)
    requests_name = settings.topic(PREDICTIONS_REQUESTS.name)
    stall_guard = StallGuard(settings.worker_stall_s)
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap_servers})
    scoring: list[bool] = [True]  # busy (catching up, or a batch in hand): the stall guard waits
    results_topic_name = settings.topic(PREDICTIONS_RESULTS.name)
    # Results go out through librdkafka (a few microseconds a message where Faust's send path
    # costs tens); each batch awaits its delivery before its requests are acknowledged.
    results_out = AsyncProducer(make_producer(settings, **{"linger.ms": 1}))
    dead_letters_topic = raw_topic(DEAD_LETTERS.name)
    players = app.Table(
        "player-state",
        default=None,
        partitions=settings.topic_partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )

    async def send_dead_letter(event: faust.EventT, reason: str, error_type: str) -> None:
        message = event.message
        letter = dead_letter(
            message.value or b"",
            reason,
            message.topic,
            source=source,
            error_type=error_type,
            partition=message.partition,
            offset=message.offset,
            key=message.key,
        )
        key, value, headers = encode(letter, key=message.topic)
        await dead_letters_topic.send(key=key, value=value, headers=headers)

    @app.agent(ingest_topic, name="player-state")
    async def update_player_state(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        async for event in stream.events():
            await _apply_to_player_state(event)
            message = event.message
            player_progress.mark(message.topic, message.partition, message.offset)
            yield None

    async def _apply_to_player_state(event: faust.EventT) -> None:
        try:
            record = decode(event.value)
        except SchemaDecodeError as exc:
            await send_dead_letter(event, exc.reason, "SchemaDecodeError")
            return
        if not isinstance(record, PlayerRecord | TransferCompleted):
            await send_dead_letter(event, f"unexpected {record.event_type} on this topic", "TopicMismatch")
            return
        stored = players.get(record.player_id)
        state = update_player(PlayerState.from_dict(stored) if stored else None, record)
        players[record.player_id] = state.to_dict()

    def player_targets(partitions: set[int]) -> Targets:
        """High-water marks of the ingest partitions co-assigned with these request partitions."""
        targets: dict[tuple[str, int], int] = {}
        assigned = app.consumer.assignment()
        for topic in ingest_names:
            for partition in partitions:
                tp = TP(topic, partition)
                if tp not in assigned:
                    continue  # not (yet) assigned here: nothing to wait for
                highwater = app.consumer.highwater(tp)
                if highwater is not None:
                    targets[(topic, partition)] = highwater
                # Faust keeps the committed offset (next to read): all before it is in the table.
                player_progress.seed(topic, partition, app.consumer._committed_offset.get(tp))  # noqa: SLF001
        return targets

    async def sync_state(events: list[faust.EventT]) -> None:
        """Read-your-writes: wait (bounded) for what was published before these requests."""
        limit = settings.worker_state_wait_s
        partitions = {event.message.partition for event in events}
        view_targets = await view.end_targets()
        await asyncio.gather(
            player_progress.wait_for(lambda: player_targets(partitions), limit),
            view.progress.wait_for(lambda: view_targets, limit),
        )

    @app.agent(requests_topic, name="score-requests")
    async def score_requests(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await _wait(view.caught_up, VIEW_CATCH_UP_TIMEOUT_S, "transfers view")
        scoring[0] = False
        wait_s = settings.worker_batch_wait_ms / 1000
        async for events in stream.take_events(settings.worker_batch_size, within=wait_s):
            scoring[0] = True
            try:
                await _score(events)
            finally:
                scoring[0] = False
            yield None

    async def _score(events: list[faust.EventT]) -> None:
        """One batch: state barrier, vectors, one predict, results delivered before the ack."""
        started = time.time()
        for event in events:
            stall_guard.handled(TP(event.message.topic, event.message.partition), event.message.offset)
        await sync_state(events)
        batch = [p for p in [await _pending(event) for event in events] if p is not None]
        if not batch:
            return
        if holder.current is None:
            await holder.wait_ready(settings.worker_no_model_wait_s)
        model = holder.current  # read once: the whole batch uses this one model
        try:
            results = score_batch(model, holder.model_name, batch, started, time.time(), source)
        except Exception as exc:  # noqa: BLE001 - a broken model must not stall the stream
            log.exception("scoring failed for a batch of %d", len(batch))
            results = _error_results(batch, holder, model, exc, started, source)
        outgoing = [(results_topic_name, *encode(r, key=r.request_id)) for r in results]
        await results_out.send_all(outgoing, RESULT_DELIVERY_TIMEOUT_S)

    async def _pending(event: faust.EventT) -> Pending | None:
        try:
            request = decode(event.value, expected=PredictionRequest)
            stored = players.get(request.player_id)
            features = vector(
                request,
                PlayerState.from_dict(stored) if stored else None,
                view.clubs.get(request.from_club),
                view.clubs.get(request.to_club),
                view.market,
            )
        except SchemaDecodeError as exc:
            await send_dead_letter(event, exc.reason, "SchemaDecodeError")
            return None
        except Exception as exc:  # noqa: BLE001 - a poison message must not stall the stream
            await send_dead_letter(event, f"feature vector failed: {exc!r}", type(exc).__name__)
            return None
        return Pending(request, features, event.message.timestamp)  # Faust gives seconds

    @app.timer(interval=max(settings.worker_stall_s / 2, 0.5))
    async def reread_stalled_requests() -> None:
        if app.rebalancing or scoring[0]:
            stall_guard.busy()
            return
        consumer = app.consumer
        owned = [tp for tp in consumer.assignment() if tp.topic == requests_name]
        unknown = [tp for tp in owned if not stall_guard.knows(tp)]
        starts = await _group_start_offsets(admin, app.conf.id, unknown) if unknown else {}
        stall_guard.assigned({tp: starts.get(tp) for tp in owned})
        positions = {tp: await consumer.position(tp) for tp in owned}
        for tp, offset in stall_guard.stalled(positions, time.monotonic()).items():
            log.warning(
                "requests %s[%d] fetched up to %s but handled only up to %d: reading them again",
                tp.topic,
                tp.partition,
                positions[tp],
                offset,
            )
            await consumer.seek(tp, offset)

    @app.task
    async def load_first_model() -> None:
        await holder.refresh()

    @app.timer(interval=settings.worker_model_poll_s)
    async def poll_model() -> None:
        await holder.refresh()

    @app.task
    async def follow_lifecycle() -> None:
        await _follow_lifecycle(settings, holder)

    @app.task
    async def follow_transfers() -> None:
        await view.run()

    return app


async def _follow_lifecycle(settings: Settings, holder: ModelHolder) -> None:
    """Every worker reads every lifecycle event (no group) and swaps on it at once."""
    topic = settings.topic(MODELS_LIFECYCLE.name)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            AioTopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or {0})
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=1000)
            if any(batches.values()):
                await holder.refresh()
    finally:
        await consumer.stop()


async def _group_start_offsets(admin: AdminClient, group: str, partitions: list[TP]) -> dict[TP, int]:
    """Where the group resumes each partition: its committed offset, else the log start."""
    try:
        return await asyncio.to_thread(_read_start_offsets, admin, group, partitions)
    except Exception:  # noqa: BLE001 - no expectation this round: the guard asks again next time
        log.info("could not read the group's offsets for %d partitions", len(partitions), exc_info=True)
        return {}


def _read_start_offsets(admin: AdminClient, group: str, partitions: list[TP]) -> dict[TP, int]:
    wanted = [TopicPartition(tp.topic, tp.partition) for tp in partitions]
    answer = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group, wanted)])[group].result(
        10
    )
    offsets = {TP(tp.topic, tp.partition): tp.offset for tp in answer.topic_partitions}
    never_committed = [TopicPartition(tp.topic, tp.partition) for tp, offset in offsets.items() if offset < 0]
    if never_committed:  # the group starts these at the earliest offset (auto_offset_reset)
        earliest = admin.list_offsets({tp: OffsetSpec.earliest() for tp in never_committed})
        for tp, future in earliest.items():
            offsets[TP(tp.topic, tp.partition)] = future.result(10).offset
    return offsets


async def _wait(event: asyncio.Event, limit_s: float, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), limit_s)
    except TimeoutError:
        log.warning("%s not ready after %.0fs; scoring with what it has", what, limit_s)


def _error_results(
    batch: list[Pending], holder: ModelHolder, model: Any, exc: Exception, started: float, source: str
) -> list[PredictionResult]:
    return [
        PredictionResult(
            source=source,
            trace_id=p.request.trace_id,
            request_id=p.request.request_id,
            player_id=p.request.player_id,
            transfer_id=p.request.transfer_id,
            status="error",
            model_name=holder.model_name,
            model_version=getattr(model, "version", None),
            features=p.features,
            error=f"scoring failed: {exc!r}",
            timings={"total": max(0.0, (time.time() - p.broker_ts) * 1000)},
        )
        for p in batch
    ]
