"""The Faust app: player-state table, request scoring in micro-batches, model hot swap.

Player records, transfers and requests are all keyed by player id with one partition count,
so Faust's co-partitioned assignment gives one worker partition p of all three: the player
table lookup for a request is local. Club and market state come from TransfersView.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, cast

import faust
from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTopicPartition
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec
from faust.types import TP

from features.update import update_player
from features.vector import vector
from inference.delivered_offsets import DeliveredOffsets
from inference.faust_tuning import commit_offsets, committed_offset, seek_on_consumer_thread
from inference.kafka_auth import faust_credentials
from inference.metrics import WorkerMetrics
from inference.model_holder import ModelHolder
from inference.player_cache import DecodedPlayers
from inference.recovery_watch import RecoveryWatch
from inference.scoring import SOURCE, Pending, score_batch
from inference.state_sync import IngestProgress, Targets
from inference.transfers_view import TransfersView
from schemas.codec import dead_letter_for, decode, encode
from schemas.exceptions import SchemaDecodeError
from schemas.predictions import PredictionRequest, PredictionResult
from schemas.records import PlayerRecord, TransferCompleted
from schemas.season_stats import PlayerSeasonStats
from schemas.topics import (
    DEAD_LETTERS,
    MODELS_LIFECYCLE,
    PLAYERS_RECORDS,
    PLAYERS_SEASON_STATS,
    PREDICTIONS_REQUESTS,
    PREDICTIONS_RESULTS,
    TRANSFERS_COMPLETED,
)
from stack.async_producer import AsyncProducer, DeliveryFailed, confirmed
from stack.heap import freeze_long_lived
from stack.kafka_clients import make_admin, make_producer
from stack.kafka_connection import kafka_connection
from stack.settings import Settings

log = logging.getLogger(__name__)
VIEW_CATCH_UP_TIMEOUT_S = 120.0
# Batches whose results are still on their way to the broker while the next one is scored:
# waiting for each batch's acks before taking the next cost 4-6 ms of every batch cycle.
BATCHES_IN_FLIGHT = 2
LAG_REFRESH_S = 2.0  # the metrics' lag snapshot (Prometheus scrapes every 5 s in compose)
DRAIN_TIMEOUT_S = 30.0  # revocation and shutdown wait this long for results in flight
# librdkafka retries a message for message.timeout.ms (5 min) before it reports a failure;
# past that the batch's offsets stay unconfirmed and its requests are read again.
RESULT_DELIVERY_TIMEOUT_S = 330.0


def build_app(
    settings: Settings,
    holder: ModelHolder,
    view: TransfersView,
    datadir: str,
    worker_name: str = "worker-1",
    metrics: WorkerMetrics | None = None,
) -> faust.App:
    source = f"{SOURCE}/{worker_name}"  # results name the worker that scored them
    metrics = metrics or WorkerMetrics(worker_name)
    metrics.model.version = lambda: holder.version  # read at scrape time
    metrics.model.swaps = lambda: len(holder.swaps)
    metrics.model.refused = lambda: len(holder.refused)
    app = faust.App(
        f"{settings.topic_prefix}{settings.worker_app_id}",
        broker=kafka_connection(settings).faust_broker(),
        broker_credentials=faust_credentials(kafka_connection(settings)),
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

    def raw_topic(*names: str, acks: bool = True) -> faust.TopicT:
        return app.topic(
            *(settings.topic(n) for n in names),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            acks=acks,
        )

    transfers_name = settings.topic(TRANSFERS_COMPLETED.name)
    ingest_names = (
        settings.topic(PLAYERS_RECORDS.name),
        transfers_name,
        settings.topic(PLAYERS_SEASON_STATS.name),
    )
    ingest_topic = raw_topic(PLAYERS_RECORDS.name, TRANSFERS_COMPLETED.name, PLAYERS_SEASON_STATS.name)
    player_progress = IngestProgress("player-state agent")
    # The worker commits request offsets itself, only past confirmed results (see DeliveredOffsets).
    requests_topic = raw_topic(PREDICTIONS_REQUESTS.name, acks=False)
    requests_name = settings.topic(PREDICTIONS_REQUESTS.name)
    delivered: DeliveredOffsets[TP] = DeliveredOffsets(settings.worker_stall_s)
    recovery_watch: RecoveryWatch[TP] = RecoveryWatch(settings.worker_stall_s)
    admin = make_admin(settings)
    scoring: list[bool] = [True]  # busy (catching up, or a batch in hand): no stall is judged
    results_topic_name = settings.topic(PREDICTIONS_RESULTS.name)
    # Results go out through librdkafka (a few microseconds a message where Faust's send path
    # costs tens); each batch awaits its delivery before its requests are acknowledged.
    results_out = AsyncProducer(make_producer(settings, **{"linger.ms": 1}))
    in_flight = asyncio.Semaphore(BATCHES_IN_FLIGHT)
    last_confirmation: list[asyncio.Task[None] | None] = [None]  # batches confirm in this chain
    dead_letters_topic = raw_topic(DEAD_LETTERS.name)
    players = app.Table(
        "player-state",
        default=None,
        partitions=settings.topic_partitions,
        schema=faust.Schema(key_serializer="json", value_serializer="json"),
    )
    decoded_players = DecodedPlayers()

    async def send_dead_letter(event: faust.EventT, reason: str, error_type: str) -> None:
        message = event.message
        letter = dead_letter_for(message, reason, source=source, error_type=error_type)  # fits, keeps headers
        key, value, headers = encode(letter, key=message.topic)
        # Faust types headers as bytes values, which is all the codec puts in
        await dead_letters_topic.send(key=key, value=value, headers=cast(list[tuple[str, bytes]], headers))
        metrics.dead_letters.labels(settings.catalogue_name(message.topic), error_type).inc()

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
        if not isinstance(record, PlayerRecord | TransferCompleted | PlayerSeasonStats):
            await send_dead_letter(event, f"unexpected {record.event_type} on this topic", "TopicMismatch")
            return
        state = update_player(decoded_players.get(record.player_id, players.get(record.player_id)), record)
        stored = state.to_dict()
        players[record.player_id] = stored
        decoded_players.put(record.player_id, stored, state)

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
                player_progress.seed(topic, partition, committed_offset(app.consumer, tp))
        return targets

    async def transfers_view_targets() -> Targets:
        """End offsets of transfers.completed that the club/market view must reach.

        Partitions this worker's Faust consumer reads too take the high-water mark of its own
        fetches, like player state: the fetch that brought the requests saw at least what was
        published before them. Only the others cost a round trip to the broker per batch
        (none with a single worker).
        """
        assigned = app.consumer.assignment()
        targets: dict[tuple[str, int], int] = {}
        ask = []
        for partition in view.partitions:
            tp = TP(transfers_name, partition)
            highwater = app.consumer.highwater(tp) if tp in assigned else None
            if highwater is None:
                ask.append(partition)
            else:
                targets[(transfers_name, partition)] = highwater
        if ask:
            targets.update(await view.end_targets(ask))
        return targets

    async def sync_state(events: list[faust.EventT]) -> None:
        """Read-your-writes: wait (bounded) for what was published before these requests."""
        limit = settings.worker_state_wait_s
        partitions = {event.message.partition for event in events}
        view_targets = await transfers_view_targets()
        await asyncio.gather(
            player_progress.wait_for(lambda: player_targets(partitions), limit),
            view.progress.wait_for(lambda: view_targets, limit),
        )

    @app.agent(requests_topic, name="score-requests")
    async def score_requests(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
        await _wait(view.caught_up, VIEW_CATCH_UP_TIMEOUT_S, "transfers view")
        freeze_long_lived()  # start-up is done: imports and feature state (a model load freezes again)
        scoring[0] = False
        wait_s = settings.worker_batch_wait_ms / 1000
        # take_events is on faust.Stream, not on the StreamT protocol agents are typed with
        batches = cast(faust.Stream[bytes], stream).take_events(settings.worker_batch_size, within=wait_s)
        async for events in batches:
            scoring[0] = True
            try:
                await _score(events)
            finally:
                scoring[0] = False
            yield None

    async def _score(events: Sequence[faust.EventT]) -> None:
        """One batch: state barrier, vectors, one predict, results produced; _confirm records it."""
        started = time.time()
        fresh = [event for event in events if not await _already_answered(event)]
        if not fresh:
            return
        await sync_state(fresh)
        batch = [p for p in [await _pending(event) for event in fresh] if p is not None]
        if batch:
            if holder.current is None:
                await holder.wait_ready(settings.worker_no_model_wait_s)
            model = holder.current  # read once: the whole batch uses this one model
            try:
                results = score_batch(model, holder.model_name, batch, started, time.time(), source)
            except Exception as exc:  # noqa: BLE001 - a broken model must not stall the stream
                log.exception("scoring failed for a batch of %d", len(batch))
                results = _error_results(batch, holder, model, exc, started, source)
            outgoing = [(results_topic_name, *encode(r, key=r.request_id)) for r in results]
        else:
            results, outgoing = [], []  # all dead-lettered: nothing to deliver, offsets still confirmed
        await in_flight.acquire()
        try:
            delivery = results_out.produce_all(outgoing)
        except DeliveryFailed:
            in_flight.release()
            metrics.delivery_failures.inc()
            log.exception("results of %d requests not produced; they will be read again", len(batch))
            return
        previous = last_confirmation[0]
        last_confirmation[0] = asyncio.create_task(
            _confirm(previous, delivery, results, _offsets_by_partition(fresh))
        )

    async def _confirm(
        previous: asyncio.Task[None] | None,
        delivery: asyncio.Future[None],
        results: list[PredictionResult],
        offsets: dict[TP, list[int]],
    ) -> None:
        """Record a batch's offsets once its results are confirmed, after the batches before it.

        In batch order, so a confirmed batch still means every request delivered before it has
        an answer or failed: what the ledger's hole detection relies on.
        """
        try:
            if previous is not None:
                await previous  # never raises: each link catches its own failures
            try:
                await confirmed(delivery, len(results), RESULT_DELIVERY_TIMEOUT_S)
            except DeliveryFailed:
                metrics.delivery_failures.inc()
                log.exception("results of %d requests not delivered; they will be read again", len(results))
                return
            if results:
                metrics.observe_batch(results)
            for tp, batch_offsets in offsets.items():
                delivered.confirm(tp, batch_offsets)
            for tp, offset in delivered.skipped(time.monotonic()).items():
                metrics.rereads.inc()
                log.warning(
                    "requests %s[%d] from %d were never delivered to the agent: reading them again",
                    *tp,
                    offset,
                )
                await seek_on_consumer_thread(app.consumer, tp, offset)
        except Exception:  # noqa: BLE001 - a failed link must not break the chain
            log.exception("recording the offsets of a batch failed; its requests will be read again")
        finally:
            in_flight.release()

    async def drain_confirmations() -> None:
        """Wait (bounded) until every batch in flight is confirmed or has failed."""
        last = last_confirmation[0]
        if last is not None and not last.done():
            try:
                await asyncio.wait_for(asyncio.shield(last), DRAIN_TIMEOUT_S)
            except TimeoutError:
                log.warning(
                    "results still in flight after %.0fs; their requests will be read again", DRAIN_TIMEOUT_S
                )

    async def _already_answered(event: faust.EventT) -> bool:
        """Whether a request (read again after a seek) already has a confirmed result."""
        message = event.message
        tp = TP(message.topic, message.partition)
        if not delivered.tracks(tp):
            await track([tp], message.offset)
        return delivered.answered(tp, message.offset)

    async def track(partitions: list[TP], first_offset: int | None = None) -> None:
        """Start the ledger of newly assigned request partitions at the group's committed offsets."""
        starts = {tp: committed_offset(app.consumer, tp) for tp in partitions}
        unknown = [tp for tp, offset in starts.items() if offset is None]
        if unknown:  # never committed here: the group's offset, else the log start
            starts.update(await _group_start_offsets(admin, app.conf.id, unknown))
        for tp, start in starts.items():
            first = first_offset if first_offset is not None else start
            if first is not None:
                delivered.start(tp, start, first)

    async def _pending(event: faust.EventT) -> Pending | None:
        try:
            request = decode(event.value, expected=PredictionRequest)
            features = vector(
                request,
                decoded_players.get(request.player_id, players.get(request.player_id)),
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

    def _confirming() -> bool:
        return last_confirmation[0] is not None and not last_confirmation[0].done()

    @app.timer(interval=max(settings.worker_stall_s / 2, 0.5))
    async def reread_stalled_requests() -> None:
        if app.rebalancing or scoring[0] or in_flight.locked() or _confirming():
            delivered.busy()
            return
        consumer = app.consumer
        owned = [tp for tp in consumer.assignment() if tp.topic == requests_name]
        await track([tp for tp in owned if not delivered.tracks(tp)])
        positions = {tp: await consumer.position(tp) for tp in owned}
        for tp, offset in delivered.stalled(positions, time.monotonic()).items():
            metrics.rereads.inc()
            log.warning(
                "requests %s[%d] fetched up to %s but answered only up to %d: reading them again",
                tp.topic,
                tp.partition,
                positions[tp],
                offset,
            )
            await seek_on_consumer_thread(consumer, tp, offset)

    @app.timer(interval=max(settings.worker_stall_s / 2, 0.5))
    async def resume_stuck_recovery() -> None:
        recovery = cast(Any, app.tables).recovery  # on TableManager, not on TableManagerT
        if not recovery.in_recovery:
            recovery_watch.reset()
            return
        read = {tp: offset for tp, offset in recovery.active_offsets.items() if offset is not None}
        highwaters = {tp: hw for tp, hw in recovery.active_highwaters.items() if hw is not None}
        behind = [tp for tp, hw in highwaters.items() if read.get(tp, -1) < hw]
        positions = {tp: await app.consumer.position(tp) for tp in behind}
        for tp, offset in recovery_watch.stuck(read, highwaters, positions, time.monotonic()).items():
            log.warning(
                "table recovery of %s[%d] stopped at %d of %d with the consumer at %s: reading it again",
                tp.topic,
                tp.partition,
                offset - 1,
                highwaters[tp],
                positions[tp],
            )
            await seek_on_consumer_thread(app.consumer, tp, offset)

    async def commit_requests(only: set[TP] | None = None) -> None:
        """Commit each request partition up to its first request without a confirmed result."""
        assignment = app.consumer.assignment()
        offsets = {
            tp: offset
            for tp, offset in delivered.to_commit().items()
            if tp in assignment and (only is None or tp in only)
        }
        if offsets and await commit_offsets(app.consumer, offsets):
            delivered.committed(offsets)

    @app.timer(interval=LAG_REFRESH_S)
    async def refresh_lag() -> None:
        """Per topic: messages past what this worker has handled (requests: answered)."""
        consumer = app.consumer
        by_topic: dict[str, int] = {}
        for tp in consumer.assignment():
            if tp.topic == requests_name:
                handled = delivered.frontier(tp)
            elif tp.topic in ingest_names:
                handled = player_progress.applied(tp.topic, tp.partition)
            else:
                continue  # changelogs: Faust's table recovery
            highwater = consumer.highwater(tp)
            if highwater is None or handled is None:
                continue
            name = settings.catalogue_name(tp.topic)
            by_topic[name] = by_topic.get(name, 0) + max(highwater - handled, 0)
        metrics.set_lag(by_topic)

    @app.timer(interval=settings.worker_commit_interval_s)
    async def commit_answered_requests() -> None:
        if not app.rebalancing:
            await commit_requests()

    # mode types signal receivers as (sender, *args, signal=..., **kwargs); Faust passes these
    # keyword arguments by name, so the named parameters below are what arrives.
    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def commit_before_handing_over(sender: faust.App, revoked: set[TP], **_: Any) -> None:
        # Streams are drained by now (Faust waits for them before this signal).
        mine = {tp for tp in revoked if tp.topic == requests_name}
        decoded_players.forget()  # cheap to rebuild; the table itself decides what stays
        await drain_confirmations()
        try:
            await commit_requests(mine)
        except Exception:  # noqa: BLE001 - the next owner then repeats a few answers
            log.warning("commit of %d request partitions before revocation failed", len(mine), exc_info=True)
        delivered.revoked(mine)

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def restart_the_ledger(sender: faust.App, assigned: set[TP], **_: Any) -> None:
        # Faust seeks every partition back to its committed offset after a rebalance.
        delivered.revoked(delivered.owned())

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def commit_before_stopping(sender: faust.App, **_: Any) -> None:
        await drain_confirmations()
        try:
            await commit_requests()
        except Exception:  # noqa: BLE001 - a restart then repeats a few answers
            log.warning("final commit of request offsets failed", exc_info=True)

    async def refresh_model() -> None:
        if await holder.refresh():
            freeze_long_lived()  # the new model's objects join the long-lived heap

    @app.task
    async def load_first_model() -> None:
        await refresh_model()

    @app.timer(interval=settings.worker_model_poll_s)
    async def poll_model() -> None:
        await refresh_model()

    @app.task
    async def follow_lifecycle() -> None:
        await _follow_lifecycle(settings, refresh_model)

    @app.task
    async def follow_transfers() -> None:
        await view.run()

    return app


async def _follow_lifecycle(settings: Settings, refresh_model: Callable[[], Awaitable[None]]) -> None:
    """Every worker reads every lifecycle event (no group) and swaps on it at once."""
    topic = settings.topic(MODELS_LIFECYCLE.name)
    consumer = AIOKafkaConsumer(
        **kafka_connection(settings).aiokafka(), group_id=None, enable_auto_commit=False
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
                await refresh_model()
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


def _offsets_by_partition(events: list[faust.EventT]) -> dict[TP, list[int]]:
    by_partition: dict[TP, list[int]] = {}
    for event in events:
        by_partition.setdefault(TP(event.message.topic, event.message.partition), []).append(
            event.message.offset
        )
    return by_partition


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
